"""The outbox sender through the real python-telegram-bot and the fake Bot API server.

Notices are written straight to the database and started with ``fire`` (the coordinator's
chat flow is covered by test_broadcast.py); what is under test is what happens to them on
the way out: 429 pauses, 5xx and timeouts, people who blocked the bot, the overall and per
chat rates, quiet hours, opt-outs, progress and reports, restarts and erasure. Long outages
and the shared limiter's debt are in test_outage.py.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import socket
import time
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from telegram import Bot

from bot.app import open_services
from bot.broadcasting.notices import fire, notify
from bot.broadcasting.outbox import MAX_ATTEMPTS, Delivery, RateLimiter, Sender
from bot.channels.http import AiohttpRequest
from bot.channels.telegram import TelegramChannel
from bot.channels.telegram_outbox import TelegramOutbox
from bot.clock import FakeClock
from bot.context import Services
from bot.core import Core
from bot.events import say
from db.repositories.notices import GroupLink, NoticesRepo
from db.repositories.outbox import OutboxRepo, Outcome
from db.repositories.people import PeopleRepo
from tests.broadcast_helpers import (
    RT01_RW01,
    RT03,
    create_notice,
    drain,
    fire_notice,
    grant,
    resident,
)
from tests.conftest import make_settings
from tests.fake_telegram import ApiError, FakeBotAPI
from tests.telegram_harness import running_bot

AUTHOR = 700
BODY = "Kerja bakti Minggu pagi jam 07.00 di balai RT."
# other chats' messages must not wait a second each behind the author's progress and reports
FAST = {"TELEGRAM_PER_CHAT_INTERVAL": "0.05"}
NIGHT = datetime(2026, 11, 29, 15, 0, tzinfo=UTC)  # 22:00 WIB, inside quiet hours


# --- helpers -----------------------------------------------------------------------------


async def neighbourhood(services: Services, residents: list[int], *, author: int = AUTHOR,
                        **kinds: Any) -> None:
    """The author (RT 03's coordinator, living in RT 03) and ``residents`` of RT 03."""
    await resident(services, author, RT03)
    await grant(services, author, "coordinator", RT03, "Pak Ahmad")
    for uid in residents:
        await resident(services, uid, RT03, **kinds.get(str(uid), {}))


async def eventually(check: Callable[[], Any], timeout: float = 5.0,  # noqa: ASYNC109
                     what: str = "condition") -> Any:
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        result = check()
        if asyncio.iscoroutine(result):
            result = await result
        if result:
            return result
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.02)


def got(fake: FakeBotAPI, chat_id: int, body: str = BODY) -> list[dict[str, Any]]:
    """The notices in that chat containing ``body`` (not the author's WhatsApp copy)."""
    return [m for m in fake.current_messages(chat_id)
            if body in m.get("text", "")
            and m["text"].startswith(("📢 Pengumuman", "🚨 PENGUMUMAN MENDESAK"))]


def texts(fake: FakeBotAPI, chat_id: int) -> list[str]:
    return [m.get("text", "") for m in fake.current_messages(chat_id)]


def report_of(fake: FakeBotAPI, chat_id: int = AUTHOR, notice_id: int = 1) -> str:
    found = [t for t in texts(fake, chat_id) if t.startswith(f"Laporan pengumuman #{notice_id}")]
    assert len(found) == 1, "\n----\n".join(texts(fake, chat_id))
    return found[0]


def sends(fake: FakeBotAPI, since: float = 0.0) -> list[tuple[float, int]]:
    """(arrival time, chat id) of every sendMessage the fake accepted since ``since``."""
    return [(e["t"], e["chat_id"]) for e in fake.sent_log
            if e["method"] == "sendMessage" and e["t"] >= since]


def spy_failures(fake: FakeBotAPI) -> list[tuple[float, Any, int]]:
    """Record (arrival time, chat id, error code) of every call the fake answers with an
    injected failure (``fake.fail``)."""
    seen: list[tuple[float, Any, int]] = []
    original = fake._check_failures

    def check(method: str, params: dict[str, Any]) -> None:
        try:
            original(method, params)
        except ApiError as err:
            seen.append((time.monotonic(), params.get("chat_id"), err.code))
            raise

    fake._check_failures = check  # type: ignore[method-assign]
    return seen


async def rows_of(services: Services, run_id: int) -> dict[str, dict[str, Any]]:
    """The notice rows of a run by address."""
    async with services.store.db.conn.execute(
        "SELECT address, status, attempts, not_before, reason, deferred FROM outbox "
        "WHERE ref_id = ? AND kind = 'notice'", (run_id,)
    ) as cur:
        return {r[0]: {"status": r[1], "attempts": r[2], "not_before": r[3], "reason": r[4],
                       "deferred": r[5]} for r in await cur.fetchall()}


