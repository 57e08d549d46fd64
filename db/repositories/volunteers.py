"""Volunteers (their sign-up), call-outs with their answers, and help requests."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime

import aiosqlite


@dataclass(frozen=True)
class Volunteer:
    person_id: int
    identity: str
    name: str
    phone: str  # E.164 shared by the person, "" for none
    skills: tuple[str, ...]
    availability: tuple[str, ...]
    area_code: str  # the RT or the whole RW they help in
    since: datetime
    paused_until: date | None  # paused up to and including this day (date.max: until resumed)
    consent_version: str = ""
    language: str | None = None

    def paused_on(self, day: date) -> bool:
        return self.paused_until is not None and day <= self.paused_until


@dataclass(frozen=True)
class Callout:
    """A task a coordinator asks volunteers to help with."""

    id: int
    author: str
    area_code: str  # the RT or RW whose volunteers are asked
    title: str
    starts_at: datetime
    place: str
    skills: tuple[str, ...]  # () = any skill
    needed: int
    note: str
    urgent: bool
    status: str  # open | full | cancelled
    created_at: datetime


@dataclass(frozen=True)
class Roster:
    """Who answered a call-out (names as volunteers gave them)."""

    accepted: list[Volunteer]
    declined: list[Volunteer]
    waiting: list[Volunteer]  # asked, no answer yet
    withdrawn: list[Volunteer]
    sent: int  # messages delivered
    failed: int  # could not be delivered (blocked the bot, ...)


@dataclass(frozen=True)
class HelpRequest:
    id: int
    identity: str  # the household's contact person
    area_code: str  # their RT
    kind: str  # a key of HELP_KINDS
    note: str
    share_contact: bool  # the assigned volunteer may see the requester's contact
    report_id: int | None  # the symptom report it follows, if any
    status: str  # new | assigned | done | cancelled
    volunteer_id: int | None
    assigned_by: str | None
    created_at: datetime
    assigned_at: datetime | None
    done_at: datetime | None


def _dt(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


def _keys(value: str) -> tuple[str, ...]:
    return tuple(k for k in value.split(",") if k)


def _marks(items: Iterable[object]) -> str:
    return ", ".join("?" for _ in items)


_VOLUNTEER = ("SELECT v.person_id, p.identity, v.name, v.phone, v.skills, v.availability, "
              "v.area_code, v.since_at, v.paused_until, v.consent_version, p.language "
              "FROM volunteer v JOIN person p ON p.id = v.person_id")


def _volunteer(row: aiosqlite.Row) -> Volunteer:
    paused = row["paused_until"]
    return Volunteer(
        person_id=row["person_id"], identity=row["identity"], name=row["name"],
        phone=row["phone"], skills=_keys(row["skills"]),
        availability=_keys(row["availability"]), area_code=row["area_code"],
        since=_dt(row["since_at"]),  # type: ignore[arg-type]
        paused_until=date.fromisoformat(paused) if paused else None,
        consent_version=row["consent_version"], language=row["language"])


def _callout(row: aiosqlite.Row) -> Callout:
    return Callout(
        id=row["id"], author=row["author"], area_code=row["area_code"], title=row["title"],
        starts_at=_dt(row["starts_at"]), place=row["place"],  # type: ignore[arg-type]
        skills=_keys(row["skills"]), needed=row["needed"], note=row["note"],
        urgent=bool(row["urgent"]), status=row["status"],
        created_at=_dt(row["created_at"]))  # type: ignore[arg-type]


def _request(row: aiosqlite.Row) -> HelpRequest:
    return HelpRequest(
        id=row["id"], identity=row["identity"], area_code=row["area_code"], kind=row["kind"],
        note=row["note"], share_contact=bool(row["share_contact"]),
        report_id=row["report_id"], status=row["status"], volunteer_id=row["volunteer_id"],
        assigned_by=row["assigned_by"], created_at=_dt(row["created_at"]),  # type: ignore[arg-type]
        assigned_at=_dt(row["assigned_at"]), done_at=_dt(row["done_at"]))


@dataclass(frozen=True)
class NewCallout:
    author: str
    area_code: str
    title: str
    starts_at: datetime
    place: str
    skills: tuple[str, ...]
    needed: int
    note: str
    urgent: bool
    created_at: datetime
    remind_at: datetime | None


class VolunteersRepo:
    def __init__(self, conn: aiosqlite.Connection) -> None:
        self.conn = conn

    async def _rows(self, sql: str, params: Iterable[object] = ()) -> list[aiosqlite.Row]:
        async with self.conn.execute(sql, tuple(params)) as cur:
            return list(await cur.fetchall())

    # --- the sign-up -------------------------------------------------------------------------

    async def get(self, person_id: int) -> Volunteer | None:
        rows = await self._rows(f"{_VOLUNTEER} WHERE v.person_id = ?", (person_id,))
        return _volunteer(rows[0]) if rows else None

    async def save(self, person_id: int, *, name: str, phone: str, skills: tuple[str, ...],
                   availability: tuple[str, ...], area_code: str, consent_version: str,
                   now: datetime) -> None:
        """Sign up, or change what was signed up with (a pause stays as it was)."""
        await self.conn.execute(
            "INSERT INTO volunteer (person_id, since_at, name, phone, skills, availability, "
            "area_code, consent_version, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) "
            "ON CONFLICT (person_id) DO UPDATE SET name = excluded.name, "
            "phone = excluded.phone, skills = excluded.skills, "
            "availability = excluded.availability, area_code = excluded.area_code, "
            "consent_version = excluded.consent_version, updated_at = excluded.updated_at",
            (person_id, now.isoformat(), name, phone, ",".join(skills),
             ",".join(availability), area_code, consent_version, now.isoformat()))

    async def pause(self, person_id: int, until: date | None) -> None:
        """Pause up to and including ``until`` (None: resume)."""
        await self.conn.execute(
            "UPDATE volunteer SET paused_until = ? WHERE person_id = ?",
            (until.isoformat() if until else None, person_id))

    async def withdraw(self, person_id: int) -> None:
        """Delete the volunteer record, their open answers (an accepted task's place frees
        up: the caller tells the others first) and nothing else."""
        await self.conn.execute("DELETE FROM volunteer WHERE person_id = ?", (person_id,))

    async def in_areas(self, area_codes: list[str]) -> list[Volunteer]:
        """Volunteers whose help area is one of these codes (RT or RW), by name."""
        if not area_codes:
            return []
        rows = await self._rows(
            f"{_VOLUNTEER} WHERE v.area_code IN ({_marks(area_codes)}) AND p.active = 1 "
            "ORDER BY v.name COLLATE NOCASE, v.person_id", area_codes)
        return [_volunteer(r) for r in rows]

    # --- call-outs ------------------------------------------------------------------------

    async def add_callout(self, c: NewCallout) -> int:
        async with self.conn.execute(
            "INSERT INTO callout (author, area_code, title, starts_at, place, skills, needed, "
            "note, urgent, created_at, remind_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
            "RETURNING id",
            (c.author, c.area_code, c.title, c.starts_at.isoformat(), c.place,
             ",".join(c.skills), c.needed, c.note, int(c.urgent), c.created_at.isoformat(),
             c.remind_at.isoformat() if c.remind_at else None)) as cur:
            return int((await cur.fetchone())[0])

    async def callout(self, callout_id: int) -> Callout | None:
        rows = await self._rows("SELECT * FROM callout WHERE id = ?", (callout_id,))
        return _callout(rows[0]) if rows else None

    async def callouts_by(self, author: str, since: datetime) -> list[Callout]:
        rows = await self._rows(
            "SELECT * FROM callout WHERE author = ? AND starts_at >= ? ORDER BY starts_at, id",
            (author, since.isoformat()))
        return [_callout(r) for r in rows]

    async def ask(self, callout_id: int, person_ids: list[int]) -> None:
        for pid in person_ids:
            await self.conn.execute(
                "INSERT INTO callout_answer (callout_id, person_id) VALUES (?, ?) "
                "ON CONFLICT DO NOTHING", (callout_id, pid))

    async def answer_of(self, callout_id: int, person_id: int) -> str | None:
        rows = await self._rows(
            "SELECT status FROM callout_answer WHERE callout_id = ? AND person_id = ?",
            (callout_id, person_id))
        return rows[0]["status"] if rows else None

    async def accepted_count(self, callout_id: int) -> int:
        rows = await self._rows(
            "SELECT COUNT(*) AS n FROM callout_answer WHERE callout_id = ? AND "
            "status = 'accepted'", (callout_id,))
        return int(rows[0]["n"])

    async def accept(self, callout_id: int, person_id: int, now: datetime) -> bool:
        """Take a place if one is free (inside the write: the first N win); False if the
        call-out is full, closed, or the person was not asked or already answered yes."""
        cur = await self.conn.execute(
            "UPDATE callout_answer SET status = 'accepted', answered_at = ? "
            "WHERE callout_id = ? AND person_id = ? AND status IN ('asked', 'declined', "
            "'withdrawn') AND EXISTS (SELECT 1 FROM callout c WHERE c.id = ? AND "
            "c.status = 'open' AND c.needed > (SELECT COUNT(*) FROM callout_answer a WHERE "
            "a.callout_id = c.id AND a.status = 'accepted'))",
            (now.isoformat(), callout_id, person_id, callout_id))
        return cur.rowcount == 1

    async def set_answer(self, callout_id: int, person_id: int, status: str, now: datetime,
                         was: tuple[str, ...]) -> bool:
        """Move an answer from one of ``was`` to ``status``."""
        cur = await self.conn.execute(
            f"UPDATE callout_answer SET status = ?, answered_at = ? WHERE callout_id = ? AND "
            f"person_id = ? AND status IN ({_marks(was)})",
            (status, now.isoformat(), callout_id, person_id, *was))
        return cur.rowcount == 1

    async def set_status(self, callout_id: int, status: str, was: tuple[str, ...]) -> bool:
        cur = await self.conn.execute(
            f"UPDATE callout SET status = ? WHERE id = ? AND status IN ({_marks(was)})",
            (status, callout_id, *was))
        return cur.rowcount == 1

    async def answers(self, callout_id: int) -> list[tuple[Volunteer | None, int, str]]:
        """(volunteer or None if they withdrew since, person id, answer) for everyone asked."""
        rows = await self._rows(
            "SELECT a.person_id, a.status FROM callout_answer a WHERE a.callout_id = ? "
            "ORDER BY a.answered_at, a.person_id", (callout_id,))
        out = []
        for r in rows:
            out.append((await self.get(r["person_id"]), r["person_id"], r["status"]))
        return out

    async def delivery(self, callout_id: int) -> tuple[int, int]:
        """(volunteers it reached, volunteers it could not reach) of the call-out's offers
        (a place offered again counts each volunteer once)."""
        rows = await self._rows(
            "SELECT COUNT(DISTINCT CASE WHEN status = 'sent' THEN person_id END) AS sent, "
            "COUNT(DISTINCT CASE WHEN status = 'failed' THEN person_id END) AS failed "
            "FROM outbox WHERE kind = 'callout' AND ref_id = ?", (callout_id,))
        return int(rows[0]["sent"] or 0), int(rows[0]["failed"] or 0)

    async def due_reminders(self, now: datetime, limit: int = 100) -> list[Callout]:
        rows = await self._rows(
            "SELECT * FROM callout WHERE remind_at IS NOT NULL AND remind_at <= ? AND "
            "status IN ('open', 'full') ORDER BY remind_at LIMIT ?", (now.isoformat(), limit))
        return [_callout(r) for r in rows]

    async def mark_reminded(self, callout_id: int, was: datetime, now: datetime) -> bool:
        """Claim the reminder (one worker sends it)."""
        cur = await self.conn.execute(
            "UPDATE callout SET remind_at = NULL, reminded_at = ? WHERE id = ? AND "
            "remind_at = ?", (now.isoformat(), callout_id, was.isoformat()))
        return cur.rowcount == 1

    async def remind_at(self, callout_id: int) -> datetime | None:
        rows = await self._rows("SELECT remind_at FROM callout WHERE id = ?", (callout_id,))
        return _dt(rows[0]["remind_at"]) if rows else None

    async def skip_offers(self, callout_id: int, now: datetime) -> int:
        """A cancelled call-out: its offers not yet delivered are not sent."""
        cur = await self.conn.execute(
            "UPDATE outbox SET status = 'skipped', reason = 'call-out cancelled', sent_at = ? "
            "WHERE kind = 'callout' AND ref_id = ? AND status = 'queued'",
            (now.isoformat(), callout_id))
        return cur.rowcount

    async def accepted_by(self, person_id: int, since: datetime) -> list[Callout]:
        """Call-outs the person accepted that have not started."""
        rows = await self._rows(
            "SELECT c.* FROM callout c JOIN callout_answer a ON a.callout_id = c.id WHERE "
            "a.person_id = ? AND a.status = 'accepted' AND c.starts_at > ? AND "
            "c.status != 'cancelled' ORDER BY c.starts_at", (person_id, since.isoformat()))
        return [_callout(r) for r in rows]

    async def forget_author(self, identity: str, pseudonym: str) -> None:
        """Erasure of a coordinator: open call-outs are cancelled, all name a pseudonym."""
        await self.conn.execute(
            "UPDATE callout SET status = 'cancelled', remind_at = NULL WHERE author = ? AND "
            "status != 'cancelled'", (identity,))
        await self.conn.execute("UPDATE callout SET author = ? WHERE author = ?",
                                (pseudonym, identity))

    # --- help requests -----------------------------------------------------------------------

    async def add_request(self, identity: str, area_code: str, kind: str, note: str,
                          share_contact: bool, report_id: int | None, now: datetime) -> int:
        async with self.conn.execute(
            "INSERT INTO help_request (identity, area_code, kind, note, share_contact, "
            "report_id, created_at) VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id",
            (identity, area_code, kind, note, int(share_contact), report_id,
             now.isoformat())) as cur:
            return int((await cur.fetchone())[0])

    async def request(self, request_id: int) -> HelpRequest | None:
        rows = await self._rows("SELECT * FROM help_request WHERE id = ?", (request_id,))
        return _request(rows[0]) if rows else None

    async def requests_in(self, area_codes: list[str],
                          statuses: tuple[str, ...] = ("new", "assigned")) -> list[HelpRequest]:
        if not area_codes:
            return []
        rows = await self._rows(
            f"SELECT * FROM help_request WHERE area_code IN ({_marks(area_codes)}) AND "
            f"status IN ({_marks(statuses)}) ORDER BY created_at DESC, id DESC",
            (*area_codes, *statuses))
        return [_request(r) for r in rows]

    async def requests_of(self, identity: str) -> list[HelpRequest]:
        rows = await self._rows(
            "SELECT * FROM help_request WHERE identity = ? ORDER BY id DESC", (identity,))
        return [_request(r) for r in rows]

    async def requests_for(self, volunteer_id: int) -> list[HelpRequest]:
        rows = await self._rows(
            "SELECT * FROM help_request WHERE volunteer_id = ? AND status = 'assigned' "
            "ORDER BY id DESC", (volunteer_id,))
        return [_request(r) for r in rows]

    async def assign(self, request_id: int, volunteer_id: int, by: str, now: datetime) -> bool:
        """Give a new (or reassign an assigned) request to a volunteer."""
        cur = await self.conn.execute(
            "UPDATE help_request SET status = 'assigned', volunteer_id = ?, assigned_by = ?, "
            "assigned_at = ? WHERE id = ? AND status IN ('new', 'assigned')",
            (volunteer_id, by, now.isoformat(), request_id))
        return cur.rowcount == 1

    async def unassign(self, request_id: int) -> None:
        """The volunteer stopped: the request is new again, for the coordinator."""
        await self.conn.execute(
            "UPDATE help_request SET status = 'new', volunteer_id = NULL, assigned_at = NULL "
            "WHERE id = ? AND status = 'assigned'", (request_id,))

    async def finish_request(self, request_id: int, status: str, now: datetime) -> bool:
        """Mark done (or cancelled) once."""
        cur = await self.conn.execute(
            "UPDATE help_request SET status = ?, done_at = ? WHERE id = ? AND "
            "status IN ('new', 'assigned')", (status, now.isoformat(), request_id))
        return cur.rowcount == 1

    async def forget_requester(self, identity: str) -> int:
        """Erasure of a resident: their help requests go."""
        cur = await self.conn.execute("DELETE FROM help_request WHERE identity = ?",
                                      (identity,))
        return cur.rowcount

    async def forget_assigner(self, identity: str, pseudonym: str) -> None:
        await self.conn.execute(
            "UPDATE help_request SET assigned_by = ? WHERE assigned_by = ?",
            (pseudonym, identity))
