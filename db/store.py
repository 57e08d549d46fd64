"""The store the application sees: repositories bound to a connection, and one way to write.

``bot/`` never touches a connection or the database driver. It reads committed data through
``store.reads`` and writes through ``await store.write(fn)``, where ``fn`` gets a ``Tx``: the
same repositories bound to the write transaction. A PostgreSQL store would offer the same two.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, Protocol, TypeVar

from db.database import Database
from db.repositories.audit import AuditRepo
from db.repositories.hoax import HoaxRepo
from db.repositories.inbox import InboxRepo
from db.repositories.notices import NoticesRepo
from db.repositories.outbox import OutboxRepo
from db.repositories.people import PeopleRepo
from db.repositories.roles import RolesRepo
from db.repositories.symptoms import SymptomsRepo
from db.repositories.volunteers import VolunteersRepo

T = TypeVar("T")


class Tx:
    """Every repository, bound to one connection (a write transaction, or committed reads)."""

    __slots__ = ("audit", "hoax", "inbox", "notices", "outbox", "people", "roles",
                 "symptoms", "volunteers")

    def __init__(self, conn: Any) -> None:
        self.audit = AuditRepo(conn)
        self.hoax = HoaxRepo(conn)
        self.inbox = InboxRepo(conn)
        self.notices = NoticesRepo(conn)
        self.outbox = OutboxRepo(conn)
        self.people = PeopleRepo(conn)
        self.roles = RolesRepo(conn)
        self.symptoms = SymptomsRepo(conn)
        self.volunteers = VolunteersRepo(conn)


Write = Callable[[Tx], Awaitable[T]]


class Store(Protocol):
    """What ``bot/`` may use of the database (a PostgreSQL store would offer the same)."""

    reads: Tx  # committed data

    async def write(self, fn: Write[T]) -> T:
        """Run ``fn(tx)`` in a write transaction; return its result once committed."""
        ...

    async def healthy(self) -> bool:
        """Whether the database answers."""
        ...

    async def checkpoint(self) -> None:
        """Make what was deleted gone from the files on disk too (after an erasure)."""
        ...


class SqliteStore:
    """The SQLite store: reads of committed data, and group-committed writes."""

    def __init__(self, db: Database) -> None:
        self.db = db  # the engine itself: for migrations, the CLI and tests, not for bot/
        self.reads = Tx(db.conn)
        self._writer: Tx | None = None

    async def write(self, fn: Write[T]) -> T:
        """Run ``fn(tx)`` in a write transaction; return its result once committed."""

        async def run(conn: Any) -> T:
            if self._writer is None:
                self._writer = Tx(conn)  # the writer's connection never changes
            return await fn(self._writer)

        return await self.db.write(run)

    async def checkpoint(self) -> None:
        """Empty the WAL into the database file (deleted content is already zeroed)."""
        await self.db.checkpoint()

    async def healthy(self) -> bool:
        """Whether the database answers a trivial read."""
        try:
            await self.db.conn.execute("SELECT 1")
        except Exception:
            return False
        return True