@contextlib.asynccontextmanager
async def sender_on(services: Services, transport: Any, probe_first: float = 0.05
                    ) -> AsyncIterator[Sender]:
    """A Sender running in a task until the block ends (first probe after an outage answer
    after ``probe_first`` seconds)."""
    sender = Sender(services, transport, idle_poll=0.05)
    sender.breaker.first = probe_first
    services.signals.outbox_listeners.append(sender.wake)
    task = asyncio.create_task(sender.run())
    try:
        yield sender
    finally:
        sender.stop(grace=1.0)
        await asyncio.wait_for(task, 5)
        services.signals.outbox_listeners.remove(sender.wake)


def channel_settings(fake: FakeBotAPI, tmp_path: Path, **env: str):  # type: ignore[no-untyped-def]
    return make_settings(tmp_path, TELEGRAM_BOT_TOKEN=fake.token,
                         TELEGRAM_BASE_URL=fake.base_url, **env)


# --- 1. 429 ------------------------------------------------------------------------------


async def test_429_pauses_the_outbox_for_retry_after_but_not_replies(fake, tmp_path, clock
                                                                     ) -> None:
    failures = spy_failures(fake)
    residents = list(range(701, 713))
    async with running_bot(fake, tmp_path, clock=clock, **FAST) as bot:
        svc = bot.services
        await neighbourhood(svc, residents)
        await resident(svc, 900, RT01_RW01)  # not in the audience: chats during the pause
        fake.fail("sendMessage", 429, "Too Many Requests: retry after 1", retry_after=1,
                  chat_id=704)
        await fire_notice(svc, await create_notice(svc, AUTHOR, BODY))

        await eventually(lambda: failures, what="the 429")
        t429 = failures[0][0]
        chatting = fake.user(900)
        asked = time.monotonic()
        await chatting.send("/menu")
        menu = await chatting.next_reply(timeout=3)
        answered = time.monotonic()
        assert "Menu utama" in menu["text"]
        assert answered - asked < 0.6, "a reply waited behind the broadcast's 429 pause"
        assert answered < t429 + 1.0, "the reply only came after the pause"

        await drain(bot)
        sender = bot.workers.senders[0]
        assert sender.limited == 1
        audience = {AUTHOR, *residents}
        during = [(t - t429, c) for t, c in sends(fake, t429 + 0.02)
                  if c in audience and t < t429 + 0.95]
        assert during == [], f"sent during the 429 pause: {during}"
        after = [t for t, c in sends(fake, t429 + 0.95) if c in audience]
        assert after, "sending never resumed"
        assert any(c == 704 for t, c in sends(fake, t429 + 0.95))
        for uid in [AUTHOR, *residents]:
            assert len(got(fake, uid)) == 1, (uid, texts(fake, uid))
        assert "Terkirim: 13 dari 13" in report_of(fake)


# --- 2. 5xx and timeouts -----------------------------------------------------------------


async def test_5xx_answers_cost_no_attempt_and_are_delivered_later(fake, tmp_path, clock
                                                                   ) -> None:
    """A 5xx is not the message's fault: the row waits a moment (so the sender's probe tries
    another one), keeps its attempts, and goes out later."""
    residents = list(range(701, 707))
    async with running_bot(fake, tmp_path, clock=clock, **FAST) as bot:
        svc = bot.services
        bot.workers.senders[0].breaker.first = 0.05
        await neighbourhood(svc, residents)
        fake.fail("sendMessage", 500, "Internal Server Error", chat_id=702)
        fake.fail("sendMessage", 502, "Bad Gateway", chat_id=704)
        run = await fire_notice(svc, await create_notice(svc, AUTHOR, BODY))

        async def others_sent_two_waiting() -> bool:
            rows = await rows_of(svc, run.id)
            waiting = {a for a, r in rows.items() if r["status"] == "queued" and r["reason"]}
            sent = {a for a, r in rows.items() if r["status"] == "sent"}
            return waiting == {"702", "704"} and len(sent) == len(rows) - 2

        await eventually(others_sent_two_waiting, what="702 and 704 to be requeued")
        rows = await rows_of(svc, run.id)
        retry_at = (clock.now() + timedelta(seconds=2)).isoformat()  # held_back(1) = 2 s
        for address in ("702", "704"):
            assert rows[address]["attempts"] == 0, rows[address]
            assert rows[address]["not_before"] == retry_at, rows[address]
            assert rows[address]["reason"].startswith("unreachable: NetworkError"), \
                rows[address]
        await asyncio.sleep(0.3)  # the fake clock has not moved: nothing is retried yet
        assert got(fake, 702) == [] and got(fake, 704) == []
        assert sum(1 for p in fake.calls_of("sendMessage") if p["chat_id"] in (702, 704)) == 2

        clock.advance(seconds=2)
        await drain(bot)
        for uid in [AUTHOR, *residents]:
            assert len(got(fake, uid)) == 1, (uid, texts(fake, uid))
        rows = await rows_of(svc, run.id)
        assert rows["702"]["status"] == rows["704"]["status"] == "sent"
        assert rows["702"]["attempts"] == rows["704"]["attempts"] == 1  # the send that worked
        assert "Terkirim: 7 dari 7" in report_of(fake)


