"""The outgoing-message queue: one row per message to one chat, claimed by senders.

Rows are written in the same transaction as whatever decided to send them (a notice's
fan-out, a moderator's decision). A sender claims due rows (status ``sending``), sends them
and records the outcome; rows left ``sending`` by a sender that died are queued again.
``attempts`` counts the answers about the message itself (sent, refused, an unexplained
error), not the times the channel could not be reached or asked us to wait.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import aiosqlite

SYSTEM, URGENT, REGULAR = 0, 1, 2  # priorities: lower goes first
FINAL = ("sent", "failed", "blocked", "skipped", "cancelled")
UNREACHABLE = "unreachable"  # how the reason of a row held back by an outage starts


@dataclass(frozen=True)
class OutboxItem:
    id: int
    channel: str
    address: str
    person_id: int | None
    lang: str
    kind: str
    ref_id: int | None
    payload: dict[str, Any] | None
    priority: int
    quiet: bool
    attempts: int


@dataclass(frozen=True)
class ProgressMessage:
    """Where the author's progress message of a run is, to edit it."""

    channel: str
    address: str
    lang: str
    message_id: str


@dataclass(frozen=True)
class Outcome:
    """What happened to one claimed row."""

    id: int
    status: str  # sent | failed | blocked | queued (try again)
    reason: str = ""
    external_id: str | None = None
    retry_at: datetime | None = None  # for status "queued"
    refund: bool = False  # no answer about the message (held, limited): not an attempt


@dataclass(frozen=True)
class GaveUp:
    """Rows of one kind and reference given up together."""

    kind: str
    ref_id: int | None
    count: int
    unreachable: int  # of them, held back by an outage of the channel (their last answer)


@dataclass(frozen=True)
class RunCounts:
    total: int = 0
    sent: int = 0
    failed: int = 0
    blocked: int = 0
    skipped: int = 0
    cancelled: int = 0
    queued: int = 0
    sending: int = 0
    deferred: int = 0  # queued and held back by quiet hours

    @property
    def done(self) -> int:
        return self.sent + self.failed + self.blocked + self.skipped + self.cancelled


_COLUMNS = ("id, channel, address, person_id, lang, kind, ref_id, payload, priority, quiet, "
            "attempts")


def _item(row: aiosqlite.Row | tuple[Any, ...]) -> OutboxItem:
    return OutboxItem(
        id=row[0], channel=row[1], address=row[2], person_id=row[3], lang=row[4], kind=row[5],
        ref_id=row[6], payload=json.loads(row[7]) if row[7] else None, priority=row[8],
        quiet=bool(row[9]), attempts=row[10],
    )


def _only(addresses: list[str] | None) -> tuple[str, list[str]]:
    """The condition keeping rows to ``addresses`` (none when not given)."""
    if addresses is None:
        return "", []
    return f" AND address IN ({', '.join('?' for _ in addresses) or 'NULL'})", list(addresses)


