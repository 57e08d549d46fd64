"""Kill -9 the bot while updates are in flight: after a restart every one is answered."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from pathlib import Path

from tests.conftest import ROOT
from tests.fake_telegram import FakeBotAPI

USERS = 300
MAX_CONCURRENT = 16


async def start_bot(fake: FakeBotAPI, db: Path) -> asyncio.subprocess.Process:
    env = {**os.environ, "TELEGRAM_BOT_TOKEN": fake.token, "TELEGRAM_BASE_URL": fake.base_url,
           "SIAGA_DB": str(db), "TELEGRAM_POLL_TIMEOUT": "1",
           "TELEGRAM_MAX_CONCURRENT": str(MAX_CONCURRENT),
           "SIAGA_CONFIG": str(ROOT / "config" / "settings.example.toml")}
    return await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", "run", cwd=ROOT, env=env,
        stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL)


async def wait_until(check, timeout: float) -> bool:  # noqa: ASYNC109
    deadline = asyncio.get_running_loop().time() + timeout
    while asyncio.get_running_loop().time() < deadline:
        if check():
            return True
        await asyncio.sleep(0.05)
    return False


async def test_kill_9_loses_no_update_and_repeats_only_those_in_flight(tmp_path: Path) -> None:
    fake = FakeBotAPI(latency=0.05)
    await fake.start()
    db = tmp_path / "crash.db"
    users = [fake.user(10_000 + i) for i in range(USERS)]
    for user in users:
        await user.send("/darurat")  # a newcomer asking for emergency numbers: one reply each

    def answered() -> int:
        return sum(1 for u in users if fake.messages_to(u.id))

    bot = await start_bot(fake, db)
    try:
        assert await wait_until(lambda: answered() >= USERS // 4, 60), "bot never answered"
        bot.send_signal(signal.SIGKILL)
        await bot.wait()
        at_kill = answered()
        assert at_kill < USERS, "the bot finished before it could be killed"

        bot = await start_bot(fake, db)
        assert await wait_until(lambda: answered() == USERS, 60), (
            f"{USERS - answered()} residents never got an answer")
        await asyncio.sleep(0.5)  # let any duplicate arrive
    finally:
        if bot.returncode is None:
            bot.send_signal(signal.SIGTERM)
            try:
                await asyncio.wait_for(bot.wait(), 15)
            except TimeoutError:
                bot.kill()
                await bot.wait()
        await fake.stop()

    counts = [len(fake.messages_to(u.id)) for u in users]
    duplicated = sum(1 for c in counts if c > 1)
    assert all(c >= 1 for c in counts)
    assert duplicated <= MAX_CONCURRENT, f"{duplicated} residents were answered twice"
    assert all("Kontak darurat" in fake.messages_to(u.id)[0]["text"] for u in users)