async def test_a_send_that_times_out_is_retried_without_using_an_attempt(fake, tmp_path
                                                                        ) -> None:
    """The Bot API answers too late (beyond the read timeout): the row is queued again,
    its attempts untouched."""
    clock = FakeClock()
    settings = channel_settings(fake, tmp_path, **FAST)
    async with open_services(settings, clock) as svc:
        await neighbourhood(svc, [701])
        run = await fire_notice(svc, await create_notice(svc, AUTHOR, BODY))
        channel = TelegramChannel.build(svc, Core(svc))
        request = AiohttpRequest(4, read_timeout=0.2, write_timeout=0.2, connect_timeout=2)
        bot = Bot(fake.token, base_url=fake.base_url, request=request)
        transport = TelegramOutbox(channel, bot=bot)

        fake.latency = 0.8
        delivery = await transport.send("701", "id", say("erase.nothing"))
        assert delivery.status == "unreachable" and "TimedOut" in delivery.reason, delivery

        async with sender_on(svc, transport):
            retry_at = (clock.now() + timedelta(seconds=2)).isoformat()  # held_back(1)

            async def timed_out() -> bool:  # each tried once (alone or as a probe)
                rows = await rows_of(svc, run.id)
                return all(r["status"] == "queued" and r["not_before"] == retry_at
                           for r in rows.values())

            await eventually(timed_out, what="both rows to time out")
            rows = await rows_of(svc, run.id)
            assert all(r["attempts"] == 0 for r in rows.values()), rows
            assert all(r["reason"].startswith("unreachable: TimedOut") for r in rows.values())

            fake.latency = 0.0
            await asyncio.sleep(0.3)  # not before the backoff (the fake clock has not moved)
            assert all(r["status"] == "queued" for r in (await rows_of(svc, run.id)).values())
            clock.advance(seconds=2)

            async def sent() -> bool:
                rows = await rows_of(svc, run.id)
                return all(r["status"] == "sent" for r in rows.values())

            await eventually(sent, what="the retried rows to be sent")
        await transport.stop()
        for uid in (AUTHOR, 701):
            assert len(got(fake, uid)) == 1, texts(fake, uid)


# --- 3. 403 ------------------------------------------------------------------------------


async def test_a_person_who_blocked_the_bot_is_skipped_until_they_write_again(
        fake, tmp_path, clock) -> None:
    residents = [701, 702, 703]
    async with running_bot(fake, tmp_path, clock=clock, **FAST) as bot:
        svc = bot.services
        await neighbourhood(svc, residents)
        blocker = await PeopleRepo(svc.store.db.conn).get("telegram:702")
        assert blocker is not None
        # a message to 702 that is not due yet: it must be stopped with the rest
        later = await svc.store.db.write(lambda conn: OutboxRepo(conn).enqueue(
            channel="telegram", address="702", person_id=blocker.id, lang="id", kind="text",
            payload={"text": {"key": "erase.nothing", "params": {}}},
            now=clock.now(), not_before=clock.now() + timedelta(minutes=10)))
        fake.block(702)  # the bot learns it only from the 403

        run = await fire_notice(svc, await create_notice(svc, AUTHOR, BODY))
        await drain(bot)
        rows = await rows_of(svc, run.id)
        assert rows["702"]["status"] == "blocked"
        assert "blocked" in (rows["702"]["reason"] or "")
        person = await PeopleRepo(svc.store.db.conn).get("telegram:702")
        assert person is not None and person.active is False
        async with svc.store.db.conn.execute("SELECT status FROM outbox WHERE id = ?",
                                             (later,)) as cur:
            assert (await cur.fetchone())[0] == "blocked"
        report = report_of(fake, notice_id=1)
        assert "Memblokir bot: 1" in report and "Terkirim: 3 dari 4" in report, report
        tried = sum(1 for p in fake.calls_of("sendMessage") if p["chat_id"] == 702)
        assert tried == 1

        second = await create_notice(svc, AUTHOR, "Posyandu hari Rabu.")
        run2 = await fire_notice(svc, second)
        await drain(bot)
        assert "702" not in await rows_of(svc, run2.id)
        assert sum(1 for p in fake.calls_of("sendMessage") if p["chat_id"] == 702) == tried
        for uid in (AUTHOR, 701, 703):
            assert len(got(fake, uid, "Posyandu")) == 1

        fake.unblock(702)  # they come back and write to the bot
        back = fake.user(702)
        await back.send("/menu")
        assert "Menu utama" in (await back.next_reply())["text"]
        await bot.settled()
        person = await PeopleRepo(svc.store.db.conn).get("telegram:702")
        assert person is not None and person.active is True
        await fire_notice(svc, await create_notice(svc, AUTHOR, "Fogging nyamuk Jumat."))
        await drain(bot)
        assert len(got(fake, 702, "Fogging nyamuk")) == 1
        assert got(fake, 702, BODY) == [] and got(fake, 702, "Posyandu") == []


