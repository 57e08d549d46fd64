"""Webhook mode: the secret header is checked on every request; refused requests do nothing."""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest

from bot.app import open_services
from bot.channels.telegram import SECRET_HEADER, TelegramChannel
from bot.clock import FakeClock
from bot.core import Core
from db.repositories.inbox import InboxRepo
from tests.conftest import make_settings
from tests.fake_telegram import FakeBotAPI

SECRET = "s3cret-Webhook_token"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
async def webhook_bot(tmp_path: Path) -> AsyncIterator[tuple[FakeBotAPI, str, object]]:
    fake = FakeBotAPI()
    await fake.start()
    port = free_port()
    settings = make_settings(
        tmp_path, TELEGRAM_BOT_TOKEN=fake.token, TELEGRAM_BASE_URL=fake.base_url,
        TELEGRAM_WEBHOOK_URL="https://bot.example.org/tg/hook", TELEGRAM_WEBHOOK_SECRET=SECRET,
        SIAGA_HTTP_HOST="127.0.0.1", SIAGA_HTTP_PORT=str(port))
    async with open_services(settings, FakeClock()) as services:
        channel = TelegramChannel.build(services, Core(services))
        task = asyncio.create_task(channel.run_webhook())
        hook = await fake.wait_for_call("setWebhook")
        assert hook["url"] == "https://bot.example.org/tg/hook"
        assert hook["secret_token"] == SECRET
        try:
            yield fake, f"http://127.0.0.1:{port}/tg/hook", services
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
            await fake.stop()


def update(update_id: int, user_id: int, text: str) -> dict:
    user = {"id": user_id, "is_bot": False, "first_name": "Warga", "language_code": "id"}
    return {"update_id": update_id, "message": {
        "message_id": 1, "date": 1764400000, "text": text, "from": user,
        "chat": {"id": user_id, "type": "private", "first_name": "Warga"},
        "entities": [{"type": "bot_command", "offset": 0, "length": len(text.split()[0])}]}}


@pytest.mark.parametrize("headers", [{}, {SECRET_HEADER: "wrong"}, {SECRET_HEADER: ""},
                                     {SECRET_HEADER: SECRET + "x"}])
async def test_wrong_or_missing_secret_is_refused_and_processes_nothing(webhook_bot, headers
                                                                        ) -> None:
    fake, url, services = webhook_bot
    async with aiohttp.ClientSession() as http:
        async with http.post(url, json=update(1, 901, "/start"), headers=headers) as resp:
            assert resp.status == 403
    await asyncio.sleep(0.3)
    assert fake.calls_of("sendMessage") == []
    async with services.store.db.conn.execute("SELECT COUNT(*) FROM inbox") as cur:
        assert (await cur.fetchone())[0] == 0


async def test_right_secret_is_recorded_answered_and_deduplicated(webhook_bot) -> None:
    fake, url, services = webhook_bot
    async with aiohttp.ClientSession() as http:
        for _ in range(2):  # Telegram re-delivers when it did not see our 200 in time
            async with http.post(url, json=update(7, 902, "/darurat"),
                                 headers={SECRET_HEADER: SECRET}) as resp:
                assert resp.status == 200
        async with http.post(url, data=b"not json", headers={SECRET_HEADER: SECRET}) as resp:
            assert resp.status == 400
    user = fake.user(902)
    assert "Kontak darurat" in (await user.next_reply())["text"]
    await asyncio.sleep(0.3)
    assert len(fake.messages_to(902)) == 1
    assert await InboxRepo(services.store.db.conn).count("telegram", "done") == 1
