"""One person floods the bot while a hundred others use the menu.

The real intake, core and router, fed as Telegram's long polling feeds them (in arrival
order, up to 100 updates a fetch, fetching only when the intake has room), through a toy
channel whose every send takes a few milliseconds, as a round trip to the Bot API does.

What the allowance changes: before it, all 3,000 updates were stored with their payloads and
handled one after another (26 s of work here, 2,989 payloads pending at the peak). The others
were not slower then (one person's updates take one slot at a time), but with the backlog
cap that now bounds memory, a flood without the allowance stops fetching for everyone: with
the allowance switched off this test's residents wait ~10 s (p99), far over its bound.
"""

from __future__ import annotations

import asyncio
from typing import Any

from bot.context import Services
from bot.events import Event, Reply
from bot.intake import Intake
from tests.test_intake import ToyChannel, toy_intake

FLOOD = 3_000
OTHERS = 100
STEPS = ["menu", "info", "darurat"]  # each of the others, one after the other
PADDING = "x" * 420  # with the rest of the update: ~500 bytes, as a real message


class TimedToy(ToyChannel):
    """Notes when each person was last answered."""

    def __init__(self) -> None:
        super().__init__(max_concurrent=16, delay=0.005)
        self.answered: dict[str, asyncio.Event] = {}
        self.last: dict[str, float] = {}  # person -> loop time of their last answer

    async def deliver(self, event: Event, lang: str, replies: list[Reply]) -> bool:
        done = await super().deliver(event, lang, replies)
        self.last[event.address] = asyncio.get_running_loop().time()
        self.answered.setdefault(event.address, asyncio.Event()).set()
        return done


class Telegram:
    """What Telegram holds for the bot, handed over like getUpdates: up to 100 at a time, the
    oldest first, only when the intake has room (as ``TelegramChannel.poll`` asks)."""

    def __init__(self, intake: Intake) -> None:
        self.intake = intake
        self.waiting: list[dict[str, Any]] = []
        self.more = asyncio.Event()

    def send(self, update: dict[str, Any]) -> None:
        self.waiting.append(update)
        self.more.set()

    async def poll(self) -> None:
        room = getattr(self.intake, "room", None)
        while True:
            if room is not None:
                await room()
            while not self.waiting:
                self.more.clear()
                await self.more.wait()
            batch, self.waiting = self.waiting[:100], self.waiting[100:]
            await self.intake.record("toy", batch)


async def pending_payloads(services: Services, sender: str) -> int:
    async with services.store.db.conn.execute(
            "SELECT COUNT(*) FROM inbox WHERE sender = ? AND payload IS NOT NULL",
            (sender,)) as cur:
        return (await cur.fetchone())[0]


async def test_a_flood_from_one_person_does_not_slow_the_others(services) -> None:
    toy = TimedToy()
    intake = toy_intake(services, toy)
    telegram = Telegram(intake)
    poller = asyncio.create_task(telegram.poll())

    for n in range(FLOOD):  # as fast as they can: all before anyone else writes
        telegram.send({"id": f"f{n}", "from": "flooder", "command": "info", "text": PADDING})

    async def resident(i: int) -> None:
        await asyncio.sleep(i * 0.005)  # the others arrive over half a second
        person = f"warga{i}"
        for step, command in enumerate(STEPS):
            answered = toy.answered.setdefault(person, asyncio.Event())
            answered.clear()
            telegram.send({"id": f"w{i}-{step}", "from": person, "command": command,
                           "text": PADDING})
            sent = asyncio.get_running_loop().time()
            await asyncio.wait_for(answered.wait(), 60)
            waits.append(toy.last[person] - sent)

    waits: list[float] = []
    peak = 0

    async def watch() -> None:
        nonlocal peak
        while True:
            peak = max(peak, await pending_payloads(services, "toy:flooder"))
            await asyncio.sleep(0.02)

    watcher = asyncio.create_task(watch())
    try:
        await asyncio.gather(*(resident(i) for i in range(OTHERS)))
        await intake.join()
    finally:
        watcher.cancel()
        poller.cancel()
        await asyncio.gather(watcher, poller, return_exceptions=True)

    waits.sort()
    p99 = waits[int(len(waits) * 0.99) - 1]
    # every one of the others' 300 updates answered, promptly
    assert len(waits) == OTHERS * len(STEPS)
    assert p99 < 0.5 and waits[-1] < 1.0, f"p99 {p99:.3f}s, slowest {waits[-1]:.3f}s"
    said = [key for who, key in toy.said if who == "flooder"]
    assert said.count("intake.slow_down") == 1  # one "slow down", not one per message
    assert toy.delivered.count(("flooder", "info")) == 10  # the allowance (a frozen clock)
    assert peak <= 11  # never thousands of the flooder's payloads waiting in the inbox
    async with services.store.db.conn.execute(
            "SELECT status, COUNT(*), COUNT(payload) FROM inbox GROUP BY status") as cur:
        assert [tuple(r) for r in await cur.fetchall()] == [
            ("done", FLOOD + OTHERS * len(STEPS), 0)]
