"""The durable inbox: every incoming update is recorded before it is confirmed to the channel."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import aiosqlite

# SQLite allows 32766 bound parameters; 5 per row.
_CHUNK = 500


@dataclass(frozen=True)
class InboxItem:
    id: int
    channel: str
    external_id: str
    sender: str | None
    payload: str


@dataclass(frozen=True)
class NewUpdate:
    external_id: str
    sender: str | None
    payload: str


class InboxRepo:
    def __init__(self, conn: aiosqlite.Connection) -> None:
        self.conn = conn

    async def record(self, channel: str, updates: list[NewUpdate], now: datetime
                     ) -> list[InboxItem]:
        """Store updates not seen before; return only the new ones (re-deliveries are skipped)."""
        fresh: list[InboxItem] = []
        for start in range(0, len(updates), _CHUNK):
            chunk = updates[start:start + _CHUNK]
            rows = ", ".join("(?, ?, ?, ?, ?)" for _ in chunk)
            params: list[object] = []
            for u in chunk:
                params += [channel, u.external_id, u.sender, u.payload, now.isoformat()]
            async with self.conn.execute(
                "INSERT INTO inbox (channel, external_id, sender, payload, received_at) "
                f"VALUES {rows} ON CONFLICT (channel, external_id) DO NOTHING "
                "RETURNING id, external_id",
                params,
            ) as cur:
                inserted = {row[1]: row[0] for row in await cur.fetchall()}
            for u in chunk:
                if u.external_id in inserted:
                    fresh.append(InboxItem(inserted.pop(u.external_id), channel, u.external_id,
                                           u.sender, u.payload))
        return fresh

    async def pending(self, channel: str) -> list[InboxItem]:
        """Updates recorded but not finished (e.g. when the process died), oldest first."""
        async with self.conn.execute(
            "SELECT id, channel, external_id, sender, payload FROM inbox "
            "WHERE channel = ? AND status = 'pending' ORDER BY id",
            (channel,),
        ) as cur:
            rows = await cur.fetchall()
        return [InboxItem(r[0], r[1], r[2], r[3], r[4]) for r in rows]

    async def finish(self, item_id: int, now: datetime, error: str | None = None) -> None:
        """Mark an update handled; drop its payload and sender (personal data, no longer needed).

        Only (channel, external_id) stays, to recognise a re-delivery until the retention ends.
        """
        await self.conn.execute(
            "UPDATE inbox SET status = ?, payload = NULL, sender = NULL, done_at = ?, error = ? "
            "WHERE id = ?",
            ("failed" if error else "done", now.isoformat(), error, item_id),
        )

    async def forget_sender(self, sender: str) -> None:
        """Drop stored payloads of a person who erased their data."""
        await self.conn.execute(
            "UPDATE inbox SET payload = NULL, sender = NULL "
            "WHERE sender = ? AND status != 'pending'",
            (sender,),
        )

    async def purge(self, finished_before: datetime) -> int:
        """Delete finished rows older than the retention (their ids no longer needed)."""
        cur = await self.conn.execute(
            "DELETE FROM inbox WHERE status != 'pending' AND done_at < ?",
            (finished_before.isoformat(),),
        )
        return cur.rowcount

    async def count(self, channel: str, status: str) -> int:
        async with self.conn.execute(
            "SELECT COUNT(*) FROM inbox WHERE channel = ? AND status = ?", (channel, status)
        ) as cur:
            row = await cur.fetchone()
        return int(row[0])
