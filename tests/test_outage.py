"""Outages and the shared rate limiter.

* A 30-minute outage of the Bot API (5xx answers, then answers that come too late, then
  nothing listening at all), on an injected clock, through the real python-telegram-bot
  transport and the fake Bot API server: nothing is lost, no attempt is used, one probe at a
  time is on the wire, everything goes out once it ends, a 400 still fails its message.
* A message still undelivered ``outbox.give_up_after`` after it was queued is failed and the
  notice's author told why, in their language.
* The breaker's probes back off to their cap and never overlap (a channel-neutral transport).
* Replies never push staff messages and urgent notices back by more than about a second;
  urgent notices go before replies, which still get every fourth slot meanwhile.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

from telegram import Bot

from bot.app import open_services
from bot.broadcasting.giveup import give_up
from bot.broadcasting.notices import notify
from bot.broadcasting.outbox import Delivery, RateLimiter, Sender
from bot.broadcasting.workers import start_workers
from bot.channels.http import AiohttpRequest
from bot.channels.telegram import TelegramChannel
from bot.channels.telegram_outbox import TelegramOutbox
from bot.clock import FakeClock
from bot.context import Services
from bot.core import Core
from bot.events import say
from db.repositories.outbox import REGULAR, SYSTEM, URGENT
from tests.broadcast_helpers import (
    RT01_RW01,
    RT03,
    create_notice,
    fire_notice,
    grant,
    resident,
)
from tests.conftest import make_settings
from tests.fake_telegram import FakeBotAPI

AUTHOR = 700
MODERATOR = 900
BODY = "Kerja bakti Minggu pagi jam 07.00 di balai RT."
URGENT_BODY = "Air sungai naik, siapkan barang berharga."
FAST = {"TELEGRAM_PER_CHAT_INTERVAL": "0.02"}


# --- helpers -----------------------------------------------------------------------------


async def eventually(check: Callable[[], Any], timeout: float = 10.0,  # noqa: ASYNC109
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


def notices_in(fake: FakeBotAPI, chat_id: int, body: str) -> list[str]:
    return [m.get("text", "") for m in fake.current_messages(chat_id)
            if body in m.get("text", "")
            and m["text"].startswith(("📢 Pengumuman", "🚨 PENGUMUMAN MENDESAK"))]


def texts(fake: FakeBotAPI, chat_id: int) -> list[str]:
    return [m.get("text", "") for m in fake.current_messages(chat_id)]


async def rows(services: Services) -> list[dict[str, Any]]:
    async with services.store.db.conn.execute(
        "SELECT address, kind, status, attempts, reason FROM outbox ORDER BY id"
    ) as cur:
        return [{"address": r[0], "kind": r[1], "status": r[2], "attempts": r[3],
                 "reason": r[4] or ""} for r in await cur.fetchall()]


async def drained(services: Services) -> bool:
    """Nothing due or in flight, and every run reported (its final report)."""
    conn = services.store.db.conn
    now = services.clock.now().isoformat()
    async with conn.execute("SELECT COUNT(*) FROM outbox WHERE status = 'sending' OR "
                            "(status = 'queued' AND not_before <= ?)", (now,)) as cur:
        busy = (await cur.fetchone())[0]
    async with conn.execute("SELECT COUNT(*) FROM notice_run WHERE reported < 2") as cur:
        unreported = (await cur.fetchone())[0]
    return not busy and not unreported


async def settle(services: Services) -> None:
    """Wait until the outbox is drained twice in a row (a report's own messages count)."""
    async def twice() -> bool:
        if not await drained(services):
            return False
        await asyncio.sleep(0.2)
        return await drained(services)

    await eventually(twice, what="the outbox to drain")


class Wire:
    """The real Telegram transport, watched: how many sends are on the wire at once while
    the sender holds (its breaker is open)."""

    def __init__(self, inner: TelegramOutbox) -> None:
        self.inner = inner
        self.channel = inner.channel
        self.limiter = inner.limiter
        self.sender: Sender | None = None
        self.on_wire = 0
        self.most_while_held = 0
        self.sent_while_held = 0

    def interval(self, address: str) -> float:
        return self.inner.interval(address)

    async def send(self, address: str, lang: str, reply: Any) -> Delivery:
        held = self.sender is not None and self.sender.breaker.open
        self.on_wire += 1
        if held:
            self.sent_while_held += 1
            self.most_while_held = max(self.most_while_held, self.on_wire)
        try:
            return await self.inner.send(address, lang, reply)
        finally:
            self.on_wire -= 1

    async def edit(self, address: str, message_id: str, lang: str, reply: Any) -> Delivery:
        return await self.inner.edit(address, message_id, lang, reply)


@contextlib.asynccontextmanager
async def outbox_workers(fake: FakeBotAPI, tmp_path: Path, clock: FakeClock
                         ) -> AsyncIterator[tuple[Services, Sender, Wire]]:
    """The broadcasting workers (scheduler, sender, reporter) on the real Telegram transport,
    with Bot API timeouts of 0.2 s and probes 20 ms to 160 ms apart (a short time scale)."""
    settings = make_settings(tmp_path, TELEGRAM_BOT_TOKEN=fake.token,
                             TELEGRAM_BASE_URL=fake.base_url, **FAST)
    async with open_services(settings, clock) as svc:
        channel = TelegramChannel.build(svc, Core(svc))
        request = AiohttpRequest(8, read_timeout=0.2, write_timeout=0.2, connect_timeout=0.2,
                                 pool_timeout=0.2)
        transport = TelegramOutbox(channel, bot=Bot(fake.token, base_url=fake.base_url,
                                                    request=request))
        wire = Wire(transport)
        try:
            async with start_workers(svc, [wire]) as workers:  # type: ignore[list-item]
                sender = workers.senders[0]
                wire.sender = sender
                sender.idle_poll = 0.02
                sender.give_up_every = 0.05
                sender.breaker.first, sender.breaker.longest = 0.02, 0.16
                workers.reporter.every = 0.1
                workers.reporter.edit_every = 0.2
                yield svc, sender, wire
        finally:
            await transport.stop()


async def neighbourhood(services: Services, residents: list[int]) -> None:
    """The author (RT 03's coordinator, living in RT 03), ``residents`` of RT 03 and a
    moderator living in another RT."""
    await resident(services, AUTHOR, RT03)
    await grant(services, AUTHOR, "coordinator", RT03, "Pak Ahmad")
    for uid in residents:
        await resident(services, uid, RT03)
    await resident(services, MODERATOR, RT01_RW01)
    await grant(services, MODERATOR, "moderator")


async def minutes_pass(clock: FakeClock, minutes: int) -> None:
    """Let ``minutes`` of the injected clock pass, 30 s at a time, with the event loop
    running in between (the sender probes on its own short time scale meanwhile)."""
    for _ in range(minutes * 2):
        clock.advance(seconds=30)
        await asyncio.sleep(0.03)


# --- a 30-minute outage ------------------------------------------------------------------


async def test_a_30_minute_outage_loses_nothing_and_uses_no_attempts(fake, tmp_path, caplog
                                                                    ) -> None:
    caplog.set_level(logging.INFO, logger="bot.broadcasting.outbox")
    clock = FakeClock()
    residents = list(range(701, 711))
    everyone = [AUTHOR, *residents]
    async with outbox_workers(fake, tmp_path, clock) as (svc, sender, wire):
        await neighbourhood(svc, residents)
        port = fake.port

        # 1. ten minutes of 5xx answers
        fake.fail("sendMessage", 502, "Bad Gateway", times=10**9)
        await fire_notice(svc, await create_notice(svc, AUTHOR, BODY))
        await fire_notice(svc, await create_notice(svc, AUTHOR, URGENT_BODY,
                                                   category="urgent"))
        await svc.store.write(lambda tx: notify(tx, f"telegram:{MODERATOR}",
                                               say("erase.nothing"), clock.now()))
        svc.signals.outbox()
        await eventually(lambda: sender.breaker.open, what="the sender to hold")
        await minutes_pass(clock, 10)
        # 2. ten minutes of answers that come too late (after the 0.2 s read timeout)
        fake.clear_failures()
        fake.latency = 1.0
        await minutes_pass(clock, 10)
        # 3. ten minutes with nothing listening: connections refused
        await fake.stop()
        fake.latency = 0.0
        await minutes_pass(clock, 10)

        outbox = await rows(svc)
        assert len(outbox) == 2 + 2 * len(everyone) + 1  # 2 progress, 2 notices each, moderator
        assert {r["status"] for r in outbox} <= {"queued", "sending"}, outbox
        assert all(r["attempts"] == 0 for r in outbox), outbox
        assert all(r["reason"].startswith("unreachable: ") for r in outbox
                   if r["status"] == "queued" and r["reason"]), outbox
        assert sender.unreachable >= 10, "the sender hardly probed"
        assert wire.sent_while_held >= 10
        assert wire.most_while_held == 1, "more than one probe on the wire at once"
        assert all(fake.current_messages(uid) == [] for uid in [*everyone, MODERATOR])

        # Telegram is back; one chat's messages are refused for good (a 400)
        fake.fail("sendMessage", 400, "Bad Request: chat not found", chat_id=705, times=2)
        await fake.start(port=port)
        await settle(svc)
        assert sender.breaker.open is False
        outbox = await rows(svc)
        refused = [r for r in outbox if r["address"] == "705"]
        assert [(r["status"], r["attempts"]) for r in refused] == [("failed", 1)] * 2, refused
        assert "chat not found" in refused[0]["reason"].lower()
        delivered = [r for r in outbox if r["address"] != "705"]
        assert all(r["status"] == "sent" and r["attempts"] == 1 for r in delivered), delivered

    for uid in everyone:
        expected = 0 if uid == 705 else 1
        assert len(notices_in(fake, uid, BODY)) == expected, (uid, texts(fake, uid))
        assert len(notices_in(fake, uid, URGENT_BODY)) == expected, (uid, texts(fake, uid))
    assert any("tidak menyimpan data" in t for t in texts(fake, MODERATOR))
    reports = [t for t in texts(fake, AUTHOR) if t.startswith("Laporan pengumuman")]
    assert len(reports) == 2, texts(fake, AUTHOR)
    for report in reports:
        assert "Terkirim: 10 dari 11" in report and "Gagal: 1" in report, report
    opened = [r for r in caplog.records if "unreachable (" in r.getMessage()]
    closed = [r for r in caplog.records if "reachable again" in r.getMessage()]
    assert len(opened) == 1 and len(closed) == 1, [r.getMessage() for r in caplog.records]


# --- giving up after outbox.give_up_after ------------------------------------------------


async def test_undelivered_after_24_hours_is_failed_and_the_author_told(fake, tmp_path, caplog
                                                                       ) -> None:
    caplog.set_level(logging.INFO, logger="bot.broadcasting.giveup")
    clock = FakeClock()  # 15.00 WIB: no quiet hours now, nor 24 hours later
    residents = [701, 702, 703]
    async with outbox_workers(fake, tmp_path, clock) as (svc, sender, _):
        assert svc.settings.outbox.give_up_after.total_seconds() == 24 * 3600  # the default
        await neighbourhood(svc, residents)
        fake.fail("sendMessage", 502, "Bad Gateway", times=10**9)
        run = await fire_notice(svc, await create_notice(svc, AUTHOR, BODY))
        await svc.store.write(lambda tx: notify(tx, f"telegram:{MODERATOR}",
                                               say("erase.nothing"), clock.now()))
        svc.signals.outbox()
        await eventually(lambda: sender.breaker.open, what="the sender to hold")
        await minutes_pass(clock, 5)
        clock.advance(hours=23, minutes=54)  # a minute short of a day
        await asyncio.sleep(0.3)
        assert {r["status"] for r in await rows(svc)} <= {"queued", "sending"}

        clock.advance(minutes=2)

        async def given_up() -> list[dict[str, Any]]:
            found = [r for r in await rows(svc) if r["status"] == "failed"]
            return found if len(found) == 1 + 4 + 1 else []  # progress, 4 notices, moderator

        outbox = await eventually(given_up, what="everything to be given up")
        for row in outbox:
            assert row["attempts"] == 0, row
            assert row["reason"].startswith(
                "not delivered within 24 h; last: unreachable: NetworkError: Bad Gateway"), row
        async with svc.store.db.conn.execute(
                "SELECT COUNT(*) FROM outbox WHERE status IN ('queued', 'sending')") as cur:
            assert (await cur.fetchone())[0] == 1  # the message to the author, waiting
        assert any("gave up 6 messages" in r.getMessage() for r in caplog.records)

        fake.clear_failures()  # Telegram is back
        clock.advance(minutes=1)  # what was tried last waits up to a minute
        await settle(svc)
        counts = await svc.store.reads.outbox.counts(run.id)
        assert (counts.sent, counts.failed, counts.total) == (0, 4, 4)

    told = [t for t in texts(fake, AUTHOR) if t.startswith("⚠️ Pengumuman #1")]
    assert told == ["⚠️ Pengumuman #1 tidak sampai ke 4 penerima: Telegram tidak dapat "
                    "dihubungi selama 24 jam, jadi pengiriman kepada mereka dihentikan.\n"
                    "Bila masih perlu, sampaikan lewat grup WhatsApp RT atau secara "
                    "langsung."], texts(fake, AUTHOR)
    report = next(t for t in texts(fake, AUTHOR) if t.startswith("Laporan pengumuman #1"))
    assert "Terkirim: 0 dari 4" in report and "Gagal: 4" in report, report
    assert all(notices_in(fake, uid, BODY) == [] for uid in [AUTHOR, *residents])
    assert texts(fake, MODERATOR) == []  # failed and logged, not sent a day late


async def test_a_run_is_given_up_at_once_even_with_a_message_in_flight(services, clock
                                                                      ) -> None:
    """The sender holds one of the run's messages (a probe) when the time is up: the run
    waits for the next look, so its author gets one message about it, not two."""
    await neighbourhood(services, [701, 702, 703])
    run = await fire_notice(services, await create_notice(services, AUTHOR, BODY))
    probe = await services.store.write(lambda tx: tx.outbox.claim(
        "telegram", "telegram-1", clock.now(), 1, False))
    assert probe[0].kind == "progress"  # SYSTEM first; then take a notice too
    probe = await services.store.write(lambda tx: tx.outbox.claim(
        "telegram", "telegram-1", clock.now(), 1, False))
    assert probe[0].kind == "notice"
    clock.advance(hours=24, minutes=1)

    assert await give_up(services, "telegram") == 0  # the run has a message in flight
    counts = await services.store.reads.outbox.counts(run.id)
    assert (counts.failed, counts.queued, counts.sending) == (0, 3, 1)
    await services.store.write(lambda tx: tx.outbox.release("telegram"))
    assert await give_up(services, "telegram") == 5
    assert await give_up(services, "telegram") == 0
    counts = await services.store.reads.outbox.counts(run.id)
    assert (counts.failed, counts.total) == (4, 4)
    async with services.store.db.conn.execute(
            "SELECT payload FROM outbox WHERE status = 'queued'") as cur:
        told = [r[0] for r in await cur.fetchall()]
    assert len(told) == 1 and '"broadcast.gave_up"' in told[0] and '"count": 4' in told[0]


async def test_the_author_is_told_in_their_language(fake, tmp_path) -> None:
    clock = FakeClock()
    async with outbox_workers(fake, tmp_path, clock) as (svc, sender, _):
        await resident(svc, AUTHOR, RT03, language="en")
        await grant(svc, AUTHOR, "coordinator", RT03, "Pak Ahmad")
        await resident(svc, 701, RT03)
        fake.fail("sendMessage", 503, "Service Unavailable", times=10**9)
        await fire_notice(svc, await create_notice(svc, AUTHOR, BODY))
        await eventually(lambda: sender.breaker.open, what="the sender to hold")
        clock.advance(hours=24, minutes=1)

        async def given_up() -> bool:
            return sum(r["status"] == "failed" for r in await rows(svc)) == 3

        await eventually(given_up, what="the give-up")
        fake.clear_failures()
        clock.advance(minutes=1)
        await settle(svc)
    told = [t for t in texts(fake, AUTHOR) if t.startswith("⚠️ Notice #1")]
    assert told == ["⚠️ Notice #1 did not reach 2 recipients: Telegram could not be reached "
                    "for 24 hours, so sending to them has stopped.\nIf it is still needed, "
                    "pass it on through the RT's WhatsApp group or in person."], \
        texts(fake, AUTHOR)


# --- the breaker's probes (a channel-neutral transport) ----------------------------------


class Outage:
    """A channel that does not answer while ``down``; records when each send started and
    how many were on the wire at once."""

    channel = "telegram"

    def __init__(self) -> None:
        self.limiter = RateLimiter(1000.0)
        self.down = True
        self.sender: Sender | None = None
        self.on_wire = 0
        self.most_while_held = 0
        self.held_starts: list[float] = []
        self.sent: list[str] = []

    def interval(self, address: str) -> float:
        return 0.0

    async def send(self, address: str, lang: str, reply: Any) -> Delivery:
        loop = asyncio.get_running_loop()
        if self.sender is not None and self.sender.breaker.open:
            self.held_starts.append(loop.time())
            self.most_while_held = max(self.most_while_held, self.on_wire + 1)
        self.on_wire += 1
        try:
            await asyncio.sleep(0.005)
            if self.down:
                return Delivery("unreachable", reason="NetworkError: Bad Gateway")
            self.sent.append(address)
            return Delivery("sent", external_id=str(len(self.sent)))
        finally:
            self.on_wire -= 1

    async def edit(self, address: str, message_id: str, lang: str, reply: Any) -> Delivery:
        return Delivery("sent", external_id=message_id)


async def test_probes_back_off_to_their_cap_one_at_a_time(services, clock) -> None:
    residents = list(range(701, 731))
    await neighbourhood(services, residents)
    transport = Outage()
    sender = Sender(services, transport, idle_poll=0.01)  # type: ignore[arg-type]
    sender.breaker.first, sender.breaker.longest = 0.01, 0.08
    transport.sender = sender
    task = asyncio.create_task(sender.run())
    try:
        await fire_notice(services, await create_notice(services, AUTHOR, BODY))
        for _ in range(40):  # 20 minutes of the injected clock, 0.8 s of real time
            clock.advance(seconds=30)
            await asyncio.sleep(0.02)
        outbox = await rows(services)
        assert {r["status"] for r in outbox} <= {"queued", "sending"}
        assert all(r["attempts"] == 0 for r in outbox)
        assert transport.sent == []
        assert transport.most_while_held == 1
        gaps = [b - a for a, b in zip(transport.held_starts, transport.held_starts[1:],
                                      strict=False)]
        assert len(gaps) >= 6, gaps
        assert gaps[0] < 0.04  # 10 ms, then 20, 40, 80, 80 ...
        assert all(0.075 <= g <= 0.15 for g in gaps[3:]), gaps

        transport.down = False
        clock.advance(minutes=1)
        await eventually(lambda: len(transport.sent) == len(residents) + 2, what="all sent")
    finally:
        sender.stop(grace=1.0)
        await asyncio.wait_for(task, 5)
    assert sorted(transport.sent) == sorted(map(str, [AUTHOR, AUTHOR, *residents]))
    outbox = await rows(services)
    assert all(r["status"] == "sent" and r["attempts"] == 1 for r in outbox), outbox


# --- the shared limiter: replies borrow at most a second ---------------------------------


async def test_after_1000_replies_a_staff_message_waits_about_a_second_at_most() -> None:
    """Rate 200/s: 1,000 replies are five seconds of slots. People chatting are answered at
    once, and a message to staff (and an urgent notice) asked for right after them still
    gets a slot within about a second: replies borrow one second at most."""
    limiter = RateLimiter(200.0)
    loop = asyncio.get_running_loop()
    replies = [asyncio.create_task(limiter.reply_slot()) for _ in range(1000)]
    await asyncio.sleep(0)
    assert all(t.done() for t in replies)  # nobody chatting waited
    start = loop.time()
    staff = asyncio.create_task(limiter.acquire(SYSTEM))
    urgent = asyncio.create_task(limiter.acquire(URGENT))
    await staff
    staff_waited = loop.time() - start
    await urgent
    urgent_waited = loop.time() - start
    assert 0.8 <= staff_waited <= 1.1, f"a staff message waited {staff_waited:.2f}s"
    assert urgent_waited <= 1.1, f"an urgent notice waited {urgent_waited:.2f}s"


async def test_staff_first_then_urgent_then_regular_and_replies_wait_only_for_urgent() -> None:
    limiter = RateLimiter(2000.0, max_debt=0.02)  # a short time scale: 40 slots of debt
    order: list[str] = []

    async def reply(i: int) -> None:
        await limiter.reply_slot()
        order.append(f"reply{i}")

    async def notice(name: str, priority: int) -> None:
        await limiter.acquire(priority)
        order.append(name)

    tasks = [asyncio.create_task(reply(i)) for i in range(100)]
    await asyncio.sleep(0)
    assert len(order) == 100  # nobody waited: every reply went at once
    tasks.append(asyncio.create_task(notice("staff", SYSTEM)))
    await asyncio.sleep(0)
    tasks += [asyncio.create_task(reply(100 + i)) for i in range(20)]  # a staff message waits
    await asyncio.sleep(0)
    assert len(order) == 120  # ... and keeps its slot: these went uncounted
    tasks += [asyncio.create_task(notice("regular", REGULAR)),
              asyncio.create_task(notice("urgent", URGENT))]
    await asyncio.sleep(0)
    tasks += [asyncio.create_task(reply(200 + i)) for i in range(5)]  # an urgent one waits
    await asyncio.gather(*tasks)
    assert order[120:] == ["staff", "urgent", *[f"reply{200 + i}" for i in range(5)],
                           "regular"]


async def test_replies_get_every_fourth_slot_while_an_urgent_broadcast_goes_out() -> None:
    """Urgent notices keep priority over replies in the shared rate, but people chatting are
    not left unanswered until a long urgent broadcast has gone out."""
    limiter = RateLimiter(1000.0)
    order: list[str] = []

    async def take(name: str, slot: Callable[[], Any]) -> None:
        await slot()
        order.append(name)

    urgent = [asyncio.create_task(take("urgent", lambda: limiter.acquire(URGENT)))
              for _ in range(300)]
    await asyncio.sleep(0)
    replies = [asyncio.create_task(take("reply", limiter.reply_slot)) for _ in range(20)]
    await asyncio.sleep(0)
    assert order == []  # the replies wait behind urgent notices
    await asyncio.gather(*urgent, *replies)
    assert order[:3] == ["urgent"] * 3
    assert order[:40].count("reply") in (9, 10), order[:40]
    assert max(i for i, name in enumerate(order) if name == "reply") < 90  # long before 320


async def test_a_reply_storm_never_owes_more_than_the_cap_nor_starves_notices() -> None:
    """Replies without end (faster than the rate): the limiter never owes more than the debt
    cap, regular notices still get a slot at least once per cap, and a pause (a 429) holds
    every notice waiting."""
    rate, debt = 1000.0, 0.05
    limiter = RateLimiter(rate, max_debt=debt)
    loop = asyncio.get_running_loop()
    notices: list[float] = []
    owed: list[float] = []

    async def replies() -> None:
        while True:
            await limiter.reply_slot()
            owed.append(limiter._next - loop.time())
            await asyncio.sleep(0)  # the reply is sent

    async def regular() -> None:
        while True:
            await limiter.acquire(REGULAR)
            notices.append(loop.time())

    workers = [asyncio.create_task(replies()), asyncio.create_task(regular())]
    await asyncio.sleep(0.5)
    limiter.pause(0.2)
    paused_at, before_pause = loop.time(), len(notices)
    await asyncio.sleep(0.15)
    for w in workers:
        w.cancel()
    await asyncio.gather(*workers, return_exceptions=True)
    assert len(owed) > rate * 0.5  # the replies ran faster than the rate
    assert max(owed) <= debt + 2 / rate, max(owed)
    assert before_pause >= 0.5 / (debt + 1 / rate) * 0.8, before_pause  # not starved
    assert not [t for t in notices[before_pause:] if t > paused_at + 0.01]
