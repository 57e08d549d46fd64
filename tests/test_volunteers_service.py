"""The volunteer service on its own: who a call-out asks (help area, skill, availability,
pause), the first N acceptances win even at the same moment, a place given back is offered
again, reminders once and across a restart, cancellation, erasure."""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime, timedelta

from bot.volunteers import service as svc
from db.repositories.volunteers import NewCallout
from tests.test_symptoms_flow import outbox_to, person, rows

RT03 = "cimuncang-rw02-rt03"
RT01 = "cimuncang-rw02-rt01"
RW02 = "cimuncang-rw02"
RT01_RW01 = "cimuncang-rw01-rt01"
# Saturday 5 Dec 2026 09:00 WIB, and Tuesday 8 Dec 2026 19:00 WIB
SATURDAY = datetime(2026, 12, 5, 2, 0, tzinfo=UTC)
TUESDAY_EVENING = datetime(2026, 12, 8, 12, 0, tzinfo=UTC)


async def volunteer(services, user: str, *, area: str = RT03, helps: str = RT03,  # type: ignore[no-untyped-def]
                    skills: tuple[str, ...] = ("logistics",),
                    availability: tuple[str, ...] = ("weekends",),
                    paused: date | None = None) -> int:
    home = {RT03: RT03, RT01: RT01, RT01_RW01: RT01_RW01}[area]
    await person(services, user, home)
    found = await services.store.reads.people.get(f"console:{user}")
    now = services.clock.now()

    async def write(tx):  # type: ignore[no-untyped-def]
        await tx.volunteers.save(found.id, name=f"Relawan {user}", phone="+628111",
                                 skills=skills, availability=availability, area_code=helps,
                                 consent_version="relawan-1", now=now)
        if paused:
            await tx.volunteers.pause(found.id, paused)

    await services.store.write(write)
    return found.id


def draft(services, area: str = RT03, *, skills: tuple[str, ...] = (), needed: int = 2,  # type: ignore[no-untyped-def]
          starts_at: datetime = SATURDAY, urgent: bool = False) -> NewCallout:
    now = services.clock.now()
    return NewCallout(author="console:ketua", area_code=area, title="Kerja bakti",
                      starts_at=starts_at, place="Balai RW", skills=skills, needed=needed,
                      note="", urgent=urgent, created_at=now,
                      remind_at=starts_at - timedelta(hours=2))


async def send(services, new: NewCallout) -> tuple[int, int]:  # type: ignore[no-untyped-def]
    now = services.clock.now()
    return await services.store.write(lambda tx: svc.send_callout(services, tx, new, now))


async def test_a_call_out_asks_the_volunteers_who_help_there_are_free_and_have_the_skill(
        services) -> None:
    await volunteer(services, "rt03")  # helps in RT 03, weekends, logistics
    await volunteer(services, "rw02", area=RT01, helps=RW02)  # helps the whole RW 02
    await volunteer(services, "rt01", area=RT01, helps=RT01)  # another RT
    await volunteer(services, "weekday", availability=("weekdays",))
    await volunteer(services, "paused", paused=date(2026, 12, 6))
    await volunteer(services, "medic", skills=("health",))
    await volunteer(services, "evening", availability=("evenings",))
    reads = services.store.reads
    names = {v.name for v in await svc.matching(services, reads, RT03, (), SATURDAY)}
    assert names == {"Relawan rt03", "Relawan rw02", "Relawan medic"}
    names = {v.name for v in await svc.matching(services, reads, RT03, ("logistics",),
                                                SATURDAY)}
    assert names == {"Relawan rt03", "Relawan rw02"}
    names = {v.name for v in await svc.matching(services, reads, RT03, (),
                                                TUESDAY_EVENING)}
    assert names == {"Relawan evening"}  # weekday helpers are free in the day only
    names = {v.name for v in await svc.matching(services, reads, RW02, (), SATURDAY)}
    assert names == {"Relawan rt03", "Relawan rw02", "Relawan rt01", "Relawan medic"}


async def test_sending_queues_one_offer_per_matching_volunteer(services) -> None:
    await volunteer(services, "a")
    await volunteer(services, "b", skills=("health",))
    callout_id, asked = await send(services, draft(services, skills=("logistics",)))
    assert asked == 1
    offers = [m for m in await outbox_to(services, "console:a") if m["kind"] == "callout"]
    assert len(offers) == 1 and offers[0]["text"]["params"]["title"] == "Kerja bakti"
    assert not [m for m in await outbox_to(services, "console:b") if m["kind"] == "callout"]
    (quiet,) = await rows(services, "SELECT quiet FROM outbox WHERE kind = 'callout'")
    assert quiet == (1,)  # a regular call-out waits out quiet hours
    assert await rows(services, "SELECT action, target FROM audit_log WHERE action = "
                                "'volunteers.call'") == [("volunteers.call",
                                                          f"callout:{callout_id}")]


