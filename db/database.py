"""The aiosqlite connection and its single serialised writer.

Reads use ``db.conn`` directly. Every write goes through ``await db.write(fn)``: writes from
concurrent handlers are queued and committed together (group commit), each inside its own
savepoint so one failing write does not undo the others. The writer has a connection of its
own, so a read never sees a write that is half done (WAL lets both work at once).

Files are private: the database (and SQLite's -wal and -shm files, which take its mode) is
created 0600 in a directory created 0700, and deleted content is overwritten with zeros
(``secure_delete``); ``checkpoint`` empties the WAL, so erased data is gone from the disk.

Trouble on the way is not lost work:

- while another connection holds the write lock longer than ``busy_timeout`` (say an
  operator's ``sqlite3`` shell in a transaction), the writer waits and tries again with
  backoff, for as long as it takes; one line is logged when it starts waiting and one when it
  goes on. Writes queue up meanwhile.
- the queue of writes is bounded (``MAX_QUEUE``): ``write`` waits for room, so producers
  slow down instead of memory growing.
- when the disk is full (SQLite's SQLITE_FULL, also a ``max_page_count`` cap), the failing
  writes raise ``db.errors.StorageFull`` (nothing of them is committed); one line is logged
  for the whole outage, and one when writes succeed again.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import sqlite3
import stat
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, TypeVar

import aiosqlite

from db.errors import StorageFull

T = TypeVar("T")
WriteFn = Callable[[aiosqlite.Connection], Awaitable[T]]

log = logging.getLogger(__name__)

MAX_BATCH = 512
MAX_QUEUE = 2 * MAX_BATCH  # writes waiting for the writer; beyond, ``write`` waits for room
BUSY_TIMEOUT_MS = 5000  # SQLite waits this long for another connection's lock, then we retry
BUSY_BACKOFF = (0.05, 2.0)  # first and longest pause between tries while the lock is held
_STOP: Any = (None, None)
_SQLITE_BUSY, _SQLITE_LOCKED, _SQLITE_FULL = 5, 6, 13


def _sqlite_code(exc: BaseException) -> int | None:
    code = getattr(exc, "sqlite_errorcode", None)
    return code & 0xFF if isinstance(code, int) else None  # the primary code of an extended one


def is_busy(exc: BaseException) -> bool:
    """Another connection holds the lock (SQLITE_BUSY, "database is locked")."""
    if not isinstance(exc, sqlite3.OperationalError):
        return False
    code = _sqlite_code(exc)
    if code is not None:
        return code in (_SQLITE_BUSY, _SQLITE_LOCKED)
    return "database is locked" in str(exc) or "database is busy" in str(exc)


def is_full(exc: BaseException) -> bool:
    """The database cannot grow (SQLITE_FULL, "database or disk is full")."""
    if isinstance(exc, StorageFull):
        return True
    if not isinstance(exc, sqlite3.OperationalError):
        return False
    return _sqlite_code(exc) == _SQLITE_FULL or "database or disk is full" in str(exc)


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
                 writer: aiosqlite.Connection | None = None, path: Path | None = None) -> None:
        self.conn = conn  # reads: sees committed data only
        self.wconn = writer or conn  # the writer's connection
        self.path = path  # the file (None: in memory)
        self._queue: asyncio.Queue[tuple[WriteFn[Any], asyncio.Future[Any]]] = asyncio.Queue(
            MAX_QUEUE)
        self._writer: asyncio.Task[None] | None = None
        self._closed = False
        self._closing = False  # stop waiting for a lock: the queued writes fail instead
        self._full_since: float | None = None  # loop time the disk was found full
        # tests: called inside every write transaction before its writes run; what it raises
        # acts as SQLite failing the transaction (e.g. OperationalError("database or disk is
        # full")), so a full disk can be simulated exactly
        self.fault: Callable[[], None] | None = None

    @property
    def queued(self) -> int:
        """Writes waiting for the writer (at most ``MAX_QUEUE``)."""
        return self._queue.qsize()

    @property
    def full(self) -> bool:
        """Whether the last writes failed for lack of space (until one succeeds again)."""
        return self._full_since is not None

    @classmethod
    async def open(cls, path: Path | str) -> Database:
        """Open (creating if needed) the SQLite file in WAL mode."""
        if str(path) != ":memory:":
            private_file(Path(path))
        conn = await cls._connect(path)
        memory = str(path) == ":memory:"
        writer = await cls._connect(path) if not memory else None
        db = cls(conn, writer, None if memory else Path(path))
        db._writer = asyncio.create_task(db._write_loop(), name="db-writer")
        return db

    @staticmethod
    async def _connect(path: Path | str) -> aiosqlite.Connection:
        conn = await aiosqlite.connect(str(path), isolation_level=None)
        conn.row_factory = aiosqlite.Row
        await conn.execute("PRAGMA journal_mode=WAL")
        await conn.execute("PRAGMA synchronous=FULL")  # a confirmed update survives power loss
        await conn.execute("PRAGMA foreign_keys=ON")
        await conn.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
        await conn.execute("PRAGMA secure_delete=ON")  # deleted rows are overwritten with zeros
        return conn

    async def close(self) -> None:
        self._closing = True  # a lock held by someone else no longer keeps us waiting
        if self._writer is not None:
            # queued writes finish first: the stop marker is behind them in the queue
            await self._queue.put(_STOP)
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
        await self._queue.put((fn, future))  # waits while the queue is full: backpressure
        return await future

    async def checkpoint(self) -> None:
        """Copy the WAL into the database file and truncate it to nothing (after an erasure:
        older copies of the erased pages would otherwise stay in the WAL file)."""
        await self.write(_checkpoint_marker)

    async def _truncate_wal(self) -> None:
        # every write waits for this one: never sit in SQLite's busy handler (5 s a try) while
        # a reader holds old pages; look again for about a second, then leave it for later
        await self.wconn.execute("PRAGMA busy_timeout=0")
        try:
            for _ in range(50):  # a reader in the middle of a query holds old pages a moment
                async with self.wconn.execute("PRAGMA wal_checkpoint(TRUNCATE)") as cur:
                    row = await cur.fetchone()
                if row is None or row[0] == 0:
                    return
                await asyncio.sleep(0.02)
            log.warning("could not empty the WAL (a reader stays busy); it is emptied later")
        finally:
            await self.wconn.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")

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
            self._note_space(results)
            for future, value, error in results:
                if future.done():
                    continue
                if error is None:
                    future.set_result(value)
                else:
                    future.set_exception(error)
            await self._finish_checkpoints(checkpoints)

    def _note_space(self, results: list[tuple[asyncio.Future[Any], Any, BaseException | None]]
                    ) -> None:
        """Log the start of a full-disk outage once, and its end once."""
        full = any(isinstance(error, StorageFull) for _, _, error in results)
        now = asyncio.get_running_loop().time()
        if full and self._full_since is None:
            self._full_since = now
            where = self.path.resolve().parent if self.path is not None else "the disk"
            log.error("database disk is full: free space on %s; updates wait and are retried",
                      where)
        elif not full and self._full_since is not None and any(
                error is None for _, _, error in results):
            log.warning("database disk has room again after %.0fs; writes go on",
                        now - self._full_since)
            self._full_since = None

    def _explain(self, exc: BaseException) -> BaseException:
        """A full disk as ``StorageFull`` (the engine's error as its cause); others as they are."""
        if is_full(exc) and not isinstance(exc, StorageFull):
            full = StorageFull(str(exc))
            full.__cause__ = exc
            return full
        return exc

    async def _begin(self) -> None:
        """BEGIN IMMEDIATE, waiting (with backoff) while another connection holds the lock.

        Nothing of the batch has run yet, so trying again is safe. Only closing stops it."""
        delay, longest = BUSY_BACKOFF
        since: float | None = None
        loop = asyncio.get_running_loop()
        while True:
            try:
                await self.wconn.execute("BEGIN IMMEDIATE")
            except sqlite3.OperationalError as exc:
                if not is_busy(exc) or self._closing:
                    raise
                if since is None:
                    since = loop.time()
                    log.warning("database is locked by another connection (%s); writes wait "
                                "and are retried", exc)
                await asyncio.sleep(delay)
                delay = min(delay * 2, longest)
                continue
            if since is not None:
                log.warning("database lock released; writes go on after waiting %.0fs",
                            loop.time() - since)
            if self.fault is not None:
                try:
                    self.fault()
                except BaseException:
                    with contextlib.suppress(Exception):
                        await self.wconn.execute("ROLLBACK")
                    raise
            return

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
        await self._begin()
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
                    results.append((future, None, self._explain(exc)))
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
            await self._begin()
            value = await fn(self.wconn)
            await self.wconn.execute("COMMIT")
        except Exception as exc:
            if self.wconn.in_transaction:
                with contextlib.suppress(Exception):
                    await self.wconn.execute("ROLLBACK")
            return future, None, self._explain(exc)
        return future, value, None
