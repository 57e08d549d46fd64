"""The volunteer desk: what the volunteer handlers may read and decide for one update
(``ctx.use(VolunteerDesk)``): the resident's sign-up and help requests, a volunteer's answers
to call-outs and their help tasks, and the coordinator's call-outs, roster, list, export and
assignments.

Writes join the commit that saves the person's state (``ctx.later``), except where the reply
must say who won a race, which are committed on their own before the reply: accepting a
place (the first N win), giving a place back, cancelling a call-out, assigning a request.
Every coordinator action is authorised (and audited) through ``bot/authz.py``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from bot.authz import Action
from bot.context import Context
from bot.volunteers import service as svc
from bot.volunteers.model import CONSENT_VERSION, Callout, HelpRequest, Roster, Volunteer
from db.repositories.volunteers import NewCallout
from db.store import Tx


@dataclass(frozen=True)
class Draft:
    """A call-out as the coordinator wrote it, before it is sent."""

    area_code: str  # the RT or RW whose volunteers are asked
    title: str
    starts_at: datetime  # aware (UTC)
    place: str
    skills: tuple[str, ...]  # () = any skill
    needed: int
    note: str = ""
    urgent: bool = False


class VolunteerDesk:
    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx
        self.services = ctx.services
        self.reads = ctx.services.store.reads
        self.me = ctx.person.identity

    def now(self) -> datetime:
        return self.services.clock.now()

    def today(self) -> date:
        return self.now().astimezone(self.services.settings.timezone).date()

    async def _write(self, fn):  # type: ignore[no-untyped-def]
        result = await self.services.store.write(fn)
        self.services.signals.outbox()
        return result

    # --- the resident: sign-up ---------------------------------------------------------------

    async def mine(self) -> Volunteer | None:
        """My volunteer record, if I signed up."""
        pid = self.ctx.person.id
        return await self.reads.volunteers.get(pid) if pid is not None else None

    def sign_up(self, *, name: str, phone: str, skills: tuple[str, ...],
                availability: tuple[str, ...], area_code: str) -> None:
        """Sign up (or change what I signed up with) with the consent of this version."""
        pid, now = self.ctx.person.id, self.now()
        if pid is None:  # a person is saved before any flow reaches this step
            raise RuntimeError("sign_up before the person was saved")

        async def write(tx: Tx) -> None:
            await tx.volunteers.save(pid, name=name, phone=phone, skills=skills,
                                     availability=availability, area_code=area_code,
                                     consent_version=CONSENT_VERSION, now=now)

        self.ctx.later(write)

    def pause(self, until: date | None) -> None:
        """Pause up to and including ``until`` (``date.max``: until I resume); None
        resumes."""
        pid = self.ctx.person.id

        async def write(tx: Tx) -> None:
            await tx.volunteers.pause(pid or 0, until)

        self.ctx.later(write)

    async def withdraw(self) -> int:
        """Stop being a volunteer: places I accepted are given back (the others are told),
        help tasks go back to the coordinator, the record is deleted. Returns how many
        places were given back."""
        pid, now = self.ctx.person.id or 0, self.now()
        return await self._write(lambda tx: svc.withdraw_volunteer(self.services, tx, pid,
                                                                   now))

    # --- the resident: help for an isolating household ----------------------------------------

    def request_help(self, kind: str, note: str, share_contact: bool,
                     report_id: int | None = None) -> None:
        """Ask the RT coordinator for help (they are alerted in this commit)."""
        person, now = self.ctx.person, self.now()

        async def write(tx: Tx) -> None:
            await svc.request_help(self.services, tx, person.identity,
                                   person.area_code or "", kind, note, share_contact,
                                   report_id, now)

        self.ctx.later(write, "outbox")

    async def coordinators_reachable(self) -> bool:
        """Whether a help request from my RT reaches a coordinator now."""
        return await svc.reachable(self.services, self.reads,
                                   await svc.request_recipients(
                                       self.services, self.reads,
                                       self.ctx.person.area_code or ""))

    async def my_requests(self) -> list[HelpRequest]:
        return await self.reads.volunteers.requests_of(self.me)

    async def request(self, request_id: int) -> HelpRequest | None:
        return await self.reads.volunteers.request(request_id)

    async def finish_request(self, request_id: int, status: str = "done") -> str:
        """Mark a help request done (its requester, its volunteer or a coordinator of the
        area) or cancelled (its requester). Returns "done", "already" or "not_yours"."""
        now = self.now()
        person_id = self.ctx.person.id
        return await self._write(lambda tx: svc.finish_request(
            self.services, tx, request_id, self.me, person_id, status, now))

    # --- a volunteer: call-outs and help tasks -----------------------------------------------

    async def callout(self, callout_id: int) -> Callout | None:
        return await self.reads.volunteers.callout(callout_id)

    async def my_answer(self, callout_id: int) -> str | None:
        """asked | accepted | declined | withdrawn, or None if I was not asked."""
        pid = self.ctx.person.id
        return await self.reads.volunteers.answer_of(callout_id, pid) if pid else None

    async def accept(self, callout_id: int) -> str:
        """Take a place: "accepted", "full", "cancelled", "started", "not_asked" or
        "already" (committed now: the first N win)."""
        pid, now = self.ctx.person.id or 0, self.now()
        return await self._write(lambda tx: svc.accept(self.services, tx, callout_id, pid,
                                                       now))

    def decline(self, callout_id: int) -> None:
        pid, now = self.ctx.person.id or 0, self.now()

        async def write(tx: Tx) -> None:
            await tx.volunteers.set_answer(callout_id, pid, "declined", now, ("asked",))

        self.ctx.later(write)

    async def give_back(self, callout_id: int) -> str:
        """Give my place back before the start: "done", "started", "cancelled",
        "not_accepted" (the
        volunteers who have not declined are told a place is free)."""
        pid, now = self.ctx.person.id or 0, self.now()
        return await self._write(lambda tx: svc.give_back(self.services, tx, callout_id,
                                                          pid, now))

    async def my_callouts(self) -> list[Callout]:
        """Call-outs I accepted that have not started."""
        pid = self.ctx.person.id
        return await self.reads.volunteers.accepted_by(pid, self.now()) if pid else []

    async def my_tasks(self) -> list[HelpRequest]:
        """Help requests assigned to me and not done."""
        pid = self.ctx.person.id
        return await self.reads.volunteers.requests_for(pid) if pid else []

    # --- coordinators --------------------------------------------------------------------------

    async def scope(self, action: Action) -> list[str]:
        """The area codes I coordinate where ``action`` is allowed (each authorised and
        audited; someone with none gets one refused, audited attempt)."""
        authz = self.services.authz
        codes = await authz.scopes(self.me)
        allowed = [c for c in codes if await authz.authorize(self.me, action, c)]
        if not codes:
            await authz.authorize(self.me, action, self.ctx.person.area_code)
        return allowed

    async def may(self, action: Action, area_code: str, detail: str = "") -> bool:
        """May I do ``action`` on ``area_code`` (audited)."""
        return await self.services.authz.authorize(self.me, action, area_code, detail)

    async def volunteers_in(self, scope: list[str]) -> list[Volunteer]:
        """Volunteers who help in my areas (their RT, their RW, or an RT of my RW), by
        name; the read is audited."""
        found = await svc.volunteers_for(self.services, self.reads, scope)
        now = self.now()
        await self.services.store.write(lambda tx: svc.audit_read(
            tx, self.me, "volunteers.list", len(found), now))
        return found

    async def matching(self, draft: Draft) -> list[Volunteer]:
        """The active, available volunteers a call-out would ask."""
        return await svc.matching(self.services, self.reads, draft.area_code, draft.skills,
                                  draft.starts_at)

    async def send(self, draft: Draft) -> tuple[int, int]:
        """Send the call-out to every matching volunteer through the outbox; (its id, how
        many were asked). Committed now."""
        now = self.now()
        reminder = self.services.settings.volunteers.reminder
        new = NewCallout(author=self.me, area_code=draft.area_code, title=draft.title,
                         starts_at=draft.starts_at, place=draft.place, skills=draft.skills,
                         needed=draft.needed, note=draft.note, urgent=draft.urgent,
                         created_at=now,
                         remind_at=draft.starts_at - reminder if reminder else None)
        return await self._write(lambda tx: svc.send_callout(self.services, tx, new, now))

    async def volunteer(self, person_id: int) -> Volunteer | None:
        """One volunteer's record (e.g. the one a help request was given to)."""
        return await self.reads.volunteers.get(person_id)

    async def my_open_callouts(self) -> list[Callout]:
        """My call-outs that have not started."""
        return await self.reads.volunteers.callouts_by(self.me, self.now())

    async def roster(self, callout_id: int) -> Roster:
        return await svc.roster(self.reads, callout_id)

    async def cancel(self, callout_id: int) -> bool:
        """Cancel my call-out (or one in my area); everyone who accepted is told. False if it
        was already cancelled."""
        now = self.now()
        return await self._write(lambda tx: svc.cancel_callout(self.services, tx, callout_id,
                                                               self.me, now))

    async def requests_in(self, scope: list[str]) -> list[HelpRequest]:
        """Open help requests of my areas, newest first (audited)."""
        rts = svc.rts_of(self.services, scope)
        found = await self.reads.volunteers.requests_in(rts)
        now = self.now()
        await self.services.store.write(lambda tx: svc.audit_read(
            tx, self.me, "help.list", len(found), now))
        return found

    async def helpers_for(self, request: HelpRequest) -> list[Volunteer]:
        """Volunteers who could take this request: active, helping in its RT (or RW), with
        a matching skill (any volunteer for "other")."""
        return await svc.helpers_for(self.services, self.reads, request, self.today())

    async def assign(self, request_id: int, volunteer_id: int) -> str:
        """Give the request to a volunteer: "assigned", "gone", "closed" or "not_volunteer"
        (committed now). The volunteer and the household are told."""
        now = self.now()
        return await self._write(lambda tx: svc.assign(self.services, tx, request_id,
                                                       volunteer_id, self.me, now))

    async def export(self, scope: list[str]) -> bytes:
        """A CSV of the volunteers in my areas (audited)."""
        found = await svc.volunteers_for(self.services, self.reads, scope)
        now = self.now()
        await self.services.store.write(lambda tx: svc.audit_read(
            tx, self.me, "volunteers.export", len(found), now))
        return svc.volunteers_csv(self.services, found)
