"""Run the real Telegram channel (python-telegram-bot) against the fake Bot API server."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from pathlib import Path

from bot.app import Workers, broadcasting, open_services
from bot.channels.telegram import TelegramChannel
from bot.clock import Clock, FakeClock
from bot.context import Services
from bot.core import Core
from tests.conftest import make_settings
from tests.fake_telegram import FakeBotAPI


class RunningBot:
    def __init__(self, services: Services, channel: TelegramChannel, task: asyncio.Task,
                 workers: Workers) -> None:
        self.services = services
        self.channel = channel
        self.task = task
        self.workers = workers

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
        await self.channel.dispatcher.join()


@contextlib.asynccontextmanager
async def running_bot(fake: FakeBotAPI, tmp_path: Path, clock: Clock | None = None,
                      **env: str) -> AsyncIterator[RunningBot]:
    """Start the bot in long-polling mode on ``tmp_path``'s database; stop it on exit."""
    settings = make_settings(tmp_path, TELEGRAM_BOT_TOKEN=fake.token,
                             TELEGRAM_BASE_URL=fake.base_url, TELEGRAM_POLL_TIMEOUT="1",
                             TELEGRAM_BOT_USERNAME=fake.bot_username, **env)
    async with open_services(settings, clock or FakeClock()) as services:
        channel = TelegramChannel.build(services, Core(services))
        channel.backoff = 0.02  # retries in milliseconds, not seconds
        async with channel.outbox() as transport, broadcasting(services, [transport]) as workers:
            for sender in workers.senders:
                sender.idle_poll = 0.05
            workers.reporter.every = 0.1
            workers.reporter.edit_every = 0.2
            task = asyncio.create_task(channel.run_polling())
            try:
                yield RunningBot(services, channel, task, workers)
            finally:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
