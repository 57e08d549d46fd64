"""The authorisation matrix: every privileged action x every role x own / other area."""

from __future__ import annotations

import pytest

from bot.authz import AREA_ACTIONS, MODERATOR_ACTIONS, Action
from bot.context import Services
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
