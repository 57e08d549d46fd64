"""The intake: every channel's updates go through one durable inbox.

A channel hands over raw updates with ``record``: they are committed to the inbox before the
channel confirms them (the next getUpdates in polling, the HTTP 200 of a webhook), so a crash
loses nothing. An update delivered again (same channel and id) is skipped. Fresh items go to
the dispatcher: different people are handled concurrently, one person's updates strictly in
order. Each item is translated by its channel, handled by the core and marked done in the
same commit as the person's new state. ``resume`` hands over what a previous run left
unfinished, a page at a time as the backlog drains. While a channel is unreachable, the item
(and that person's next ones) waits and is tried again, for up to ``outbox.give_up_after``
since it was received; then it is marked failed and the person's next updates go on.

One person cannot slow everyone else down:

- each sender has an allowance (``intake.per_person_per_minute``, ``intake.per_person_burst``,
  a token bucket on the injected clock). Beyond it, the first update gets one short "slow
  down" answer and the rest are recorded as done without any work (no payload kept, no
  handler, no reply), until the allowance has filled up again.
- a dispatcher slot is lent back while its update only waits (a chat's own 429, a channel
  that is unreachable, a full disk): see ``idle``.
- above ``intake.max_backlog`` updates waiting, channels stop fetching (``room``) or refuse
  for now (``accepting``), and the channel's platform keeps the updates meanwhile.

When the database disk is full, a save that failed is retried (only the save: the replies
already went out); other people's updates wait, and each of them is told once to expect an
answer later. Nothing is lost: the updates stay pending and are handled once there is room.

A channel plugs in by being a ``Channel``: nothing here knows Telegram.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import json
import logging
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any, Protocol

from bot.context import Services
from bot.core import Core
from bot.events import Event, Reply
from db.errors import StorageFull
from db.repositories.inbox import RATE_LIMITED, InboxItem, NewUpdate
from db.store import Tx, Write

log = logging.getLogger(__name__)

Raw = dict[str, Any]  # an update as the channel sent it (stored as JSON)

PAGE = 500  # pending updates loaded at a time when resuming
MAX_RETRY_DELAY = 120.0  # longest wait between two tries (unreachable channel, full disk)


class Channel(Protocol):
    """What the intake needs from a channel."""

    name: str  # the inbox's channel column, e.g. "telegram"
    max_concurrent: int  # updates of different people handled at once

    def external_id(self, raw: Raw) -> str | None:
        """The channel's id of the update (re-deliveries carry the same); None: not stored."""

    def sender_of(self, raw: Raw) -> str | None:
        """The identity the update belongs to: its ordering key."""

    def translate(self, raw: Raw) -> Event | None:
        """The neutral event, or None for an update nobody answers."""

    async def prepare(self, event: Event) -> Event:
        """Complete the event with what needs a call to the channel (e.g. group admin)."""

    async def on_other(self, raw: Raw) -> None:
        """Act on an update that is not an event (blocked the bot, removed from a group)."""

    async def deliver(self, event: Event, lang: str, replies: list[Reply]) -> bool | None:
        """Send the replies; False when the person can no longer be reached."""

    def is_unreachable(self, exc: BaseException) -> bool:
        """Whether an error means the channel is unreachable for now (retry, keep order)."""


def _order(item: InboxItem) -> int:
    """Channel ids that are numbers are in update order (Telegram); else the recording order."""
    return int(item.external_id) if item.external_id.isdigit() else item.id


# --- dispatcher slots ----------------------------------------------------------------------

class _Slot:
    """The dispatcher slot one task holds while it handles an update."""

    __slots__ = ("held", "semaphore", "task")

    def __init__(self, semaphore: asyncio.Semaphore, task: asyncio.Task[Any] | None) -> None:
        self.semaphore = semaphore
        self.task = task
        self.held = False


_slot: contextvars.ContextVar[_Slot | None] = contextvars.ContextVar("dispatch_slot",
                                                                    default=None)


@contextlib.asynccontextmanager
async def idle() -> AsyncIterator[None]:
    """Lend the dispatcher slot of the running update to others while it only waits (out a
    chat's own 429, an unreachable channel, a full disk); take a slot again afterwards.

    Outside a dispatcher (the outbox sender, a test), or in a task the update started (the
    answer to a button press), this does nothing."""
    slot = _slot.get()
    if slot is None or not slot.held or slot.task is not asyncio.current_task():
        yield
        return
    slot.held = False
    slot.semaphore.release()
    try:
        yield
    except asyncio.CancelledError:
        raise  # being stopped: no slot is needed any more
    except BaseException:
        await slot.semaphore.acquire()
        slot.held = True
        raise
    await slot.semaphore.acquire()
    slot.held = True


