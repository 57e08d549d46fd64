"""Different people at once, one person in order, never more than the limit in flight."""

from __future__ import annotations

import asyncio

from bot.intake import Dispatcher
from db.repositories.inbox import InboxItem


def item(n: int, sender: str, update_id: int | None = None) -> InboxItem:
    return InboxItem(n, "telegram", str(update_id if update_id is not None else n), sender, "{}")


async def test_people_concurrently_each_in_order_within_the_limit() -> None:
    done: list[tuple[str, int]] = []
    in_flight = peak = 0

    async def handle(it: InboxItem) -> None:
        nonlocal in_flight, peak
        in_flight += 1
        peak = max(peak, in_flight)
        await asyncio.sleep(0.01)
        done.append((it.sender, int(it.external_id)))
        in_flight -= 1

    dispatcher = Dispatcher(handle, limit=4)
    n = 0
    for round_ in range(5):
        for person in range(10):
            n += 1
            dispatcher.submit(item(n, f"p{person}", update_id=round_ * 100 + person))
    started = asyncio.get_running_loop().time()
    await dispatcher.join()
    elapsed = asyncio.get_running_loop().time() - started
    assert len(done) == 50 and peak == 4
    assert elapsed < 50 * 0.01 * 0.5  # concurrent, not one at a time
    for person in range(10):
        ids = [u for s, u in done if s == f"p{person}"]
        assert ids == sorted(ids) and len(ids) == 5


async def test_late_arriving_earlier_update_is_handled_first() -> None:
    seen: list[int] = []
    gate = asyncio.Event()

    async def handle(it: InboxItem) -> None:
        await gate.wait()
        seen.append(int(it.external_id))

    dispatcher = Dispatcher(handle, limit=2)
    dispatcher.submit(item(1, "p", 10))
    dispatcher.submit(item(2, "p", 13))
    dispatcher.submit(item(3, "p", 12))  # arrived later, sent earlier
    dispatcher.submit(item(4, "p", 11))
    gate.set()
    await dispatcher.join()
    assert seen == [10, 11, 12, 13]
