"""People and their conversation state, keyed by channel identity."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import aiosqlite


@dataclass
class Person:
    identity: str  # "telegram:12345"
    channel: str
    address: str  # chat id / phone the channel sends to
    created_at: datetime
    last_seen_at: datetime
    id: int | None = None
    language: str | None = None
    consent_version: str | None = None
    consent_at: datetime | None = None
    area_code: str | None = None
    notices_regular: bool = True
    active: bool = True

    @property
    def consented(self) -> bool:
        return self.consent_version is not None


@dataclass
class Conversation:
    flow: str | None = None
    step: str | None = None
    data: dict[str, Any] = field(default_factory=dict)

    def go(self, flow: str | None, step: str | None = None, **data: Any) -> None:
        """Move to ``flow``/``step``, replacing the collected answers with ``data``."""
        self.flow, self.step, self.data = flow, step, dict(data)

    def clear(self) -> None:
        self.go(None)


_PERSON_COLUMNS = (
    "p.id, p.identity, p.channel, p.address, p.language, p.consent_version, p.consent_at, "
    "p.area_code, p.notices_regular, p.active, p.created_at, p.last_seen_at"
)


def _dt(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


def _person(row: aiosqlite.Row) -> Person:
    return Person(
        id=row["id"],
        identity=row["identity"],
        channel=row["channel"],
        address=row["address"],
        language=row["language"],
        consent_version=row["consent_version"],
        consent_at=_dt(row["consent_at"]),
        area_code=row["area_code"],
        notices_regular=bool(row["notices_regular"]),
        active=bool(row["active"]),
        created_at=_dt(row["created_at"]),  # type: ignore[arg-type]
        last_seen_at=_dt(row["last_seen_at"]),  # type: ignore[arg-type]
    )


class PeopleRepo:
    def __init__(self, conn: aiosqlite.Connection) -> None:
        self.conn = conn

    async def load(self, identity: str) -> tuple[Person, Conversation] | None:
        """Return the person and their conversation state, or None for a newcomer."""
        sql = (
            f"SELECT {_PERSON_COLUMNS}, c.flow, c.step, c.data FROM person p "
            "LEFT JOIN conversation c ON c.person_id = p.id WHERE p.identity = ?"
        )
        async with self.conn.execute(sql, (identity,)) as cur:
            row = await cur.fetchone()
        if row is None:
            return None
        conv = Conversation(row["flow"], row["step"], json.loads(row["data"] or "{}"))
        return _person(row), conv

    async def get(self, identity: str) -> Person | None:
        async with self.conn.execute(
            f"SELECT {_PERSON_COLUMNS} FROM person p WHERE p.identity = ?", (identity,)
        ) as cur:
            row = await cur.fetchone()
        return _person(row) if row else None

    async def by_id(self, person_id: int) -> Person | None:
        async with self.conn.execute(
            f"SELECT {_PERSON_COLUMNS} FROM person p WHERE p.id = ?", (person_id,)
        ) as cur:
            row = await cur.fetchone()
        return _person(row) if row else None

    async def save(self, person: Person, conv: Conversation, now: datetime) -> Person:
        """Insert or update the person and their conversation state (inside a write)."""
        values = (
            person.channel, person.address, person.language, person.consent_version,
            person.consent_at.isoformat() if person.consent_at else None, person.area_code,
            int(person.notices_regular), int(person.active), now.isoformat(),
        )
        if person.id is None:
            async with self.conn.execute(
                "INSERT INTO person (channel, address, language, consent_version, consent_at, "
                "area_code, notices_regular, active, last_seen_at, identity, created_at) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
                "ON CONFLICT (identity) DO UPDATE SET channel = excluded.channel "
                "RETURNING id",
                (*values, person.identity, person.created_at.isoformat()),
            ) as cur:
                row = await cur.fetchone()
            person.id = row[0]
            await self._deliver_waiting(person, now)
        else:
            await self.conn.execute(
                "UPDATE person SET channel = ?, address = ?, language = ?, consent_version = ?, "
                "consent_at = ?, area_code = ?, notices_regular = ?, active = ?, "
                "last_seen_at = ? WHERE id = ?",
                (*values, person.id),
            )
        await self.conn.execute(
            "INSERT INTO conversation (person_id, flow, step, data, updated_at) "
            "VALUES (?, ?, ?, ?, ?) ON CONFLICT (person_id) DO UPDATE SET flow = excluded.flow, "
            "step = excluded.step, data = excluded.data, updated_at = excluded.updated_at",
            (person.id, conv.flow, conv.step, json.dumps(conv.data), now.isoformat()),
        )
        return person

    async def set_active(self, identity: str, active: bool) -> None:
        await self.conn.execute(
            "UPDATE person SET active = ? WHERE identity = ?", (int(active), identity)
        )

    async def deactivate(self, person_id: int) -> None:
        """The person blocked the bot (or their account is gone): send nothing until they
        write again."""
        await self.conn.execute("UPDATE person SET active = 0 WHERE id = ?", (person_id,))

    async def erase(self, identity: str) -> bool:
        """Delete the person, their conversation state and any message waiting for them;
        True if there was a record."""
        await self.conn.execute("DELETE FROM waiting_message WHERE identity = ?", (identity,))
        async with self.conn.execute(
            "SELECT id FROM person WHERE identity = ?", (identity,)
        ) as cur:
            row = await cur.fetchone()
        if row is None:
            return False
        await self.conn.execute("DELETE FROM conversation WHERE person_id = ?", (row[0],))
        await self.conn.execute("DELETE FROM person WHERE id = ?", (row[0],))
        return True

    # --- messages waiting for someone who has not started the bot yet ----------------------

    async def wait(self, identity: str, payloads: dict[str, list[dict[str, Any]]], now: datetime,
                   kind: str = "text", ref_id: int | None = None) -> None:
        """Keep messages (each language's replies) for ``identity`` until they first write."""
        await self.conn.execute(
            "INSERT INTO waiting_message (identity, kind, ref_id, payloads, created_at) "
            "VALUES (?, ?, ?, ?, ?)",
            (identity, kind, ref_id, json.dumps(payloads, ensure_ascii=False), now.isoformat()))

    async def waiting_for(self, identity: str) -> int:
        """How many messages wait for ``identity``."""
        async with self.conn.execute(
            "SELECT COUNT(*) FROM waiting_message WHERE identity = ?", (identity,)
        ) as cur:
            row = await cur.fetchone()
        return int(row[0])

    async def _deliver_waiting(self, person: Person, now: datetime) -> None:
        """A person record was just made: queue what waited for them, in their language (or
        the first language kept), and forget it. Any new record goes through here, so no
        caller can forget it."""
        from db.repositories.outbox import SYSTEM, OutboxRepo

        async with self.conn.execute(
            "SELECT kind, ref_id, payloads FROM waiting_message WHERE identity = ? ORDER BY id",
            (person.identity,),
        ) as cur:
            rows = await cur.fetchall()
        if not rows:
            return
        outbox = OutboxRepo(self.conn)
        for row in rows:
            payloads: dict[str, list[dict[str, Any]]] = json.loads(row["payloads"])
            lang = person.language if person.language in payloads else next(iter(payloads))
            for payload in payloads[lang]:
                await outbox.enqueue(
                    channel=person.channel, address=person.address, person_id=person.id,
                    lang=lang, kind=row["kind"], ref_id=row["ref_id"], payload=payload,
                    priority=SYSTEM, now=now)
        await self.conn.execute("DELETE FROM waiting_message WHERE identity = ?",
                                (person.identity,))

    async def unconsented(self, seen_before: datetime) -> list[Person]:
        """People who never agreed and have not written since ``seen_before``."""
        async with self.conn.execute(
            f"SELECT {_PERSON_COLUMNS} FROM person p WHERE p.consent_version IS NULL "
            "AND p.last_seen_at < ? ORDER BY p.id", (seen_before.isoformat(),),
        ) as cur:
            return [_person(row) for row in await cur.fetchall()]

    async def count_in_areas(self, area_codes: list[str]) -> int:
        if not area_codes:
            return 0
        marks = ", ".join("?" for _ in area_codes)
        async with self.conn.execute(
            f"SELECT COUNT(*) FROM person WHERE area_code IN ({marks}) AND active = 1",
            area_codes,
        ) as cur:
            row = await cur.fetchone()
        return int(row[0])
