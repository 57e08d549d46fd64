"""The audit log: who did which privileged action, on what, when, and whether it was allowed."""

from __future__ import annotations

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


class AuditRepo:
    def __init__(self, conn: aiosqlite.Connection) -> None:
        self.conn = conn

    async def add(self, entry: AuditEntry) -> None:
        await self.conn.execute(
            "INSERT INTO audit_log (at, actor, action, target, outcome, detail) "
            "VALUES (?, ?, ?, ?, ?, ?)",
            (entry.at.isoformat(), entry.actor, entry.action, entry.target, entry.outcome,
             entry.detail),
        )

    async def forget_actor(self, actor: str, pseudonym: str) -> None:
        """For an erased person: drop their refused attempts and pseudonymise what they did.

        Actions they were allowed to take (as a coordinator, say) stay in the trail for
        accountability, under a pseudonym instead of their identity.
        """
        await self.conn.execute(
            "DELETE FROM audit_log WHERE actor = ? AND outcome = 'denied'", (actor,))
        await self.conn.execute(
            "UPDATE audit_log SET actor = ? WHERE actor = ?", (pseudonym, actor))

    async def recent(self, limit: int = 50) -> list[AuditEntry]:
        async with self.conn.execute(
            "SELECT at, actor, action, target, outcome, detail FROM audit_log "
            "ORDER BY id DESC LIMIT ?",
            (limit,),
        ) as cur:
            rows = await cur.fetchall()
        return [AuditEntry(datetime.fromisoformat(r[0]), r[1], r[2], r[3], r[4], r[5])
                for r in rows]