async def test_a_group_that_removed_the_bot_is_unlinked(fake, tmp_path, clock) -> None:
    group = -1001234567890
    async with running_bot(fake, tmp_path, clock=clock, **FAST) as bot:
        svc = bot.services
        await neighbourhood(svc, [701])
        await svc.store.db.write(lambda conn: NoticesRepo(conn).link_group(GroupLink(
            RT03, "telegram", str(group), "Warga RT 03", f"telegram:{AUTHOR}", clock.now())))
        fake.fail("sendMessage", 403, "Forbidden: bot was kicked from the supergroup chat",
                  chat_id=group)
        run = await fire_notice(svc, await create_notice(svc, AUTHOR, BODY))
        await drain(bot)
        assert (await rows_of(svc, run.id))[str(group)]["status"] == "blocked"
        assert await NoticesRepo(svc.store.db.conn).linked_to("telegram", str(group)) == []
        assert "Memblokir bot: 1" in report_of(fake)
        run2 = await fire_notice(svc, await create_notice(svc, AUTHOR, "Posyandu hari Rabu."))
        await drain(bot)
        assert set(await rows_of(svc, run2.id)) == {"700", "701"}
        assert sum(1 for p in fake.calls_of("sendMessage") if p["chat_id"] == group) == 1


async def test_a_message_that_keeps_failing_is_given_up_after_max_attempts(
        fake, tmp_path, clock, monkeypatch) -> None:
    """An unexplained failure (here a bug while sending to one chat) is not an outage: it
    counts attempts, with backoff, and fails the message after MAX_ATTEMPTS."""
    async with running_bot(fake, tmp_path, clock=clock, **FAST) as bot:
        svc = bot.services
        await neighbourhood(svc, [701])
        replies = bot.workers.senders[0].transport.replies  # type: ignore[attr-defined]
        send = replies.send

        async def buggy(bot_: Any, chat_id: int, reply: Any, lang: str) -> Any:
            if chat_id == 701:
                raise RuntimeError("a bug while sending")
            return await send(bot_, chat_id, reply, lang)

        monkeypatch.setattr(replies, "send", buggy)
        run = await fire_notice(svc, await create_notice(svc, AUTHOR, BODY))
        waits = []
        for attempt in range(1, MAX_ATTEMPTS + 1):
            async def tried(attempt: int = attempt) -> dict[str, Any] | None:
                row = (await rows_of(svc, run.id))["701"]
                done = row["attempts"] == attempt and row["status"] != "sending"
                return row if done else None

            row = await eventually(tried, what=f"attempt {attempt}")
            if attempt < MAX_ATTEMPTS:
                assert row["status"] == "queued"
                wait = datetime.fromisoformat(row["not_before"]) - clock.now()
                waits.append(wait.total_seconds())
                clock.advance(seconds=wait.total_seconds())
        assert waits == [2, 4, 8, 16, 32, 64, 128]
        assert row["status"] == "failed" and "RuntimeError" in row["reason"]
        assert bot.workers.senders[0].breaker.open is False  # not an outage
        await drain(bot)
        assert got(fake, 701) == []
        report = report_of(fake)
        assert "Gagal: 1" in report and "Terkirim: 1 dari 2" in report, report


class ScriptedTransport:
    """A channel-neutral transport answering from a script (then "sent"), for the cases the
    fake cannot produce quickly (a 429 asks for at least one second)."""

    channel = "telegram"

    def __init__(self, answers: list[Delivery]) -> None:
        self.limiter = RateLimiter(1000.0)
        self.answers = answers
        self.calls: list[str] = []

    def interval(self, address: str) -> float:
        return 0.0

    async def send(self, address: str, lang: str, reply: Any) -> Delivery:
        self.calls.append(address)
        return self.answers.pop(0) if self.answers else Delivery("sent", external_id="1")

    async def edit(self, address: str, message_id: str, lang: str, reply: Any) -> Delivery:
        return Delivery("sent", external_id=message_id)


async def test_429_answers_do_not_use_up_the_retries_of_a_message(services, clock) -> None:
    """Being asked to slow down is not a failure of the message: after many 429s a single
    5xx still gets its retry."""
    await resident(services, 701, RT03)
    run = await fire_notice(services, await create_notice(services, AUTHOR, BODY))
    limited = [Delivery("limited", retry_after=0.0, reason="429")] * MAX_ATTEMPTS
    transport = ScriptedTransport([*limited, Delivery("retry", reason="NetworkError: 500")])
    async with sender_on(services, transport) as sender:
        async def answered() -> bool:
            return len(transport.calls) == MAX_ATTEMPTS + 1 and \
                (await rows_of(services, run.id))["701"]["status"] != "sending"

        await eventually(answered, what="the scripted answers")
        await sender.flush()
        row = (await rows_of(services, run.id))["701"]
        assert sender.limited == MAX_ATTEMPTS
        assert row["status"] == "queued", f"given up after {MAX_ATTEMPTS} 429s and one 5xx: {row}"
        clock.advance(seconds=300)

        async def sent() -> bool:
            return (await rows_of(services, run.id))["701"]["status"] == "sent"

        await eventually(sent, what="the retry")
    assert transport.calls == ["701"] * (MAX_ATTEMPTS + 2)


