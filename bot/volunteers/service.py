"""What the volunteer feature writes and who it tells: call-outs sent to the matching
volunteers through the outbox, places taken (the first N win) and given back, reminders,
cancellations, help requests and their assignment, withdrawal and erasure.

Everything here runs inside a write (``tx``) unless it only reads (``reads``).
"""

from __future__ import annotations

import csv
import io
from datetime import date, datetime

from bot.areas import RT, RW
from bot.authz import Action, decide
from bot.broadcasting.notices import notify
from bot.broadcasting.schedule import format_local
from bot.context import Services
from bot.events import Reply, button, reply_to_json, say, t
from bot.volunteers.callbacks import Accept, Decline, GiveBack, PickHelper, RequestDone
from bot.volunteers.callbacks import Roster as RosterButton
from bot.volunteers.model import (
    EVENING_FROM,
    HELP_SKILLS,
    Callout,
    HelpRequest,
    Roster,
    Volunteer,
)
from db.repositories.audit import AuditEntry
from db.repositories.outbox import REGULAR, URGENT
from db.repositories.volunteers import NewCallout
from db.store import Tx

# --- areas and matching ------------------------------------------------------------------------


def related_codes(services: Services, scope: list[str]) -> list[str]:
    """The help-area codes that concern these areas: each code, the RTs inside an RW, and
    the RW around an RT (a volunteer for the whole RW helps in each of its RTs)."""
    areas, found = services.areas, []
    for code in scope:
        unit = areas.get(code)
        found.append(code)
        if isinstance(unit, RT):
            found.append(unit.rw_code)
        elif isinstance(unit, RW):
            found += [rt.code for rt in unit.rts]
        else:  # a kelurahan (an admin's scope): every RW and RT in it
            for rw in getattr(unit, "rws", ()):
                found += [rw.code, *(rt.code for rt in rw.rts)]
    return list(dict.fromkeys(found))


def rts_of(services: Services, scope: list[str]) -> list[str]:
    return list(dict.fromkeys(rt.code for code in scope
                              for rt in services.areas.rts_within(code)))


def helps_in(services: Services, volunteer: Volunteer, area_code: str) -> bool:
    """Whether a volunteer helping in ``volunteer.area_code`` helps in ``area_code``."""
    areas = services.areas
    return bool(volunteer.area_code) and (areas.covers(volunteer.area_code, area_code)
                                         or areas.covers(area_code, volunteer.area_code))


def available(services: Services, volunteer: Volunteer, starts_at: datetime) -> bool:
    """Free at that time: "weekends" any time on Saturday and Sunday, "weekdays" in the day
    from Monday to Friday, "evenings" from 17:00 on any day."""
    local = starts_at.astimezone(services.settings.timezone)
    free = set(volunteer.availability)
    if local.hour >= EVENING_FROM and "evenings" in free:
        return True
    if local.weekday() >= 5:
        return "weekends" in free
    return local.hour < EVENING_FROM and "weekdays" in free


async def volunteers_for(services: Services, reads: Tx, scope: list[str]) -> list[Volunteer]:
    return await reads.volunteers.in_areas(related_codes(services, scope))


async def matching(services: Services, reads: Tx, area_code: str, skills: tuple[str, ...],
                   starts_at: datetime) -> list[Volunteer]:
    """The volunteers a call-out for ``area_code`` asks: helping there, not paused on its
    day, free at its time, with one of its skills (any when none is asked)."""
    day = starts_at.astimezone(services.settings.timezone).date()
    found = []
    for v in await volunteers_for(services, reads, [area_code]):
        if not helps_in(services, v, area_code) or v.paused_on(day):
            continue
        if skills and not set(skills) & set(v.skills):
            continue
        if available(services, v, starts_at):
            found.append(v)
    return found


# --- call-outs -----------------------------------------------------------------------------


def when(services: Services, at: datetime) -> object:
    return format_local(at, services.settings.timezone)


