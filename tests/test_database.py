"""The group-committing writer: failures stay with the write that caused them."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path

import pytest

from db.database import MAX_QUEUE, Database
from db.errors import StorageFull


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


async def test_a_lock_held_longer_than_busy_timeout_is_waited_out(tmp_path: Path,
                                                                  caplog) -> None:
    """Another connection holds the write lock ten times longer than busy_timeout: the
    writes wait and are committed once it goes, with one line logged when waiting starts."""
    db = await open_db(tmp_path)
    await db.write(lambda c: c.execute("PRAGMA busy_timeout=50"))
    other = sqlite3.connect(tmp_path / "w.db", isolation_level=None, check_same_thread=False)
    try:
        other.execute("BEGIN EXCLUSIVE")
        writes = asyncio.gather(*(db.write(lambda c, v=v: c.execute(
            "INSERT INTO t VALUES (?)", (v,))) for v in range(20)))
        await asyncio.sleep(0.5)
        assert not writes.done() and await values(db) == []
        other.execute("COMMIT")
        await asyncio.wait_for(writes, 5)
        assert await values(db) == list(range(20))
    finally:
        other.close()
        await db.close()
    locked = [r for r in caplog.records if "database is locked" in r.getMessage()]
    assert len(locked) == 1
    assert any("lock released" in r.getMessage() for r in caplog.records)


async def test_the_write_queue_is_bounded_and_producers_wait(tmp_path: Path) -> None:
    db = await open_db(tmp_path)
    await db.write(lambda c: c.execute("PRAGMA busy_timeout=50"))
    other = sqlite3.connect(tmp_path / "w.db", isolation_level=None, check_same_thread=False)
    try:
        other.execute("BEGIN EXCLUSIVE")  # the writer is stuck: the queue fills up
        n = 3 * MAX_QUEUE
        tasks = [asyncio.create_task(db.write(lambda c, v=v: c.execute(
            "INSERT INTO t VALUES (?)", (v,)))) for v in range(n)]
        await asyncio.sleep(0.3)
        assert db.queued == MAX_QUEUE  # the rest wait to be queued: memory stays bounded
        assert not any(task.done() for task in tasks)
        other.execute("COMMIT")
        await asyncio.wait_for(asyncio.gather(*tasks), 10)
        assert await values(db) == list(range(n))
    finally:
        other.close()
        await db.close()


async def test_closing_does_not_wait_forever_for_someone_elses_lock(tmp_path: Path) -> None:
    db = await open_db(tmp_path)
    await db.write(lambda c: c.execute("PRAGMA busy_timeout=50"))
    other = sqlite3.connect(tmp_path / "w.db", isolation_level=None, check_same_thread=False)
    try:
        other.execute("BEGIN EXCLUSIVE")
        stuck = asyncio.create_task(db.write(lambda c: c.execute("INSERT INTO t VALUES (1)")))
        await asyncio.sleep(0.2)
        await asyncio.wait_for(db.close(), 5)
        with pytest.raises(sqlite3.OperationalError, match="locked"):
            await stuck
    finally:
        other.close()


async def test_a_full_disk_raises_storage_full_logged_once_and_writes_go_on_after(
        tmp_path: Path, caplog) -> None:
    """SQLite's own SQLITE_FULL, from a size cap (``max_page_count``) as from a full disk."""
    db = await open_db(tmp_path)
    try:
        async def cap(conn) -> None:
            async with conn.execute("PRAGMA page_count") as cur:
                pages = (await cur.fetchone())[0]
            await conn.execute(f"PRAGMA max_page_count={pages + 2}")

        await db.write(cap)
        big = "x" * 3000
        await db.write(lambda c: c.execute("CREATE TABLE blob (v TEXT)"))
        results = await asyncio.gather(
            *(db.write(lambda c: c.execute("INSERT INTO blob VALUES (?)", (big,)))
              for _ in range(6)), return_exceptions=True)
        assert any(isinstance(r, StorageFull) for r in results)
        assert db.full
        with pytest.raises(StorageFull, match="full"):
            await db.write(lambda c: c.execute("INSERT INTO blob VALUES (?)", (big,)))
        await db.write(lambda c: c.execute("PRAGMA max_page_count=1000000"))  # space freed
        await db.write(lambda c: c.execute("INSERT INTO blob VALUES (?)", (big,)))
        assert not db.full
    finally:
        await db.close()
    full = [r for r in caplog.records if "disk is full" in r.getMessage()]
    assert len(full) == 1 and str(tmp_path) in full[0].getMessage()
    assert any("room again" in r.getMessage() for r in caplog.records)
