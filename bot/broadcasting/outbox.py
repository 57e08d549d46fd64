"""The sender: works through one channel's outbox at that channel's rate, never faster.

Channel-neutral: a ``Transport`` (Telegram, console, later WhatsApp) sends one rendered
message and says what happened, and sets its own rules (rate overall, gap per chat). The
outbox is the source of truth: rows are claimed (``sending``) before they are sent and their
outcome is recorded in small batches, so a crash re-sends at most the rows in flight.

Only answers that blame the message itself use up its attempts (a 400 fails it, a 403 marks
the chat blocked). When the channel cannot be reached (5xx, timeouts, refused connections)
the sender holds, as a circuit breaker: it stops claiming, puts back what it held, and sends
one message at a time as a probe, 1 s, 2 s, 4 s ... at most a minute apart, until one gets
through; none of that costs an attempt. A message still not delivered
``outbox.give_up_after`` after it was queued is given up (``giveup``) and its notice's author
told.

Replies to people chatting with the bot are not queued here, but count against the same
``RateLimiter`` (``reply_slot``): they push queued messages back by a second at most, and
queue behind urgent notices while those wait.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
from collections import OrderedDict, deque
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

from bot.broadcasting.giveup import give_up
from bot.broadcasting.notices import compose, quiet_hours
from bot.context import Services
from bot.events import Reply, reply_from_json
from db.repositories.notices import Notice
from db.repositories.outbox import SYSTEM, UNREACHABLE, URGENT, OutboxItem, Outcome

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 8  # unexplained failures (a bug, an odd answer) before a message fails


@dataclass(frozen=True)
class Delivery:
    """What a transport reports for one message."""

    status: str  # sent | failed | blocked | retry | limited | unreachable
    external_id: str | None = None  # the channel's message id
    retry_after: float = 0.0  # for "limited": seconds the channel asked us to wait
    reason: str = ""
    moved_to: str | None = None  # a group got a new address (Telegram supergroup upgrade)

    # sent: delivered. failed (400) / blocked (403): the message or the chat is at fault.
    # limited (429): the channel asks us to wait. unreachable: no answer about the message
    # (5xx, timeout, refused connection): hold the sender. retry: anything else (a bug or an
    # odd answer): try again later, counting an attempt.


REPLY = URGENT + 0.5  # replies queue (while urgent notices wait) after urgent, before regular


class RateLimiter:
    """One channel's overall rate: every outbox message and progress edit waits for a slot,
    and replies to people chatting with the bot count against it.

    Slots go to waiters one every ``1/rate`` seconds, by priority: messages to staff and
    authors and progress edits first (SYSTEM), then urgent notices, then regular notices.

    A reply does not wait, except behind urgent notices: people chatting are answered at the
    speed they write. While nobody waits, it counts against the rate until the limiter owes
    ``max_debt`` seconds; beyond that, and whenever a message waits for its slot, it goes
    uncounted. So the limiter never owes more than about ``max_debt``: a burst of replies
    delays the next staff message or notice by about a second at most, and queued messages
    then go at the full rate during a storm of replies. While urgent notices wait, replies
    queue after them and get every ``reply_share``-th slot: the urgent broadcast keeps most
    of the rate without leaving people chatting unanswered. A 429 (``pause``) holds every
    waiter.
    """

    def __init__(self, rate: float, max_debt: float = 1.0, reply_share: int = 4) -> None:
        self.rate = rate
        self.max_debt = max_debt  # seconds replies may push queued messages back
        self.reply_share = reply_share
        self._next = 0.0  # loop time of the next free slot
        self.paused_until = 0.0
        self._queues: dict[float, deque[asyncio.Future[None]]] = {}  # by priority
        self._first = 0  # live waiters replies must not push back (staff, urgent)
        self._urgent = 0  # live urgent waiters: replies queue behind them
        self._urgent_run = 0  # urgent slots given since a reply last got one
        self._ticker: asyncio.Task[None] | None = None

    async def acquire(self, priority: int = SYSTEM) -> None:
        """Wait for a slot; lower ``priority`` goes first."""
        await self._wait(priority)

    async def reply_slot(self) -> None:
        """Count a reply to someone chatting with the bot (see the class)."""
        if self._urgent:
            await self._wait(REPLY)
            return
        if self._first or any(self._waiting(p) for p in list(self._queues)):
            return  # a message waits for its slot: it keeps it, the reply goes uncounted
        now = asyncio.get_running_loop().time()
        if self._next - now < self.max_debt:
            self._next = max(self._next, now) + 1.0 / self.rate

    async def _wait(self, priority: float) -> None:
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._queues.setdefault(priority, deque()).append(future)
        if priority < REPLY:
            self._first += 1
            future.add_done_callback(self._left)
            if priority == URGENT:
                self._urgent += 1
                future.add_done_callback(self._urgent_left)
        if self._ticker is None or self._ticker.done():
            self._ticker = asyncio.create_task(self._tick(), name="rate-limiter")
        await future  # a cancelled waiter's future is skipped by the ticker

    def _left(self, _: asyncio.Future[None]) -> None:
        self._first -= 1

    def _urgent_left(self, _: asyncio.Future[None]) -> None:
        self._urgent -= 1

    def _waiting(self, priority: float) -> deque[asyncio.Future[None]] | None:
        """The live waiters of ``priority``, if any (cancelled ones are dropped)."""
        queue = self._queues.get(priority)
        while queue and queue[0].done():
            queue.popleft()
        if not queue:
            self._queues.pop(priority, None)
            return None
        return queue

    def _next_waiter(self) -> asyncio.Future[None] | None:
        for priority in sorted(self._queues):
            queue = self._waiting(priority)
            if queue is None:
                continue
            if priority == URGENT:
                replies = self._waiting(REPLY)
                if replies is not None and self._urgent_run >= self.reply_share - 1:
                    self._urgent_run = 0
                    return replies.popleft()
                self._urgent_run += 1
            elif priority == REPLY:
                self._urgent_run = 0
            return queue.popleft()
        return None

    async def _tick(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            wait = max(self.paused_until, self._next) - loop.time()
            if wait > 0:
                await asyncio.sleep(wait)  # then look again: a pause or a reply may have come
                continue
            future = self._next_waiter()
            if future is None:
                return
            future.set_result(None)
            # count from the slot's planned time, not from when the timer fired, or every
            # late wake-up would slow the rate down; after an idle spell start afresh
            interval = 1.0 / self.rate
            self._next = max(self._next, loop.time() - interval) + interval

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


class Breaker:
    """Whether a sender's channel can be reached, and how long to wait before the next probe.

    Closed: send at full rate. Open (the channel did not answer): send one probe at a time,
    ``first`` seconds after opening, then twice as long after each failed probe, at most
    ``longest``; the first probe that gets an answer closes it.
    """

    def __init__(self, first: float = 1.0, longest: float = 60.0) -> None:
        self.first = first
        self.longest = longest
        self.open = False
        self.delay = first  # before the next probe
        self.reason = ""  # while open: the answer that opened it, or the last probe's
        self.probes = 0
        self._opened_at = 0.0

    def trip(self, reason: str) -> bool:
        """The channel did not answer a message; True if that opened the breaker."""
        self.reason = reason
        if self.open:
            return False
        self.open, self.delay, self.probes = True, self.first, 0
        self._opened_at = asyncio.get_running_loop().time()
        return True

    def probe_failed(self, reason: str) -> None:
        self.reason = reason
        self.probes += 1
        self.delay = min(self.delay * 2, self.longest)

    def close(self) -> float:
        """The channel answered a probe: how long it was open, in seconds."""
        self.open, self.delay, self.reason = False, self.first, ""
        self.probes += 1
        return asyncio.get_running_loop().time() - self._opened_at


def held_back(strikes: int) -> timedelta:
    """How long a message the channel did not answer waits before it is sent again (its own
    probe wait, so the next probe tries another message): 2, 4 ... at most 60 seconds."""
    return timedelta(seconds=min(2 ** strikes, 60))


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
        self.breaker = Breaker()
        self.unreachable = 0  # answers that did not come (5xx, timeouts, connection errors)
        self._strikes: dict[int, int] = {}  # row id -> times the channel did not answer it
        self._holding: set[asyncio.Task[None]] = set()  # tasks waiting for their turn
        self._stopped = asyncio.Event()
        self.give_up_every = 60.0  # seconds between two looks for messages to give up
        self._giver: asyncio.Task[None] | None = None

    def wake(self) -> None:
        self._wakeup.set()

    def _only_to(self) -> list[str] | None:
        """The addresses this sender serves when its transport serves only some (a console:
        the person at its keyboard); None: every address of the channel."""
        addresses = getattr(self.transport, "addresses", None)
        return addresses() if addresses is not None else None

    # --- the loop ------------------------------------------------------------------------

    async def run(self) -> None:
        """Release rows a previous run left in flight, then send until stopped."""
        channel = self.transport.channel
        released = await self.services.store.write(lambda tx: tx.outbox.release(channel))
        if released:
            log.info("%s outbox: %d messages were in flight at the last stop; sending again",
                     channel, released)
        self._flusher = asyncio.create_task(self._flush_loop(), name=f"{channel}-flush")
        self._giver = asyncio.create_task(self._give_up_loop(), name=f"{channel}-give-up")
        try:
            while not self._stopping:
                if self.breaker.open:
                    await self._probe()
                    continue
                # claim about two seconds' worth at most, so a cancel finds the rest queued
                limit = min(self.max_in_flight, max(8, int(self.transport.limiter.rate * 2)))
                free = limit - len(self._tasks)
                if free <= 0:
                    await self._any_task_done()
                    continue
                self._wakeup.clear()  # before looking: a wake-up from now on is not lost
                try:
                    due = await self.services.store.reads.outbox.next_due(
                        channel, self._only_to())
                except Exception:  # the database does not answer: look again, never give up
                    log.exception("%s outbox: could not look for due messages", channel)
                    await asyncio.sleep(self.idle_poll)
                    continue
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
                if self.breaker.open:  # it opened while we claimed: put them back
                    self._results += [Outcome(i.id, "queued", self.breaker.reason,
                                              refund=True) for i in items]
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
        only = self._only_to()

        async def claim(tx):  # type: ignore[no-untyped-def]
            repo = tx.outbox
            if quiet:
                await repo.defer_quiet(channel, now, qh.ends_after(now))
            return await repo.claim(channel, self.worker, now, limit, quiet, only)

        return await self.services.store.write(claim)

    async def _probe(self) -> None:
        """While the breaker is open: once what is still on the wire has come back, wait the
        breaker's delay, then send the most urgent due message alone."""
        while self._tasks and not self._stopping:
            await asyncio.wait(self._tasks, timeout=self.idle_poll)
        await self.flush()  # what was put back is queued again before the probe is claimed
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._stopped.wait(), self.breaker.delay)
        if self._stopping:
            return
        channel = self.transport.channel
        try:
            due = await self.services.store.reads.outbox.next_due(
                channel, self._only_to())
        except Exception:  # the database does not answer: the next probe looks again
            log.exception("%s outbox: could not look for a probe", channel)
            return
        if due is None or due > self.services.clock.now():
            await self._idle(due)
            return
        try:
            items = await self._claim(1)
        except Exception:
            log.exception("%s outbox: could not claim a probe", channel)
            return
        if items:
            await self._send(items[0], probe=True)
        else:
            await self._idle(None)

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

    async def _send(self, item: OutboxItem, probe: bool = False) -> None:
        sending = False
        task = asyncio.current_task()
        if not probe and task is not None:
            self._holding.add(task)  # the breaker cancels it if it opens before its turn
        try:
            reply = await self._compose(item)
            if reply is None:
                self._results.append(Outcome(item.id, "failed", "nothing to send"))
                return
            await self._pace(item.address, item.priority)
            if item.ref_id in self._cancelled and item.kind == "notice":
                return  # its notice was cancelled while it waited for its turn
            if self.breaker.open and not probe:  # the channel went away while it waited
                self._results.append(Outcome(item.id, "queued", self.breaker.reason,
                                             refund=True))
                return
            self._holding.discard(task)  # type: ignore[arg-type]
            sending = True
            delivery = await self.transport.send(item.address, item.lang, reply)
        except asyncio.CancelledError:
            if not sending:  # never left: queue it again at once, no attempt
                self._results.append(Outcome(item.id, "queued", self.breaker.reason,
                                             refund=True))
            raise
        except Exception as exc:  # a bug or an unexpected answer: retry later, then give up
            log.exception("outbox message %s failed", item.id)
            delivery = Delivery("retry", reason=f"{type(exc).__name__}: {exc}"[:200])
        finally:
            self._holding.discard(task)  # type: ignore[arg-type]
        self._settle(item, delivery, probe)

    def _settle(self, item: OutboxItem, delivery: Delivery, probe: bool = False) -> None:
        now = self.services.clock.now()
        if delivery.status == "unreachable":
            self.unreachable += 1
            self._hold(item, delivery, now, probe)
            return
        self._strikes.pop(item.id, None)
        if probe:  # an answer, whatever it says: the channel is back
            opened = self.breaker.close()
            log.info("%s reachable again after %.0fs (%d probes); sending resumed",
                     self.transport.channel, opened, self.breaker.probes)
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
        elif delivery.status == "retry" and item.attempts + 1 < MAX_ATTEMPTS:
            self._results.append(Outcome(item.id, "queued", delivery.reason,
                                         retry_at=now + backoff(item.attempts + 1)))
        else:
            self._results.append(Outcome(item.id, "failed", delivery.reason or "gave up"))

    def _hold(self, item: OutboxItem, delivery: Delivery, now: datetime, probe: bool) -> None:
        """The channel did not answer: no attempt used; the message waits a little (so the
        next probe tries another one) and the sender holds."""
        reason = f"{UNREACHABLE}: {delivery.reason}"[:200]
        strikes = self._strikes[item.id] = self._strikes.get(item.id, 0) + 1
        if len(self._strikes) > 10_000:  # forget the oldest
            for key in list(self._strikes)[:5_000]:
                del self._strikes[key]
        self._results.append(Outcome(item.id, "queued", reason,
                                     retry_at=now + held_back(strikes), refund=True))
        if probe:
            self.breaker.probe_failed(reason)
            log.debug("%s still unreachable (%s); next probe in %.0fs",
                      self.transport.channel, delivery.reason, self.breaker.delay)
        elif self.breaker.trip(reason):
            log.warning("%s unreachable (%s): holding the outbox, one probe at a time",
                        self.transport.channel, delivery.reason)
            for task in list(self._holding):  # put back what waits for its turn
                task.cancel()

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

    async def _give_up_loop(self) -> None:
        loop = asyncio.get_running_loop()
        looked = -float("inf")
        while True:
            if loop.time() - looked >= self.give_up_every:
                looked = loop.time()
                try:
                    await self.give_up()
                except Exception:  # e.g. the database is busy: next time
                    log.exception("%s outbox: could not give up stale messages",
                                  self.transport.channel)
            await asyncio.sleep(min(self.give_up_every, 1.0))

    async def give_up(self) -> int:
        """Fail what has waited longer than ``outbox.give_up_after`` (and tell authors)."""
        given_up = await give_up(self.services, self.transport.channel)
        if given_up and self.on_flush is not None:
            self.on_flush()  # the reporter: those runs may be complete now
        return given_up

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
        for helper in (self._flusher, self._giver):
            if helper is not None:
                helper.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await helper
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
        self._stopped.set()
        self.wake()
