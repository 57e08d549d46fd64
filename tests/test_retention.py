"""Retention: people who never agreed, and handled updates, are purged when their time ends."""

from __future__ import annotations

from bot.app import purge_expired
from bot.channels.console import parse_line
from bot.clock import FakeClock
from bot.context import Services
from bot.core import Core
from db.repositories.inbox import InboxRepo, NewUpdate
from db.repositories.people import PeopleRepo


async def say(services: Services, user: str, line: str, buttons: list[str] | None = None):
    sent = []

    async def deliver(event, lang, replies):
        sent.extend(replies)

    event = parse_line(line, f"console:{user}", user, buttons or [], "id")
    await Core(services).handle(event, deliver)
    return sent


async def test_unconsented_people_and_old_inbox_rows_are_purged(services: Services,
                                                                clock: FakeClock) -> None:
    await say(services, "declines", "/start")  # asked language; never agrees
    replies = await say(services, "agrees", "/start")
    replies = await say(services, "agrees", "1", replies[-1].payloads)  # Bahasa Indonesia
    await say(services, "agrees", "1", replies[-1].payloads)  # Setuju
    await services.store.db.write(lambda conn: InboxRepo(conn).record(
        "telegram", [NewUpdate("1", "telegram:1", "{}")], clock.now()))
    [item] = await InboxRepo(services.store.db.conn).pending("telegram")
    await services.store.db.write(lambda conn: InboxRepo(conn).finish(item.id, clock.now()))

    clock.advance(days=6)
    assert await purge_expired(services) == (0, 0)
    clock.advance(days=25)  # 31 days: past both retentions (7 and 30 days)
    assert await purge_expired(services) == (1, 1)
    people = PeopleRepo(services.store.db.conn)
    assert await people.get("console:declines") is None
    assert (await people.get("console:agrees")).consent_version is not None
