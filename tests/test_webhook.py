"""Webhook mode: the secret header is checked on every request; refused requests do nothing.

The bot runs as ``python -m bot run`` runs it: every channel with one intake and one web
server (``bot/channels/running.py``)."""

from __future__ import annotations

import asyncio
import json
import socket
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest

from bot.app import open_services
from bot.channels.running import running
from bot.channels.telegram import SECRET_HEADER, TelegramChannel
from bot.clock import FakeClock
from bot.core import Core
from bot.intake import Intake
from db.repositories.inbox import InboxRepo
from tests.conftest import make_settings
from tests.fake_telegram import FakeBotAPI

SECRET = "s3cret-Webhook_token-0123456789abcdefXYZ"


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
    try:
        async with open_services(settings, FakeClock()) as services:
            core = Core(services)
            intake = Intake(services, core)
            channel = TelegramChannel.build(services, core, intake)
            async with running(services, intake, [channel]) as live:
                hook = await fake.wait_for_call("setWebhook")
                assert hook["url"] == "https://bot.example.org/tg/hook"
                assert hook["secret_token"] == SECRET
                assert live.web is not None
                yield fake, f"http://127.0.0.1:{port}/tg/hook", services
    finally:
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


@pytest.mark.parametrize("body", [
    b"[" * 100_000 + b"]" * 100_000,  # too deep for the JSON parser
    b'{"update_id": 8, "message": ' + b'{"a": ' * 50_000 + b"1" + b"}" * 50_001,
    b"\xff\xfe not text",
    b'{"update_id": "8"}',
    b"[1, 2]",
])
async def test_malformed_or_deeply_nested_json_is_refused_with_400(webhook_bot, body) -> None:
    fake, url, services = webhook_bot
    async with aiohttp.ClientSession() as http:
        async with http.post(url, data=body, headers={SECRET_HEADER: SECRET,
                                                      "Content-Type": "application/json"}
                             ) as resp:
            assert resp.status == 400
        async with http.post(url, json=update(9, 903, "/darurat"),
                             headers={SECRET_HEADER: SECRET}) as resp:
            assert resp.status == 200  # the server still serves
    assert "Kontak darurat" in (await fake.user(903).next_reply())["text"]
    async with services.store.db.conn.execute("SELECT external_id FROM inbox") as cur:
        assert [row[0] for row in await cur.fetchall()] == ["9"]


async def test_healthz_is_served_next_to_the_webhook(webhook_bot) -> None:
    _, url, _ = webhook_bot
    async with aiohttp.ClientSession() as http:
        async with http.get(url.replace("/tg/hook", "/healthz")) as resp:
            assert resp.status == 200
            assert await resp.json() == {"status": "ok", "database": True,
                                         "sender": {"telegram": True}, "inbox_backlog": 0}


def nested_update(update_id: int, user_id: int, depth: int) -> bytes:
    """A real-looking /darurat update with an extra field of ``depth`` nested lists: the whole
    body nests ``depth + 2`` levels (under the parser's own limit for these depths)."""
    head = update(update_id, user_id, "/darurat")
    text = json.dumps(head)
    return (text[:-2] + ', "extra": ' + "[" * depth + "]" * depth + "}}").encode()


@pytest.mark.parametrize("depth", [63, 200, 900])
async def test_deeply_nested_update_is_refused_with_400_and_healthz_stays_ok(webhook_bot, depth
                                                                             ) -> None:
    """Nesting deeper than any Telegram update (64 levels) is refused, however far below the
    parser's own limit; nothing is recorded and the server keeps serving."""
    fake, url, services = webhook_bot
    async with aiohttp.ClientSession() as http:
        async with http.post(url, data=nested_update(11, 904, depth),
                             headers={SECRET_HEADER: SECRET,
                                      "Content-Type": "application/json"}) as resp:
            assert resp.status == 400
            assert await resp.text() == "bad json"
        async with http.get(url.replace("/tg/hook", "/healthz")) as resp:
            assert resp.status == 200
            assert (await resp.json())["status"] == "ok"
        async with http.post(url, data=nested_update(12, 905, 62),  # 64 levels: accepted
                             headers={SECRET_HEADER: SECRET}) as resp:
            assert resp.status == 200
    assert "Kontak darurat" in (await fake.user(905).next_reply())["text"]
    async with services.store.db.conn.execute("SELECT external_id FROM inbox") as cur:
        assert [row[0] for row in await cur.fetchall()] == ["12"]
