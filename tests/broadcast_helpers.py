"""Shared set-up for broadcast tests: residents, coordinators and moderators in the demo areas."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from bot.broadcasting.notices import fire
from bot.context import Services
from db.repositories.notices import Notice, NoticesRepo, Run
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

    return await services.store.db.write(save)


async def grant(services: Services, user_id: int, role: str, area: str = "",
                name: str = "") -> None:
    now: datetime = services.clock.now()
    await services.store.db.write(lambda conn: RolesRepo(conn).grant(
        f"telegram:{user_id}", Grant(role, area), "cli:test", now, name))


# --- notices written straight to the database (tests of the outbox and the scheduler) ------

AUTHOR_SIGNATURE = "Ketua RT 03 / RW 02 — Pak Ahmad"


async def create_notice(services: Services, author_id: int, body: str, *, area: str = RT03,
                        category: str = "regular", repeat: str = "now", **fields: object
                        ) -> Notice:
    """An approved (active) notice written straight to the database. ``repeat="now"`` is due
    at once; other schedules pass ``next_run_at`` (and ``at_time``, ``start_at`` ...)."""
    now = services.clock.now()
    if repeat == "now":
        fields.setdefault("next_run_at", now)
    notice = Notice(author=f"telegram:{author_id}", author_lang="id",
                    signature=AUTHOR_SIGNATURE, segment="all", category=category, body=body,
                    repeat=repeat, status="active", created_at=now, updated_at=now,
                    areas=(area,), **fields)  # type: ignore[arg-type]
    # its author coordinates the area (each occurrence checks that again before it goes out)
    await grant(services, author_id, "coordinator", area)
    return await services.store.db.write(lambda conn: NoticesRepo(conn).create(notice))


async def fire_notice(services: Services, notice: Notice) -> Run:
    """Start one occurrence of ``notice`` now (fan-out into the outbox) and wake the senders."""
    now = services.clock.now()
    run = await services.store.write(lambda tx: fire(services, tx, notice, now, now))
    services.signals.outbox()
    return run


async def drain(bot: Any, timeout: float = 10.0, *, final: bool = False) -> None:  # noqa: ASYNC109
    """Wait until the outbox is drained and every run reported (see
    ``RunningBot.outbox_idle``)."""
    await bot.outbox_idle(timeout, final=final)
