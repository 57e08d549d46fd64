"""The aiosqlite connection and its single serialised writer.

Reads use ``db.conn`` directly. Every write goes through ``await db.write(fn)``: writes from
concurrent handlers are queued and committed together (group commit), each inside its own
savepoint so one failing write does not undo the others. The writer has a connection of its
own, so a read never sees a write that is half done (WAL lets both work at once).

Files are private: the database (and SQLite's -wal and -shm files, which take its mode) is
created 0600 in a directory created 0700, and deleted content is overwritten with zeros
(``secure_delete``); ``checkpoint`` empties the WAL, so erased data is gone from the disk.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import stat
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, TypeVar

import aiosqlite

T = TypeVar("T")
WriteFn = Callable[[aiosqlite.Connection], Awaitable[T]]

log = logging.getLogger(__name__)

MAX_BATCH = 512
_STOP: Any = (None, None)


async def _checkpoint_marker(conn: aiosqlite.Connection) -> None:  # never called: a marker
    raise AssertionError


def private_file(path: Path) -> None:
    """Create ``path`` (and its directory) private to this user: file 0600, new dir 0700.

    An existing file is made 0600; an existing directory open to others is only reported."""
    parent = path.parent
    if not parent.exists():
        parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        os.chmod(parent, 0o700)  # mkdir's mode is filtered by the umask
    elif parent.stat().st_mode & 0o077:
        log.warning("%s can be read by other users of this machine; chmod 700 it", parent)
    fd = os.open(path, os.O_CREAT | os.O_RDWR, 0o600)
    os.close(fd)
    for name in (path, Path(f"{path}-wal"), Path(f"{path}-shm")):  # older, looser modes
        if name.exists() and stat.S_IMODE(name.stat().st_mode) != 0o600:
            os.chmod(name, 0o600)


class Database:
    def __init__(self, conn: aiosqlite.Connection,
                 writer: aiosqlite.Connection | None = None) -> None:
        self.conn = conn  # reads: sees committed data only
        self.wconn = writer or conn  # the writer's connection
        self._queue: asyncio.Queue[tuple[WriteFn[Any], asyncio.Future[Any]]] = asyncio.Queue()
        self._writer: asyncio.Task[None] | None = None
        self._closed = False

    @classmethod
    async def open(cls, path: Path | str) -> Database:
        """Open (creating if needed) the SQLite file in WAL mode."""
        if str(path) != ":memory:":
            private_file(Path(path))
        conn = await cls._connect(path)
        writer = await cls._connect(path) if str(path) != ":memory:" else None
        db = cls(conn, writer)
        db._writer = asyncio.create_task(db._write_loop(), name="db-writer")
        return db

    @staticmethod
    async def _connect(path: Path | str) -> aiosqlite.Connection:
        conn = await aiosqlite.connect(str(path), isolation_level=None)
        conn.row_factory = aiosqlite.Row
        await conn.execute("PRAGMA journal_mode=WAL")
        await conn.execute("PRAGMA synchronous=FULL")  # a confirmed update survives power loss
        await conn.execute("PRAGMA foreign_keys=ON")
        await conn.execute("PRAGMA busy_timeout=5000")
        await conn.execute("PRAGMA secure_delete=ON")  # deleted rows are overwritten with zeros
        return conn

    async def close(self) -> None:
        if self._writer is not None:
            # queued writes finish first: the stop marker is behind them in the queue
            self._queue.put_nowait(_STOP)
            await self._writer
            self._writer = None
        self._closed = True
        while not self._queue.empty():  # anything queued after the marker
            _, future = self._queue.get_nowait()
            if future is not None and not future.done():
                future.set_exception(RuntimeError("the database is closed"))
        if self.wconn is not self.conn:
            await self.wconn.close()
        await self.conn.close()

    async def write(self, fn: WriteFn[T]) -> T:
        """Run ``fn(conn)`` in a write transaction and return its result once committed."""
        if self._closed or (self._writer is not None and self._writer.done()):
            raise RuntimeError("the database is closed")
        future: asyncio.Future[T] = asyncio.get_running_loop().create_future()
        self._queue.put_nowait((fn, future))
        return await future

    async def checkpoint(self) -> None:
        """Copy the WAL into the database file and truncate it to nothing (after an erasure:
        older copies of the erased pages would otherwise stay in the WAL file)."""
        await self.write(_checkpoint_marker)

    async def _truncate_wal(self) -> None:
        for _ in range(50):  # a reader in the middle of a query holds old pages for a moment
            async with self.wconn.execute("PRAGMA wal_checkpoint(TRUNCATE)") as cur:
                row = await cur.fetchone()
            if row is None or row[0] == 0:
                return
            await asyncio.sleep(0.02)
        log.warning("could not empty the WAL (a reader stays busy); it is emptied later")

    async def _write_loop(self) -> None:
        stopping = False
        while not stopping:
            batch = [await self._queue.get()]
            while not self._queue.empty() and len(batch) < MAX_BATCH:
                batch.append(self._queue.get_nowait())
            if _STOP in batch:
                stopping = True
                batch = [item for item in batch if item is not _STOP]
            checkpoints = [f for fn, f in batch if fn is _checkpoint_marker]
            batch = [item for item in batch if item[0] is not _checkpoint_marker]
            if not batch:
                await self._finish_checkpoints(checkpoints)
                if stopping:
                    break
                continue
            try:
                results = await self._commit_batch(batch)
            except asyncio.CancelledError:
                for _, future in batch:
                    if not future.done():
                        future.cancel()
                raise
            except Exception:
                # SQLite gave up on the whole transaction (disk full, I/O error) or COMMIT
                # failed: try each write on its own so only the culprit fails.
                results = [await self._commit_one(fn, future) for fn, future in batch]
            for future, value, error in results:
                if future.done():
                    continue
                if error is None:
                    future.set_result(value)
                else:
                    future.set_exception(error)
            await self._finish_checkpoints(checkpoints)

    async def _finish_checkpoints(self, waiting: list[asyncio.Future[Any]]) -> None:
        if not waiting:
            return
        try:
            await self._truncate_wal()
        except Exception as exc:
            for future in waiting:
                if not future.done():
                    future.set_exception(exc)
            return
        for future in waiting:
            if not future.done():
                future.set_result(None)

    async def _commit_batch(self, batch: list[tuple[WriteFn[Any], asyncio.Future[Any]]]
                            ) -> list[tuple[asyncio.Future[Any], Any, BaseException | None]]:
        results: list[tuple[asyncio.Future[Any], Any, BaseException | None]] = []
        await self.wconn.execute("BEGIN IMMEDIATE")
        try:
            for fn, future in batch:
                await self.wconn.execute("SAVEPOINT w")
                try:
                    value = await fn(self.wconn)
                except Exception as exc:  # one failing write must not undo the others
                    if not self.wconn.in_transaction:
                        raise  # SQLite rolled back everything: fall back to one by one
                    await self.wconn.execute("ROLLBACK TO w")
                    await self.wconn.execute("RELEASE w")
                    results.append((future, None, exc))
                else:
                    await self.wconn.execute("RELEASE w")
                    results.append((future, value, None))
            await self.wconn.execute("COMMIT")
        except BaseException:
            if self.wconn.in_transaction:
                with contextlib.suppress(Exception):
                    await self.wconn.execute("ROLLBACK")
            raise
        return results

    async def _commit_one(self, fn: WriteFn[Any], future: asyncio.Future[Any]
                          ) -> tuple[asyncio.Future[Any], Any, BaseException | None]:
        try:
            await self.wconn.execute("BEGIN IMMEDIATE")
            value = await fn(self.wconn)
            await self.wconn.execute("COMMIT")
        except Exception as exc:
            if self.wconn.in_transaction:
                with contextlib.suppress(Exception):
                    await self.wconn.execute("ROLLBACK")
            return future, None, exc
        return future, value, None
