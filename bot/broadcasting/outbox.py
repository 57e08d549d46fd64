"""The sender: works through one channel's outbox at that channel's rate, never faster.

Channel-neutral: a ``Transport`` (Telegram, console, later WhatsApp) sends one rendered
message and says what happened, and sets its own rules (rate overall, gap per chat). The
outbox is the source of truth: rows are claimed (``sending``) before they are sent and their
outcome is recorded in small batches, so a crash re-sends at most the rows in flight.

Replies to people chatting with the bot do not go through here, so a broadcast in progress
(or a 429 pause) never holds them back.
"""

from __future__ import annotations

import asyncio
import contextlib
import heapq
import itertools
import logging
import os
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

from bot.broadcasting.notices import compose, quiet_hours
from bot.context import Services
from bot.events import Reply, reply_from_json
from db.repositories.notices import Notice
from db.repositories.outbox import SYSTEM, OutboxItem, Outcome

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 8  # transient failures before a message counts as failed


@dataclass(frozen=True)
class Delivery:
    """What a transport reports for one message."""

    status: str  # sent | failed | blocked | retry | limited
    external_id: str | None = None  # the channel's message id
    retry_after: float = 0.0  # for "limited": seconds the channel asked us to wait
    reason: str = ""
    moved_to: str | None = None  # a group got a new address (Telegram supergroup upgrade)


class RateLimiter:
    """One channel's overall rate: every outbox message and progress edit takes a slot.

    Slots go to waiters by priority (progress edits and messages to authors first, then
    urgent, then regular notices), one every ``1/rate`` seconds. Replies to people chatting
    with the bot never wait here: they ``take`` a slot at once, which moves the next queued
    message back instead. A 429 pauses every waiter.
    """

    def __init__(self, rate: float) -> None:
        self.rate = rate
        self._next = 0.0  # loop time of the next free slot
        self.paused_until = 0.0
        self._waiting: list[tuple[int, int, asyncio.Future[None]]] = []
        self._order = itertools.count()
        self._ticker: asyncio.Task[None] | None = None

    async def acquire(self, priority: int = SYSTEM) -> None:
        """Wait for a slot; lower ``priority`` goes first."""
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        heapq.heappush(self._waiting, (priority, next(self._order), future))
        if self._ticker is None or self._ticker.done():
            self._ticker = asyncio.create_task(self._tick(), name="rate-limiter")
        await future  # a cancelled waiter's future is skipped by the ticker

    async def _tick(self) -> None:
        loop = asyncio.get_running_loop()
        while self._waiting:
            wait = max(self.paused_until, self._next) - loop.time()
            if wait > 0:
                await asyncio.sleep(wait)  # then look again: a pause or a reply may have come
                continue
            _, _, future = heapq.heappop(self._waiting)
            if future.done():
                continue
            future.set_result(None)
            # count from the slot's planned time, not from when the timer fired, or every
            # late wake-up would slow the rate down; after an idle spell start afresh
            interval = 1.0 / self.rate
            self._next = max(self._next, loop.time() - interval) + interval

    def take(self) -> None:
        """Count a message sent right now outside the queue (a reply)."""
        now = asyncio.get_running_loop().time()
        self._next = max(self._next, now) + 1.0 / self.rate

    async def reply_slot(self) -> None:
        """Take a slot for a reply to someone chatting with the bot."""
        self.take()

    def pause(self, seconds: float) -> None:
        now = asyncio.get_running_loop().time()
        self.paused_until = max(self.paused_until, now + seconds)


class Transport(Protocol):
    channel: str
    limiter: RateLimiter  # messages per second over all chats

    def interval(self, address: str) -> float:
        """Seconds between two messages to this chat."""
        ...

    async def send(self, address: str, lang: str, reply: Reply) -> Delivery: ...

    async def edit(self, address: str, message_id: str, lang: str, reply: Reply) -> Delivery:
        """Edit a message sent before (progress); "limited" on a 429."""
        ...


def backoff(attempts: int) -> timedelta:
    """Wait before retrying a transient failure: 2, 4, 8 ... seconds, at most 5 minutes."""
    return timedelta(seconds=min(2 ** attempts, 300))


