"""Start-up problems with Telegram stop the program with one line that names the setting."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import socket
import sys

import aiohttp
import pytest

from bot.__main__ import NO_CHANNEL
from tests.conftest import ROOT
from tests.fake_telegram import FakeBotAPI

SECRET = "startup-webhook-secret-0123456789abcdef"
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
                    TELEGRAM_WEBHOOK_SECRET=SECRET, SIAGA_HTTP_PORT=str(busy.getsockname()[1]))
            expected = "Configuration error: SIAGA_HTTP_PORT: cannot listen on 127.0.0.1:"
    finally:
        await fake.stop()
    assert code == 2
    last = [line for line in err.splitlines() if line.strip()][-1]
    assert last.startswith(expected)
    assert "Traceback" not in err
    assert "WRONG-token" not in err and "TEST-token" not in err  # secrets are never printed


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


async def test_run_starts_the_channel_with_one_web_server_and_stops_on_sigterm(tmp_path
                                                                               ) -> None:
    """``python -m bot run`` in webhook mode: the webhook and /healthz on one port."""
    fake = FakeBotAPI(token=TOKEN)
    await fake.start()
    port = free_port()
    env = {**os.environ, "SIAGA_DB": str(tmp_path / "s.db"), "TELEGRAM_BOT_TOKEN": TOKEN,
           "SIAGA_CONFIG": str(ROOT / "config" / "settings.example.toml"),
           "TELEGRAM_BASE_URL": fake.base_url, "TELEGRAM_WEBHOOK_SECRET": SECRET,
           "TELEGRAM_WEBHOOK_URL": "https://bot.example.org/hook",
           "SIAGA_HTTP_HOST": "127.0.0.1", "SIAGA_HTTP_PORT": str(port)}
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", "run", cwd=ROOT, env=env,
        stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE)
    base = f"http://127.0.0.1:{port}"
    try:
        async with aiohttp.ClientSession() as http:
            health = None
            for _ in range(300):
                with contextlib.suppress(aiohttp.ClientError):
                    async with http.get(f"{base}/healthz") as resp:
                        health = (resp.status, await resp.json())
                        break
                await asyncio.sleep(0.1)
            assert health == (200, {"status": "ok", "database": True,
                                    "sender": {"telegram": True}, "inbox_backlog": 0})
            assert (await fake.wait_for_call("setWebhook"))["url"] == env["TELEGRAM_WEBHOOK_URL"]
            user = {"id": 904, "is_bot": False, "first_name": "Warga", "language_code": "id"}
            update = {"update_id": 1, "message": {
                "message_id": 1, "date": 1764400000, "text": "/darurat", "from": user,
                "chat": {"id": 904, "type": "private"},
                "entities": [{"type": "bot_command", "offset": 0, "length": 8}]}}
            async with http.post(f"{base}/hook", json=update,
                                 headers={"X-Telegram-Bot-Api-Secret-Token": SECRET}) as resp:
                assert resp.status == 200
        assert "Kontak darurat" in (await fake.user(904).next_reply())["text"]
        proc.send_signal(signal.SIGTERM)
        _, err = await asyncio.wait_for(proc.communicate(), 30)
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
        await fake.stop()
    assert proc.returncode == 0, err.decode()
    assert "Traceback" not in err.decode()


async def test_run_without_a_channel_starts_the_console_on_the_demo_data(tmp_path) -> None:
    env = {**os.environ, "SIAGA_DB": str(tmp_path / "s.db"),
           "SIAGA_CONFIG": str(ROOT / "config" / "settings.example.toml")}
    env.pop("TELEGRAM_BOT_TOKEN", None)
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", "run", cwd=ROOT, env=env, stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    out, err = await asyncio.wait_for(proc.communicate(b"/quit\n"), 60)
    assert proc.returncode == 0
    assert NO_CHANNEL in err.decode()
    assert "console:demo" in out.decode() and "[#1]" in out.decode()  # banner, buttons
