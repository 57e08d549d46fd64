"""Bounded memory: polling stops fetching above the backlog cap, the webhook answers 503
above it, and a huge inbox left by a previous run is resumed a page at a time.

(The database writer's bounded queue is tested in tests/test_database.py.)"""

from __future__ import annotations

import asyncio
import json
import socket
import sqlite3
import subprocess
import sys
import textwrap
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
from tests.conftest import ROOT, make_settings
from tests.fake_telegram import FakeBotAPI
from tests.telegram_harness import running_bot

SECRET = "s3cret-Webhook_token-0123456789abcdefXYZ"


async def inbox_rows(services) -> int:
    async with services.store.db.conn.execute("SELECT COUNT(*) FROM inbox") as cur:
        return (await cur.fetchone())[0]


async def test_polling_stops_fetching_above_the_backlog_cap(fake, tmp_path) -> None:
    """Cap 10. Telegram's sendMessage fails (502), so people's updates pile up: once 10 wait,
    no more getUpdates is sent and the rest stay at Telegram, not in our memory. Once replies
    go out again the backlog drains, fetching resumes, and all 30 are answered."""
    async with running_bot(fake, tmp_path, SIAGA_MAX_BACKLOG="10") as bot:
        fake.fail("sendMessage", 502, "Bad Gateway", times=1_000_000)
        users = [fake.user(7000 + i) for i in range(30)]
        for user in users[:10]:
            await user.send("/darurat")
        for _ in range(200):
            if bot.intake.backlog >= 10:
                break
            await asyncio.sleep(0.02)
        await asyncio.sleep(1.5)  # a long poll (1 s) in progress has come back
        polls, stored = fake.call_counts["getUpdates"], await inbox_rows(bot.services)
        assert stored == 10
        for user in users[10:]:
            await user.send("/darurat")
        await asyncio.sleep(2.5)  # two more long polls' worth
        assert fake.call_counts["getUpdates"] == polls  # nothing fetched meanwhile
        assert await inbox_rows(bot.services) == stored  # the rest still wait at Telegram
        assert bot.intake.backlog == stored

        fake.clear_failures()
        for user in users:
            assert "Kontak darurat" in (await user.next_reply(timeout=15))["text"]
        await bot.settled()
        assert await InboxRepo(bot.services.store.db.conn).count("telegram", "done") == 30


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def update(update_id: int, user_id: int, text: str) -> dict:
    user = {"id": user_id, "is_bot": False, "first_name": "Warga", "language_code": "id"}
    return {"update_id": update_id, "message": {
        "message_id": 1, "date": 1764400000, "text": text, "from": user,
        "chat": {"id": user_id, "type": "private", "first_name": "Warga"},
        "entities": [{"type": "bot_command", "offset": 0, "length": len(text.split()[0])}]}}


@pytest.fixture
async def webhook_bot(tmp_path: Path) -> AsyncIterator[tuple[FakeBotAPI, str, Intake]]:
    fake = FakeBotAPI()
    await fake.start()
    port = free_port()
    settings = make_settings(
        tmp_path, TELEGRAM_BOT_TOKEN=fake.token, TELEGRAM_BASE_URL=fake.base_url,
        TELEGRAM_WEBHOOK_URL="https://bot.example.org/tg/hook", TELEGRAM_WEBHOOK_SECRET=SECRET,
        SIAGA_HTTP_HOST="127.0.0.1", SIAGA_HTTP_PORT=str(port), SIAGA_MAX_BACKLOG="3")
    try:
        async with open_services(settings, FakeClock()) as services:
            core = Core(services)
            intake = Intake(services, core, retry_delay=0.1)
            channel = TelegramChannel.build(services, core, intake)
            channel.backoff = 0.01
            async with running(services, intake, [channel]):
                await fake.wait_for_call("setWebhook")
                yield fake, f"http://127.0.0.1:{port}/tg/hook", intake
    finally:
        await fake.stop()


async def test_the_webhook_answers_503_above_the_backlog_cap(webhook_bot) -> None:
    """Cap 3: with replies failing, the fourth update is refused with 503 (Telegram sends it
    again later) and not stored; sent again once the backlog drained, it is answered."""
    fake, url, intake = webhook_bot
    fake.fail("sendMessage", 502, "Bad Gateway", times=1_000_000)
    async with aiohttp.ClientSession() as http:
        async def post(n: int) -> int:
            async with http.post(url, json=update(n, 950 + n, "/darurat"),
                                 headers={SECRET_HEADER: SECRET}) as resp:
                return resp.status

        assert [await post(n) for n in range(1, 5)] == [200, 200, 200, 503]
        assert intake.backlog == 3
        fake.clear_failures()
        for n in range(1, 4):
            assert "Kontak darurat" in (await fake.user(950 + n).next_reply(timeout=10))["text"]
        for _ in range(100):
            if intake.accepting():
                break
            await asyncio.sleep(0.05)
        assert await post(4) == 200  # Telegram's next try
    assert "Kontak darurat" in (await fake.user(954).next_reply(timeout=10))["text"]


# --- 50,000 pending updates at start ----------------------------------------------------------

