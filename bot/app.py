"""Build the services from settings: database (migrated), areas, content, authorisation."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from datetime import timedelta

from bot.areas import load_areas
from bot.authz import Authorizer
from bot.channels.traits import CONSOLE, ChannelTraits, telegram_traits
from bot.clock import Clock, SystemClock
from bot.config import Settings
from bot.content import load_content
from bot.context import Services
from bot.registry import catalog
from db.database import Database
from db.migrate import migrate
from db.store import SqliteStore

log = logging.getLogger(__name__)


def configured_channels(settings: Settings) -> dict[str, ChannelTraits]:
    """The traits of every channel this deployment runs (the console always)."""
    found = {"console": CONSOLE}
    if settings.telegram.enabled:
        tg = settings.telegram
        found["telegram"] = telegram_traits(tg.bot_username, tg.group_per_minute)
    return found


@contextlib.asynccontextmanager
async def open_services(settings: Settings, clock: Clock | None = None
                        ) -> AsyncIterator[Services]:
    """Open the database, apply migrations and load areas and content; close on exit."""
    clock = clock or SystemClock()
    areas = load_areas(settings.areas_file)
    content = load_content()
    db = await Database.open(settings.db_path)
    try:
        await migrate(db)
        store = SqliteStore(db)
        yield Services(settings, content, areas, store, clock, Authorizer(store, areas, clock),
                       channels=configured_channels(settings), features=catalog())
    finally:
        await db.close()


async def purge_expired(services: Services) -> tuple[int, int]:
    """Delete what has outlived its retention; return (inbox rows, unconsented people)."""
    now = services.clock.now()
    s = services.settings
    inbox_cutoff = now - timedelta(days=s.inbox_retention_days)
    people_cutoff = now - timedelta(days=s.unconsented_retention_days)

    async def purge(tx):  # type: ignore[no-untyped-def]
        await tx.outbox.purge(inbox_cutoff)  # delivered messages: who got what, when
        return (await tx.inbox.purge(inbox_cutoff),
                await tx.people.purge_unconsented(people_cutoff))

    return await services.store.write(purge)


async def maintenance_loop(services: Services, every: float = 3600.0) -> None:
    """Purge expired data now and then every ``every`` seconds."""
    while True:
        try:
            inbox, people = await purge_expired(services)
            if inbox or people:
                log.info("retention: purged %d inbox rows and %d unconsented people",
                         inbox, people)
        except Exception:
            log.exception("retention purge failed")
        await asyncio.sleep(every)