async def test_the_first_n_to_accept_at_the_same_moment_win(services) -> None:
    ids = [await volunteer(services, f"v{i}") for i in range(5)]
    callout_id, asked = await send(services, draft(services, needed=2))
    assert asked == 5
    now = services.clock.now()
    outcomes = await asyncio.gather(*(services.store.write(
        lambda tx, pid=pid: svc.accept(services, tx, callout_id, pid, now)) for pid in ids))
    assert sorted(outcomes) == ["accepted", "accepted", "full", "full", "full"]
    assert await rows(services, "SELECT status FROM callout") == [("full",)]
    assert await rows(services, "SELECT COUNT(*) FROM callout_answer WHERE status = "
                                "'accepted'") == [(2,)]


async def test_a_place_given_back_is_offered_to_those_who_have_not_declined(services) -> None:
    a, b, c, _ = [await volunteer(services, u) for u in ("a", "b", "c", "d")]
    callout_id, _ = await send(services, draft(services, needed=1))
    now = services.clock.now()

    async def do(fn):  # type: ignore[no-untyped-def]
        return await services.store.write(fn)

    assert await do(lambda tx: svc.accept(services, tx, callout_id, a, now)) == "accepted"
    assert await do(lambda tx: svc.accept(services, tx, callout_id, b, now)) == "full"
    await do(lambda tx: tx.volunteers.set_answer(callout_id, c, "declined", now, ("asked",)))
    assert await do(lambda tx: svc.give_back(services, tx, callout_id, a, now)) == "done"
    assert await rows(services, "SELECT status FROM callout") == [("open",)]
    for user, told in (("b", True), ("c", False), ("d", True), ("a", False)):
        again = [m for m in await outbox_to(services, f"console:{user}")
                 if m["text"]["key"] == "callouts.place_free"]
        assert bool(again) == told, user
    assert await do(lambda tx: svc.accept(services, tx, callout_id, b, now)) == "accepted"
    assert await do(lambda tx: svc.give_back(services, tx, callout_id, c, now)) == \
        "not_accepted"


async def test_reminders_go_once_to_the_accepted_and_survive_a_restart(tmp_path, clock
                                                                       ) -> None:
    from tests.test_symptoms_more import services_on

    async with services_on(tmp_path, clock) as services:
        a = await volunteer(services, "a")
        await volunteer(services, "b")
        callout_id, _ = await send(services, draft(services, needed=2))
        now = services.clock.now()
        await services.store.write(lambda tx: svc.accept(services, tx, callout_id, a, now))
    async with services_on(tmp_path, clock) as services:  # the bot restarted
        _go(clock, SATURDAY - timedelta(hours=3))
        assert await svc.run_due(services) == 0
        _go(clock, SATURDAY - timedelta(hours=2, minutes=-1))
        assert await svc.run_due(services) == 1
        assert await svc.run_due(services) == 0
        reminders = [m for m in await outbox_to(services, "console:a")
                     if m["kind"] == "callout_reminder"]
        assert len(reminders) == 1
        assert not [m for m in await outbox_to(services, "console:b")
                    if m["kind"] == "callout_reminder"]


def _go(clock, at: datetime) -> None:  # type: ignore[no-untyped-def]
    clock.advance(seconds=(at - clock.now()).total_seconds())


async def test_a_pause_keeps_a_volunteer_out_until_it_ends(services) -> None:
    await volunteer(services, "paused", paused=date(2026, 12, 5))
    reads = services.store.reads
    assert await svc.matching(services, reads, RT03, (), SATURDAY) == []
    next_saturday = SATURDAY + timedelta(days=7)
    assert [v.name for v in await svc.matching(services, reads, RT03, (), next_saturday)] \
        == ["Relawan paused"]


async def test_cancelling_tells_the_accepted_and_stops_offers_not_yet_sent(services) -> None:
    a = await volunteer(services, "a")
    await volunteer(services, "b")
    callout_id, _ = await send(services, draft(services))
    now = services.clock.now()
    await services.store.write(lambda tx: svc.accept(services, tx, callout_id, a, now))
    assert await services.store.write(
        lambda tx: svc.cancel_callout(services, tx, callout_id, "console:ketua", now))
    told = [m for m in await outbox_to(services, "console:a")
            if m["text"]["key"] == "callouts.cancelled_told"]
    assert told
    assert await rows(services, "SELECT status FROM outbox WHERE kind = 'callout'") == [
        ("skipped",), ("skipped",)]
    assert not await services.store.write(
        lambda tx: svc.cancel_callout(services, tx, callout_id, "console:ketua", now))
    assert await services.store.write(
        lambda tx: svc.accept(services, tx, callout_id, a, now)) == "cancelled"