def _private(channel: Channel, raw: Raw) -> bool:
    """Whether the update is something a person sent the bot in a private chat."""
    try:
        event = channel.translate(raw)
    except Exception:  # handled (and logged) when it is processed
        return True
    return event is not None and not event.group


class Dispatcher:
    """Run inbox items concurrently across people, strictly in order for each person."""

    def __init__(self, handle: Callable[[InboxItem], Awaitable[None]], limit: int,
                 on_progress: Callable[[], None] | None = None) -> None:
        self._handle = handle
        self._slots = asyncio.Semaphore(limit)
        self._queues: dict[str, deque[InboxItem]] = {}
        self._ids: set[int] = set()  # items queued or in hand (each is handled once)
        self._tasks: set[asyncio.Task[None]] = set()
        self._idle = asyncio.Event()
        self._idle.set()
        self._on_progress = on_progress

    @property
    def backlog(self) -> int:
        """Items submitted and not yet finished."""
        return len(self._ids)

    def submit(self, item: InboxItem) -> None:
        """Queue an item behind earlier items of the same sender."""
        if item.id in self._ids:
            return
        self._ids.add(item.id)
        key = item.sender or f"#{item.id}"
        queue = self._queues.get(key)
        if queue is not None:
            # Webhook requests can finish out of order: keep this person's waiting items in
            # update order (queue[0] is already being handled and stays first).
            position = len(queue)
            while position > 1 and _order(queue[position - 1]) > _order(item):
                position -= 1
            queue.insert(position, item)
            return
        self._queues[key] = deque([item])
        self._idle.clear()
        task = asyncio.create_task(self._drain(key), name=f"dispatch {key}")
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _drain(self, key: str) -> None:
        queue = self._queues[key]
        slot = _Slot(self._slots, asyncio.current_task())
        _slot.set(slot)  # this task's own context: seen by ``idle`` in what it awaits
        try:
            while queue:
                item = queue[0]
                await self._slots.acquire()
                slot.held = True
                try:
                    await self._handle(item)
                except Exception:
                    log.exception("update %s could not be handled", item.external_id)
                finally:
                    if slot.held:
                        slot.held = False
                        self._slots.release()
                queue.popleft()
                self._ids.discard(item.id)
                if self._on_progress is not None:
                    self._on_progress()
        finally:
            for item in queue:  # cancelled: no longer in hand
                self._ids.discard(item.id)
            del self._queues[key]
            if not self._queues:
                self._idle.set()

    async def join(self) -> None:
        """Wait until every submitted item has been handled."""
        await self._idle.wait()

    async def cancel(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)


# --- the per-person allowance ----------------------------------------------------------------

class Allowance:
    """A token bucket per sender: ``burst`` updates at once, refilled at ``per_minute``.

    ``take`` answers "" (go on), "warn" (the first update beyond the allowance: answer "slow
    down") or "drop" (any further one, until the bucket is full again). A sender whose bucket
    has filled up again is forgotten: the map holds only people active in the last
    ``burst / rate`` seconds."""

    def __init__(self, per_minute: int, burst: int) -> None:
        self.rate = per_minute / 60.0
        self.burst = float(max(burst, 1))
        self.refill = self.burst / self.rate if self.rate > 0 else float("inf")  # s to full
        self._buckets: dict[str, tuple[float, float, bool]] = {}  # tokens, at, warned
        self._swept = 0.0

    def __len__(self) -> int:
        return len(self._buckets)

    def _level(self, sender: str, now: float) -> tuple[float, bool]:
        found = self._buckets.get(sender)
        if found is None:
            return self.burst, False
        tokens, at, warned = found
        tokens = min(self.burst, tokens + max(0.0, now - at) * self.rate)
        return tokens, warned and tokens < self.burst  # full again: a new burst may be warned

    def take(self, sender: str, now: float) -> str:
        if now - self._swept >= self.refill:
            self._sweep(now)
        tokens, warned = self._level(sender, now)
        if tokens >= 1.0:
            verdict, tokens = "", tokens - 1.0
        else:
            verdict, warned = ("drop" if warned else "warn"), True
        self._buckets[sender] = (tokens, now, warned)
        return verdict

    def snapshot(self, senders: set[str]) -> dict[str, tuple[float, float, bool] | None]:
        return {s: self._buckets.get(s) for s in senders}

    def restore(self, saved: dict[str, tuple[float, float, bool] | None]) -> None:
        """Undo ``take``s (their updates could not be stored: they will come again)."""
        for sender, bucket in saved.items():
            if bucket is None:
                self._buckets.pop(sender, None)
            else:
                self._buckets[sender] = bucket

    def _sweep(self, now: float) -> None:
        self._swept = now
        full = [s for s in self._buckets if self._level(s, now)[0] >= self.burst]
        for sender in full:
            del self._buckets[sender]