# --- 4. rates ----------------------------------------------------------------------------


async def test_the_overall_rate_is_never_exceeded(fake, tmp_path, clock) -> None:
    residents = list(range(701, 740))  # 39 + the author = 40 recipients
    async with running_bot(fake, tmp_path, clock=clock, TELEGRAM_SEND_RATE="20", **FAST
                           ) as bot:
        svc = bot.services
        await neighbourhood(svc, residents)
        start = time.monotonic()
        await fire_notice(svc, await create_notice(svc, AUTHOR, BODY))
        await eventually(lambda: all(got(fake, u) for u in [AUTHOR, *residents]), 10,
                         what="all 40 notices")
        times = sorted(t for t, _ in sends(fake, start))
        assert len(times) >= 41  # the author's progress message and the 40 notices
        assert times[40] - times[0] >= 1.9, f"41 messages in {times[40] - times[0]:.2f}s"
        # in any stretch of 21 messages, at least ~1 s (20 gaps at 20/s)
        fastest = min(times[i + 20] - times[i] for i in range(len(times) - 20))
        assert fastest >= 0.9, f"21 messages within {fastest:.2f}s at 20/s"
        await drain(bot)


async def test_two_notices_to_the_same_person_keep_the_per_chat_interval(fake, tmp_path, clock
                                                                         ) -> None:
    """Two coordinators' notices are started together: each chat still gets at most one
    message per TELEGRAM_PER_CHAT_INTERVAL."""
    async with running_bot(fake, tmp_path, clock=clock, TELEGRAM_PER_CHAT_INTERVAL="0.5"
                           ) as bot:
        svc = bot.services
        await neighbourhood(svc, [701, 702])
        first = await create_notice(svc, AUTHOR, BODY)
        second = await create_notice(svc, AUTHOR, "Posyandu hari Rabu.")
        now = clock.now()

        async def both(tx):  # type: ignore[no-untyped-def]
            await fire(svc, tx, first, now, now)
            await fire(svc, tx, second, now, now)

        start = time.monotonic()
        await svc.store.write(both)
        svc.signals.outbox()
        await eventually(lambda: all(got(fake, u) and got(fake, u, "Posyandu")
                                     for u in (701, 702)), what="both notices")
        for uid in (701, 702):
            at = [t for t, c in sends(fake, start) if c == uid]
            assert len(at) == 2
            assert at[1] - at[0] >= 0.45, f"chat {uid}: two messages {at[1] - at[0]:.3f}s apart"


async def test_group_chats_get_their_own_interval(fake, tmp_path) -> None:
    for env, private, group in (({}, 1.0, 3.0),
                                ({"TELEGRAM_PER_CHAT_INTERVAL": "0.5",
                                  "TELEGRAM_GROUP_PER_MINUTE": "12"}, 0.5, 5.0)):
        async with open_services(channel_settings(fake, tmp_path, **env)) as svc:
            transport = TelegramOutbox(TelegramChannel.build(svc, Core(svc)))
            assert transport.interval("701") == private
            assert transport.interval("-1001234567890") == group  # supergroup
            assert transport.interval("-4567") == group  # basic group
            await transport.stop()


async def test_posts_to_a_linked_group_are_spaced_by_the_group_rate(fake, tmp_path, clock
                                                                    ) -> None:
    group = -1001234567890
    env = {"TELEGRAM_PER_CHAT_INTERVAL": "0.05", "TELEGRAM_GROUP_PER_MINUTE": "100"}  # 0.6 s
    async with running_bot(fake, tmp_path, clock=clock, **env) as bot:
        svc = bot.services
        await neighbourhood(svc, [701])
        await svc.store.db.write(lambda conn: NoticesRepo(conn).link_group(GroupLink(
            RT03, "telegram", str(group), "Warga RT 03", f"telegram:{AUTHOR}", clock.now())))
        start = time.monotonic()
        await fire_notice(svc, await create_notice(svc, AUTHOR, BODY))
        await eventually(lambda: got(fake, group), what="the first group post")
        await fire_notice(svc, await create_notice(svc, AUTHOR, "Posyandu hari Rabu."))
        await eventually(lambda: got(fake, group, "Posyandu"), what="the second group post")
        at = [t for t, c in sends(fake, start) if c == group]
        assert len(at) == 2
        assert at[1] - at[0] >= 0.55, f"group posts {at[1] - at[0]:.3f}s apart"
        private = [t for t, c in sends(fake, start) if c == 701]
        assert private[1] - private[0] < 0.55  # a private chat only waits its own interval
        await drain(bot)