def callout_params(services: Services, c: Callout, taken: int = 0) -> dict[str, object]:
    return dict(id=c.id, title=c.title, at=when(services, c.starts_at), place=c.place,
                skills=[t(f"volunteers.skill.{k}") for k in c.skills], needed=c.needed,
                note=c.note, urgent=c.urgent, taken=taken,
                area=services.areas.label(c.area_code) or c.area_code)


def roster_row(callout_id: int) -> list[list]:
    """A button to the call-out's roster, for its author."""
    return [[button("callouts.roster_button", RosterButton(callout_id).pack())]]


def offer_reply(services: Services, c: Callout, key: str = "callouts.offer") -> Reply:
    """The call-out as a volunteer gets it, with Accept / Decline."""
    return say(key, [[button("callouts.accept", Accept(c.id).pack()),
                      button("callouts.decline", Decline(c.id).pack())]],
               **callout_params(services, c))


async def _to_person(services: Services, tx: Tx, person_id: int, reply: Reply, now: datetime,
                     kind: str, ref_id: int, urgent: bool = True, quiet: bool = False
                     ) -> bool:
    """Queue ``reply`` to a person by id (False if they cannot be reached)."""
    person = await tx.people.by_id(person_id)
    if person is None or not person.active:
        return False
    await tx.outbox.enqueue(
        channel=person.channel, address=person.address, person_id=person.id,
        lang=person.language or services.settings.default_language, kind=kind, ref_id=ref_id,
        payload=reply_to_json(reply), priority=URGENT if urgent else REGULAR, quiet=quiet,
        now=now)
    return True


async def send_callout(services: Services, tx: Tx, new: NewCallout, now: datetime
                       ) -> tuple[int, int]:
    """Store the call-out and queue it to every matching volunteer (regular call-outs wait
    out quiet hours, urgent ones do not); (its id, how many were asked)."""
    callout_id = await tx.volunteers.add_callout(new)
    callout = await tx.volunteers.callout(callout_id)
    assert callout is not None
    found = await matching(services, tx, new.area_code, new.skills, new.starts_at)
    await tx.volunteers.ask(callout_id, [v.person_id for v in found])
    for v in found:
        await _to_person(services, tx, v.person_id, offer_reply(services, callout), now,
                         "callout", callout_id, urgent=new.urgent, quiet=not new.urgent)
    await tx.audit.add(AuditEntry(at=now, actor=new.author, action="volunteers.call",
                                  target=f"callout:{callout_id}", outcome="done",
                                  detail=f"{len(found)} volunteers asked in {new.area_code}"))
    return callout_id, len(found)


async def accept(services: Services, tx: Tx, callout_id: int, person_id: int,
                 now: datetime) -> str:
    callout = await tx.volunteers.callout(callout_id)
    answer = await tx.volunteers.answer_of(callout_id, person_id)
    if callout is None or answer is None or await tx.volunteers.get(person_id) is None:
        return "not_asked"  # (someone who stopped volunteering: their old button)
    if callout.status == "cancelled":
        return "cancelled"
    if callout.starts_at <= now:
        return "started"
    if answer == "accepted":
        return "already"
    if not await tx.volunteers.accept(callout_id, person_id, now):
        return "full"
    if await tx.volunteers.accepted_count(callout_id) >= callout.needed:
        await tx.volunteers.set_status(callout_id, "full", ("open",))
        await notify(tx, callout.author, say("callouts.now_full", roster_row(callout_id),
                                             **callout_params(services, callout)),
                     now, kind="callout_report", ref_id=callout_id)
    return "accepted"


