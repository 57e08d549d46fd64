"""The intake with a second, toy channel (not Telegram): the same guarantees for every channel.

Recorded (committed) before the channel acknowledges, a re-delivery skipped, what was left
unfinished resumed after a restart, one person's updates in order while different people
are handled at once, an unreachable channel waited out, updates that are not events handed
to the channel, a failure marked.
"""

from __future__ import annotations

import asyncio
import sqlite3
from typing import Any

from bot.context import Services
from bot.core import Core
from bot.events import Event, Kind, Reply
from bot.intake import Intake
from db.repositories.inbox import InboxRepo

COMMANDS = ["darurat", "bantuan", "info", "menu"]


class ToyDown(Exception):
    """The toy channel's network is gone."""


class ToyChannel:
    """A channel whose updates look like {"id": "m1", "from": "ani", "command": "info"}."""

    name = "toy"

    def __init__(self, max_concurrent: int = 4, delay: float = 0.0) -> None:
        self.max_concurrent = max_concurrent
        self.delay = delay
        self.delivered: list[tuple[str, str]] = []  # (person, command)
        self.others: list[dict[str, Any]] = []
        self.gate: asyncio.Event | None = None  # deliveries wait for it when set
        self.down = 0  # deliveries that fail as unreachable before one goes through
        self.broken = False
        self.in_flight = self.peak = 0

    def external_id(self, raw: dict[str, Any]) -> str | None:
        return raw.get("id")

    def sender_of(self, raw: dict[str, Any]) -> str | None:
        return f"{self.name}:{raw['from']}" if "from" in raw else None

    def translate(self, raw: dict[str, Any]) -> Event | None:
        if "command" not in raw:
            return None  # e.g. "the person blocked us": no answer
        return Event(identity=f"{self.name}:{raw['from']}", channel=self.name, address=raw["from"],
                     kind=Kind.COMMAND, command=raw["command"], language_hint="id")

    async def prepare(self, event: Event) -> Event:
        return event

    async def on_other(self, raw: dict[str, Any]) -> None:
        self.others.append(raw)

    async def deliver(self, event: Event, lang: str, replies: list[Reply]) -> bool:
        self.in_flight += 1
        self.peak = max(self.peak, self.in_flight)
        try:
            if self.gate is not None:
                await self.gate.wait()
            await asyncio.sleep(self.delay)
            if self.down:
                self.down -= 1
                raise ToyDown("no network")
            if self.broken:
                raise RuntimeError("the toy's own bug")
            assert replies
            self.delivered.append((event.address, event.command))
            return True
        finally:
            self.in_flight -= 1

    def is_unreachable(self, exc: BaseException) -> bool:
        return isinstance(exc, ToyDown)


def message(n: int, person: str, command: str) -> dict[str, Any]:
    return {"id": f"m{n}", "from": person, "command": command}


def toy_intake(services: Services, channel: ToyChannel) -> Intake:
    intake = Intake(services, Core(services), retry_delay=0.02)
    intake.add(channel)
    return intake


async def inbox(services: Services, status: str) -> int:
    return await InboxRepo(services.store.db.conn).count("toy", status)


async def test_recorded_and_committed_before_the_channel_acknowledges(services) -> None:
    toy = ToyChannel()
    toy.gate = asyncio.Event()  # handling is held up: only the recording has happened
    intake = toy_intake(services, toy)
    fresh = await intake.record("toy", [message(1, "ani", "darurat")])
    assert [item.external_id for item in fresh] == ["m1"]
    # the channel may acknowledge now: the update is on disk, seen by another connection
    with sqlite3.connect(services.settings.db_path) as other:
        rows = other.execute("SELECT external_id, status, sender FROM inbox").fetchall()
    assert rows == [("m1", "pending", "toy:ani")]
    assert intake.backlog == 1
    toy.gate.set()
    await intake.join()
    assert toy.delivered == [("ani", "darurat")]
    assert await inbox(services, "done") == 1 and intake.backlog == 0