# --- 5. quiet hours and opting out -------------------------------------------------------


async def test_quiet_hours_hold_regular_notices_until_morning_but_not_urgent_ones(
        fake, tmp_path) -> None:
    clock = FakeClock(NIGHT)
    residents = [701, 702, 703]
    everyone = [AUTHOR, *residents]
    async with running_bot(fake, tmp_path, clock=clock, **FAST) as bot:
        svc = bot.services
        await neighbourhood(svc, residents)
        run = await fire_notice(svc, await create_notice(svc, AUTHOR, BODY))
        await drain(bot)
        assert all(got(fake, u) == [] for u in everyone)
        morning = datetime(2026, 11, 29, 23, 0, tzinfo=UTC).isoformat()  # 06:00 WIB
        rows = await rows_of(svc, run.id)
        assert {(r["status"], r["deferred"], r["not_before"]) for r in rows.values()} == {
            ("queued", 1, morning)}
        report = report_of(fake, notice_id=1)
        assert "Ditunda karena jam tenang: 4, dikirim Senin, 30 Nov 2026 06.00 WIB" in report, \
            report

        urgent = await create_notice(svc, AUTHOR, "Air sungai naik, siapkan barang berharga.",
                                     category="urgent")
        await fire_notice(svc, urgent)
        await drain(bot)
        for uid in everyone:
            assert len(got(fake, uid, "Air sungai naik")) == 1, texts(fake, uid)
            assert got(fake, uid) == []
        assert "Terkirim: 4 dari 4" in report_of(fake, notice_id=2)

        clock.advance(hours=8, minutes=1)  # 06:01 WIB
        await eventually(lambda: all(got(fake, u) for u in everyone), what="the morning send")
        await drain(bot, final=True)
        for uid in everyone:
            assert len(got(fake, uid)) == 1, texts(fake, uid)
        follow_up = [t for t in texts(fake, AUTHOR) if "sudah dikirim" in t]
        assert len(follow_up) == 1, texts(fake, AUTHOR)
        assert "Pengumuman #1" in follow_up[0] and "Total terkirim 4 dari 4" in follow_up[0]


async def test_opted_out_resident_gets_urgent_but_not_regular_notices(fake, tmp_path, clock
                                                                      ) -> None:
    async with running_bot(fake, tmp_path, clock=clock, **FAST) as bot:
        svc = bot.services
        await neighbourhood(svc, [701, 702], **{"702": {"regular": False}})
        run = await fire_notice(svc, await create_notice(svc, AUTHOR, BODY))
        await drain(bot)
        assert got(fake, 702) == [] and len(got(fake, 701)) == 1
        assert (await rows_of(svc, run.id))["702"]["status"] == "skipped"
        report = report_of(fake, notice_id=1)
        assert "Dilewati (mematikan pengumuman biasa): 1" in report
        assert "Terkirim: 2 dari 3" in report, report

        await fire_notice(svc, await create_notice(svc, AUTHOR, "Banjir, segera mengungsi.",
                                                   category="urgent"))
        await drain(bot)
        assert len(got(fake, 702, "Banjir")) == 1
        assert "Dilewati (mematikan pengumuman biasa): 0" in report_of(fake, notice_id=2)


# --- 6. progress and report --------------------------------------------------------------


async def test_progress_message_counts_up_while_a_slow_broadcast_goes_out(fake, tmp_path, clock
                                                                          ) -> None:
    residents = list(range(701, 730))  # 29 + the author = 30
    async with running_bot(fake, tmp_path, clock=clock, TELEGRAM_SEND_RATE="10", **FAST
                           ) as bot:
        svc = bot.services
        await neighbourhood(svc, residents)
        await fire_notice(svc, await create_notice(svc, AUTHOR, BODY))
        await drain(bot)
        shown = [m["text"] for m in fake.messages_to(AUTHOR) if "terkirim" in m.get("text", "")]
        counts = [int(re.search(r"terkirim (\d+) / 30", t).group(1))  # type: ignore[union-attr]
                  for t in shown]
        assert counts[0] == 0 and shown[0].startswith("📤 Pengumuman #1: terkirim 0 / 30")
        assert counts == sorted(counts), counts
        assert len({c for c in counts if 0 < c < 30}) >= 3, f"too few updates: {shown}"
        assert shown[-1] == "✅ Pengumuman #1 selesai: terkirim 30 / 30"
        progress = [t for t in texts(fake, AUTHOR) if "terkirim" in t and "Laporan" not in t]
        assert progress == ["✅ Pengumuman #1 selesai: terkirim 30 / 30"]  # one message, edited


