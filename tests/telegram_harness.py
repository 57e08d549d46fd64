"""Run the real Telegram channel (python-telegram-bot) against the fake Bot API server."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from pathlib import Path

from bot.app import open_services
from bot.channels.telegram import TelegramChannel
from bot.clock import Clock, FakeClock
from bot.context import Services
from bot.core import Core
from tests.conftest import make_settings
from tests.fake_telegram import FakeBotAPI


class RunningBot:
    def __init__(self, services: Services, channel: TelegramChannel, task: asyncio.Task) -> None:
        self.services = services
        self.channel = channel
        self.task = task

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
        task = asyncio.create_task(channel.run_polling())
        try:
            yield RunningBot(services, channel, task)
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