class OutboxRepo:
    def __init__(self, conn: aiosqlite.Connection) -> None:
        self.conn = conn

    async def enqueue(self, *, channel: str, address: str, lang: str, kind: str,
                      now: datetime, person_id: int | None = None, ref_id: int | None = None,
                      payload: dict[str, Any] | None = None, priority: int = SYSTEM,
                      quiet: bool = False, not_before: datetime | None = None) -> int:
        """Queue one message (inside a write); return its row id."""
        async with self.conn.execute(
            "INSERT INTO outbox (channel, address, person_id, lang, kind, ref_id, payload, "
            "priority, quiet, not_before, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
            "RETURNING id",
            (channel, address, person_id, lang, kind, ref_id,
             json.dumps(payload, ensure_ascii=False) if payload is not None else None,
             priority, int(quiet), (not_before or now).isoformat(), now.isoformat()),
        ) as cur:
            row = await cur.fetchone()
        return int(row[0])

    async def claim(self, channel: str, worker: str, now: datetime, limit: int,
                    quiet_hours: bool, addresses: list[str] | None = None
                    ) -> list[OutboxItem]:
        """Mark up to ``limit`` due rows as being sent by ``worker`` and return them (a claim
        is not an attempt: the outcome says whether it was); only rows to ``addresses``
        when given (a console serves the person at its keyboard)."""
        quiet = " AND quiet = 0" if quiet_hours else ""
        only, only_args = _only(addresses)
        sql = (
            "UPDATE outbox SET status = 'sending', claimed_by = ?, claimed_at = ? "
            "WHERE id IN (SELECT id FROM outbox WHERE channel = ? "
            f"AND status = 'queued' AND not_before <= ?{quiet}{only} ORDER BY priority, id "
            f"LIMIT ?) RETURNING {_COLUMNS}"
        )
        async with self.conn.execute(
            sql, (worker, now.isoformat(), channel, now.isoformat(), *only_args, limit)
        ) as cur:
            rows = await cur.fetchall()
        return sorted((_item(r) for r in rows), key=lambda i: (i.priority, i.id))

    async def defer_quiet(self, channel: str, now: datetime, until: datetime) -> int:
        """Hold every due regular row back until the end of quiet hours."""
        cur = await self.conn.execute(
            "UPDATE outbox SET deferred = 1, not_before = ? WHERE channel = ? AND "
            "status = 'queued' AND quiet = 1 AND not_before <= ?",
            (until.isoformat(), channel, now.isoformat()),
        )
        return cur.rowcount

    async def next_due(self, channel: str, addresses: list[str] | None = None
                       ) -> datetime | None:
        """When the earliest queued row (to ``addresses``, when given) becomes due."""
        only, only_args = _only(addresses)
        async with self.conn.execute(
            f"SELECT MIN(not_before) FROM outbox WHERE channel = ? AND status = 'queued'{only}",
            (channel, *only_args),
        ) as cur:
            row = await cur.fetchone()
        return datetime.fromisoformat(row[0]) if row and row[0] else None

    async def progress_message(self, run_id: int) -> ProgressMessage | None:
        """The author's progress message of a run, once it has been sent."""
        async with self.conn.execute(
            "SELECT channel, address, lang, external_id FROM outbox WHERE kind = 'progress' "
            "AND ref_id = ? AND status = 'sent' AND external_id IS NOT NULL", (run_id,)
        ) as cur:
            row = await cur.fetchone()
        return ProgressMessage(*row) if row else None

    async def progress_pending(self, run_id: int) -> bool:
        """Whether the author's progress message for a run has yet to be sent."""
        async with self.conn.execute(
            "SELECT 1 FROM outbox WHERE kind = 'progress' AND ref_id = ? AND status IN "
            "('queued', 'sending')", (run_id,)
        ) as cur:
            return await cur.fetchone() is not None

    async def next_due_of_run(self, run_id: int) -> datetime | None:
        async with self.conn.execute(
            "SELECT MIN(not_before) FROM outbox WHERE ref_id = ? AND kind = 'notice' AND "
            "status = 'queued'", (run_id,)
        ) as cur:
            row = await cur.fetchone()
        return datetime.fromisoformat(row[0]) if row and row[0] else None

    async def record(self, outcomes: list[Outcome], now: datetime) -> None:
        """Store what happened to claimed rows."""
        # a message cancelled while it was already on its way still counts as what happened
        done = [(o.status, o.reason or None, o.external_id, now.isoformat(), int(not o.refund),
                 o.id, "cancelled" if o.status == "sent" else "sending")
                for o in outcomes if o.status != "queued"]
        again = [(o.reason or None, (o.retry_at or now).isoformat(), int(not o.refund), o.id)
                 for o in outcomes if o.status == "queued"]
        if done:
            await self.conn.executemany(
                "UPDATE outbox SET status = ?, reason = ?, external_id = ?, sent_at = ?, "
                "attempts = attempts + ?, claimed_by = NULL WHERE id = ? AND "
                "status IN ('sending', ?)", done)
        if again:
            await self.conn.executemany(
                "UPDATE outbox SET status = 'queued', reason = ?, not_before = ?, "
                "attempts = attempts + ?, claimed_by = NULL WHERE id = ? AND status = 'sending'",
                again)

    async def release(self, channel: str, stale_before: datetime | None = None,
                      worker: str | None = None) -> int:
        """Queue again rows claimed by a sender that stopped (all of ``channel``'s, or the
        ones claimed before ``stale_before``, or by ``worker``)."""
        # no attempt: most of these never left, and none got an answer we know of
        sql = "UPDATE outbox SET status = 'queued', claimed_by = NULL WHERE channel = ? AND " \
              "status = 'sending'"
        args: list[Any] = [channel]
        if stale_before is not None:
            sql += " AND claimed_at < ?"
            args.append(stale_before.isoformat())
        if worker is not None:
            sql += " AND claimed_by = ?"
            args.append(worker)
        cur = await self.conn.execute(sql, args)
        return cur.rowcount

    async def oldest_queued(self, channel: str) -> datetime | None:
        """When the oldest row of ``channel`` still queued was queued."""
        async with self.conn.execute(
            "SELECT MIN(created_at) FROM outbox WHERE channel = ? AND status = 'queued'",
            (channel,),
        ) as cur:
            row = await cur.fetchone()
        return datetime.fromisoformat(row[0]) if row and row[0] else None

    async def give_up(self, channel: str, queued_before: datetime, now: datetime,
                      reason: str) -> list[GaveUp]:
        """Fail the rows of ``channel`` still queued that were queued before
        ``queued_before`` (not those held back by quiet hours until after ``now``); their
        reason becomes ``reason`` followed by their last error. A run with such a row in
        flight waits for the next time, so its rows are given up together. Returns what was
        given up, by kind and reference (a notice's run)."""
        where = "channel = ? AND status = 'queued' AND created_at < ? AND " \
                "(deferred = 0 OR not_before <= ?) AND NOT (kind = 'notice' AND ref_id IN (" \
                "SELECT ref_id FROM outbox WHERE channel = ? AND status = 'sending' AND " \
                "kind = 'notice' AND created_at < ?))"
        args = (channel, queued_before.isoformat(), now.isoformat(), channel,
                queued_before.isoformat())
        async with self.conn.execute(
            "SELECT kind, ref_id, COUNT(*), SUM(COALESCE(reason, '') LIKE ?) FROM outbox "
            f"WHERE {where} GROUP BY kind, ref_id ORDER BY kind, ref_id",
            (f"{UNREACHABLE}:%", *args),
        ) as cur:
            found = [GaveUp(r[0], r[1], r[2], r[3]) for r in await cur.fetchall()]
        if found:
            await self.conn.execute(
                "UPDATE outbox SET status = 'failed', sent_at = ?, claimed_by = NULL, "
                f"reason = ? || COALESCE(reason, 'never sent') WHERE {where}",
                (now.isoformat(), reason, *args))
        return found

    async def drop_notices_to(self, person_id: int, reason: str, now: datetime,
                              regular_only: bool) -> int:
        """Skip the person's queued notices (they turned regular notices off, or moved)."""
        quiet = " AND quiet = 1" if regular_only else ""
        cur = await self.conn.execute(
            "UPDATE outbox SET status = 'skipped', reason = ?, sent_at = ? WHERE person_id = ? "
            f"AND kind = 'notice' AND status = 'queued'{quiet}",
            (reason, now.isoformat(), person_id))
        return cur.rowcount

    async def stop_to(self, address: str, channel: str, reason: str, now: datetime) -> int:
        """Mark every queued row to ``address`` as blocked (the person blocked the bot)."""
        cur = await self.conn.execute(
            "UPDATE outbox SET status = 'blocked', reason = ?, sent_at = ? WHERE channel = ? "
            "AND address = ? AND status = 'queued'",
            (reason, now.isoformat(), channel, address),
        )
        return cur.rowcount

    async def cancel_run(self, run_id: int, now: datetime) -> int:
        """Stop a run's messages that have not gone out: queued ones, and claimed ones still
        waiting for their turn (the sender looks for cancelled runs twice a second)."""
        cur = await self.conn.execute(
            "UPDATE outbox SET status = 'cancelled', sent_at = ? WHERE ref_id = ? AND "
            "kind = 'notice' AND status IN ('queued', 'sending')", (now.isoformat(), run_id))
        return cur.rowcount

    async def cancelled_runs(self, run_ids: list[int]) -> set[int]:
        """Which of these runs have been cancelled (their claimed messages must not go)."""
        if not run_ids:
            return set()
        marks = ", ".join("?" for _ in run_ids)
        async with self.conn.execute(
            f"SELECT DISTINCT ref_id FROM outbox WHERE ref_id IN ({marks}) AND "
            "kind = 'notice' AND status = 'cancelled'", run_ids,
        ) as cur:
            return {r[0] for r in await cur.fetchall()}

    async def readdress(self, channel: str, old: str, new: str) -> None:
        """A group moved to a new chat id (Telegram supergroup upgrade)."""
        await self.conn.execute(
            "UPDATE outbox SET address = ? WHERE channel = ? AND address = ? AND "
            "status IN ('queued', 'sending')", (new, channel, old))

    async def counts(self, run_id: int) -> RunCounts:
        async with self.conn.execute(
            "SELECT status, deferred, COUNT(*) FROM outbox WHERE ref_id = ? AND kind = 'notice' "
            "GROUP BY status, deferred", (run_id,)
        ) as cur:
            rows = await cur.fetchall()
        by: dict[str, int] = {}
        deferred = 0
        for status, was_deferred, n in rows:
            by[status] = by.get(status, 0) + n
            if status == "queued" and was_deferred:
                deferred += n
        return RunCounts(total=sum(by.values()), deferred=deferred,
                         **{k: v for k, v in by.items() if k in RunCounts.__dataclass_fields__})

    async def by_status(self, channel: str | None = None) -> dict[str, int]:
        sql = "SELECT status, COUNT(*) FROM outbox"
        args: tuple[Any, ...] = ()
        if channel:
            sql += " WHERE channel = ?"
            args = (channel,)
        async with self.conn.execute(sql + " GROUP BY status", args) as cur:
            return {r[0]: r[1] for r in await cur.fetchall()}

    async def forget_person(self, person_id: int) -> int:
        """Delete every row to this person (erasure)."""
        cur = await self.conn.execute("DELETE FROM outbox WHERE person_id = ?", (person_id,))
        return cur.rowcount

    async def purge(self, finished_before: datetime) -> int:
        """Delete rows in a final state since before ``finished_before``."""
        marks = ", ".join("?" for _ in FINAL)
        cur = await self.conn.execute(
            f"DELETE FROM outbox WHERE status IN ({marks}) AND sent_at < ?",
            (*FINAL, finished_before.isoformat()),
        )
        return cur.rowcount
