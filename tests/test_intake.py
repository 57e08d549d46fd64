"""The intake with a second, toy channel (not Telegram): the same guarantees for every channel.

Recorded (committed) before the channel acknowledges, a re-delivery skipped, what was left
unfinished resumed after a restart, one person's updates in order while different people
are handled at once, an unreachable channel waited out, updates that are not events handed
to the channel, a failure marked.
"""

from __future__ import annotations

import asyncio
import json
import sqlite3
from typing import Any

import pytest

from bot.context import Services
from bot.core import Core
from bot.events import Event, Kind, Reply
from bot.intake import PAGE, Allowance, Intake
from db.errors import StorageFull
from db.repositories.inbox import InboxRepo, NewUpdate

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
        self.said: list[tuple[str, str]] = []  # (person, content key) of every reply sent
        self.others: list[dict[str, Any]] = []
        self.gate: asyncio.Event | None = None  # deliveries wait for it when set
        self.down = 0  # deliveries that fail as unreachable before one goes through
        self.down_for: set[str] = set()  # people whose chat is unreachable
        self.attempts = 0
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
            self.attempts += 1
            if self.gate is not None:
                await self.gate.wait()
            await asyncio.sleep(self.delay)
            if self.down:
                self.down -= 1
                raise ToyDown("no network")
            if event.address in self.down_for:
                raise ToyDown("no route to this chat")
            if self.broken:
                raise RuntimeError("the toy's own bug")
            assert replies
            if not all(r.text.key.startswith("intake.") for r in replies):  # not just a notice
                self.delivered.append((event.address, event.command))
            self.said += [(event.address, reply.text.key) for reply in replies]
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


# --- hardening: allowance, lent slots, giving up, pages, lock-ups, a full disk -----------------

async def wait_until(check, timeout: float = 5.0) -> None:  # noqa: ASYNC109
    """Until ``check()`` (sync or async) is true; fail after ``timeout`` seconds."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        found = check()
        if asyncio.iscoroutine(found):
            found = await found
        if found:
            return
        assert loop.time() < deadline, "the condition never came true"
        await asyncio.sleep(0.01)


async def rows(services: Services, sql: str, *params: object) -> list[tuple]:
    async with services.store.db.conn.execute(sql, params) as cur:
        return [tuple(r) for r in await cur.fetchall()]


def keys(toy: ToyChannel, person: str) -> list[str]:
    return [key for who, key in toy.said if who == person]


async def test_beyond_the_allowance_one_slow_down_and_the_rest_recorded_without_work(
        services, clock) -> None:
    """Allowance 10 at once, 30 a minute (the defaults): ani's 25 quick updates get 10
    answers and one "slow down"; the other 14 are recorded as done, without payload or any
    handling; budi, in the same batch, is answered as usual."""
    toy = ToyChannel()
    intake = toy_intake(services, toy)
    flood = [message(n, "ani", "info") for n in range(25)]
    fresh = await intake.record("toy", [*flood, message(100, "budi", "darurat")])
    assert len(fresh) == 12  # ani's ten, the one answered "slow down", budi's
    await intake.join()
    assert keys(toy, "ani").count("intake.slow_down") == 1
    assert toy.delivered.count(("ani", "info")) == 10 and ("budi", "darurat") in toy.delivered
    assert await rows(services, "SELECT status, error, COUNT(*), COUNT(payload) FROM inbox "
                      "GROUP BY status, error ORDER BY error") == [
        ("done", None, 11, 0), ("done", "rate limited", 15, 0)]

    # still the same burst: all dropped, no second "slow down"
    await intake.record("toy", [message(200 + n, "ani", "menu") for n in range(5)])
    await intake.join()
    assert ("ani", "menu") not in toy.delivered and keys(toy, "ani").count(
        "intake.slow_down") == 1
    # two seconds later one update is allowed again (30 a minute), the next is not
    clock.advance(seconds=2)
    await intake.record("toy", [message(300, "ani", "darurat"), message(301, "ani", "info")])
    await intake.join()
    assert toy.delivered.count(("ani", "darurat")) == 1
    assert toy.delivered.count(("ani", "info")) == 10
    assert keys(toy, "ani").count("intake.slow_down") == 1
    # after a quiet minute the whole allowance is back; a new burst is warned again, once
    clock.advance(minutes=1)
    await intake.record("toy", [message(400 + n, "ani", "bantuan") for n in range(12)])
    await intake.join()
    assert toy.delivered.count(("ani", "bantuan")) == 10
    assert keys(toy, "ani").count("intake.slow_down") == 2
    assert await inbox(services, "pending") == 0


async def test_updates_that_are_not_messages_to_the_bot_cost_no_allowance(services) -> None:
    """Membership changes and the like (no event) do not use up the allowance, so the one
    "slow down" can never be spent on an update nobody answers."""
    toy = ToyChannel()
    intake = toy_intake(services, toy)
    await intake.record("toy", [{"id": f"x{n}", "from": "ani"} for n in range(40)])
    await intake.record("toy", [message(n, "ani", "info") for n in range(10)])
    await intake.join()
    assert len(toy.others) == 40
    assert toy.delivered == [("ani", "info")] * 10 and "intake.slow_down" not in keys(toy, "ani")


async def test_a_failed_recording_costs_no_allowance(services) -> None:
    """Updates that could not be stored come again (the channel did not confirm them): the
    tries before must not use up the person's allowance."""
    toy = ToyChannel()
    intake = toy_intake(services, toy)

    def broken() -> None:
        raise sqlite3.OperationalError("disk I/O error")

    services.store.db.fault = broken
    batch = [message(n, "ani", "info") for n in range(8)]
    for _ in range(5):
        try:
            await intake.record("toy", batch)
        except sqlite3.OperationalError:
            pass
    services.store.db.fault = None
    await intake.record("toy", batch)
    await intake.join()
    assert toy.delivered == [("ani", "info")] * 8 and "intake.slow_down" not in keys(toy, "ani")


