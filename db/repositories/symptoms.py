"""Symptom reports kept with their reporter (under consent), anonymous counts, consents as
proof, and check-ins."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime

import aiosqlite

OPEN = ("new", "handling")


@dataclass(frozen=True)
class SymptomReport:
    id: int
    identity: str
    consent_id: int
    area_code: str
    day: str  # local date, YYYY-MM-DD
    subject: str
    age_group: str
    red_flags: tuple[str, ...]
    symptoms: tuple[str, ...]
    close_contact: str
    conditions: tuple[str, ...]
    pregnant: bool | None
    level: str
    rules_version: str
    status: str
    handler: str | None
    note: str
    created_at: datetime
    handled_at: datetime | None
    closed_at: datetime | None
    escalation: int
    escalate_at: datetime | None
    well_at: datetime | None
    worsened_at: datetime | None = None

    @property
    def urgent(self) -> bool:
        return bool(self.red_flags)


@dataclass(frozen=True)
class NewReport:
    identity: str
    consent_id: int
    area_code: str
    day: str
    subject: str
    age_group: str
    red_flags: tuple[str, ...]
    symptoms: tuple[str, ...]
    close_contact: str
    conditions: tuple[str, ...]
    pregnant: bool | None
    level: str
    rules_version: str
    created_at: datetime
    escalate_at: datetime | None = None


@dataclass(frozen=True)
class DayCount:
    day: str
    area_code: str
    level: str
    reports: int
    urgent: int
    handled_fast: int  # taken by a coordinator within an hour


@dataclass(frozen=True)
class Checkin:
    id: int
    report_id: int
    due_at: datetime
    sent_at: datetime | None
    answer: str | None


def _dt(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


def _keys(value: str) -> tuple[str, ...]:
    return tuple(k for k in value.split(",") if k)


def _report(row: aiosqlite.Row) -> SymptomReport:
    pregnant = row["pregnant"]
    return SymptomReport(
        id=row["id"], identity=row["identity"], consent_id=row["consent_id"],
        area_code=row["area_code"], day=row["day"], subject=row["subject"],
        age_group=row["age_group"], red_flags=_keys(row["red_flags"]),
        symptoms=_keys(row["symptoms"]), close_contact=row["close_contact"],
        conditions=_keys(row["conditions"]),
        pregnant=None if pregnant is None else bool(pregnant), level=row["level"],
        rules_version=row["rules_version"], status=row["status"], handler=row["handler"],
        note=row["note"], created_at=_dt(row["created_at"]),  # type: ignore[arg-type]
        handled_at=_dt(row["handled_at"]), closed_at=_dt(row["closed_at"]),
        escalation=row["escalation"], escalate_at=_dt(row["escalate_at"]),
        well_at=_dt(row["well_at"]), worsened_at=_dt(row["worsened_at"]))


def _marks(items: Iterable[object]) -> str:
    return ", ".join("?" for _ in items)


class SymptomsRepo:
    def __init__(self, conn: aiosqlite.Connection) -> None:
        self.conn = conn

    async def _rows(self, sql: str, params: Iterable[object] = ()) -> list[aiosqlite.Row]:
        async with self.conn.execute(sql, tuple(params)) as cur:
            return list(await cur.fetchall())

    # --- consent ---------------------------------------------------------------------------

    async def add_consent(self, identity: str, version: str, text: str, lang: str,
                          channel: str, now: datetime) -> int:
        async with self.conn.execute(
            "INSERT INTO health_consent (identity, version, text, lang, channel, given_at) "
            "VALUES (?, ?, ?, ?, ?, ?) RETURNING id",
            (identity, version, text, lang, channel, now.isoformat())) as cur:
            return int((await cur.fetchone())[0])

    async def latest_consent(self, identity: str) -> tuple[str, datetime] | None:
        """(version, given at) of the person's latest consent still in force."""
        rows = await self._rows(
            "SELECT version, given_at FROM health_consent WHERE identity = ? AND "
            "withdrawn_at IS NULL ORDER BY id DESC LIMIT 1", (identity,))
        return (rows[0]["version"], _dt(rows[0]["given_at"])) if rows else None  # type: ignore[return-value]

    async def has_consent(self, identity: str) -> bool:
        rows = await self._rows(
            "SELECT 1 FROM health_consent WHERE identity = ? AND withdrawn_at IS NULL LIMIT 1",
            (identity,))
        return bool(rows)

    async def withdraw_consents(self, identity: str, now: datetime) -> int:
        cur = await self.conn.execute(
            "UPDATE health_consent SET withdrawn_at = ? WHERE identity = ? AND "
            "withdrawn_at IS NULL", (now.isoformat(), identity))
        return cur.rowcount

    async def forget_consents(self, identity: str, pseudonym: str, now: datetime) -> int:
        """Erasure: the consents stay as proof, withdrawn and under a pseudonym."""
        await self.withdraw_consents(identity, now)
        cur = await self.conn.execute(
            "UPDATE health_consent SET identity = ? WHERE identity = ?", (pseudonym, identity))
        return cur.rowcount

    # --- reports ---------------------------------------------------------------------------

    async def add(self, r: NewReport) -> int:
        async with self.conn.execute(
            "INSERT INTO symptom_report (identity, consent_id, area_code, day, subject, "
            "age_group, red_flags, symptoms, close_contact, conditions, pregnant, level, "
            "rules_version, created_at, escalate_at) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
            (r.identity, r.consent_id, r.area_code, r.day, r.subject, r.age_group,
             ",".join(r.red_flags), ",".join(r.symptoms), r.close_contact,
             ",".join(r.conditions), None if r.pregnant is None else int(r.pregnant),
             r.level, r.rules_version, r.created_at.isoformat(),
             r.escalate_at.isoformat() if r.escalate_at else None)) as cur:
            return int((await cur.fetchone())[0])

    async def get(self, report_id: int) -> SymptomReport | None:
        rows = await self._rows("SELECT * FROM symptom_report WHERE id = ?", (report_id,))
        return _report(rows[0]) if rows else None

    async def of_person(self, identity: str) -> list[SymptomReport]:
        rows = await self._rows(
            "SELECT * FROM symptom_report WHERE identity = ? ORDER BY id", (identity,))
        return [_report(r) for r in rows]

    async def in_areas(self, area_codes: list[str], statuses: tuple[str, ...] = OPEN,
                       limit: int = 50) -> list[SymptomReport]:
        """Reports in these RTs with these statuses, newest first."""
        if not area_codes or not statuses:
            return []
        rows = await self._rows(
            f"SELECT * FROM symptom_report WHERE area_code IN ({_marks(area_codes)}) "
            f"AND status IN ({_marks(statuses)}) ORDER BY created_at DESC, id DESC LIMIT ?",
            (*area_codes, *statuses, limit))
        return [_report(r) for r in rows]

    async def claim(self, report_id: int, handler: str, now: datetime, fast: bool) -> bool:
        """The first to press "I'll handle it" owns the report; False if someone has.
        ``fast``: taken within an hour of the report (kept for the figures)."""
        cur = await self.conn.execute(
            "UPDATE symptom_report SET handler = ?, handled_at = ?, status = 'handling', "
            "escalate_at = NULL, fast = ? WHERE id = ? AND handler IS NULL AND status = 'new'",
            (handler, now.isoformat(), int(fast), report_id))
        return cur.rowcount == 1

    async def close(self, report_id: int, handler: str, now: datetime) -> bool:
        cur = await self.conn.execute(
            "UPDATE symptom_report SET status = 'done', closed_at = ?, escalate_at = NULL, "
            "handler = COALESCE(handler, ?), handled_at = COALESCE(handled_at, ?) "
            "WHERE id = ? AND status != 'done'",
            (now.isoformat(), handler, now.isoformat(), report_id))
        return cur.rowcount == 1

    async def add_note(self, report_id: int, line: str, limit: int = 2000) -> None:
        """Add a line to the report's notes (the newest last; the oldest dropped past
        ``limit`` characters)."""
        report = await self.get(report_id)
        if report is None:
            return
        notes = "\n".join(filter(None, (report.note, line)))
        await self.conn.execute("UPDATE symptom_report SET note = ? WHERE id = ?",
                                (notes[-limit:], report_id))

    async def worsened(self, report_id: int, now: datetime, escalate_at: datetime | None
                       ) -> None:
        """A check-in said "worse". A report someone handles stays theirs; otherwise (never
        taken, or closed) it is new again, alerted and escalated afresh. The level the
        triage gave is kept."""
        await self.conn.execute(
            "UPDATE symptom_report SET worsened_at = ?, "
            "status = CASE WHEN status = 'handling' THEN status ELSE 'new' END, "
            "handler = CASE WHEN status = 'handling' THEN handler ELSE NULL END, "
            "closed_at = NULL, escalation = CASE WHEN status = 'handling' THEN escalation "
            "ELSE 0 END, escalate_at = CASE WHEN status = 'handling' THEN NULL ELSE ? END "
            "WHERE id = ?",
            (now.isoformat(), escalate_at.isoformat() if escalate_at else None, report_id))

    async def mark_well(self, report_id: int, now: datetime) -> None:
        """The resident is well: no more check-ins, no more escalation."""
        await self.conn.execute(
            "UPDATE symptom_report SET well_at = ?, escalate_at = NULL WHERE id = ?",
            (now.isoformat(), report_id))

    async def forget_handler(self, identity: str, pseudonym: str) -> None:
        """Erasure of a coordinator: the reports they handled name them by pseudonym."""
        await self.conn.execute("UPDATE symptom_report SET handler = ? WHERE handler = ?",
                                (pseudonym, identity))

    async def drop_waiting_alerts(self, report_id: int | None = None,
                                  identity: str | None = None) -> None:
        """Alerts kept for people who have not started the bot: about a report that is now
        taken or closed, or (a revoked role) for one person."""
        if report_id is not None:
            await self.conn.execute(
                "DELETE FROM waiting_message WHERE kind = 'symptom_alert' AND ref_id = ?",
                (report_id,))
        if identity is not None:
            await self.conn.execute(
                "DELETE FROM waiting_message WHERE kind = 'symptom_alert' AND identity = ?",
                (identity,))
            await self.conn.execute(
                "DELETE FROM outbox WHERE kind = 'symptom_alert' AND status = 'queued' AND "
                "person_id = (SELECT id FROM person WHERE identity = ?)", (identity,))

    async def forget_stale_drafts(self, before: datetime) -> int:
        """Questionnaires left unfinished (health answers given without consent): their
        answers go."""
        cur = await self.conn.execute(
            "UPDATE conversation SET flow = NULL, step = NULL, data = '{}' "
            "WHERE flow = 'symptoms' AND updated_at < ?", (before.isoformat(),))
        return cur.rowcount

    async def due_escalations(self, now: datetime, limit: int = 100) -> list[SymptomReport]:
        rows = await self._rows(
            "SELECT * FROM symptom_report WHERE escalate_at IS NOT NULL AND escalate_at <= ? "
            "AND status = 'new' ORDER BY escalate_at LIMIT ?", (now.isoformat(), limit))
        return [_report(r) for r in rows]

    async def escalate(self, report_id: int, stage: int, was: datetime,
                       next_at: datetime | None) -> bool:
        """Move to escalation ``stage``; False if another worker (or a claim) came first."""
        cur = await self.conn.execute(
            "UPDATE symptom_report SET escalation = ?, escalate_at = ? WHERE id = ? AND "
            "escalate_at = ? AND status = 'new'",
            (stage, next_at.isoformat() if next_at else None, report_id, was.isoformat()))
        return cur.rowcount == 1

    # --- anonymous counts -------------------------------------------------------------------

    async def count(self, day: str, area_code: str, level: str, urgent: bool = False,
                    handled_fast: bool = False, reports: int = 1) -> None:
        await self.conn.execute(
            "INSERT INTO symptom_count (day, area_code, level, reports, urgent, handled_fast) "
            "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (day, area_code, level) DO UPDATE SET "
            "reports = reports + excluded.reports, urgent = urgent + excluded.urgent, "
            "handled_fast = handled_fast + excluded.handled_fast",
            (day, area_code, level, reports, int(urgent) * reports,
             int(handled_fast) * reports))

    async def anonymise(self, reports: list[SymptomReport],
                        pseudonym: Callable[[str], str]) -> int:
        """Turn identified reports into counts: the rows, their check-ins and the messages
        that name the reporter go; the consent proofs stay under ``pseudonym(identity)``."""
        for r in reports:
            fast = await self._fast(r.id)
            await self.count(r.day, r.area_code, r.level, r.urgent, fast)
            await self.conn.execute(
                "UPDATE health_consent SET identity = ? WHERE id = ?",
                (pseudonym(r.identity), r.consent_id))
        if reports:
            ids = [r.id for r in reports]
            await self.forget_alerts(ids)
            await self.conn.execute(  # check-ins: queued (not sent any more) or sent
                "DELETE FROM outbox WHERE kind = 'checkin' AND ref_id IN "
                f"(SELECT id FROM symptom_checkin WHERE report_id IN ({_marks(ids)}))", ids)
            await self.conn.execute(
                f"DELETE FROM symptom_checkin WHERE report_id IN ({_marks(ids)})", ids)
            await self.conn.execute(
                f"DELETE FROM symptom_report WHERE id IN ({_marks(ids)})", ids)
        return len(reports)

    async def forget_alerts(self, report_ids: list[int]) -> None:
        """Drop the alerts about these reports still kept in the outbox (queued, or the
        record of their delivery) and those waiting for someone who has not started the
        bot: they name the reporter."""
        if not report_ids:
            return
        marks = _marks(report_ids)
        for table in ("outbox", "waiting_message"):
            await self.conn.execute(
                f"DELETE FROM {table} WHERE kind = 'symptom_alert' AND ref_id IN ({marks})",
                report_ids)

    async def _fast(self, report_id: int) -> bool:
        rows = await self._rows("SELECT fast FROM symptom_report WHERE id = ?", (report_id,))
        return bool(rows and rows[0]["fast"])

    async def older_than(self, before: datetime, limit: int = 500) -> list[SymptomReport]:
        rows = await self._rows(
            "SELECT * FROM symptom_report WHERE created_at < ? ORDER BY id LIMIT ?",
            (before.isoformat(), limit))
        return [_report(r) for r in rows]

    async def daily(self, area_codes: list[str], since_day: str) -> list[DayCount]:
        """Reports per day, RT and level since ``since_day``: identified ones and counts."""
        if not area_codes:
            return []
        marks = _marks(area_codes)
        rows = await self._rows(
            "SELECT day, area_code, level, SUM(reports) AS reports, SUM(urgent) AS urgent, "
            "SUM(handled_fast) AS handled_fast FROM ("
            "  SELECT day, area_code, level, reports, urgent, handled_fast FROM symptom_count"
            f"  WHERE area_code IN ({marks}) AND day >= ?"
            "  UNION ALL"
            "  SELECT day, area_code, level, 1, "
            "    CASE WHEN red_flags != '' THEN 1 ELSE 0 END, fast"
            f"  FROM symptom_report WHERE area_code IN ({marks}) AND day >= ?"
            ") GROUP BY day, area_code, level ORDER BY day, area_code, level",
            (*area_codes, since_day, *area_codes, since_day))
        return [DayCount(r["day"], r["area_code"], r["level"], r["reports"], r["urgent"],
                         r["handled_fast"]) for r in rows]

    # --- check-ins -------------------------------------------------------------------------

    async def add_checkin(self, report_id: int, due_at: datetime) -> None:
        await self.conn.execute(
            "INSERT INTO symptom_checkin (report_id, due_at) VALUES (?, ?)",
            (report_id, due_at.isoformat()))

    async def checkins(self, report_id: int) -> list[Checkin]:
        rows = await self._rows(
            "SELECT * FROM symptom_checkin WHERE report_id = ? ORDER BY due_at", (report_id,))
        return [Checkin(r["id"], r["report_id"], _dt(r["due_at"]),  # type: ignore[arg-type]
                        _dt(r["sent_at"]), r["answer"]) for r in rows]

    async def due_checkins(self, now: datetime, limit: int = 100) -> list[Checkin]:
        rows = await self._rows(
            "SELECT * FROM symptom_checkin WHERE sent_at IS NULL AND due_at <= ? "
            "ORDER BY due_at LIMIT ?", (now.isoformat(), limit))
        return [Checkin(r["id"], r["report_id"], _dt(r["due_at"]),  # type: ignore[arg-type]
                        None, None) for r in rows]

    async def next_checkin_due(self) -> datetime | None:
        rows = await self._rows(
            "SELECT MIN(due_at) AS due FROM symptom_checkin WHERE sent_at IS NULL")
        return _dt(rows[0]["due"]) if rows else None

    async def mark_checkin_sent(self, checkin_id: int, now: datetime) -> bool:
        cur = await self.conn.execute(
            "UPDATE symptom_checkin SET sent_at = ? WHERE id = ? AND sent_at IS NULL",
            (now.isoformat(), checkin_id))
        return cur.rowcount == 1

    async def answer_checkin(self, checkin_id: int, answer: str, now: datetime) -> bool:
        cur = await self.conn.execute(
            "UPDATE symptom_checkin SET answer = ?, answered_at = ? WHERE id = ? AND "
            "sent_at IS NOT NULL AND answer IS NULL", (answer, now.isoformat(), checkin_id))
        return cur.rowcount == 1

    async def get_checkin(self, checkin_id: int) -> Checkin | None:
        rows = await self._rows("SELECT * FROM symptom_checkin WHERE id = ?", (checkin_id,))
        if not rows:
            return None
        r = rows[0]
        return Checkin(r["id"], r["report_id"], _dt(r["due_at"]),  # type: ignore[arg-type]
                       _dt(r["sent_at"]), r["answer"])

    async def stop_checkins(self, report_ids: list[int]) -> int:
        """Cancel the check-ins not yet sent."""
        if not report_ids:
            return 0
        cur = await self.conn.execute(
            f"DELETE FROM symptom_checkin WHERE sent_at IS NULL AND report_id IN "
            f"({_marks(report_ids)})", report_ids)
        return cur.rowcount