async def test_erasing_a_volunteer_gives_their_place_back(services) -> None:
    a = await volunteer(services, "a")
    await volunteer(services, "b")
    callout_id, _ = await send(services, draft(services, needed=1))
    now = services.clock.now()
    await services.store.write(lambda tx: svc.accept(services, tx, callout_id, a, now))
    from tests.chat import Chat

    chat = Chat(services, "a")
    await chat.send("/hapusdata")
    await chat.press("Ya, hapus")
    assert await rows(services, "SELECT COUNT(*) FROM volunteer WHERE person_id = ?", a) == [
        (0,)]
    assert await rows(services, "SELECT status FROM callout") == [("open",)]
    again = [m for m in await outbox_to(services, "console:b")
             if m["text"]["key"] == "callouts.place_free"]
    assert again


async def test_volunteer_only_notices_reach_volunteers_who_help_in_the_area(services) -> None:
    await volunteer(services, "lives_elsewhere", area=RT01_RW01, helps=RW02)
    await volunteer(services, "lives_here")
    await person(services, "not_a_volunteer")
    reach, _ = await services.store.reads.notices.reach([RT03], "volunteers", "regular")
    assert reach == 2


async def test_no_cancelling_after_the_start_and_no_giving_back_a_cancelled_place(
        services, clock) -> None:
    a = await volunteer(services, "a")
    callout_id, _ = await send(services, draft(services))
    now = services.clock.now()
    await services.store.write(lambda tx: svc.accept(services, tx, callout_id, a, now))
    assert await services.store.write(
        lambda tx: svc.cancel_callout(services, tx, callout_id, "console:ketua", now))
    assert await services.store.write(
        lambda tx: svc.give_back(services, tx, callout_id, a, now)) == "cancelled"
    other, _ = await send(services, draft(services))
    _go(clock, SATURDAY + timedelta(minutes=1))
    later = services.clock.now()
    assert not await services.store.write(
        lambda tx: svc.cancel_callout(services, tx, other, "console:ketua", later))


async def test_a_help_request_goes_only_to_a_volunteer_who_fits(services) -> None:
    from bot.volunteers.model import HELP_KINDS

    assert "transport" in HELP_KINDS
    driver = await volunteer(services, "driver", skills=("transport",))
    cook = await volunteer(services, "cook", skills=("kitchen",))
    paused = await volunteer(services, "away", skills=("transport",),
                             paused=date(2027, 1, 1))
    await person(services, "household")
    now = services.clock.now()
    rid = await services.store.write(lambda tx: svc.request_help(
        services, tx, "console:household", RT03, "transport", "ke puskesmas", True, 999, now))
    (report,) = await rows(services, "SELECT report_id FROM help_request")
    assert report == (None,)  # not the household's own symptom report: not linked
    for pid in (cook, paused):
        assert await services.store.write(lambda tx, pid=pid: svc.assign(
            services, tx, rid, pid, "console:ketua", now)) == "not_volunteer"
    assert await services.store.write(lambda tx: svc.assign(
        services, tx, rid, driver, "console:ketua", now)) == "assigned"
    task = [m for m in await outbox_to(services, "console:driver") if m["kind"] == "help_task"]
    assert task and task[0]["text"]["params"]["contact"] == "console:household"


async def test_an_rw_coordinator_may_close_a_request_of_an_rt_with_its_own_coordinator(
        services) -> None:
    from db.repositories.roles import Grant

    now = services.clock.now()
    for who, area in (("console:rt", RT03), ("console:rw", RW02)):
        await services.store.write(lambda tx, who=who, area=area: tx.roles.grant(
            who, Grant("coordinator", area), "cli:t", now))
    await person(services, "household")
    rid = await services.store.write(lambda tx: svc.request_help(
        services, tx, "console:household", RT03, "groceries", "", False, None, now))
    assert await services.store.write(lambda tx: svc.finish_request(
        services, tx, rid, "console:stranger", None, "done", now)) == "not_yours"
    assert await services.store.write(lambda tx: svc.finish_request(
        services, tx, rid, "console:rw", None, "done", now)) == "done"