async def give_back(services: Services, tx: Tx, callout_id: int, person_id: int,
                    now: datetime) -> str:
    """Give an accepted place back before the start; the volunteers who have not declined
    (nor given theirs back) are told a place is free again, with the buttons."""
    callout = await tx.volunteers.callout(callout_id)
    if callout is None:
        return "not_accepted"
    if callout.status == "cancelled":
        return "cancelled"
    if callout.starts_at <= now:
        return "started"
    if not await tx.volunteers.set_answer(callout_id, person_id, "withdrawn", now,
                                          ("accepted",)):
        return "not_accepted"
    await tx.volunteers.set_status(callout_id, "open", ("full",))
    fresh = await tx.volunteers.callout(callout_id)
    assert fresh is not None
    for _, other, status in await tx.volunteers.answers(callout_id):
        if status == "asked" and other != person_id and _ is not None:
            await _to_person(services, tx, other,
                             offer_reply(services, fresh, "callouts.place_free"), now,
                             "callout", callout_id, urgent=fresh.urgent,
                             quiet=not fresh.urgent)
    volunteer = await tx.volunteers.get(person_id)
    await notify(tx, callout.author, say("callouts.given_back", roster_row(callout_id),
                                         name=volunteer.name if volunteer else "",
                                         **callout_params(services, fresh)),
                 now, kind="callout_report", ref_id=callout_id)
    return "done"


async def cancel_callout(services: Services, tx: Tx, callout_id: int, actor: str,
                         now: datetime) -> bool:
    """Cancel: everyone who accepted is told; offers not yet delivered are not sent."""
    callout = await tx.volunteers.callout(callout_id)
    if callout is None or callout.starts_at <= now:
        return False  # unknown, or started already: nothing left to call off
    if not await tx.volunteers.set_status(callout_id, "cancelled", ("open", "full")):
        return False
    await tx.volunteers.skip_offers(callout_id, now)
    for _, person_id, status in await tx.volunteers.answers(callout_id):
        if status == "accepted":
            await _to_person(services, tx, person_id,
                             say("callouts.cancelled_told", **callout_params(services,
                                                                             callout)),
                             now, "callout_report", callout_id)
    await tx.audit.add(AuditEntry(at=now, actor=actor, action="volunteers.cancel",
                                  target=f"callout:{callout_id}", outcome="done"))
    return True


async def roster(reads: Tx, callout_id: int) -> Roster:
    accepted, declined, waiting, withdrawn = [], [], [], []
    for volunteer, _, status in await reads.volunteers.answers(callout_id):
        if volunteer is None:
            continue  # stopped volunteering since: nothing of theirs is shown
        {"accepted": accepted, "declined": declined, "asked": waiting,
         "withdrawn": withdrawn}[status].append(volunteer)
    sent, failed = await reads.volunteers.delivery(callout_id)
    return Roster(accepted, declined, waiting, withdrawn, sent, failed)


async def run_due(services: Services, now: datetime | None = None) -> int:
    """Remind the volunteers who accepted a call-out that starts soon (regular call-outs
    wait out quiet hours); each reminder is claimed in the write, so one worker sends it."""
    now = now or services.clock.now()

    async def write(tx: Tx) -> int:
        sent = 0
        for c in await tx.volunteers.due_reminders(now):
            remind_at = await tx.volunteers.remind_at(c.id)
            if remind_at is None or not await tx.volunteers.mark_reminded(c.id, remind_at,
                                                                           now):
                continue
            if c.starts_at <= now:
                continue  # started already (the bot was down): no reminder after the fact
            for _, person_id, status in await tx.volunteers.answers(c.id):
                if status == "accepted":
                    reply = say("callouts.reminder", [[button(
                        "callouts.give_back", GiveBack(c.id).pack())]],
                        **callout_params(services, c))
                    if await _to_person(services, tx, person_id, reply, now, "callout_reminder",
                                        c.id, urgent=c.urgent, quiet=not c.urgent):
                        sent += 1
        return sent

    sent = await services.store.write(write)
    if sent:
        services.signals.outbox()
    return sent


# --- help requests -------------------------------------------------------------------------


async def request_recipients(services: Services, reads: Tx, area_code: str) -> list[str]:
    """Who assigns a help request from an RT: its RT coordinators, else its RW's."""
    rt = services.areas.rt(area_code)
    if rt is None:
        return []
    found = await reads.roles.holders_in("coordinator", [rt.code])
    return found or await reads.roles.holders_in("coordinator", [rt.rw_code])