def test_the_allowance_forgets_people_whose_allowance_is_full_again() -> None:
    allowance = Allowance(per_minute=30, burst=10)  # full again 20 s after the last update
    for n in range(10_000):
        assert allowance.take(f"toy:{n}", now=1000.0 + n / 1000) == ""
    assert len(allowance) == 10_000
    allowance.take("toy:late", now=1000.0 + 10 + 20 + 1)  # everyone else is full again
    assert len(allowance) == 1


async def test_a_slot_is_lent_out_while_a_chat_is_unreachable(services) -> None:
    """With one slot, ani's unreachable chat (retried with waits) does not hold budi up."""
    toy = ToyChannel(max_concurrent=1)
    toy.down_for = {"ani"}
    intake = toy_intake(services, toy)
    await intake.record("toy", [message(1, "ani", "darurat"), message(2, "budi", "info")])
    await wait_until(lambda: ("budi", "info") in toy.delivered, timeout=2)
    assert ("ani", "darurat") not in toy.delivered
    toy.down_for.clear()
    await intake.join()
    assert toy.delivered == [("budi", "info"), ("ani", "darurat")]
    assert toy.peak == 1  # never more than one delivering at once


async def test_an_update_undeliverable_for_a_day_is_given_up_and_the_next_goes_on(
        services, clock, caplog) -> None:
    toy = ToyChannel()
    toy.down_for = {"ani"}
    intake = toy_intake(services, toy)
    await intake.record("toy", [message(1, "ani", "darurat")])
    clock.advance(hours=23)
    await intake.record("toy", [message(2, "ani", "info")])  # waits behind the first
    await wait_until(lambda: toy.attempts >= 3)
    assert await inbox(services, "failed") == 0  # a day has not passed: still tried
    clock.advance(hours=2)
    await wait_until(lambda: inbox(services, "failed"))
    toy.down_for.clear()
    await intake.join()
    assert toy.delivered == [("ani", "info")]
    [(external, error)] = await rows(services, "SELECT external_id, error FROM inbox "
                                     "WHERE status = 'failed'")
    assert external == "m1" and "undelivered for 1 day" in error and "no route" in error
    assert any("given up" in r.getMessage() for r in caplog.records)


async def test_resume_in_pages_keeps_each_persons_order_with_updates_arriving_meanwhile(
        services) -> None:
    people = ["ani", "budi", "citra"]
    n = 3 * PAGE
    updates = [NewUpdate(f"b{i}", f"toy:{people[i % 3]}",
                         json.dumps({"id": f"b{i}", "from": people[i % 3], "seq": i}))
               for i in range(n)]
    await services.store.write(lambda tx: tx.inbox.record("toy", updates, clock_now(services)))

    toy = ToyChannel(max_concurrent=4)
    intake = toy_intake(services, toy)
    dispatcher = intake._dispatchers["toy"]
    peak = 0

    async def on_other(raw: dict[str, Any]) -> None:
        nonlocal peak
        peak = max(peak, dispatcher.backlog)
        toy.others.append(raw)

    toy.on_other = on_other  # type: ignore[method-assign]
    assert await intake.resume() == n
    assert intake.backlog == n
    # ani writes again while the old updates are still being loaded: answered after them
    await intake.record("toy", [{"id": "new", "from": "ani", "seq": n}])
    await intake.join()
    for person in people:
        seqs = [raw["seq"] for raw in toy.others if raw["from"] == person]
        assert seqs == sorted(seqs)
    assert [raw["seq"] for raw in toy.others if raw["from"] == "ani"][-1] == n
    assert len(toy.others) == n + 1 and await inbox(services, "pending") == 0
    assert peak < 2 * PAGE  # never all of them in memory at once
    assert intake.backlog == 0


