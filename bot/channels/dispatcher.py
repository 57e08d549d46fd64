"""Run inbox items concurrently across people, strictly in order for each person."""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import Awaitable, Callable

from db.repositories.inbox import InboxItem

log = logging.getLogger(__name__)


def _order(item: InboxItem) -> int:
    return int(item.external_id) if item.external_id.isdigit() else item.id


class Dispatcher:
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
