"""Hoax cases, the reports behind them, notes on published verdicts, and muted reporters."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

import aiosqlite

VERDICTS = ("hoaks", "disinformasi", "salah_konteks", "benar", "belum")


@dataclass(frozen=True)
class Case:
    id: int
    claim: str
    fingerprint: str
    photo_hash: str
    has_thumbnail: bool
    status: str  # open | published | merged
    merged_into: int | None
    verdict: str | None
    explanation: str
    sources: tuple[str, ...]
    published_at: datetime | None
    published_by: str | None
    claimed_by: str | None
    claimed_until: datetime | None
    first_at: datetime
    last_at: datetime
    reporters: int
    reopened_at: datetime | None
    example: bool

    def claimed(self, now: datetime) -> bool:
        return bool(self.claimed_by and self.claimed_until and self.claimed_until > now)


@dataclass(frozen=True)
class Report:
    id: int
    case_id: int
    area_code: str
    text: str
    photo_hash: str
    created_at: datetime
    told_at: datetime | None


@dataclass(frozen=True)
class Note:
    id: int
    case_id: int
    text: str
    created_at: datetime


def _dt(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


def _marks(items: Iterable[object]) -> str:
    return ", ".join("?" for _ in items)


_CASE = ("id, claim, fingerprint, photo_hash, thumbnail IS NOT NULL AS has_thumbnail, status, "
         "merged_into, verdict, explanation, sources, published_at, published_by, claimed_by, "
         "claimed_until, first_at, last_at, reporters, reopened_at, example")


def _case(row: aiosqlite.Row) -> Case:
    return Case(
        id=row["id"], claim=row["claim"], fingerprint=row["fingerprint"],
        photo_hash=row["photo_hash"], has_thumbnail=bool(row["has_thumbnail"]),
        status=row["status"], merged_into=row["merged_into"], verdict=row["verdict"],
        explanation=row["explanation"],
        sources=tuple(s for s in row["sources"].splitlines() if s),
        published_at=_dt(row["published_at"]), published_by=row["published_by"],
        claimed_by=row["claimed_by"], claimed_until=_dt(row["claimed_until"]),
        first_at=_dt(row["first_at"]), last_at=_dt(row["last_at"]),  # type: ignore[arg-type]
        reporters=row["reporters"], reopened_at=_dt(row["reopened_at"]),
        example=bool(row["example"]))


def _report(row: aiosqlite.Row) -> Report:
    return Report(row["id"], row["case_id"], row["area_code"], row["text"], row["photo_hash"],
                  _dt(row["created_at"]), _dt(row["told_at"]))  # type: ignore[arg-type]


class HoaxRepo:
    def __init__(self, conn: aiosqlite.Connection) -> None:
        self.conn = conn

    async def _rows(self, sql: str, params: Iterable[object] = ()) -> list[aiosqlite.Row]:
        async with self.conn.execute(sql, tuple(params)) as cur:
            return list(await cur.fetchall())

    # --- cases ---------------------------------------------------------------------------------

    async def add_case(self, claim: str, fingerprint: str, photo_hash: str,
                       thumbnail: bytes | None, now: datetime, example: bool = False) -> int:
        async with self.conn.execute(
            "INSERT INTO hoax_case (claim, fingerprint, photo_hash, thumbnail, first_at, "
            "last_at, example) VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id",
            (claim, fingerprint, photo_hash, thumbnail, now.isoformat(), now.isoformat(),
             int(example))) as cur:
            return int((await cur.fetchone())[0])

    async def case(self, case_id: int) -> Case | None:
        rows = await self._rows(f"SELECT {_CASE} FROM hoax_case WHERE id = ?", (case_id,))
        return _case(rows[0]) if rows else None

    async def live(self, case_id: int) -> Case | None:
        """The case, or the case it was merged into (followed to the end)."""
        seen: set[int] = set()
        found = await self.case(case_id)
        while found is not None and found.merged_into and found.id not in seen:
            seen.add(found.id)
            found = await self.case(found.merged_into)
        return found

    async def thumbnail(self, case_id: int) -> bytes | None:
        rows = await self._rows("SELECT thumbnail FROM hoax_case WHERE id = ?", (case_id,))
        return rows[0]["thumbnail"] if rows else None

    async def matchable(self, after: int = 0) -> list[tuple[int, str, str]]:
        """(id, claim, photo hash) of every case a new report may join (not merged), with
        an id above ``after``."""
        rows = await self._rows(
            "SELECT id, claim, photo_hash FROM hoax_case WHERE status != 'merged' AND id > ? "
            "ORDER BY id", (after,))
        return [(r["id"], r["claim"], r["photo_hash"]) for r in rows]

    async def newest_id(self) -> int:
        rows = await self._rows("SELECT COALESCE(MAX(id), 0) AS n FROM hoax_case")
        return int(rows[0]["n"])

    async def by_fingerprint(self, fingerprint: str) -> Case | None:
        if not fingerprint:
            return None
        rows = await self._rows(
            f"SELECT {_CASE} FROM hoax_case WHERE fingerprint = ? AND status != 'merged' "
            "ORDER BY id LIMIT 1", (fingerprint,))
        return _case(rows[0]) if rows else None

    async def queue(self, limit: int = 20) -> list[Case]:
        """Open cases, most reporters first, then the most recent."""
        rows = await self._rows(
            f"SELECT {_CASE} FROM hoax_case WHERE status = 'open' "
            "ORDER BY reporters DESC, last_at DESC, id DESC LIMIT ?", (limit,))
        return [_case(r) for r in rows]

    async def open_count(self) -> int:
        rows = await self._rows("SELECT COUNT(*) AS n FROM hoax_case WHERE status = 'open'")
        return int(rows[0]["n"])

    async def published(self, limit: int = 5, offset: int = 0) -> list[Case]:
        rows = await self._rows(
            f"SELECT {_CASE} FROM hoax_case WHERE status = 'published' "
            "ORDER BY published_at DESC, id DESC LIMIT ? OFFSET ?", (limit, offset))
        return [_case(r) for r in rows]

    async def search(self, words: list[str], limit: int = 5) -> list[Case]:
        """Published verdicts whose claim or explanation holds every word."""
        if not words:
            return []
        where = " AND ".join("(LOWER(claim) LIKE ? OR LOWER(explanation) LIKE ?)"
                             for _ in words)
        args: list[object] = []
        for w in words:
            args += [f"%{w.lower()}%", f"%{w.lower()}%"]
        rows = await self._rows(
            f"SELECT {_CASE} FROM hoax_case WHERE status = 'published' AND {where} "
            "ORDER BY published_at DESC LIMIT ?", (*args, limit))
        return [_case(r) for r in rows]

    async def claim(self, case_id: int, moderator: str, until: datetime, now: datetime
                    ) -> bool:
        """Hold the case (nobody else holds it, or their hold expired, or it is mine)."""
        cur = await self.conn.execute(
            "UPDATE hoax_case SET claimed_by = ?, claimed_until = ? WHERE id = ? AND "
            "status = 'open' AND (claimed_by IS NULL OR claimed_by = ? OR claimed_until <= ?)",
            (moderator, until.isoformat(), case_id, moderator, now.isoformat()))
        return cur.rowcount == 1

    async def release(self, case_id: int, moderator: str) -> None:
        await self.conn.execute(
            "UPDATE hoax_case SET claimed_by = NULL, claimed_until = NULL WHERE id = ? AND "
            "claimed_by = ?", (case_id, moderator))

    async def publish(self, case_id: int, moderator: str, verdict: str, explanation: str,
                      sources: list[str], now: datetime) -> bool:
        """Publish (only by the moderator holding the case, while the hold lasts)."""
        cur = await self.conn.execute(
            "UPDATE hoax_case SET status = 'published', verdict = ?, explanation = ?, "
            "sources = ?, published_at = ?, published_by = ?, claimed_by = NULL, "
            "claimed_until = NULL, reopened_at = NULL WHERE id = ? AND status = 'open' AND "
            "claimed_by = ? AND claimed_until > ?",
            (verdict, explanation, "\n".join(sources), now.isoformat(), moderator, case_id,
             moderator, now.isoformat()))
        return cur.rowcount == 1

    async def reopen(self, case_id: int, now: datetime) -> None:
        """More information on a published verdict: the case is open again (its verdict
        stays readable until a new one is published)."""
        await self.conn.execute(
            "UPDATE hoax_case SET status = 'open', reopened_at = ? WHERE id = ? AND "
            "status = 'published'", (now.isoformat(), case_id))

    async def merge(self, source: int, target: int) -> bool:
        """Move ``source``'s reports (and notes) into ``target``; ``source`` is merged."""
        cur = await self.conn.execute(
            "UPDATE hoax_case SET status = 'merged', merged_into = ?, claimed_by = NULL, "
            "claimed_until = NULL WHERE id = ? AND status = 'open'", (target, source))
        if cur.rowcount != 1:
            return False
        await self.conn.execute("UPDATE hoax_report SET case_id = ? WHERE case_id = ?",
                                (target, source))
        await self.conn.execute("UPDATE hoax_note SET case_id = ? WHERE case_id = ?",
                                (target, source))
        await self.recount(target)
        return True

    async def split(self, report_id: int, now: datetime) -> int | None:
        """Take a report out of its case into a new case of its own; the new case's id."""
        rows = await self._rows("SELECT * FROM hoax_report WHERE id = ?", (report_id,))
        if not rows:
            return None
        report = _report(rows[0])
        source = await self.case(report.case_id)
        if source is None or source.reporters <= 1:
            return None
        new = await self.add_case(report.text, "", report.photo_hash, None, now)
        await self.conn.execute("UPDATE hoax_report SET case_id = ? WHERE id = ?",
                                (new, report_id))
        await self.recount(new)
        await self.recount(report.case_id)
        return new

    async def set_fingerprint(self, case_id: int, fingerprint: str) -> None:
        await self.conn.execute("UPDATE hoax_case SET fingerprint = ? WHERE id = ?",
                                (fingerprint, case_id))

    async def recount(self, case_id: int) -> None:
        await self.conn.execute(
            "UPDATE hoax_case SET reporters = (SELECT COUNT(DISTINCT COALESCE(identity, "
            "'r' || id)) FROM hoax_report WHERE case_id = ?), first_at = COALESCE((SELECT "
            "MIN(created_at) FROM hoax_report WHERE case_id = ?), first_at), last_at = "
            "COALESCE((SELECT MAX(created_at) FROM hoax_report WHERE case_id = ?), last_at) "
            "WHERE id = ?", (case_id, case_id, case_id, case_id))

    # --- reports -------------------------------------------------------------------------------

    async def add_report(self, case_id: int, identity: str, area_code: str, text: str,
                         photo_hash: str, now: datetime, told: bool = False) -> int:
        async with self.conn.execute(
            "INSERT INTO hoax_report (case_id, identity, area_code, text, photo_hash, "
            "created_at, told_at) VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id",
            (case_id, identity, area_code, text, photo_hash, now.isoformat(),
             now.isoformat() if told else None)) as cur:
            report_id = int((await cur.fetchone())[0])
        await self.recount(case_id)
        return report_id

    async def extend_report(self, report_id: int, text: str, photo_hash: str) -> None:
        """A piece sent right after the first joins the same report."""
        await self.conn.execute(
            "UPDATE hoax_report SET text = TRIM(text || ' ' || ?), photo_hash = CASE WHEN "
            "photo_hash = '' THEN ? ELSE photo_hash END WHERE id = ?",
            (text, photo_hash, report_id))

    async def reports(self, case_id: int) -> list[Report]:
        rows = await self._rows(
            "SELECT * FROM hoax_report WHERE case_id = ? ORDER BY created_at, id", (case_id,))
        return [_report(r) for r in rows]

    async def reported_by(self, case_id: int, identity: str) -> bool:
        rows = await self._rows(
            "SELECT 1 FROM hoax_report WHERE case_id = ? AND identity = ? LIMIT 1",
            (case_id, identity))
        return bool(rows)

    async def spread(self, case_id: int) -> list[tuple[str, int]]:
        """(RT code, reporters) of a case: where the claim came from."""
        rows = await self._rows(
            "SELECT area_code, COUNT(*) AS n FROM hoax_report WHERE case_id = ? "
            "GROUP BY area_code ORDER BY n DESC, area_code", (case_id,))
        return [(r["area_code"], int(r["n"])) for r in rows]

    async def untold(self, case_id: int) -> list[tuple[int, str]]:
        """(report id, reporter) of reports whose reporter has not been sent the verdict,
        one per reporter."""
        rows = await self._rows(
            "SELECT MIN(id) AS id, identity FROM hoax_report WHERE case_id = ? AND "
            "told_at IS NULL AND identity IS NOT NULL GROUP BY identity", (case_id,))
        return [(r["id"], r["identity"]) for r in rows]

    async def mark_told(self, case_id: int, identity: str, now: datetime) -> None:
        await self.conn.execute(
            "UPDATE hoax_report SET told_at = ? WHERE case_id = ? AND identity = ? AND "
            "told_at IS NULL", (now.isoformat(), case_id, identity))

    async def untell(self, case_id: int) -> None:
        """The case was reopened: its reporters will hear the next verdict too."""
        await self.conn.execute("UPDATE hoax_report SET told_at = NULL WHERE case_id = ?",
                                (case_id,))

    async def reporter_of(self, report_id: int) -> str | None:
        """Who sent a report (never shown to moderators: used to mute them)."""
        rows = await self._rows("SELECT identity FROM hoax_report WHERE id = ?",
                                (report_id,))
        return rows[0]["identity"] if rows else None

    async def reports_since(self, identity: str, since: datetime) -> int:
        rows = await self._rows(
            "SELECT COUNT(*) AS n FROM hoax_report WHERE identity = ? AND created_at >= ?",
            (identity, since.isoformat()))
        return int(rows[0]["n"])

    # --- notes and mutes --------------------------------------------------------------------

    async def add_note(self, case_id: int, identity: str, text: str, now: datetime) -> int:
        async with self.conn.execute(
            "INSERT INTO hoax_note (case_id, identity, text, created_at) VALUES (?, ?, ?, ?) "
            "RETURNING id", (case_id, identity, text, now.isoformat())) as cur:
            return int((await cur.fetchone())[0])

    async def notes(self, case_id: int) -> list[Note]:
        rows = await self._rows(
            "SELECT * FROM hoax_note WHERE case_id = ? ORDER BY id", (case_id,))
        return [Note(r["id"], r["case_id"], r["text"],
                     _dt(r["created_at"])) for r in rows]  # type: ignore[arg-type]

    async def note_author(self, note_id: int) -> str | None:
        rows = await self._rows("SELECT identity FROM hoax_note WHERE id = ?", (note_id,))
        return rows[0]["identity"] if rows else None

    async def mute(self, identity: str, until: datetime, by: str, reason: str, now: datetime
                   ) -> None:
        await self.conn.execute(
            "INSERT INTO hoax_mute (identity, until, muted_by, reason, muted_at) VALUES "
            "(?, ?, ?, ?, ?) ON CONFLICT (identity) DO UPDATE SET until = excluded.until, "
            "muted_by = excluded.muted_by, reason = excluded.reason, "
            "muted_at = excluded.muted_at",
            (identity, until.isoformat(), by, reason, now.isoformat()))

    async def muted_until(self, identity: str, now: datetime) -> datetime | None:
        rows = await self._rows(
            "SELECT until FROM hoax_mute WHERE identity = ? AND until > ?",
            (identity, now.isoformat()))
        return _dt(rows[0]["until"]) if rows else None

    async def examples(self) -> list[Case]:
        rows = await self._rows(f"SELECT {_CASE} FROM hoax_case WHERE example = 1 ORDER BY id")
        return [_case(r) for r in rows]

    async def delete_examples(self) -> int:
        """Delete the seed library's examples that no resident reported to."""
        cur = await self.conn.execute(
            "DELETE FROM hoax_case WHERE example = 1 AND NOT EXISTS (SELECT 1 FROM "
            "hoax_report r WHERE r.case_id = hoax_case.id) AND NOT EXISTS (SELECT 1 FROM "
            "hoax_note n WHERE n.case_id = hoax_case.id) AND NOT EXISTS (SELECT 1 FROM "
            "hoax_case m WHERE m.merged_into = hoax_case.id)")
        return cur.rowcount

    # --- erasure and retention -------------------------------------------------------------

    async def forget_reporters(self, told_before: datetime, reported_before: datetime
                               ) -> int:
        """Reports keep who sent them only until the verdict reached them (and at most
        until ``reported_before``): then they stay as counts per area."""
        cur = await self.conn.execute(
            "UPDATE hoax_report SET identity = NULL WHERE identity IS NOT NULL AND "
            "((told_at IS NOT NULL AND told_at < ?) OR created_at < ?)",
            (told_before.isoformat(), reported_before.isoformat()))
        await self.conn.execute(
            "UPDATE hoax_note SET identity = NULL WHERE identity IS NOT NULL AND "
            "created_at < ?", (reported_before.isoformat(),))
        return cur.rowcount

    async def forget(self, identity: str, pseudonym: str) -> None:
        """A reporter's reports stay as anonymous counts of their case (area kept, identity
        dropped); their notes lose their author; mutes by or of them go."""
        await self.conn.execute("UPDATE hoax_report SET identity = NULL WHERE identity = ?",
                                (identity,))
        await self.conn.execute("UPDATE hoax_note SET identity = NULL WHERE identity = ?",
                                (identity,))
        await self.conn.execute("DELETE FROM hoax_mute WHERE identity = ?", (identity,))
        await self.conn.execute("UPDATE hoax_mute SET muted_by = ? WHERE muted_by = ?",
                                (pseudonym, identity))
        for column in ("published_by", "claimed_by"):
            await self.conn.execute(
                f"UPDATE hoax_case SET {column} = ? WHERE {column} = ?", (pseudonym, identity))
