"""Start-up problems with Telegram stop the program with one line that names the setting."""

from __future__ import annotations

import asyncio
import os
import socket
import sys

import pytest

from tests.conftest import ROOT
from tests.fake_telegram import FakeBotAPI

TOKEN = "123456:TEST-token-abcdefghijklmnopqrstuv"


async def run_bot(tmp_path, **env: str) -> tuple[int, str]:
    full = {**os.environ, "SIAGA_DB": str(tmp_path / "s.db"), "TELEGRAM_POLL_TIMEOUT": "1",
            "SIAGA_CONFIG": str(ROOT / "config" / "settings.example.toml"), **env}
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", "run", cwd=ROOT, env=full,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    _, err = await asyncio.wait_for(proc.communicate(), 60)
    return proc.returncode, err.decode()


@pytest.mark.parametrize("case", ["wrong_token", "unreachable", "port_in_use"])
async def test_telegram_start_up_failures_are_one_clear_line(tmp_path, case) -> None:
    fake = FakeBotAPI(token=TOKEN)
    await fake.start()
    try:
        if case == "wrong_token":
            code, err = await run_bot(tmp_path, TELEGRAM_BASE_URL=fake.base_url,
                                      TELEGRAM_BOT_TOKEN="654321:WRONG-token-abcdefghijklmnopq")
            expected = "Configuration error: TELEGRAM_BOT_TOKEN: Telegram rejected this token"
        elif case == "unreachable":
            code, err = await run_bot(tmp_path, TELEGRAM_BASE_URL="http://127.0.0.1:9/bot",
                                      TELEGRAM_BOT_TOKEN=TOKEN)
            expected = "Configuration error: TELEGRAM_BASE_URL: cannot reach the Bot API"
        else:
            with socket.socket() as busy:
                busy.bind(("127.0.0.1", 0))
                busy.listen()
                code, err = await run_bot(
                    tmp_path, TELEGRAM_BASE_URL=fake.base_url, TELEGRAM_BOT_TOKEN=TOKEN,
                    TELEGRAM_WEBHOOK_URL="https://bot.example.org/hook",
                    TELEGRAM_WEBHOOK_SECRET="secret", SIAGA_HTTP_PORT=str(busy.getsockname()[1]))
            expected = "Configuration error: SIAGA_HTTP_PORT: cannot listen on 127.0.0.1:"
    finally:
        await fake.stop()
    assert code == 2
    last = [line for line in err.splitlines() if line.strip()][-1]
    assert last.startswith(expected)
    assert "Traceback" not in err
    assert "WRONG-token" not in err and "TEST-token" not in err  # secrets are never printed