async def reachable(services: Services, reads: Tx, identities: list[str]) -> bool:
    for identity in identities:
        person = await reads.people.get(identity)
        if person is not None and person.active:
            return True
    return False


def request_params(services: Services, r: HelpRequest, contact: bool) -> dict[str, object]:
    """What a coordinator or the assigned volunteer reads about a request; the requester's
    contact only when ``contact`` (they agreed to share it for this request)."""
    return dict(id=r.id, kind=t(f"volunteers.help.{r.kind}"), note=r.note,
                area=services.areas.label(r.area_code, full=True) or r.area_code,
                contact=r.identity if contact else "", from_report=r.report_id is not None,
                at=when(services, r.created_at))


async def request_help(services: Services, tx: Tx, identity: str, area_code: str, kind: str,
                       note: str, share_contact: bool, report_id: int | None, now: datetime
                       ) -> int:
    """Store the request and alert the RT coordinators (the RW's if the RT has none). A
    ``report_id`` is linked only if it is the requester's own symptom report."""
    if report_id is not None:
        report = await tx.symptoms.get(report_id)
        if report is None or report.identity != identity:
            report_id = None
    request_id = await tx.volunteers.add_request(identity, area_code, kind, note,
                                                 share_contact, report_id, now)
    request = await tx.volunteers.request(request_id)
    assert request is not None
    for holder in await request_recipients(services, tx, area_code):
        await notify(tx, holder, say("callouts.help_alert",
                                     [[button("callouts.pick_helper",
                                              PickHelper(request_id).pack())]],
                                     **request_params(services, request, contact=False)),
                     now, kind="help_alert", ref_id=request_id)
    return request_id


async def helpers_for(services: Services, reads: Tx, request: HelpRequest, day: date
                      ) -> list[Volunteer]:
    wanted = set(HELP_SKILLS.get(request.kind, ()))
    found = []
    for v in await volunteers_for(services, reads, [request.area_code]):
        if not helps_in(services, v, request.area_code) or v.paused_on(day):
            continue
        if wanted and not wanted & set(v.skills):
            continue
        found.append(v)
    return found


async def assign(services: Services, tx: Tx, request_id: int, volunteer_id: int, by: str,
                 now: datetime) -> str:
    request = await tx.volunteers.request(request_id)
    if request is None:
        return "gone"
    if request.status not in ("new", "assigned"):
        return "closed"
    day = now.astimezone(services.settings.timezone).date()
    fits = {v.person_id for v in await helpers_for(services, tx, request, day)}
    volunteer = await tx.volunteers.get(volunteer_id)
    if volunteer is None or volunteer_id not in fits:
        return "not_volunteer"
    await tx.volunteers.assign(request_id, volunteer_id, by, now)
    fresh = await tx.volunteers.request(request_id)
    assert fresh is not None
    await _to_person(services, tx, volunteer_id, say(
        "callouts.help_task", [[button("callouts.help_done", RequestDone(request_id).pack())]],
        **request_params(services, fresh, contact=fresh.share_contact)), now, "help_task",
        request_id)
    await notify(tx, request.identity, say(
        "volunteers.help_assigned", [[button("volunteers.help_done_button",
                                             RequestDone(request_id).pack())]],
        kind=t(f"volunteers.help.{request.kind}"), name=volunteer.name,
        phone=volunteer.phone), now, kind="help_task", ref_id=request_id)
    await tx.audit.add(AuditEntry(at=now, actor=by, action="help.assign",
                                  target=f"help:{request_id}", outcome="done",
                                  detail=f"to {services.pseudonyms(volunteer.identity)}"))
    return "assigned"


