"""The group-committing writer: failures stay with the write that caused them."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from db.database import Database


async def open_db(tmp_path: Path) -> Database:
    db = await Database.open(tmp_path / "w.db")
    await db.write(lambda c: c.execute("CREATE TABLE t (v INTEGER UNIQUE)"))
    return db


async def values(db: Database) -> list[int]:
    async with db.conn.execute("SELECT v FROM t ORDER BY v") as cur:
        return [r[0] for r in await cur.fetchall()]


async def test_a_failing_write_does_not_undo_the_others(tmp_path: Path) -> None:
    db = await open_db(tmp_path)
    try:
        writes = [db.write(lambda c, v=v: c.execute("INSERT INTO t VALUES (?)", (v,)))
                  for v in (1, 2, 2, 3)]  # the second 2 breaks the UNIQUE constraint
        results = await asyncio.gather(*writes, return_exceptions=True)
        assert [isinstance(r, Exception) for r in results] == [False, False, True, False]
        assert await values(db) == [1, 2, 3]
    finally:
        await db.close()


async def test_a_write_that_kills_the_transaction_fails_alone(tmp_path: Path) -> None:
    db = await open_db(tmp_path)

    async def wrecker(conn):  # like SQLite rolling back on a full disk
        await conn.execute("ROLLBACK")
        raise OSError("disk full")

    try:
        writes = [db.write(lambda c: c.execute("INSERT INTO t VALUES (1)")), db.write(wrecker),
                  db.write(lambda c: c.execute("INSERT INTO t VALUES (2)"))]
        results = await asyncio.gather(*writes, return_exceptions=True)
        assert isinstance(results[1], OSError) and str(results[1]) == "disk full"
        assert not isinstance(results[0], Exception) and not isinstance(results[2], Exception)
        assert await values(db) == [1, 2]
    finally:
        await db.close()


async def test_writing_after_close_raises_instead_of_hanging(tmp_path: Path) -> None:
    db = await open_db(tmp_path)
    await db.close()
    with pytest.raises(RuntimeError, match="closed"):
        await asyncio.wait_for(db.write(lambda c: c.execute("SELECT 1")), 2)


async def test_files_are_private_and_deleted_rows_leave_no_trace(tmp_path: Path) -> None:
    import stat

    path = tmp_path / "fresh" / "private.db"
    db = await Database.open(path)
    try:
        await db.write(lambda c: c.execute("CREATE TABLE t (v TEXT)"))
        secret = "telegram:987123456789"
        await db.write(lambda c: c.execute("INSERT INTO t VALUES (?)", (secret,)))
        await db.write(lambda c: c.execute("INSERT INTO t VALUES ('someone else')"))
        assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
        for name in (path, Path(f"{path}-wal")):
            assert stat.S_IMODE(name.stat().st_mode) == 0o600, name
        await db.write(lambda c: c.execute("DELETE FROM t WHERE v = ?", (secret,)))
        await db.checkpoint()
        files = [path, Path(f"{path}-wal")]
        assert all(secret.encode() not in f.read_bytes() for f in files if f.exists())
        assert b"someone else" in path.read_bytes()
    finally:
        await db.close()