async def test_report_counts_a_mix_and_a_whatsapp_copy_follows(fake, tmp_path, clock) -> None:
    body = "Kerja bakti & bersih-bersih <selokan> Minggu jam 07.00."
    residents = list(range(701, 711))
    async with running_bot(fake, tmp_path, clock=clock, **FAST) as bot:
        svc = bot.services
        await neighbourhood(svc, residents, **{"706": {"regular": False}})
        fake.block(705)
        fake.fail("sendMessage", 400, "Bad Request: chat not found", chat_id=707)
        await fire_notice(svc, await create_notice(svc, AUTHOR, body))
        await drain(bot)
        report = report_of(fake)
        for line in ("Terkirim: 8 dari 11", "Gagal: 1", "Memblokir bot: 1",
                     "Dilewati (mematikan pengumuman biasa): 1"):
            assert line in report, report
        assert "Ditunda" not in report and "dibatalkan" not in report
        messages = fake.current_messages(AUTHOR)
        at = next(i for i, m in enumerate(messages) if m.get("text", "").startswith("Laporan"))
        assert len(messages) == at + 2, "no WhatsApp copy right after the report"
        copy = messages[at + 1]
        text = copy["text"]
        assert "Salinan untuk grup WhatsApp" in report
        assert "*Pengumuman*" in text and body in text
        assert "Ketua RT 03 / RW 02 — Pak Ahmad" in text
        assert not re.search(r"</?[a-z]+>", text.replace("<selokan>", "")), text
        assert "&amp;" not in text and "&lt;" not in text
        assert not copy.get("entities"), "the WhatsApp copy must be plain text"
        assert got(fake, 701, body) and got(fake, 706, body) == [] and got(fake, 707, body) == []


# --- 7. restart --------------------------------------------------------------------------


async def test_rows_left_in_flight_by_a_dead_sender_are_sent_again_once(fake, tmp_path
                                                                        ) -> None:
    clock = FakeClock()
    residents = list(range(701, 707))
    async with open_services(channel_settings(fake, tmp_path, **FAST), clock) as svc:
        await neighbourhood(svc, residents)
        run = await fire_notice(svc, await create_notice(svc, AUTHOR, BODY))
        now = clock.now()

        async def die_mid_run(conn):  # type: ignore[no-untyped-def]
            repo = OutboxRepo(conn)
            items = await repo.claim("telegram", "telegram-dead", now, 100, False)
            await repo.record([Outcome(i.id, "sent", external_id="1") for i in items
                               if i.address in ("701", "702")], now)
            return items

        claimed = await svc.store.db.write(die_mid_run)
        assert len(claimed) == 8  # the progress message and 7 notices
        statuses = await OutboxRepo(svc.store.db.conn).by_status("telegram")
        assert statuses == {"sent": 2, "sending": 6}

        channel = TelegramChannel.build(svc, Core(svc))
        async with channel.outbox() as transport, sender_on(svc, transport):
            async def drained() -> bool:
                return await OutboxRepo(svc.store.db.conn).by_status("telegram") == {"sent": 8}

            await eventually(drained, what="the released rows to be sent")
        for uid in (701, 702):
            assert fake.messages_to(uid) == []  # sent before the crash: not again
        for uid in (703, 704, 705, 706):
            assert len(got(fake, uid)) == 1
        assert len(got(fake, AUTHOR)) == 1
        assert len([t for t in texts(fake, AUTHOR) if "terkirim 0 / 7" in t]) == 1
        rows = await rows_of(svc, run.id)
        # a row released after a crash most likely never left: that claim is not an attempt
        assert rows["703"]["attempts"] == 1 and rows["701"]["attempts"] == 1


async def test_a_clean_stop_mid_broadcast_loses_and_repeats_nothing(fake, tmp_path) -> None:
    """Stopped between two sends (5/s: one every 200 ms), the sender queues again what it
    claimed but did not send; the next one sends exactly that."""
    clock = FakeClock()
    residents = list(range(701, 711))
    settings = channel_settings(fake, tmp_path, TELEGRAM_SEND_RATE="5", **FAST)
    async with open_services(settings, clock) as svc:
        await neighbourhood(svc, residents)
        await fire_notice(svc, await create_notice(svc, AUTHOR, BODY))
        channel = TelegramChannel.build(svc, Core(svc))
        async with channel.outbox() as transport:
            sender = Sender(svc, transport, idle_poll=0.05)
            task = asyncio.create_task(sender.run())
            await eventually(lambda: len(sends(fake)) >= 4, what="a few sends")
            sender.stop(grace=0.05)  # lets the send on the wire finish, starts no other
            await asyncio.wait_for(task, 5)
        statuses = await OutboxRepo(svc.store.db.conn).by_status("telegram")
        assert "sending" not in statuses, statuses
        assert statuses.get("queued", 0) > 0, "everything went out before the stop"
        async with channel.outbox() as transport, sender_on(svc, transport):  # the next start
            async def drained() -> bool:
                return await OutboxRepo(svc.store.db.conn).by_status("telegram") == {"sent": 12}

            await eventually(drained, what="the rest to be sent")
        for uid in [AUTHOR, *residents]:
            assert len(got(fake, uid)) == 1, (uid, texts(fake, uid))


