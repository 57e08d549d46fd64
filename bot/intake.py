"""The intake: every channel's updates go through one durable inbox.

A channel hands over raw updates with ``record``: they are committed to the inbox before the
channel confirms them (the next getUpdates in polling, the HTTP 200 of a webhook), so a crash
loses nothing. An update delivered again (same channel and id) is skipped. Fresh items go to
the dispatcher: different people are handled concurrently, one person's updates strictly in
order. Each item is translated by its channel, handled by the core and marked done in the
same commit as the person's new state. ``resume`` hands over what a previous run left
unfinished. While a channel is unreachable, the item (and that person's next ones) waits and
is tried again; nothing is dropped.

A channel plugs in by being a ``Channel``: nothing here knows Telegram.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections import deque
from collections.abc import Awaitable, Callable
from typing import Any, Protocol

from bot.context import Services
from bot.core import Core
from bot.events import Event, Reply
from db.repositories.inbox import InboxItem, NewUpdate
from db.store import Tx

log = logging.getLogger(__name__)

Raw = dict[str, Any]  # an update as the channel sent it (stored as JSON)


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


class Dispatcher:
    """Run inbox items concurrently across people, strictly in order for each person."""

    def __init__(self, handle: Callable[[InboxItem], Awaitable[None]], limit: int) -> None:
        self._handle = handle
        self._slots = asyncio.Semaphore(limit)
        self._queues: dict[str, deque[InboxItem]] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        self._idle = asyncio.Event()
        self._idle.set()

    @property
    def backlog(self) -> int:
        return sum(len(q) for q in self._queues.values())

    def submit(self, item: InboxItem) -> None:
        """Queue an item behind earlier items of the same sender."""
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
        try:
            while queue:
                async with self._slots:
                    try:
                        await self._handle(queue[0])
                    except Exception:
                        log.exception("update %s could not be handled", queue[0].external_id)
                queue.popleft()
        finally:
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


class Intake:
    """The inbox flow of every channel: record, de-duplicate, dispatch, handle, resume."""

    def __init__(self, services: Services, core: Core, retry_delay: float = 5.0) -> None:
        self.services = services
        self.core = core
        self.retry_delay = retry_delay  # first wait while a channel is unreachable (doubles)
        self.channels: dict[str, Channel] = {}
        self._dispatchers: dict[str, Dispatcher] = {}

    def add(self, channel: Channel) -> None:
        self.channels[channel.name] = channel
        self._dispatchers[channel.name] = Dispatcher(self._process, channel.max_concurrent)

    @property
    def backlog(self) -> int:
        """Updates recorded and not yet finished (waiting or being handled)."""
        return sum(d.backlog for d in self._dispatchers.values())

    async def store(self, name: str, updates: list[Raw]) -> list[InboxItem]:
        """Commit raw updates to the inbox; return the ones not seen before (not dispatched)."""
        channel = self.channels[name]
        rows = []
        for update in updates:
            external = channel.external_id(update)
            if external is None:
                continue
            try:
                payload = json.dumps(update, ensure_ascii=False)
            except (ValueError, TypeError, RecursionError):
                log.warning("%s update %s cannot be stored; skipped", name, external)
                continue
            rows.append(NewUpdate(external, channel.sender_of(update), payload))
        now = self.services.clock.now()
        return await self.services.store.write(lambda tx: tx.inbox.record(name, rows, now))

    async def record(self, name: str, updates: list[Raw]) -> list[InboxItem]:
        """Commit raw updates, then hand the fresh ones to the dispatcher. Once this returns,
        the channel may confirm the updates; if it raises, it must not."""
        fresh = await self.store(name, updates)
        dispatcher = self._dispatchers[name]
        for item in fresh:
            dispatcher.submit(item)
        return fresh

    async def resume(self) -> int:
        """Hand every update a previous run left unfinished to the dispatchers."""
        total = 0
        for name, dispatcher in self._dispatchers.items():
            items = await self.services.store.reads.inbox.pending(name)
            items.sort(key=_order)  # a webhook may have recorded them out of order
            for item in items:
                dispatcher.submit(item)
            if items:
                log.info("resuming %d unfinished %s updates from the inbox", len(items), name)
            total += len(items)
        return total

    async def join(self) -> None:
        """Wait until every update handed over so far is handled and committed."""
        for dispatcher in self._dispatchers.values():
            await dispatcher.join()

    async def stop(self, grace: float = 10.0) -> None:
        """Let the updates in hand finish (up to ``grace`` s); the rest resume at next start."""
        try:
            await asyncio.wait_for(self.join(), timeout=grace)
        except TimeoutError:
            log.warning("stopping with %d updates unfinished; they resume at next start",
                        self.backlog)
        for dispatcher in self._dispatchers.values():
            await dispatcher.cancel()

    async def _process(self, item: InboxItem) -> None:
        channel = self.channels[item.channel]
        clock = self.services.clock
        store = self.services.store

        async def finish(tx: Tx, error: str | None = None) -> None:
            await tx.inbox.finish(item.id, clock.now(), error)

        try:
            raw = json.loads(item.payload)
            event = channel.translate(raw)
            if event is None:
                await channel.on_other(raw)
                await store.write(finish)
                return
            event = await channel.prepare(event)
            delay = self.retry_delay
            while True:
                try:
                    await self.core.handle(event, channel.deliver, finish)
                    return
                except Exception as exc:
                    if not channel.is_unreachable(exc):
                        raise
                    # keep the update (and this person's next ones) and answer it once the
                    # channel is back; its state was not saved
                    log.warning("%s update %s not delivered (%s); retrying in %.0fs",
                                item.channel, item.external_id, exc, delay)
                    await asyncio.sleep(delay)
                    delay = min(delay * 2, 120.0)
        except Exception as exc:
            log.exception("%s update %s failed", item.channel, item.external_id)
            error = f"{type(exc).__name__}: {exc}"[:500]
            await store.write(lambda tx: finish(tx, error))