class Sender:
    def __init__(self, services: Services, transport: Transport, *, worker: str | None = None,
                 max_in_flight: int = 64, flush_every: float = 0.05, idle_poll: float = 1.0,
                 on_flush: Callable[[], None] | None = None) -> None:
        self.services = services
        self.transport = transport
        self.worker = worker or f"{transport.channel}-{os.getpid()}"
        self.max_in_flight = max_in_flight
        self.flush_every = flush_every
        self.idle_poll = idle_poll
        self.on_flush = on_flush
        self._wakeup = asyncio.Event()
        self._stopping = False
        self.grace = 5.0
        self._tasks: set[asyncio.Task[None]] = set()
        self._results: list[Outcome] = []
        self._blocked: list[OutboxItem] = []
        self._moved: list[tuple[str, str]] = []
        self._last_to: dict[str, float] = {}
        self._chat_turn: dict[str, asyncio.Future[None]] = {}
        self._notices: OrderedDict[int, tuple[Notice, datetime] | None] = OrderedDict()
        self._flusher: asyncio.Task[None] | None = None
        self._cancelled: set[int] = set()  # runs cancelled while their messages wait
        self.cancel_check_every = 0.5  # seconds
        self.limited = 0  # 429 answers seen
        self.sent = 0

    def wake(self) -> None:
        self._wakeup.set()

    # --- the loop ------------------------------------------------------------------------

    async def run(self) -> None:
        """Release rows a previous run left in flight, then send until stopped."""
        channel = self.transport.channel
        released = await self.services.store.write(lambda tx: tx.outbox.release(channel))
        if released:
            log.info("%s outbox: %d messages were in flight at the last stop; sending again",
                     channel, released)
        self._flusher = asyncio.create_task(self._flush_loop(), name=f"{channel}-flush")
        try:
            while not self._stopping:
                # claim about two seconds' worth at most, so a cancel finds the rest queued
                limit = min(self.max_in_flight, max(8, int(self.transport.limiter.rate * 2)))
                free = limit - len(self._tasks)
                if free <= 0:
                    await self._any_task_done()
                    continue
                self._wakeup.clear()  # before looking: a wake-up from now on is not lost
                due = await self.services.store.reads.outbox.next_due(channel)
                if due is None or due > self.services.clock.now():
                    await self._idle(due)  # nothing to claim: no write, no fsync
                    continue
                try:
                    items = await self._claim(
                        min(free, max(8, int(self.transport.limiter.rate))))
                except Exception:  # e.g. the database is busy: try again, never give up
                    log.exception("%s outbox: could not claim messages", channel)
                    await asyncio.sleep(self.idle_poll)
                    continue
                if not items:  # what was due waits out quiet hours now
                    await self._idle(None)
                    continue
                for item in items:
                    task = asyncio.create_task(self._send(item))
                    self._tasks.add(task)
                    task.add_done_callback(self._tasks.discard)
        finally:
            await self._shutdown()

    async def _claim(self, limit: int) -> list[OutboxItem]:
        now = self.services.clock.now()
        qh = quiet_hours(self.services)
        quiet = qh.active(now)
        channel = self.transport.channel

        async def claim(tx):  # type: ignore[no-untyped-def]
            repo = tx.outbox
            if quiet:
                await repo.defer_quiet(channel, now, qh.ends_after(now))
            return await repo.claim(channel, self.worker, now, limit, quiet)

        return await self.services.store.write(claim)

    async def _idle(self, due: datetime | None) -> None:
        """Wait for new rows (a wake-up), the next due row, or the poll interval."""
        timeout = self.idle_poll
        if due is not None:
            wait = (due - self.services.clock.now()).total_seconds()
            timeout = max(0.01, min(timeout, wait))
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._wakeup.wait(), timeout)

    async def _any_task_done(self) -> None:
        if self._tasks:
            await asyncio.wait(self._tasks, return_when=asyncio.FIRST_COMPLETED)

    async def _pace(self, address: str, priority: int) -> None:
        """Wait for this chat's gap and for a slot under the overall rate (and any 429 pause)."""
        loop = asyncio.get_running_loop()
        gap = self.transport.interval(address)
        # messages to one chat leave in outbox order: wait for the previous one's turn
        before = self._chat_turn.get(address)
        mine: asyncio.Future[None] = loop.create_future()
        self._chat_turn[address] = mine
        try:
            if before is not None:
                await asyncio.shield(before)
            while True:  # this chat's gap, counted from the last send (or reservation) to it
                last = self._last_to.get(address)
                if last is None or loop.time() >= last + gap:
                    break
                await asyncio.sleep(last + gap - loop.time())
            self._last_to[address] = loop.time()  # reserve the chat, then wait for a slot
        finally:
            if not mine.done():
                mine.set_result(None)
            if self._chat_turn.get(address) is mine:
                del self._chat_turn[address]
        await self.transport.limiter.acquire(priority)
        self._last_to[address] = loop.time()
        if len(self._last_to) > 50_000:  # forget chats not written to for a while
            cutoff = loop.time() - 60
            self._last_to = {a: t for a, t in self._last_to.items() if t > cutoff}

    async def _send(self, item: OutboxItem) -> None:
        sending = False
        try:
            reply = await self._compose(item)
            if reply is None:
                self._results.append(Outcome(item.id, "failed", "nothing to send"))
                return
            await self._pace(item.address, item.priority)
            if item.ref_id in self._cancelled and item.kind == "notice":
                return  # its notice was cancelled while it waited for its turn
            sending = True
            delivery = await self.transport.send(item.address, item.lang, reply)
        except asyncio.CancelledError:
            if not sending:  # never left: queue it again at once
                self._results.append(Outcome(item.id, "queued", refund=True))
            raise
        except Exception as exc:  # a bug or an unexpected answer: retry later, then give up
            log.exception("outbox message %s failed", item.id)
            delivery = Delivery("retry", reason=f"{type(exc).__name__}: {exc}"[:200])
        self._settle(item, delivery)

    def _settle(self, item: OutboxItem, delivery: Delivery) -> None:
        now = self.services.clock.now()
        if delivery.status == "sent":
            self.sent += 1
            self._results.append(Outcome(item.id, "sent", external_id=delivery.external_id))
        elif delivery.status == "limited":
            self.limited += 1
            self.transport.limiter.pause(delivery.retry_after)
            log.warning("%s asked us to wait %.1fs; sending paused", self.transport.channel,
                        delivery.retry_after)
            self._results.append(Outcome(item.id, "queued", "rate limited", retry_at=now,
                                         refund=True))  # not the message's fault
        elif delivery.moved_to:
            self._moved.append((item.address, delivery.moved_to))
            self._results.append(Outcome(item.id, "queued", "group moved", retry_at=now,
                                         refund=True))
        elif delivery.status == "blocked":
            self._blocked.append(item)
            self._results.append(Outcome(item.id, "blocked", delivery.reason))
        elif delivery.status == "retry" and item.attempts < MAX_ATTEMPTS:
            self._results.append(Outcome(item.id, "queued", delivery.reason,
                                         retry_at=now + backoff(item.attempts)))
        else:
            self._results.append(Outcome(item.id, "failed", delivery.reason or "gave up"))

    async def _compose(self, item: OutboxItem) -> Reply | None:
        if item.kind != "notice":
            return reply_from_json(item.payload) if item.payload else None
        run_id = item.ref_id or 0
        if run_id not in self._notices:
            tx = self.services.store.reads
            run = await tx.notices.run(run_id)
            notice = await tx.notices.get(run.notice_id) if run else None
            self._notices[run_id] = (notice, run.started_at) if run and notice else None
            while len(self._notices) > 64:
                self._notices.popitem(last=False)
        found = self._notices[run_id]
        if found is None:
            return None
        notice, started = found
        return compose(self.services, notice, item.lang, started)

    # --- recording outcomes ----------------------------------------------------------------

    async def _flush_loop(self) -> None:
        loop = asyncio.get_running_loop()
        checked = loop.time()
        while True:
            await asyncio.sleep(self.flush_every)
            await self.flush()
            if loop.time() - checked >= self.cancel_check_every and self._notices:
                checked = loop.time()
                with contextlib.suppress(Exception):  # checked again next time
                    self._cancelled = await self.services.store.reads.outbox.cancelled_runs(
                        list(self._notices))

    async def flush(self) -> None:
        """Commit the outcomes gathered so far (and their consequences) in one write."""
        if not (self._results or self._blocked or self._moved):
            return
        results, self._results = self._results, []
        blocked, self._blocked = self._blocked, []
        moved, self._moved = self._moved, []
        channel = self.transport.channel
        now = self.services.clock.now()

        async def record(tx):  # type: ignore[no-untyped-def]
            outbox = tx.outbox
            for old, new in moved:
                await tx.notices.readdress_group(channel, old, new)
                await outbox.readdress(channel, old, new)
            await outbox.record(results, now)
            for item in blocked:
                await outbox.stop_to(item.address, channel, "blocked", now)
                if item.person_id is not None:
                    await tx.people.deactivate(item.person_id)
                else:  # the bot was removed from a linked group
                    await tx.notices.unlink_group(channel, item.address)

        try:
            await self.services.store.write(record)
        except Exception:  # keep them and try again at the next flush
            log.exception("could not record %d outbox outcomes; retrying", len(results))
            self._results[:0], self._blocked[:0], self._moved[:0] = results, blocked, moved
            return
        if self.on_flush is not None:
            self.on_flush()

    async def _shutdown(self) -> None:
        if self._stopping and self._tasks:  # a clean stop lets messages on the wire finish
            await asyncio.wait(self._tasks, timeout=self.grace)
        for task in list(self._tasks):
            task.cancel()
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)
        if self._flusher is not None:
            self._flusher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._flusher
        with contextlib.suppress(Exception):
            await self.flush()
            channel, worker = self.transport.channel, self.worker
            await self.services.store.write(
                lambda tx: tx.outbox.release(channel, worker=worker))

    def stop(self, grace: float = 5.0) -> None:
        """Stop claiming; ``run`` lets claimed messages go for up to ``grace`` seconds, then
        queues the rest again and returns."""
        self.grace = grace
        self._stopping = True
        self.wake()
