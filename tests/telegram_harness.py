"""Run the real Telegram channel (python-telegram-bot) against the fake Bot API server."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from pathlib import Path

from bot.app import open_services
from bot.broadcasting.workers import Workers
from bot.channels.running import Live, running
from bot.channels.telegram import TelegramChannel
from bot.clock import Clock, FakeClock
from bot.context import Services
from bot.core import Core
from bot.intake import Intake
from tests.conftest import make_settings
from tests.fake_telegram import FakeBotAPI


class RunningBot:
    def __init__(self, services: Services, channel: TelegramChannel, live: Live) -> None:
        self.services = services
        self.channel = channel
        self.intake: Intake = live.intake
        self.task: asyncio.Task = live.tasks[channel.name]  # the polling loop
        self.workers: Workers = live.workers

    async def outbox_idle(self, timeout: float = 10.0, *,  # noqa: ASYNC109
                          final: bool = False) -> None:
        """Wait until nothing due is left in the outbox and every run has been reported
        (``final``: also the follow-up of runs held by quiet hours). Reporting is left to
        the reporter's own loop, as in production."""
        conn = self.services.store.db.conn
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        level = 2 if final else 1
        calm = 0  # nothing to do twice in a row: a report's own messages are counted too
        while True:
            now = self.services.clock.now().isoformat()
            async with conn.execute(
                "SELECT COUNT(*) FROM outbox WHERE status = 'sending' OR "
                "(status = 'queued' AND not_before <= ?)", (now,)
            ) as cur:
                busy = (await cur.fetchone())[0]
            async with conn.execute(
                    "SELECT COUNT(*) FROM notice_run WHERE reported < ?", (level,)) as cur:
                unreported = (await cur.fetchone())[0]
            calm = calm + 1 if not busy and not unreported else 0
            if calm == 2:
                return
            if loop.time() > deadline:
                raise TimeoutError(f"the outbox did not drain ({busy} due, {unreported} "
                                   "unreported)")
            await asyncio.sleep(0.1 if calm else 0.02)

    async def settled(self) -> None:
        """Wait until every update received so far is handled and its state committed."""
        await asyncio.sleep(0.05)
        await self.intake.join()


@contextlib.asynccontextmanager
async def running_bot(fake: FakeBotAPI, tmp_path: Path, clock: Clock | None = None,
                      **env: str) -> AsyncIterator[RunningBot]:
    """Start the bot as ``python -m bot run`` does, in long-polling mode on ``tmp_path``'s
    database; stop it on exit."""
    # scripted people click at machine speed on a clock that stands still: no allowance
    # unless a test asks for one
    env = {"SIAGA_PER_PERSON_BURST": "100000", **env}
    settings = make_settings(tmp_path, TELEGRAM_BOT_TOKEN=fake.token,
                             TELEGRAM_BASE_URL=fake.base_url, TELEGRAM_POLL_TIMEOUT="1",
                             TELEGRAM_BOT_USERNAME=fake.bot_username, **env)
    async with open_services(settings, clock or FakeClock()) as services:
        core = Core(services)
        intake = Intake(services, core, retry_delay=0.2)
        channel = TelegramChannel.build(services, core, intake)
        channel.backoff = 0.02  # retries in milliseconds, not seconds
        async with running(services, intake, [channel]) as live:
            for sender in live.workers.senders:
                sender.idle_poll = 0.05
            live.workers.reporter.every = 0.1
            live.workers.reporter.edit_every = 0.2
            yield RunningBot(services, channel, live)
