"""The authorisation matrix: every privileged action x every role x own / other area; and the
audit log it writes, where a refusal repeated is one row with a count."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

import db.migrate
from bot.authz import AREA_ACTIONS, MODERATOR_ACTIONS, Action
from bot.clock import FakeClock
from bot.context import Services
from bot.core import Core
from bot.events import Event, Kind
from db.database import Database
from db.repositories.audit import AuditRepo
from db.repositories.roles import Grant, RolesRepo

OWN_RT, OTHER_RT_SAME_RW, OTHER_RW_RT = (
    "cimuncang-rw01-rt01", "cimuncang-rw01-rt02", "cimuncang-rw02-rt01")
OWN_RW = "cimuncang-rw01"

PEOPLE = {
    "resident": [],
    "rt_coordinator": [Grant("coordinator", OWN_RT)],
    "rw_coordinator": [Grant("coordinator", OWN_RW)],
    "moderator": [Grant("moderator")],
    "admin": [Grant("admin")],
}


def expected(person: str, action: Action, target: str) -> bool:
    if person == "admin":
        return True
    if action in AREA_ACTIONS:
        if person == "rt_coordinator":
            return target == OWN_RT
        if person == "rw_coordinator":
            return target in {OWN_RT, OTHER_RT_SAME_RW, OWN_RW}
        return False
    if action in MODERATOR_ACTIONS:
        return person == "moderator"
    return False


CASES = [
    (person, action, target)
    for person in PEOPLE
    for action in Action
    for target in (OWN_RT, OTHER_RT_SAME_RW, OWN_RW, OTHER_RW_RT)
]


@pytest.fixture
async def granted(services: Services) -> Services:
    async def setup(conn):  # type: ignore[no-untyped-def]
        for person, grants in PEOPLE.items():
            for g in grants:
                await RolesRepo(conn).grant(f"telegram:{person}", g, "test", services.clock.now())

    await services.store.db.write(setup)
    return services


@pytest.mark.parametrize(("person", "action", "target"), CASES,
                         ids=[f"{p}-{a.value}-{t}" for p, a, t in CASES])
async def test_matrix(granted: Services, person: str, action: Action, target: str) -> None:
    allowed = await granted.authz.authorize(f"telegram:{person}", action, target)
    assert allowed is expected(person, action, target)
    [entry] = await AuditRepo(granted.store.db.conn).recent(1)
    assert (entry.actor, entry.action, entry.target) == (f"telegram:{person}", action.value,
                                                         target)
    assert entry.outcome == ("allowed" if allowed else "denied")


async def test_rt_coordinator_can_never_act_on_another_rt(granted: Services) -> None:
    for action in AREA_ACTIONS:
        assert not await granted.authz.authorize("telegram:rt_coordinator", action,
                                                 OTHER_RT_SAME_RW)
        assert not await granted.authz.authorize("telegram:rt_coordinator", action,
                                                 "no-such-area")


async def test_spamming_a_refused_command_does_not_grow_the_audit_log(
        services: Services, clock: FakeClock) -> None:
    core = Core(services)
    answers = []

    async def deliver(event, lang, replies):  # type: ignore[no-untyped-def]
        answers.append(replies)

    first = clock.now()
    for _ in range(200):
        clock.advance(seconds=1)
        await core.handle(Event("telegram:4242", "telegram", "-100777", Kind.COMMAND,
                                command="hubungkan", group="Warga RT 03", group_admin=True),
                          deliver)
    assert len(answers) == 200 and all(a[0].text.key == "group.not_coordinator" for a in answers)
    entries = await AuditRepo(services.store.db.conn).recent()
    assert len(entries) == 1
    [entry] = entries
    assert (entry.actor, entry.action, entry.outcome, entry.times) == (
        "telegram:4242", "broadcast.send", "denied", 200)
    assert entry.at == first + timedelta(seconds=1)
    assert entry.last_at == clock.now()


async def test_allowed_actions_each_keep_their_row(granted: Services) -> None:
    for _ in range(3):
        assert await granted.authz.authorize("telegram:admin", Action.AUDIT_VIEW)
    entries = await AuditRepo(granted.store.db.conn).recent()
    assert [(e.outcome, e.times) for e in entries] == [("allowed", 1)] * 3


async def test_refusals_recorded_before_the_upgrade_are_collapsed(tmp_path: Path,
                                                                  monkeypatch) -> None:
    everything = db.migrate.available()
    before = [m for m in everything if m[1] < "0003"]
    monkeypatch.setattr(db.migrate, "available", lambda: before)
    database = await Database.open(tmp_path / "old.db")
    try:
        await db.migrate.migrate(database)

        async def seed(conn):  # type: ignore[no-untyped-def]
            for at, actor, target, outcome in [
                    ("2026-01-01", "telegram:1", "rt-a", "denied"),
                    ("2026-01-03", "telegram:1", "rt-a", "denied"),
                    ("2026-01-02", "telegram:1", "rt-a", "denied"),
                    ("2026-01-02", "telegram:1", "rt-b", "denied"),
                    ("2026-01-04", "telegram:1", "rt-a", "allowed"),
                    ("2026-01-05", "telegram:1", "rt-a", "allowed")]:
                await conn.execute(
                    "INSERT INTO audit_log (at, actor, action, target, outcome) "
                    "VALUES (?, ?, 'invite.view', ?, ?)", (at, actor, target, outcome))

        await database.write(seed)
        monkeypatch.setattr(db.migrate, "available", lambda: everything)
        assert await db.migrate.migrate(database) == [m[1] for m in everything[len(before):]]
        async with database.conn.execute(
                "SELECT at, target, outcome, times, last_at FROM audit_log ORDER BY id") as cur:
            rows = [tuple(r) for r in await cur.fetchall()]
        assert rows == [("2026-01-01", "rt-a", "denied", 3, "2026-01-03"),
                        ("2026-01-02", "rt-b", "denied", 1, None),
                        ("2026-01-04", "rt-a", "allowed", 1, None),
                        ("2026-01-05", "rt-a", "allowed", 1, None)]
    finally:
        await database.close()