# --- the intake --------------------------------------------------------------------------------

class Intake:
    """The inbox flow of every channel: record, de-duplicate, dispatch, handle, resume."""

    def __init__(self, services: Services, core: Core, retry_delay: float = 5.0) -> None:
        self.services = services
        self.core = core
        self.retry_delay = retry_delay  # first wait while a channel is unreachable (doubles)
        limits = services.settings.intake
        self.allowance = Allowance(limits.per_person_per_minute, limits.per_person_burst)
        self.max_backlog = limits.max_backlog
        self.channels: dict[str, Channel] = {}
        self._dispatchers: dict[str, Dispatcher] = {}
        self._progress = asyncio.Event()  # set whenever an item is finished
        # resuming in pages: the pager of each channel, the pending rows it has not loaded
        # yet, and what ``record`` stored meanwhile (the pager hands those on, in order)
        self._pagers: dict[str, asyncio.Task[None]] = {}
        self._unloaded: dict[str, int] = {}
        self._held: dict[str, list[InboxItem]] = {}
        self._paused = False
        # a full disk: saves being retried, the update probing for room, people told
        self._disk_full = False
        self._disk_ok = asyncio.Event()
        self._disk_ok.set()
        self._saving = 0
        self._prober: asyncio.Task[Any] | None = None
        self._told: set[str] = set()
        self._chores: set[asyncio.Task[None]] = set()

    def add(self, channel: Channel) -> None:
        self.channels[channel.name] = channel
        self._dispatchers[channel.name] = Dispatcher(self._process, channel.max_concurrent,
                                                     self._progress.set)

    @property
    def backlog(self) -> int:
        """Updates recorded and not yet finished (waiting, being handled, or not yet loaded
        from the inbox after a restart)."""
        return (sum(d.backlog for d in self._dispatchers.values())
                + sum(self._unloaded.values()))

    # --- backpressure ----------------------------------------------------------------------

    def accepting(self) -> bool:
        """Whether there is room for more updates (below ``intake.max_backlog``)."""
        return self.backlog < self.max_backlog

    async def room(self) -> None:
        """Wait until the backlog is below ``intake.max_backlog`` (a poller calls this before
        fetching more); once it was reached, until it is down to three quarters of it."""
        if self.accepting():
            return
        if not self._paused:
            self._paused = True
            log.warning("%d updates waiting (max_backlog %d): fetching paused until they "
                        "drain", self.backlog, self.max_backlog)
        while self.backlog > self.max_backlog * 3 // 4:
            self._progress.clear()
            await self._progress.wait()
        if self._paused:
            self._paused = False
            log.info("backlog down to %d: fetching again", self.backlog)

    # --- recording -------------------------------------------------------------------------

    async def store(self, name: str, updates: list[Raw]) -> list[InboxItem]:
        """Commit raw updates to the inbox; return the ones not seen before that are to be
        handled (not dispatched). Updates beyond their sender's allowance are stored as done
        (all but the one to be answered "slow down")."""
        channel = self.channels[name]
        now = self.services.clock.now()
        stamp = now.timestamp()
        senders = {s for s in map(channel.sender_of, updates) if s}
        saved = self.allowance.snapshot(senders)
        rows = []
        for update in updates:
            external = channel.external_id(update)
            if external is None:
                continue
            sender = channel.sender_of(update)
            # only what a person sends the bot in private counts (and can be answered "slow
            # down"): not their group commands, edits or membership changes
            limit = self.allowance.take(sender, stamp) if sender and _private(
                channel, update) else ""
            if limit == "drop":
                rows.append(NewUpdate(external, sender, "", "drop"))
                continue
            try:
                payload = json.dumps(update, ensure_ascii=False)
            except (ValueError, TypeError, RecursionError):
                log.warning("%s update %s cannot be stored; skipped", name, external)
                continue
            rows.append(NewUpdate(external, sender, payload, limit))
        try:
            return await self.services.store.write(lambda tx: tx.inbox.record(name, rows, now))
        except BaseException:
            self.allowance.restore(saved)  # not stored: they come again and count then
            raise

    async def record(self, name: str, updates: list[Raw]) -> list[InboxItem]:
        """Commit raw updates, then hand the fresh ones to the dispatcher. Once this returns,
        the channel may confirm the updates; if it raises, it must not.

        When the disk is full, the senders are told once that they will be answered later
        (the channel keeps the updates and hands them over again)."""
        try:
            fresh = await self.store(name, updates)
        except StorageFull:
            self._disk_is_full()
            self._tell_later(name, updates)
            raise
        if name in self._pagers:  # resuming: the pager hands these on after the older ones
            self._held[name].extend(fresh)
            self._unloaded[name] += len(fresh)
            return fresh
        dispatcher = self._dispatchers[name]
        for item in fresh:
            dispatcher.submit(item)
        return fresh

    # --- resuming ----------------------------------------------------------------------------

    async def resume(self) -> int:
        """Hand every update a previous run left unfinished to the dispatchers, a page at a
        time as the backlog drains (in the background; ``join`` waits for them too)."""
        total = 0
        for name in self._dispatchers:
            if name in self._pagers:
                continue
            # from now on ``record`` leaves fresh updates to the pager (they come after these)
            self._held[name], self._unloaded[name] = [], 0
            self._pagers[name] = asyncio.create_task(self._page_in(name),
                                                     name=f"resume {name}")
            count = await self.services.store.reads.inbox.count(name, "pending")
            if name in self._unloaded:
                self._unloaded[name] += count
            if count:
                log.info("resuming %d unfinished %s updates from the inbox", count, name)
            total += count
        return total

    async def _page_in(self, name: str) -> None:
        dispatcher = self._dispatchers[name]
        reads = self.services.store.reads
        last = 0
        try:
            while True:
                while dispatcher.backlog >= PAGE:  # the next page once this one drains
                    self._progress.clear()
                    await self._progress.wait()
                try:
                    items = await reads.inbox.pending(name, after_id=last, limit=PAGE)
                except Exception:
                    log.exception("could not read unfinished %s updates; retrying", name)
                    await asyncio.sleep(self.retry_delay)
                    continue
                if not items:
                    break
                last = items[-1].id
                self._unloaded[name] = max(0, self._unloaded[name] - len(items))
                items.sort(key=_order)  # a webhook may have recorded them out of order
                for item in items:
                    dispatcher.submit(item)
            # live from here on: what ``record`` stored after the last page, in order
            held = sorted((i for i in self._held[name] if i.id > last), key=_order)
            for item in held:
                dispatcher.submit(item)
        finally:
            del self._pagers[name]
            self._held.pop(name, None)
            self._unloaded.pop(name, None)

    async def join(self) -> None:
        """Wait until every update handed over so far is handled and committed."""
        while True:
            pagers = list(self._pagers.values())
            if pagers:
                await asyncio.gather(*pagers)
            for dispatcher in self._dispatchers.values():
                await dispatcher.join()
            if not self._pagers:
                return

    async def stop(self, grace: float = 10.0) -> None:
        """Let the updates in hand finish (up to ``grace`` s); the rest resume at next start."""
        try:
            await asyncio.wait_for(self.join(), timeout=grace)
        except TimeoutError:
            log.warning("stopping with %d updates unfinished; they resume at next start",
                        self.backlog)
        tasks = [*self._pagers.values(), *self._chores]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        for dispatcher in self._dispatchers.values():
            await dispatcher.cancel()

    # --- a full disk -------------------------------------------------------------------------

    def _disk_is_full(self) -> None:
        if not self._disk_full:  # (the database logs it, once)
            self._disk_full = True
            self._disk_ok.clear()

    def _disk_has_room(self) -> None:
        if self._disk_full:
            self._disk_full = False
            self._disk_ok.set()
            self._told.clear()

    async def _save(self, fn: Write[None]) -> None:
        """Commit ``fn``; while the disk is full, try again (with backoff, the slot lent out)
        until it goes through. Each try finishes even if this task is being cancelled."""
        delay = self.retry_delay
        saving = False
        try:
            while True:
                try:
                    await asyncio.shield(self.services.store.write(fn))
                except StorageFull:
                    self._disk_is_full()
                    if not saving:
                        saving, self._saving = True, self._saving + 1
                    async with idle():
                        await asyncio.sleep(delay)
                    delay = min(delay * 2, MAX_RETRY_DELAY)
                    continue
                self._disk_has_room()
                return
        finally:
            if saving:
                self._saving -= 1

    async def _tell(self, channel: Channel, event: Event, key: str) -> None:
        """Say ``key`` to the sender of ``event``, once while the disk is full."""
        if event.group or event.identity in self._told:
            return
        self._told.add(event.identity)
        try:
            await self.core.say(event, channel.deliver, key,
                                ambulance=self.services.settings.contacts.ambulance)
        except Exception as exc:
            log.info("could not tell %s to wait (%s)", event.identity, exc)

    def _tell_later(self, name: str, updates: list[Raw]) -> None:
        """Tell the senders of updates that could not be stored that they are answered later
        (in the background: the channel goes on to store them again)."""
        channel = self.channels[name]
        for update in updates:
            try:
                event = channel.translate(update)
            except Exception:
                continue
            if event is None or event.group or event.identity in self._told:
                continue
            task = asyncio.create_task(self._tell(channel, event, "intake.try_later"))
            self._chores.add(task)
            task.add_done_callback(self._chores.discard)

    async def _wait_for_disk(self, channel: Channel, event: Event) -> None:
        """While the disk is full and other updates probe it, tell the person once, and wait
        (the slot lent out). With nobody probing, this update goes on and probes itself."""
        me = asyncio.current_task()
        while self._disk_full:
            if not self._saving and self._prober in (None, me):
                self._prober = me
                return
            await self._tell(channel, event, "intake.try_later")
            async with idle():
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._disk_ok.wait(), 1.0)

    # --- handling one update -----------------------------------------------------------------

    async def _process(self, item: InboxItem) -> None:
        channel = self.channels[item.channel]
        clock = self.services.clock

        async def finish(tx: Tx, error: str | None = None, status: str | None = None) -> None:
            await tx.inbox.finish(item.id, clock.now(), error, status)

        try:
            raw = json.loads(item.payload)
            event = channel.translate(raw)
            if item.limited:  # beyond the allowance: "slow down", and nothing else
                await self._slow_down(channel, event)
                await self._save(lambda tx: finish(tx, RATE_LIMITED, "done"))
                return
            if event is None:
                await channel.on_other(raw)
                await self._save(finish)
                return
            if self._disk_full:
                await self._wait_for_disk(channel, event)
            event = await channel.prepare(event)
            await self._handle(item, channel, event, finish)
        except Exception as exc:
            log.exception("%s update %s failed", item.channel, item.external_id)
            error = f"{type(exc).__name__}: {exc}"[:500]
            await self._save(lambda tx: finish(tx, error))
        finally:
            if self._prober is asyncio.current_task():
                self._prober = None

    async def _handle(self, item: InboxItem, channel: Channel, event: Event,
                      finish: Callable[..., Awaitable[None]]) -> None:
        """Handle the event; while the channel is unreachable, try again (the slot lent
        out) until ``outbox.give_up_after`` has passed since the update was received."""
        give_up_after = self.services.settings.outbox.give_up_after
        delay = self.retry_delay
        while True:
            try:
                await self.core.handle(event, channel.deliver, finish, self._save)
                return
            except Exception as exc:
                if not channel.is_unreachable(exc):
                    raise
                # keep the update (and this person's next ones) and answer it once the
                # channel is back; its state was not saved
                age = (self.services.clock.now() - item.received_at
                       if item.received_at is not None else None)
                if age is not None and age >= give_up_after:
                    reason = f"undelivered for {age} (channel unreachable: {exc})"[:500]
                    log.error("%s update %s given up: %s", item.channel, item.external_id,
                              reason)
                    await self._save(lambda tx, why=reason: finish(tx, why))
                    return
                log.warning("%s update %s not delivered (%s); retrying in %.0fs",
                            item.channel, item.external_id, exc, delay)
                async with idle():
                    await asyncio.sleep(delay)
                delay = min(delay * 2, MAX_RETRY_DELAY)

    async def _slow_down(self, channel: Channel, event: Event | None) -> None:
        """The one answer to updates beyond the person's allowance (private chats only)."""
        if event is None or event.group:
            return
        try:
            await self.core.say(event, channel.deliver, "intake.slow_down")
        except Exception as exc:  # not worth a retry
            log.info("could not ask %s to slow down (%s)", event.identity, exc)