# --- 8. erasure --------------------------------------------------------------------------


async def test_erasure_removes_queued_notices_to_the_person(fake, tmp_path) -> None:
    clock = FakeClock(NIGHT)
    async with running_bot(fake, tmp_path, clock=clock, **FAST) as bot:
        svc = bot.services
        await neighbourhood(svc, [701, 702])
        run = await fire_notice(svc, await create_notice(svc, AUTHOR, BODY))
        await drain(bot)
        assert set(await rows_of(svc, run.id)) == {"700", "701", "702"}  # held for the night
        person = await PeopleRepo(svc.store.db.conn).get("telegram:702")
        assert person is not None

        leaving = fake.user(702)
        await leaving.send("/hapusdata")
        assert "Hapus data saya" in (await leaving.next_reply())["text"]
        await leaving.click("🗑️ Ya, hapus")
        assert "sudah dihapus" in (await leaving.next_reply())["text"]
        await bot.settled()
        assert "702" not in await rows_of(svc, run.id)
        async with svc.store.db.conn.execute(
                "SELECT COUNT(*) FROM outbox WHERE person_id = ? OR address = '702'",
                (person.id,)) as cur:
            assert (await cur.fetchone())[0] == 0
        before = len(fake.messages_to(702))

        clock.advance(hours=8, minutes=1)
        await eventually(lambda: got(fake, 701), what="the morning send")
        await drain(bot, final=True)
        assert len(got(fake, AUTHOR)) == 1
        assert len(fake.messages_to(702)) == before and got(fake, 702) == []


# --- the transport's mapping of Bot API answers ------------------------------------------


@pytest.mark.parametrize(("code", "description", "status"), [
    (403, "Forbidden: bot was blocked by the user", "blocked"),
    (403, "Forbidden: user is deactivated", "blocked"),
    (400, "Bad Request: chat not found", "failed"),
    (500, "Internal Server Error", "unreachable"),
    (502, "Bad Gateway", "unreachable"),
    (503, "Service Unavailable", "unreachable"),
])
async def test_bot_api_errors_map_to_deliveries(fake, tmp_path, code, description, status
                                                ) -> None:
    async with open_services(channel_settings(fake, tmp_path)) as svc:
        transport = TelegramOutbox(TelegramChannel.build(svc, Core(svc)))
        fake.fail("sendMessage", code, description)
        delivery = await transport.send("701", "id", say("erase.nothing"))
        assert delivery.status == status, delivery
        ok = await transport.send("701", "id", say("erase.nothing"))
        assert ok == Delivery("sent", external_id=str(fake.current_messages(701)[-1]
                                                      ["message_id"]))
        await transport.stop()


async def test_a_refused_connection_maps_to_unreachable(fake, tmp_path) -> None:
    """Nothing listens at the Bot API's address: not the message's fault."""
    with socket.socket() as probe:  # a port that was free a moment ago
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    async with open_services(channel_settings(fake, tmp_path)) as svc:
        request = AiohttpRequest(2, connect_timeout=1)
        bot = Bot(fake.token, base_url=f"http://127.0.0.1:{port}/bot", request=request)
        transport = TelegramOutbox(TelegramChannel.build(svc, Core(svc)), bot=bot)
        delivery = await transport.send("701", "id", say("erase.nothing"))
        assert delivery.status == "unreachable" and "NetworkError" in delivery.reason, delivery
        await transport.stop()
        await request.shutdown()  # never initialised: the transport did not shut it down


async def test_429_maps_to_limited_with_the_wait(fake, tmp_path) -> None:
    async with open_services(channel_settings(fake, tmp_path)) as svc:
        transport = TelegramOutbox(TelegramChannel.build(svc, Core(svc)))
        fake.fail("sendMessage", 429, "Too Many Requests: retry after 7", retry_after=7)
        delivery = await transport.send("701", "id", say("erase.nothing"))
        assert delivery.status == "limited" and delivery.retry_after == 7.0, delivery
        await transport.stop()


async def test_system_messages_reach_the_author_during_quiet_hours(fake, tmp_path) -> None:
    """Replies queued by decisions (kind text, priority SYSTEM) are not held by quiet hours."""
    clock = FakeClock(NIGHT)
    async with running_bot(fake, tmp_path, clock=clock, **FAST) as bot:
        svc = bot.services
        await neighbourhood(svc, [])
        await svc.store.write(lambda tx: notify(tx, f"telegram:{AUTHOR}",
                                               say("erase.nothing"), clock.now()))
        svc.signals.outbox()
        await drain(bot)
        assert any("tidak menyimpan data" in t for t in texts(fake, AUTHOR))
