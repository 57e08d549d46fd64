"""Build the services from settings: database (migrated), areas, content, authorisation."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import NamedTuple

from bot.areas import load_areas
from bot.authz import Authorizer
from bot.channels.traits import CONSOLE, ChannelTraits, telegram_traits
from bot.clock import Clock, SystemClock
from bot.config import Settings
from bot.content import load_content
from bot.context import Services
from bot.hoax import service as hoax
from bot.hoax.book import ClaimBook
from bot.logs import protect
from bot.privacy import erase_unconsented, key_legacy_pseudonyms
from bot.pseudonyms import Pseudonyms
from bot.registry import catalog
from bot.symptoms import service as symptoms
from bot.symptoms.triage import check_rules
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
    """Open the database, apply migrations and load areas, content and the pseudonym key;
    from here on log lines name people by pseudonym only. Close on exit."""
    clock = clock or SystemClock()
    areas = load_areas(settings.areas_file)
    content = load_content()
    triage = check_rules(settings)
    db = await Database.open(settings.db_path)
    unprotect = None
    try:
        pseudonyms = Pseudonyms.from_settings(settings)
        channels = configured_channels(settings)
        unprotect = protect(pseudonyms, channels)
        await migrate(db)
        store = SqliteStore(db)
        services = Services(settings, content, areas, store, clock,
                            Authorizer(store, areas, clock), channels=channels,
                            features=catalog(), pseudonyms=pseudonyms, triage=triage,
                            claims=ClaimBook(settings.hoax))
        await key_legacy_pseudonyms(services)
        yield services
    finally:
        await db.close()
        if unprotect is not None:
            unprotect()


class Purged(NamedTuple):
    inbox: int  # handled updates past their retention
    people: int  # people who never agreed, and strangers only ever refused, erased
    audit: int  # audit rows past their retention
    reports: int = 0  # identified symptom reports past theirs, now anonymous counts
    reporters: int = 0  # hoax reports that no longer name who sent them


async def purge_expired(services: Services) -> Purged:
    """Delete what has outlived its retention; erased people leave no copy on disk."""
    now = services.clock.now()
    s = services.settings
    inbox_cutoff = now - timedelta(days=s.inbox_retention_days)
    people_cutoff = now - timedelta(days=s.unconsented_retention_days)
    audit_cutoff = now - timedelta(days=s.privacy.audit_retention_days)

    async def purge(tx):  # type: ignore[no-untyped-def]
        await tx.outbox.purge(inbox_cutoff)  # delivered messages: who got what, when
        return Purged(await tx.inbox.purge(inbox_cutoff),
                      await erase_unconsented(tx, services, people_cutoff),
                      await tx.audit.purge(audit_cutoff),
                      await symptoms.expire(services, tx, now),
                      await hoax.expire(tx, now))

    purged = await services.store.write(purge)
    # empty the WAL every time: it also finishes an erasure whose own checkpoint had to wait
    await services.store.checkpoint()
    return purged


async def maintenance_loop(services: Services, every: float = 3600.0) -> None:
    """Purge expired data now and then every ``every`` seconds."""
    while True:
        try:
            purged = await purge_expired(services)
            if any(purged):
                log.info("retention: purged %d inbox rows, %d people who never agreed and "
                         "%d audit rows; %d symptom reports made anonymous, %d hoax reports "
                         "no longer name their sender", *purged)
        except Exception:
            log.exception("retention purge failed")
        await asyncio.sleep(every)
