"""Shared set-up for broadcast tests: residents, coordinators and moderators in the demo areas."""

from __future__ import annotations

from datetime import datetime

from bot.context import Services
from db.repositories.notices import NoticesRepo
from db.repositories.people import Conversation, PeopleRepo, Person
from db.repositories.roles import Grant, RolesRepo

RT03 = "cimuncang-rw02-rt03"
RT01_RW02 = "cimuncang-rw02-rt01"
RW02 = "cimuncang-rw02"
RT01_RW01 = "cimuncang-rw01-rt01"


async def resident(services: Services, user_id: int, area: str, *, language: str = "id",
                   regular: bool = True, volunteer: bool = False) -> Person:
    """A consented resident of ``area`` (as if they had onboarded)."""
    now = services.clock.now()
    person = Person(f"telegram:{user_id}", "telegram", str(user_id), now, now,
                    language=language, consent_version="2026-11-29", consent_at=now,
                    area_code=area, notices_regular=regular)

    async def save(conn):  # type: ignore[no-untyped-def]
        saved = await PeopleRepo(conn).save(person, Conversation(), now)
        if volunteer:
            await NoticesRepo(conn).add_volunteer(saved.id, now)
        return saved

    return await services.db.write(save)


async def grant(services: Services, user_id: int, role: str, area: str = "",
                name: str = "") -> None:
    now: datetime = services.clock.now()
    await services.db.write(lambda conn: RolesRepo(conn).grant(
        f"telegram:{user_id}", Grant(role, area), "cli:test", now, name))
