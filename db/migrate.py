"""Apply the ordered SQL files in db/migrations/ and record each in ``schema_version``."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from importlib import resources

import aiosqlite

from db.database import Database

_NAME = re.compile(r"^(\d{4})_[a-z0-9_]+\.sql$")


def available() -> list[tuple[int, str, str]]:
    """Return (version, file name, SQL) for every migration, in order."""
    found = []
    for entry in resources.files("db").joinpath("migrations").iterdir():
        match = _NAME.match(entry.name)
        if match:
            found.append((int(match.group(1)), entry.name, entry.read_text(encoding="utf-8")))
    found.sort()
    versions = [v for v, _, _ in found]
    if len(set(versions)) != len(versions):
        raise RuntimeError("two migrations share a version number")
    return found


async def current_version(conn: aiosqlite.Connection) -> int:
    await conn.execute(
        "CREATE TABLE IF NOT EXISTS schema_version ("
        " version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)"
    )
    async with conn.execute("SELECT MAX(version) FROM schema_version") as cur:
        row = await cur.fetchone()
    return int(row[0] or 0)


async def migrate(db: Database) -> list[str]:
    """Apply pending migrations; return the names applied."""
    applied: list[str] = []
    version = await current_version(db.conn)
    for number, name, sql in available():
        if number <= version:
            continue

        async def apply(conn: aiosqlite.Connection, sql: str = sql, number: int = number,
                        name: str = name) -> None:
            for statement in _statements(sql):
                await conn.execute(statement)
            await conn.execute(
                "INSERT INTO schema_version (version, name, applied_at) VALUES (?, ?, ?)",
                (number, name, datetime.now(UTC).isoformat()),
            )

        await db.write(apply)
        applied.append(name)
    return applied


def _statements(sql: str) -> list[str]:
    lines = [line.split("--", 1)[0] for line in sql.splitlines()]
    return [s.strip() for s in "\n".join(lines).split(";") if s.strip()]
