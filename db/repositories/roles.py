"""Role grants: coordinator (scoped to an RT or RW), moderator, admin."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import aiosqlite


@dataclass(frozen=True)
class Grant:
    role: str
    area_code: str = ""  # RT or RW code for coordinators


@dataclass(frozen=True)
class GrantRecord:
    identity: str
    role: str
    area_code: str
    granted_by: str
    granted_at: datetime


class RolesRepo:
    def __init__(self, conn: aiosqlite.Connection) -> None:
        self.conn = conn

    async def grants_of(self, identity: str) -> list[Grant]:
        async with self.conn.execute(
            "SELECT role, area_code FROM role_grant WHERE identity = ? ORDER BY id", (identity,)
        ) as cur:
            return [Grant(r[0], r[1]) for r in await cur.fetchall()]

    async def grant(self, identity: str, grant: Grant, by: str, now: datetime,
                    name: str = "") -> bool:
        """Add a grant (``name`` signs the holder's notices); False if it already existed."""
        cur = await self.conn.execute(
            "INSERT INTO role_grant (identity, role, area_code, granted_by, granted_at, "
            "display_name) VALUES (?, ?, ?, ?, ?, ?) "
            "ON CONFLICT (identity, role, area_code) DO NOTHING",
            (identity, grant.role, grant.area_code, by, now.isoformat(), name),
        )
        if cur.rowcount != 1 and name:
            await self.conn.execute(
                "UPDATE role_grant SET display_name = ? WHERE identity = ? AND role = ? AND "
                "area_code = ?", (name, identity, grant.role, grant.area_code))
        return cur.rowcount == 1

    async def display_name(self, identity: str) -> str:
        """The name a person signs notices with ('' when none was given)."""
        async with self.conn.execute(
            "SELECT display_name FROM role_grant WHERE identity = ? AND display_name != '' "
            "ORDER BY id LIMIT 1", (identity,)
        ) as cur:
            row = await cur.fetchone()
        return row[0] if row else ""

    async def holders(self, role: str) -> list[str]:
        """Identities holding ``role``."""
        async with self.conn.execute(
            "SELECT DISTINCT identity FROM role_grant WHERE role = ? ORDER BY identity", (role,)
        ) as cur:
            return [r[0] for r in await cur.fetchall()]

    async def holders_in(self, role: str, area_codes: list[str]) -> list[str]:
        """Identities holding ``role`` for one of these area codes (exactly those codes)."""
        if not area_codes:
            return []
        marks = ", ".join("?" for _ in area_codes)
        async with self.conn.execute(
            f"SELECT DISTINCT identity FROM role_grant WHERE role = ? AND area_code IN "
            f"({marks}) ORDER BY identity", (role, *area_codes)
        ) as cur:
            return [r[0] for r in await cur.fetchall()]

    async def revoke(self, identity: str, grant: Grant) -> bool:
        cur = await self.conn.execute(
            "DELETE FROM role_grant WHERE identity = ? AND role = ? AND area_code = ?",
            (identity, grant.role, grant.area_code),
        )
        await self._drop_waiting_if_no_role(identity)
        return cur.rowcount > 0

    async def revoke_all(self, identity: str) -> int:
        cur = await self.conn.execute("DELETE FROM role_grant WHERE identity = ?", (identity,))
        await self._drop_waiting_if_no_role(identity)
        return cur.rowcount

    async def _drop_waiting_if_no_role(self, identity: str) -> None:
        """Alerts kept for someone who has not started the bot were sent to them for a role:
        once they hold none, they must not get them (a review request shows the notice)."""
        await self.conn.execute(
            "DELETE FROM waiting_message WHERE identity = ? AND NOT EXISTS "
            "(SELECT 1 FROM role_grant WHERE identity = ?)", (identity, identity))

    async def forget(self, identity: str, pseudonym: str) -> int:
        """Erasure: drop the person's grants (and the names they signed with); grants they
        gave others stay, given by ``pseudonym``. Returns how many grants they held."""
        held = await self.revoke_all(identity)
        await self.conn.execute(
            "UPDATE role_grant SET granted_by = ? WHERE granted_by = ?", (pseudonym, identity))
        return held

    async def all(self) -> list[GrantRecord]:
        async with self.conn.execute(
            "SELECT identity, role, area_code, granted_by, granted_at FROM role_grant "
            "ORDER BY role, area_code, identity"
        ) as cur:
            rows = await cur.fetchall()
        return [GrantRecord(r[0], r[1], r[2], r[3], datetime.fromisoformat(r[4])) for r in rows]