def clock_now(services: Services):
    return services.clock.now()


async def test_a_database_lock_held_longer_than_busy_timeout_loses_nothing(
        services, caplog) -> None:
    """Another connection holds the write lock (BEGIN EXCLUSIVE) for far longer than the
    writer's busy_timeout, during a burst: every update is answered once, and saved."""
    db = services.store.db
    await db.write(lambda c: c.execute("PRAGMA busy_timeout=100"))  # 0.1 s, not 5 s
    toy = ToyChannel(max_concurrent=4, delay=0.005)
    intake = toy_intake(services, toy)
    people = [f"p{i}" for i in range(10)]
    batches = [[message(b * 100 + i, person, COMMANDS[b]) for i, person in enumerate(people)]
               for b in range(len(COMMANDS))]

    async def poller(batch: list[dict[str, Any]]) -> None:  # as a channel would: until stored
        while True:
            try:
                await intake.record("toy", batch)
                return
            except sqlite3.OperationalError:
                await asyncio.sleep(0.05)

    other = sqlite3.connect(services.settings.db_path, isolation_level=None,
                            check_same_thread=False)
    try:
        await poller(batches[0])
        await wait_until(lambda: toy.delivered, timeout=2)  # in the middle of the burst
        await asyncio.to_thread(other.execute, "BEGIN EXCLUSIVE")
        feeding = asyncio.gather(*(poller(batch) for batch in batches[1:]))
        await asyncio.sleep(1.0)  # ten times the busy timeout
        assert not feeding.done()  # nothing can be stored meanwhile: held up, not lost
        other.execute("COMMIT")
        await feeding
        await intake.join()
    finally:
        other.close()
    for person in people:
        assert [c for p, c in toy.delivered if p == person] == COMMANDS  # once each, in order
    assert await inbox(services, "done") == len(people) * len(COMMANDS)
    assert await inbox(services, "pending") == 0 and await inbox(services, "failed") == 0
    assert len(await rows(services, "SELECT id FROM person")) == len(people)
    locked = [r for r in caplog.records if "database is locked" in r.getMessage()]
    assert len(locked) >= 1 and all(r.levelname == "WARNING" for r in locked)
    assert not [r for r in caplog.records if r.levelname == "ERROR"]


async def test_a_full_disk_tells_people_once_loses_nothing_and_goes_on_after(
        services, caplog) -> None:
    """ani's reply went out when the disk filled up: only her save is tried again. eka's
    update waits (told once to expect an answer later); budi's cannot even be stored (told
    once, however often his channel hands it over again). Once there is room, everything is
    handled, once."""
    db = services.store.db
    toy = ToyChannel(max_concurrent=1)
    toy.gate = asyncio.Event()
    intake = toy_intake(services, toy)
    await intake.record("toy", [message(1, "ani", "darurat"), message(2, "eka", "info")])
    await wait_until(lambda: toy.in_flight == 1)  # ani's reply on its way

    def full() -> None:
        raise sqlite3.OperationalError("database or disk is full")

    db.fault = full
    toy.gate.set()
    await wait_until(lambda: "intake.try_later" in keys(toy, "eka"))
    for _ in range(3):  # budi's channel tries to hand his update over, again and again
        with pytest.raises(StorageFull):
            await intake.record("toy", [message(3, "budi", "menu")])
    await wait_until(lambda: "intake.try_later" in keys(toy, "budi"))
    await asyncio.sleep(0.3)
    assert toy.delivered == [("ani", "darurat")]  # eka still waits
    assert await inbox(services, "pending") == 2  # ani's (not saved yet) and eka's

    db.fault = None  # space freed
    await intake.record("toy", [message(3, "budi", "menu")])
    await intake.join()
    assert toy.delivered.count(("ani", "darurat")) == 1  # answered once: only the save again
    assert keys(toy, "eka").count("intake.try_later") == 1 and ("eka", "info") in toy.delivered
    assert keys(toy, "budi").count("intake.try_later") == 1 and ("budi", "menu") in toy.delivered
    assert "intake.try_later" not in keys(toy, "ani")
    assert await inbox(services, "done") == 3 and await inbox(services, "pending") == 0
    assert len(await rows(services, "SELECT id FROM person")) == 3
    full_lines = [r for r in caplog.records if "disk is full" in r.getMessage()]
    assert len(full_lines) == 1 and "free space on" in full_lines[0].getMessage()
    assert str(services.settings.db_path.parent) in full_lines[0].getMessage()
    assert not [r for r in caplog.records if r.levelname == "ERROR" and r not in full_lines]
