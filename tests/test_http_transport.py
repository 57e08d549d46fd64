"""The aiohttp transport carries PTB's calls: plain, with files, errors and timeouts."""

from __future__ import annotations

import pytest
from telegram import Bot
from telegram.error import Forbidden, TimedOut

from bot.channels.http import AiohttpRequest


async def test_calls_files_and_errors_go_through(fake) -> None:
    bot = Bot(fake.token, base_url=fake.base_url, request=AiohttpRequest(4),
              get_updates_request=AiohttpRequest(1))
    async with bot:
        me = await bot.get_me()
        assert me.username == fake.bot_username
        sent = await bot.send_document(chat_id=77, document=b"%PDF-1.4 jadwal posyandu",
                                       filename="jadwal.pdf", caption="Jadwal")
        assert sent.caption == "Jadwal" and sent.document is not None
        fake.fail("sendMessage", 403, "Forbidden: bot was blocked by the user")
        with pytest.raises(Forbidden):
            await bot.send_message(chat_id=77, text="halo")


async def test_slow_server_times_out(fake) -> None:
    bot = Bot(fake.token, base_url=fake.base_url, request=AiohttpRequest(2, read_timeout=0.2),
              get_updates_request=AiohttpRequest(1))
    async with bot:
        fake.latency = 1.0
        with pytest.raises(TimedOut):
            await bot.send_message(chat_id=77, text="halo")


async def test_file_names_arrive_as_written_and_file_handles_can_be_sent(fake, tmp_path) -> None:
    poster = tmp_path / "Poster Posyandu – Januari.pdf"
    poster.write_bytes(b"%PDF-1.4 poster")
    bot = Bot(fake.token, base_url=fake.base_url, request=AiohttpRequest(4),
              get_updates_request=AiohttpRequest(1))
    async with bot:
        with poster.open("rb") as handle:
            sent = await bot.send_document(chat_id=77, document=handle)
        assert sent.document.file_name == "Poster Posyandu – Januari.pdf"


def test_proxy_settings_are_honoured_once_per_host(monkeypatch) -> None:
    monkeypatch.setenv("HTTPS_PROXY", "http://proxy.example:3128")
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    request = AiohttpRequest(1)
    assert request._proxy_for("https://api.telegram.org/botX/getMe") == (
        "http://proxy.example:3128")
    assert request._proxy_for("http://127.0.0.1:8081/botX/getMe") is None