async def finish_request(services: Services, tx: Tx, request_id: int, actor: str,
                         person_id: int | None, status: str, now: datetime) -> str:
    """Done by the requester, the assigned volunteer or a coordinator of the area;
    cancelled by the requester only. The other side is told."""
    request = await tx.volunteers.request(request_id)
    if request is None:
        return "not_yours"
    mine = request.identity == actor
    theirs = person_id is not None and request.volunteer_id == person_id
    coordinates = decide(await tx.roles.grants_of(actor), Action.VOLUNTEERS_CALL,
                         request.area_code, services.areas).allowed
    if not (mine or theirs or coordinates) or (status == "cancelled" and not mine):
        return "not_yours"
    if not await tx.volunteers.finish_request(request_id, status, now):
        return "already"
    told = say("volunteers.help_closed", id=request_id, status=status,
               kind=t(f"volunteers.help.{request.kind}"))
    if not mine:
        await notify(tx, request.identity, told, now, kind="help_task", ref_id=request_id)
    if request.volunteer_id is not None and not theirs:
        await _to_person(services, tx, request.volunteer_id, told, now, "help_task",
                         request_id)
    return "done"


# --- withdrawal, erasure, reads ------------------------------------------------------------


async def withdraw_volunteer(services: Services, tx: Tx, person_id: int, now: datetime) -> int:
    """Places accepted are given back, help tasks return to the coordinators (as new), and
    the record is deleted. Returns how many places were given back."""
    given = 0
    for c in await tx.volunteers.accepted_by(person_id, now):
        if await give_back(services, tx, c.id, person_id, now) == "done":
            given += 1
    for request in await tx.volunteers.requests_for(person_id):
        await tx.volunteers.unassign(request.id)
        for holder in await request_recipients(services, tx, request.area_code):
            fresh = await tx.volunteers.request(request.id)
            assert fresh is not None
            await notify(tx, holder, say("callouts.help_alert",
                                         [[button("callouts.pick_helper",
                                                  PickHelper(request.id).pack())]],
                                         again=True,
                                         **request_params(services, fresh, contact=False)),
                         now, kind="help_alert", ref_id=request.id)
    await tx.volunteers.withdraw(person_id)
    return given


async def forget(services: Services, tx: Tx, identity: str, person_id: int | None,
                 now: datetime) -> None:
    """Erasure: as a volunteer (places given back), as a household asking for help, as a
    coordinator (their call-outs cancelled and named by pseudonym)."""
    pseudonym = services.pseudonyms(identity)
    if person_id is not None and await tx.volunteers.get(person_id) is not None:
        await withdraw_volunteer(services, tx, person_id, now)
    await tx.volunteers.forget_requester(identity)
    await tx.volunteers.forget_author(identity, pseudonym)
    await tx.volunteers.forget_assigner(identity, pseudonym)


async def audit_read(tx: Tx, actor: str, action: str, count: int, now: datetime) -> None:
    await tx.audit.add(AuditEntry(at=now, actor=actor, action=action, target=f"rows:{count}",
                                  outcome="read"))


# no phone: a volunteer's number is shared only with their own task or help request
COLUMNS = ("name", "skills", "availability", "helps_in", "paused_until", "since")


def volunteers_csv(services: Services, volunteers: list[Volunteer]) -> bytes:
    """One row a volunteer (UTF-8 with a BOM); cells starting like a formula are quoted."""
    out = io.StringIO()
    out.write("\ufeff")
    writer = csv.writer(out)
    writer.writerow(COLUMNS)
    tz = services.settings.timezone
    for v in volunteers:
        area = v.area_code
        label = services.areas.get(area)
        if isinstance(label, RT):
            rw = services.areas.rw(label.rw_code)
            area = f"RT {label.number} / RW {rw.number if rw else ''}"
        elif isinstance(label, RW):
            area = f"RW {label.number}"
        paused = "" if v.paused_until is None else (
            "until resumed" if v.paused_until == date.max else v.paused_until.isoformat())
        cells = [v.name, ";".join(v.skills), ";".join(v.availability), area, paused,
                 v.since.astimezone(tz).strftime("%Y-%m-%d")]
        writer.writerow([_safe(c) for c in cells])
    return out.getvalue().encode("utf-8")


def _safe(cell: str) -> str:
    return "'" + cell if cell[:1] in ("=", "+", "-", "@", "\t", "\r") and not \
        cell[1:].replace(" ", "").isdigit() else cell