PENDING = 50_000
PEOPLE = 5_000
RSS_CAP_MB = 30

CHILD = textwrap.dedent('''
    import asyncio, gc, json, resource, sys
    from pathlib import Path
    from bot.app import open_services
    from bot.clock import FakeClock
    from bot.core import Core
    from bot.intake import Intake
    from tests.conftest import make_settings

    class Quiet:
        """Updates nobody answers (as a blocked/unblocked notice): only the intake's work."""
        name, max_concurrent, seen = "telegram", 64, 0
        def external_id(self, raw): return str(raw["update_id"])
        def sender_of(self, raw): return f"telegram:{raw['my_chat_member']['from']['id']}"
        def translate(self, raw): return None
        async def prepare(self, event): return event
        async def on_other(self, raw): Quiet.seen += 1
        async def deliver(self, event, lang, replies): return True
        def is_unreachable(self, exc): return False

    def rss_kb():
        """The resident set now (Linux), in kB."""
        with open("/proc/self/statm") as statm:
            return int(statm.read().split()[1]) * resource.getpagesize() // 1024

    async def sample(peak):
        while True:
            peak[0] = max(peak[0], rss_kb())
            await asyncio.sleep(0.005)

    async def main():
        settings = make_settings(Path(sys.argv[1]))
        async with open_services(settings, FakeClock()) as services:
            intake = Intake(services, Core(services))
            intake.add(Quiet())
            gc.collect()
            before = rss_kb()
            peak = [before]
            sampler = asyncio.create_task(sample(peak))
            resumed = await intake.resume()
            await intake.join()
            sampler.cancel()
            after = max(peak[0], rss_kb())
            async with services.store.db.conn.execute(
                    "SELECT COUNT(*) FROM inbox WHERE status = 'pending'") as cur:
                pending = (await cur.fetchone())[0]
        print(json.dumps({"resumed": resumed, "seen": Quiet.seen, "pending": pending,
                          "growth_kb": after - before}))

    asyncio.run(main())
''')


def realistic_update(n: int) -> str:
    """A ~500-byte update (a person's membership change, with names and a long chat)."""
    person = 50_000 + n % PEOPLE
    user = {"id": person, "is_bot": False, "first_name": "Warga RT 03", "last_name": "Cimuncang",
            "username": f"warga_{person}", "language_code": "id"}
    return json.dumps({"update_id": 1_000_000 + n, "my_chat_member": {
        "chat": {"id": person, "type": "private", "first_name": "Warga RT 03",
                 "last_name": "Cimuncang", "username": f"warga_{person}"},
        "from": user, "date": 1764400000 + n,
        "old_chat_member": {"user": {"id": 123456, "is_bot": True, "first_name": "Siaga Warga",
                                     "username": "SiagaWargaTestBot"}, "status": "member"},
        "new_chat_member": {"user": {"id": 123456, "is_bot": True, "first_name": "Siaga Warga",
                                     "username": "SiagaWargaTestBot"}, "status": "kicked",
                            "until_date": 0}}}, ensure_ascii=False)


async def test_fifty_thousand_pending_updates_resume_in_pages_within_a_memory_cap(
        tmp_path: Path) -> None:
    """A previous run left 50,000 updates (~500 bytes each, 5,000 people) unfinished. All are
    handled, and the resident set of the process (sampled every 5 ms) grows by less than
    RSS_CAP_MB (30 MB) over what it was before resuming.

    Why 30 MB: the payloads alone are ~25 MB of text, more as Python strings, before the
    per-update objects and one dispatcher task per person; loading them all at once (as the
    code before paging did) grew the resident set by ~69 MB here. Paged, at most two pages
    (1,000 updates) are in memory; what grows is mostly SQLite's page caches and the
    allocator's arenas: ~10 MB here. 30 MB leaves room for another machine's allocator and
    still fails when the whole inbox is loaded."""
    settings = make_settings(tmp_path)
    async with open_services(settings, FakeClock()):
        pass  # the schema
    payloads = [realistic_update(n) for n in range(PENDING)]
    assert 450 <= sum(map(len, payloads)) / PENDING <= 650
    with sqlite3.connect(settings.db_path) as db:
        db.executemany(
            "INSERT INTO inbox (channel, external_id, sender, payload, received_at) "
            "VALUES ('telegram', ?, ?, ?, '2026-11-29T08:00:00+00:00')",
            ((str(1_000_000 + n), f"telegram:{50_000 + n % PEOPLE}", p)
             for n, p in enumerate(payloads)))
    del payloads
    child = await asyncio.create_subprocess_exec(
        sys.executable, "-c", CHILD, str(tmp_path), cwd=ROOT,
        stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    out, err = await asyncio.wait_for(child.communicate(), 300)
    assert child.returncode == 0, err.decode()[-2000:]
    found = json.loads(out.decode().strip().splitlines()[-1])
    assert found["resumed"] == PENDING and found["seen"] == PENDING
    assert found["pending"] == 0
    assert found["growth_kb"] < RSS_CAP_MB * 1024, f"RSS grew by {found['growth_kb']} kB"
