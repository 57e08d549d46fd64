"""Notices (broadcasts), their audience, their runs and their fan-out into the outbox."""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from datetime import datetime
from typing import Any

import aiosqlite

from db.repositories.outbox import REGULAR, URGENT

OPEN_STATUSES = ("pending", "active", "paused")


def _dt(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


@dataclass
class Notice:
    author: str
    author_lang: str
    signature: str
    segment: str  # all | volunteers
    category: str  # regular | urgent
    body: str
    repeat: str  # now | once | daily | weekly | monthly
    status: str
    created_at: datetime
    updated_at: datetime
    areas: tuple[str, ...] = ()
    media_kind: str | None = None
    media_ref: str | None = None
    media_name: str | None = None
    at_time: str | None = None
    weekdays: str | None = None
    month_day: int | None = None
    start_at: datetime | None = None
    end_date: str | None = None
    next_run_at: datetime | None = None
    needs_review: bool = False
    decided_by: str | None = None
    decided_at: datetime | None = None
    reason: str | None = None
    purpose: str = "notice"  # notice | clarification (of a hoax verdict, by moderators)
    id: int | None = None

    @property
    def urgent(self) -> bool:
        return self.category == "urgent"

    @property
    def recurring(self) -> bool:
        return self.repeat in {"daily", "weekly", "monthly"}


@dataclass
class Run:
    id: int
    notice_id: int
    planned_at: datetime
    started_at: datetime
    total: int
    finished_at: datetime | None = None
    reported: int = 0
    counts: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class GroupLink:
    area_code: str
    channel: str
    address: str
    title: str
    linked_by: str
    linked_at: datetime


_NOTICE_COLUMNS = [f.name for f in fields(Notice) if f.name not in {"areas", "id"}]
_TIMES = {"created_at", "updated_at", "start_at", "next_run_at", "decided_at"}


def _to_row(notice: Notice) -> list[Any]:
    out: list[Any] = []
    for name in _NOTICE_COLUMNS:
        value = getattr(notice, name)
        if isinstance(value, datetime):
            value = value.isoformat()
        elif isinstance(value, bool):
            value = int(value)
        out.append(value)
    return out


def _notice(row: aiosqlite.Row, areas: tuple[str, ...]) -> Notice:
    values: dict[str, Any] = {}
    for name in _NOTICE_COLUMNS:
        value = row[name]
        if name in _TIMES:
            value = _dt(value)
        elif name == "needs_review":
            value = bool(value)
        values[name] = value
    return Notice(id=row["id"], areas=areas, **values)


def _run(row: aiosqlite.Row) -> Run:
    return Run(
        id=row["id"], notice_id=row["notice_id"], planned_at=_dt(row["planned_at"]),  # type: ignore[arg-type]
        started_at=_dt(row["started_at"]), total=row["total"],  # type: ignore[arg-type]
        finished_at=_dt(row["finished_at"]), reported=row["reported"],
        counts={k: row[k] for k in ("delivered", "failed", "blocked", "skipped")},
    )


class NoticesRepo:
    def __init__(self, conn: aiosqlite.Connection) -> None:
        self.conn = conn

    # --- notices -------------------------------------------------------------------------

    async def create(self, notice: Notice) -> Notice:
        marks = ", ".join("?" for _ in _NOTICE_COLUMNS)
        async with self.conn.execute(
            f"INSERT INTO notice ({', '.join(_NOTICE_COLUMNS)}) VALUES ({marks}) RETURNING id",
            _to_row(notice),
        ) as cur:
            notice.id = int((await cur.fetchone())[0])
        await self.conn.executemany(
            "INSERT INTO notice_area (notice_id, area_code) VALUES (?, ?)",
            [(notice.id, code) for code in notice.areas],
        )
        return notice

    async def save(self, notice: Notice) -> None:
        """Write back every column of an existing notice."""
        sets = ", ".join(f"{name} = ?" for name in _NOTICE_COLUMNS)
        await self.conn.execute(f"UPDATE notice SET {sets} WHERE id = ?",
                                [*_to_row(notice), notice.id])

    async def _areas(self, notice_id: int) -> tuple[str, ...]:
        async with self.conn.execute(
            "SELECT area_code FROM notice_area WHERE notice_id = ? ORDER BY area_code",
            (notice_id,),
        ) as cur:
            return tuple(r[0] for r in await cur.fetchall())

    async def _select(self, where: str, args: tuple[Any, ...] = ()) -> list[Notice]:
        async with self.conn.execute(f"SELECT * FROM notice WHERE {where}", args) as cur:
            rows = await cur.fetchall()
        return [_notice(r, await self._areas(r["id"])) for r in rows]

    async def get(self, notice_id: int) -> Notice | None:
        found = await self._select("id = ?", (notice_id,))
        return found[0] if found else None

    async def open_by(self, author: str) -> list[Notice]:
        """The author's notices that still wait, are scheduled, are paused or go out now."""
        return await self._select(
            "author = ? AND (status IN ('pending', 'active', 'paused') OR id IN ("
            "SELECT notice_id FROM notice_run WHERE reported < 2)) ORDER BY id", (author,))

    async def has_unfinished_run(self, notice_id: int) -> bool:
        async with self.conn.execute(
            "SELECT 1 FROM notice_run WHERE notice_id = ? AND reported < 2", (notice_id,)
        ) as cur:
            return await cur.fetchone() is not None

    async def open_all(self) -> list[Notice]:
        return await self._select("status IN ('pending', 'active', 'paused') ORDER BY id")

    async def awaiting_approval(self) -> list[Notice]:
        return await self._select("status = 'pending' ORDER BY id")

    async def awaiting_review(self) -> list[Notice]:
        return await self._select("needs_review = 1 ORDER BY id")

    async def due(self, now: datetime) -> list[Notice]:
        return await self._select(
            "status = 'active' AND next_run_at IS NOT NULL AND next_run_at <= ? ORDER BY "
            "next_run_at, id", (now.isoformat(),))

    async def scheduled(self) -> list[Notice]:
        return await self._select(
            "status = 'active' AND next_run_at IS NOT NULL ORDER BY next_run_at")

    # --- audience ------------------------------------------------------------------------

    @staticmethod
    def _audience_sql(rt_codes: list[str], segment: str) -> tuple[str, list[Any]]:
        marks = ", ".join("?" for _ in rt_codes)
        if segment != "volunteers":
            return (f"FROM person p WHERE p.area_code IN ({marks}) AND p.active = 1 AND "
                    "p.consent_version IS NOT NULL", list(rt_codes))
        # volunteers who live in those RTs, or help there (in the RT or its whole RW)
        rws = sorted({code.rsplit("-rt", 1)[0] for code in rt_codes})
        helps = ", ".join("?" for _ in [*rt_codes, *rws])
        return (f"FROM person p JOIN volunteer v ON v.person_id = p.id WHERE "
                f"(p.area_code IN ({marks}) OR v.area_code IN ({helps})) AND p.active = 1 AND "
                "p.consent_version IS NOT NULL", [*rt_codes, *rt_codes, *rws])

    async def reach(self, rt_codes: list[str], segment: str, category: str) -> tuple[int, int]:
        """(people it reaches now, people who turned regular notices off) in those RTs."""
        if not rt_codes:
            return 0, 0
        where, args = self._audience_sql(rt_codes, segment)
        async with self.conn.execute(
            f"SELECT COUNT(*), SUM(CASE WHEN p.notices_regular = 0 THEN 1 ELSE 0 END) {where}",
            args,
        ) as cur:
            total, off = await cur.fetchone()
        off = int(off or 0) if category == "regular" else 0
        return int(total) - off, off

    async def start_run(self, notice: Notice, rt_codes: list[str], planned_at: datetime,
                        now: datetime, default_lang: str, quiet_until: datetime | None
                        ) -> Run:
        """Create a run and write one outbox row per recipient (inside a write).

        Residents who turned regular notices off get a ``skipped`` row so the report counts
        them; during quiet hours (``quiet_until``) regular rows wait until it ends.
        """
        async with self.conn.execute(
            "INSERT INTO notice_run (notice_id, planned_at, started_at) VALUES (?, ?, ?) "
            "RETURNING id",
            (notice.id, planned_at.isoformat(), now.isoformat()),
        ) as cur:
            run_id = int((await cur.fetchone())[0])
        regular = not notice.urgent
        priority = REGULAR if regular else URGENT
        not_before = (quiet_until or now).isoformat() if regular else now.isoformat()
        deferred = int(regular and quiet_until is not None)
        skip = "CASE WHEN p.notices_regular = 0 THEN 'skipped' ELSE 'queued' END" \
            if regular else "'queued'"
        reason = "CASE WHEN p.notices_regular = 0 THEN 'opted_out' END" if regular else "NULL"
        total = 0
        if rt_codes:
            where, args = self._audience_sql(rt_codes, notice.segment)
            cur = await self.conn.execute(
                "INSERT INTO outbox (channel, address, person_id, lang, kind, ref_id, priority, "
                "quiet, status, reason, deferred, not_before, created_at, sent_at) "
                f"SELECT p.channel, p.address, p.id, COALESCE(p.language, ?), 'notice', ?, ?, ?, "
                f"{skip}, {reason}, CASE WHEN p.notices_regular = 0 THEN 0 ELSE ? END, ?, ?, "
                f"CASE WHEN p.notices_regular = 0 AND ? = 1 THEN ? END {where}",
                [default_lang, run_id, priority, int(regular), deferred, not_before,
                 now.isoformat(), int(regular), now.isoformat(), *args],
            )
            total += cur.rowcount
            # a group is everybody in the RT: volunteer-only notices are not posted there
            links = await self.groups_for(rt_codes) if notice.segment == "all" else []
            for link in links:
                await self.conn.execute(
                    "INSERT INTO outbox (channel, address, lang, kind, ref_id, priority, quiet, "
                    "deferred, not_before, created_at) VALUES (?, ?, ?, 'notice', ?, ?, ?, ?, ?, "
                    "?)",
                    (link.channel, link.address, default_lang, run_id, priority, int(regular),
                     deferred, not_before, now.isoformat()),
                )
            total += len(links)
        await self.conn.execute("UPDATE notice_run SET total = ? WHERE id = ?", (total, run_id))
        return Run(run_id, notice.id or 0, planned_at, now, total)

    # --- runs ----------------------------------------------------------------------------

    async def run(self, run_id: int) -> Run | None:
        async with self.conn.execute("SELECT * FROM notice_run WHERE id = ?", (run_id,)) as cur:
            row = await cur.fetchone()
        return _run(row) if row else None

    async def unfinished_runs(self) -> list[Run]:
        async with self.conn.execute(
            "SELECT * FROM notice_run WHERE reported < 2 ORDER BY id") as cur:
            return [_run(r) for r in await cur.fetchall()]

    async def runs_of(self, notice_id: int) -> list[Run]:
        async with self.conn.execute(
            "SELECT * FROM notice_run WHERE notice_id = ? ORDER BY id", (notice_id,)) as cur:
            return [_run(r) for r in await cur.fetchall()]

    async def mark_reported(self, run_id: int, level: int, counts: dict[str, int],
                            now: datetime | None) -> None:
        await self.conn.execute(
            "UPDATE notice_run SET reported = ?, delivered = ?, failed = ?, blocked = ?, "
            "skipped = ?, finished_at = ? WHERE id = ?",
            (level, counts.get("delivered", 0), counts.get("failed", 0),
             counts.get("blocked", 0), counts.get("skipped", 0),
             now.isoformat() if now else None, run_id),
        )

    async def latest_for(self, area_codes: list[str], since: datetime, limit: int = 5,
                         volunteer: bool = False) -> list[tuple[Notice, Run]]:
        """The latest notices sent to any of ``area_codes`` (an RT and the units above it);
        volunteer-only ones only for a volunteer."""
        if not area_codes:
            return []
        marks = ", ".join("?" for _ in area_codes)
        async with self.conn.execute(
            "SELECT r.* FROM notice_run r JOIN notice n ON n.id = r.notice_id "
            "WHERE r.started_at >= ? AND (n.segment = 'all' OR ? = 1) AND r.notice_id IN ("
            f"SELECT notice_id FROM notice_area WHERE area_code IN ({marks})) "
            "ORDER BY r.started_at DESC, r.id DESC LIMIT ?",
            (since.isoformat(), int(volunteer), *area_codes, limit),
        ) as cur:
            runs = [_run(r) for r in await cur.fetchall()]
        out = []
        for run in runs:
            notice = await self.get(run.notice_id)
            if notice is not None:
                out.append((notice, run))
        return out

    # --- linked groups and volunteers ----------------------------------------------------

    async def link_group(self, link: GroupLink) -> None:
        await self.conn.execute(
            "INSERT INTO group_link (area_code, channel, address, title, linked_by, linked_at) "
            "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (area_code) DO UPDATE SET "
            "channel = excluded.channel, address = excluded.address, title = excluded.title, "
            "linked_by = excluded.linked_by, linked_at = excluded.linked_at",
            (link.area_code, link.channel, link.address, link.title, link.linked_by,
             link.linked_at.isoformat()),
        )

    async def unlink_group(self, channel: str, address: str) -> list[str]:
        """Forget every RT linked to this group; return their codes."""
        async with self.conn.execute(
            "DELETE FROM group_link WHERE channel = ? AND address = ? RETURNING area_code",
            (channel, address),
        ) as cur:
            return [r[0] for r in await cur.fetchall()]

    async def linked_to(self, channel: str, address: str) -> list[str]:
        """RT codes linked to this group."""
        async with self.conn.execute(
            "SELECT area_code FROM group_link WHERE channel = ? AND address = ? "
            "ORDER BY area_code", (channel, address),
        ) as cur:
            return [r[0] for r in await cur.fetchall()]

    async def readdress_group(self, channel: str, old: str, new: str) -> None:
        await self.conn.execute(
            "UPDATE group_link SET address = ? WHERE channel = ? AND address = ?",
            (new, channel, old))

    async def _links(self, where: str, args: list[Any]) -> list[GroupLink]:
        async with self.conn.execute(
            "SELECT area_code, channel, address, title, linked_by, linked_at FROM group_link "
            f"WHERE {where} ORDER BY area_code", args,
        ) as cur:
            rows = await cur.fetchall()
        return [GroupLink(r[0], r[1], r[2], r[3], r[4], datetime.fromisoformat(r[5]))
                for r in rows]

    async def links_for(self, rt_codes: list[str]) -> list[GroupLink]:
        """Every link of these RTs (a group linked to two of them is listed twice)."""
        if not rt_codes:
            return []
        marks = ", ".join("?" for _ in rt_codes)
        return await self._links(f"area_code IN ({marks})", list(rt_codes))

    async def links_by(self, identity: str) -> list[GroupLink]:
        """The links a person made with /hubungkan."""
        return await self._links("linked_by = ?", [identity])

    async def groups_for(self, rt_codes: list[str]) -> list[GroupLink]:
        # one post per group even when it is linked to several of the RTs
        seen: dict[tuple[str, str], GroupLink] = {}
        for link in await self.links_for(rt_codes):
            seen.setdefault((link.channel, link.address), link)
        return list(seen.values())

    async def unlink_area(self, link: GroupLink) -> bool:
        """Forget one RT's link, if it is still the one given (not re-linked meanwhile)."""
        cur = await self.conn.execute(
            "DELETE FROM group_link WHERE area_code = ? AND channel = ? AND address = ? AND "
            "linked_by = ?", (link.area_code, link.channel, link.address, link.linked_by))
        return cur.rowcount > 0

    async def queued_group_posts(self, channel: str, address: str) -> list[tuple[int, int]]:
        """(outbox id, run id) of the notices queued to a group and not yet claimed."""
        async with self.conn.execute(
            "SELECT id, ref_id FROM outbox WHERE channel = ? AND address = ? AND "
            "kind = 'notice' AND person_id IS NULL AND status = 'queued' ORDER BY id",
            (channel, address),
        ) as cur:
            return [(r[0], r[1]) for r in await cur.fetchall()]

    async def skip_group_posts(self, ids: list[int], reason: str, now: datetime) -> int:
        """Leave these queued group posts unsent (the group is no longer linked)."""
        if not ids:
            return 0
        marks = ", ".join("?" for _ in ids)
        cur = await self.conn.execute(
            f"UPDATE outbox SET status = 'skipped', reason = ?, sent_at = ? WHERE id IN ({marks}) "
            "AND status = 'queued'", [reason, now.isoformat(), *ids])
        return cur.rowcount

    async def is_volunteer(self, person_id: int) -> bool:
        async with self.conn.execute(
            "SELECT 1 FROM volunteer WHERE person_id = ?", (person_id,)) as cur:
            return await cur.fetchone() is not None

    async def add_volunteer(self, person_id: int, now: datetime) -> None:
        await self.conn.execute(
            "INSERT INTO volunteer (person_id, since_at) VALUES (?, ?) "
            "ON CONFLICT (person_id) DO NOTHING", (person_id, now.isoformat()))

    async def forget_volunteer(self, person_id: int) -> None:
        await self.conn.execute("DELETE FROM volunteer WHERE person_id = ?", (person_id,))

    async def forget_author(self, identity: str, pseudonym: str) -> None:
        """Erasure: cancel the author's open notices; keep sent ones for accountability, under
        a pseudonym and signed with the role only (no name)."""
        await self.conn.execute(
            "UPDATE notice SET status = 'cancelled', next_run_at = NULL WHERE author = ? AND "
            "status IN ('pending', 'active', 'paused')", (identity,))
        async with self.conn.execute(
            "SELECT id, signature FROM notice WHERE author = ?", (identity,)) as cur:
            rows = await cur.fetchall()
        await self.conn.executemany(
            "UPDATE notice SET signature = ?, author = ? WHERE id = ?",
            [(r[1].split(" — ")[0], pseudonym, r[0]) for r in rows])
        await self.conn.execute("UPDATE notice SET decided_by = ? WHERE decided_by = ?",
                                (pseudonym, identity))
        await self.conn.execute("UPDATE group_link SET linked_by = ? WHERE linked_by = ?",
                                (pseudonym, identity))