async def test_a_redelivery_is_skipped(services) -> None:
    toy = ToyChannel()
    intake = toy_intake(services, toy)
    first = await intake.record("toy", [message(1, "ani", "darurat")])
    again = await intake.record("toy", [message(1, "ani", "darurat"), message(2, "ani", "info")])
    assert len(first) == 1 and [item.external_id for item in again] == ["m2"]
    await intake.join()
    await intake.record("toy", [message(1, "ani", "darurat")])  # also once it is done
    await intake.join()
    assert toy.delivered == [("ani", "darurat"), ("ani", "info")]
    assert await inbox(services, "done") == 2


async def test_what_a_stopped_run_left_unfinished_is_resumed_after_a_restart(services) -> None:
    toy = ToyChannel()
    toy.gate = asyncio.Event()  # never opened: the process "dies" with these in hand
    intake = toy_intake(services, toy)
    await intake.record("toy", [message(1, "ani", "darurat"), message(2, "budi", "info"),
                                message(3, "ani", "bantuan")])
    await intake.store("toy", [message(4, "citra", "menu")])  # committed, never handed on
    await intake.stop(grace=0.05)
    assert toy.delivered == [] and await inbox(services, "pending") == 4

    restarted = ToyChannel()
    intake = toy_intake(services, restarted)
    assert await intake.resume() == 4
    await intake.join()
    assert sorted(restarted.delivered) == [("ani", "bantuan"), ("ani", "darurat"),
                                           ("budi", "info"), ("citra", "menu")]
    ani = [c for p, c in restarted.delivered if p == "ani"]
    assert ani == ["darurat", "bantuan"]  # in the order received
    assert await inbox(services, "pending") == 0 and await inbox(services, "done") == 4
    assert await intake.resume() == 0  # nothing is handled twice


async def test_each_person_in_order_different_people_at_once(services) -> None:
    toy = ToyChannel(max_concurrent=3, delay=0.02)
    intake = toy_intake(services, toy)
    people = ["ani", "budi", "citra", "dodi", "eka"]
    n = 0
    for command in COMMANDS:  # several batches, as a poller or webhook would hand them over
        batch = []
        for person in people:
            n += 1
            batch.append(message(n, person, command))
        await intake.record("toy", batch)
    await intake.join()
    for person in people:
        assert [c for p, c in toy.delivered if p == person] == COMMANDS
    assert toy.peak == 3  # concurrent, never more than the channel's limit


async def test_an_unreachable_channel_is_waited_out_and_order_kept(services) -> None:
    toy = ToyChannel()
    toy.down = 3
    intake = toy_intake(services, toy)
    await intake.record("toy", [message(1, "ani", "darurat"), message(2, "ani", "info")])
    await intake.join()
    assert toy.delivered == [("ani", "darurat"), ("ani", "info")]
    assert await inbox(services, "done") == 2 and await inbox(services, "failed") == 0


async def test_updates_that_are_not_events_go_to_the_channel_and_failures_are_marked(
        services) -> None:
    toy = ToyChannel()
    intake = toy_intake(services, toy)
    await intake.record("toy", [{"id": "b1", "from": "ani", "blocked": True}])
    await intake.join()
    assert toy.others == [{"id": "b1", "from": "ani", "blocked": True}]
    toy.broken = True
    await intake.record("toy", [message(2, "ani", "darurat")])
    await intake.join()
    assert await inbox(services, "done") == 1 and await inbox(services, "failed") == 1
    async with services.store.db.conn.execute(
            "SELECT error FROM inbox WHERE external_id = 'm2'") as cur:
        assert "the toy's own bug" in (await cur.fetchone())[0]


async def test_channels_do_not_share_ids(services) -> None:
    """The same id from two channels is two updates (ids are unique per channel)."""
    toy, other = ToyChannel(), ToyChannel()
    other.name = "other"
    intake = toy_intake(services, toy)
    intake.add(other)
    assert len(await intake.record("toy", [message(1, "ani", "darurat")])) == 1
    assert len(await intake.record("other", [message(1, "ani", "darurat")])) == 1
    await intake.join()
    assert toy.delivered == other.delivered == [("ani", "darurat")]
