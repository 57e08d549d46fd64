"""The audit log: who did which privileged action, on what, when, and whether it was allowed.

A refusal repeated (same actor, action and target) stays one row: ``times`` counts it and
``last_at`` is the time of the last one. Rows end after the retention period (by their last
time); a person who erases their data is named by a keyed pseudonym in the rows kept.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

import aiosqlite


@dataclass(frozen=True)
class AuditEntry:
    at: datetime
    actor: str
    action: str
    target: str
    outcome: str
    detail: str = ""
    times: int = 1  # a repeated refusal: how often
    last_at: datetime | None = None  # ... and when the last time


@dataclass(frozen=True)
class Mentions:
    """What the audit log holds about one person."""

    refused: int = 0  # their refused attempts (counting repeats): erased with them
    kept: int = 0  # rows that stay, under their pseudonym: what they did, or was done to them


def _mention(names: Sequence[str]) -> re.Pattern[str]:
    """Any of ``names`` standing on its own: ``12345`` in "to 12345", not in ``912345`` nor in
    ``notice:12345`` (the longest name first, so ``telegram:12345`` goes whole)."""
    alternatives = "|".join(re.escape(n) for n in sorted(names, key=len, reverse=True))
    return re.compile(rf"(?<![\w:])(?:{alternatives})(?![\w])")


class AuditRepo:
    def __init__(self, conn: aiosqlite.Connection) -> None:
        self.conn = conn

    async def add(self, entry: AuditEntry) -> None:
        """Append ``entry``; a refusal seen before only counts once more (and is dated)."""
        await self.conn.execute(
            "INSERT INTO audit_log (at, actor, action, target, outcome, detail) "
            "VALUES (?, ?, ?, ?, ?, ?) "
            "ON CONFLICT (actor, action, target) WHERE outcome = 'denied' DO UPDATE SET "
            "times = audit_log.times + 1, last_at = excluded.at, detail = excluded.detail",
            (entry.at.isoformat(), entry.actor, entry.action, entry.target, entry.outcome,
             entry.detail),
        )

    async def _about(self, names: Sequence[str]) -> list[tuple[int, str, str, str, str, int]]:
        """(id, actor, target, detail, outcome, times) of every row naming one of ``names``
        (identity first, then the bare chat IDs that stand for it)."""
        clauses = ["actor = ?"] + ["target LIKE ? OR detail LIKE ?"] * len(names)
        args: list[str] = [names[0]]
        for name in names:  # LIKE finds candidates; the pattern below decides
            args += [f"%{name}%", f"%{name}%"]
        async with self.conn.execute(
            "SELECT id, actor, target, detail, outcome, times FROM audit_log WHERE "
            + " OR ".join(f"({c})" for c in clauses), args,
        ) as cur:
            rows = await cur.fetchall()
        pattern = _mention(names)
        return [(r[0], r[1], r[2], r[3], r[4], r[5]) for r in rows
                if r[1] == names[0] or pattern.search(r[2]) or pattern.search(r[3])]

    async def mentions(self, names: Sequence[str]) -> Mentions:
        """How many rows name the person ``names[0]`` (an identity; then their bare IDs)."""
        refused = kept = 0
        for _, actor, _, _, outcome, times in await self._about(names):
            if actor == names[0] and outcome == "denied":
                refused += times
            else:
                kept += 1
        return Mentions(refused, kept)

    async def forget(self, names: Sequence[str], pseudonym: str) -> Mentions:
        """Erasure of ``names[0]``: drop their refused attempts; in every row that stays (what
        they were allowed to do, what was done to them), name them by ``pseudonym`` instead
        of their identity or bare chat ID. Returns what was dropped and what was kept."""
        pattern = _mention(names)
        refused = kept = 0
        for row_id, actor, target, detail, outcome, times in await self._about(names):
            if actor == names[0] and outcome == "denied":
                await self.conn.execute("DELETE FROM audit_log WHERE id = ?", (row_id,))
                refused += times
                continue
            await self.conn.execute(
                "UPDATE audit_log SET actor = ?, target = ?, detail = ? WHERE id = ?",
                (pseudonym if actor == names[0] else actor, pattern.sub(pseudonym, target),
                 pattern.sub(pseudonym, detail), row_id))
            kept += 1
        return Mentions(refused, kept)

    async def strangers(self, seen_before: datetime) -> list[str]:
        """People the bot does not know (no record, no role) who were only ever refused, the
        last time before ``seen_before``: their refusals have outlived the retention."""
        async with self.conn.execute(
            "SELECT actor FROM audit_log WHERE actor NOT LIKE 'cli:%' AND actor NOT LIKE 'p:%' "
            "AND actor NOT LIKE 'erased:%' "
            "AND actor NOT IN (SELECT identity FROM person) "
            "AND actor NOT IN (SELECT identity FROM role_grant) "
            "GROUP BY actor HAVING SUM(CASE WHEN outcome = 'denied' THEN 0 ELSE 1 END) = 0 "
            "AND MAX(COALESCE(last_at, at)) < ?", (seen_before.isoformat(),),
        ) as cur:
            return [r[0] for r in await cur.fetchall()]

    async def legacy_pseudonyms(self) -> list[str]:
        """Unkeyed pseudonyms (``erased:…``) an older version wrote: to be keyed."""
        async with self.conn.execute(
            "SELECT DISTINCT actor FROM audit_log WHERE actor LIKE 'erased:%'"
        ) as cur:
            return [r[0] for r in await cur.fetchall()]

    async def purge(self, before: datetime) -> int:
        """Delete rows whose last time is before ``before`` (the retention ended)."""
        cur = await self.conn.execute(
            "DELETE FROM audit_log WHERE at < ? AND (last_at IS NULL OR last_at < ?)",
            (before.isoformat(), before.isoformat()),
        )
        return cur.rowcount

    async def recent(self, limit: int = 50) -> list[AuditEntry]:
        """The latest entries, by the time they last happened."""
        async with self.conn.execute(
            "SELECT at, actor, action, target, outcome, detail, times, last_at FROM audit_log "
            "ORDER BY COALESCE(last_at, at) DESC, id DESC LIMIT ?",
            (limit,),
        ) as cur:
            rows = await cur.fetchall()
        return [AuditEntry(datetime.fromisoformat(r[0]), r[1], r[2], r[3], r[4], r[5], r[6],
                           datetime.fromisoformat(r[7]) if r[7] else None)
                for r in rows]
