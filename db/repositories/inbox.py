"""The durable inbox: every incoming update is recorded before it is confirmed to the channel."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import aiosqlite

# SQLite allows 32766 bound parameters; 8 per row.
_CHUNK = 500
RATE_LIMITED = "rate limited"  # the reason kept with updates beyond a person's allowance


@dataclass(frozen=True)
class InboxItem:
    id: int
    channel: str
    external_id: str
    sender: str | None
    payload: str
    received_at: datetime | None = None
    limited: bool = False  # beyond the sender's allowance: answered "slow down", not handled


@dataclass(frozen=True)
class NewUpdate:
    external_id: str
    sender: str | None
    payload: str
    # "" an update to handle; "warn": beyond the allowance, to be answered "slow down" (kept
    # pending until then); "drop": beyond the allowance, recorded as done without its payload
    limit: str = ""


class InboxRepo:
    def __init__(self, conn: aiosqlite.Connection) -> None:
        self.conn = conn

    async def record(self, channel: str, updates: list[NewUpdate], now: datetime
                     ) -> list[InboxItem]:
        """Store updates not seen before; return the new ones to handle (re-deliveries are
        skipped; a "drop" update is stored as done, without payload or sender, and not
        returned)."""
        fresh: list[InboxItem] = []
        at = now.isoformat()
        for start in range(0, len(updates), _CHUNK):
            chunk = updates[start:start + _CHUNK]
            rows = ", ".join("(?, ?, ?, ?, ?, ?, ?, ?)" for _ in chunk)
            params: list[object] = []
            for u in chunk:
                if u.limit == "drop":
                    params += [channel, u.external_id, None, None, "done", at, at, RATE_LIMITED]
                else:
                    params += [channel, u.external_id, u.sender, u.payload, "pending", at, None,
                               RATE_LIMITED if u.limit else None]
            async with self.conn.execute(
                "INSERT INTO inbox (channel, external_id, sender, payload, status, received_at, "
                f"done_at, error) VALUES {rows} ON CONFLICT (channel, external_id) DO NOTHING "
                "RETURNING id, external_id",
                params,
            ) as cur:
                inserted = {row[1]: row[0] for row in await cur.fetchall()}
            for u in chunk:
                if u.external_id in inserted:
                    item_id = inserted.pop(u.external_id)
                    if u.limit != "drop":
                        fresh.append(InboxItem(item_id, channel, u.external_id, u.sender,
                                               u.payload, now, u.limit == "warn"))
        return fresh

    async def pending(self, channel: str, after_id: int = 0, limit: int | None = None
                      ) -> list[InboxItem]:
        """Updates recorded but not finished (e.g. when the process died), oldest first: those
        after ``after_id``, at most ``limit`` of them (a page; None: all)."""
        sql = ("SELECT id, channel, external_id, sender, payload, received_at, error FROM inbox "
               "WHERE channel = ? AND status = 'pending' AND id > ? ORDER BY id")
        params: tuple[object, ...] = (channel, after_id)
        if limit is not None:
            sql, params = f"{sql} LIMIT ?", (*params, limit)
        async with self.conn.execute(sql, params) as cur:
            rows = await cur.fetchall()
        return [InboxItem(r[0], r[1], r[2], r[3], r[4], datetime.fromisoformat(r[5]),
                          r[6] == RATE_LIMITED) for r in rows]

    async def finish(self, item_id: int, now: datetime, error: str | None = None,
                     status: str | None = None) -> None:
        """Mark an update handled; drop its payload and sender (personal data, no longer needed).

        ``status`` is "failed" when there is an ``error``, else "done" (also "done" with a
        reason, such as updates beyond a person's allowance). Only (channel, external_id)
        stays, to recognise a re-delivery until the retention ends.
        """
        await self.conn.execute(
            "UPDATE inbox SET status = ?, payload = NULL, sender = NULL, done_at = ?, error = ? "
            "WHERE id = ?",
            (status or ("failed" if error else "done"), now.isoformat(), error, item_id),
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
