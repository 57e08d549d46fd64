"""Different people at once, one person in order, never more than the limit in flight."""

from __future__ import annotations

import asyncio

from bot.intake import Dispatcher, idle
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


async def test_a_slot_is_lent_out_while_its_update_only_waits() -> None:
    """Two slots; four people whose chats wait out their own 429 (0.3 s). A fifth person's
    update is handled at once, not after them, and never more than two work at once."""
    loop = asyncio.get_running_loop()
    finished: list[str] = []
    working = peak = 0

    async def handle(it: InboxItem) -> None:
        nonlocal working, peak
        working += 1
        peak = max(peak, working)
        try:
            if it.sender.startswith("busy"):
                working -= 1
                async with idle():  # as TelegramChannel._call does on RetryAfter
                    await asyncio.sleep(0.3)
                working += 1
                peak = max(peak, working)
            await asyncio.sleep(0.001)
            finished.append(it.sender)
        finally:
            working -= 1

    dispatcher = Dispatcher(handle, limit=2)
    for n in range(4):
        dispatcher.submit(item(n, f"busy{n}"))
    dispatcher.submit(item(9, "quick"))
    started = loop.time()
    await dispatcher.join()
    assert finished[0] == "quick" and sorted(finished[1:]) == [f"busy{n}" for n in range(4)]
    assert peak <= 2
    assert loop.time() - started < 0.55  # the four waited side by side, not two by two


async def test_a_task_started_by_the_update_cannot_lend_its_slot() -> None:
    """``idle`` in a helper task (e.g. answering a button press) leaves the slot alone."""
    working = peak = 0

    async def helper() -> None:
        async with idle():
            await asyncio.sleep(0.02)

    async def handle(it: InboxItem) -> None:
        nonlocal working, peak
        working += 1
        peak = max(peak, working)
        await asyncio.create_task(helper())
        working -= 1

    dispatcher = Dispatcher(handle, limit=1)
    for n in range(5):
        dispatcher.submit(item(n, f"p{n}"))
    await dispatcher.join()
    assert peak == 1


async def test_an_item_already_in_hand_is_not_taken_twice() -> None:
    seen: list[int] = []
    gate = asyncio.Event()

    async def handle(it: InboxItem) -> None:
        await gate.wait()
        seen.append(it.id)

    dispatcher = Dispatcher(handle, limit=2)
    dispatcher.submit(item(1, "p"))
    dispatcher.submit(item(1, "p"))  # e.g. a page of the inbox and a fresh record overlap
    assert dispatcher.backlog == 1
    gate.set()
    await dispatcher.join()
    assert seen == [1] and dispatcher.backlog == 0
