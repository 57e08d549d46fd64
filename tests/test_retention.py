"""Retention: people who never agreed, handled updates and audit rows are purged when their
time ends (30 days, 7 days and ``privacy.audit_retention_days``)."""

from __future__ import annotations

from bot.app import open_services, purge_expired
from bot.authz import Action
from bot.channels.console import parse_line
from bot.clock import FakeClock
from bot.context import Services
from bot.core import Core
from db.repositories.audit import AuditRepo
from db.repositories.inbox import InboxRepo, NewUpdate
from db.repositories.people import PeopleRepo
from db.repositories.roles import Grant
from tests.conftest import make_settings


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
    replies = await say(services, "agrees", "#1", replies[-1].payloads)  # Bahasa Indonesia
    await say(services, "agrees", "#1", replies[-1].payloads)  # Setuju
    await services.store.db.write(lambda conn: InboxRepo(conn).record(
        "telegram", [NewUpdate("1", "telegram:1", "{}")], clock.now()))
    [item] = await InboxRepo(services.store.db.conn).pending("telegram")
    await services.store.db.write(lambda conn: InboxRepo(conn).finish(item.id, clock.now()))

    clock.advance(days=6)
    assert await purge_expired(services) == (0, 0, 0, 0, 0)
    clock.advance(days=25)  # 31 days: past both retentions (7 and 30 days)
    assert await purge_expired(services) == (1, 1, 0, 0, 0)
    people = PeopleRepo(services.store.db.conn)
    assert await people.get("console:declines") is None
    assert (await people.get("console:agrees")).consent_version is not None


async def test_audit_rows_end_after_the_retention_a_refusal_by_its_last_time(
        services: Services, clock: FakeClock) -> None:
    assert services.settings.privacy.audit_retention_days == 730
    coordinator = "telegram:4100"  # a coordinator of another RT: known, never purged as such
    await services.store.write(lambda tx: tx.roles.grant(
        coordinator, Grant("coordinator", "cimuncang-rw01-rt01"), "cli:test", clock.now()))
    await services.authz.authorize("cli:op", Action.ROLES_MANAGE, detail="list")
    await services.authz.authorize(coordinator, Action.INVITE_VIEW, "cimuncang-rw02-rt03")
    clock.advance(days=700)
    await services.authz.authorize(coordinator, Action.INVITE_VIEW, "cimuncang-rw02-rt03")
    clock.advance(days=29)
    assert (await purge_expired(services)).audit == 0  # 729 days: everything stays
    clock.advance(days=2)
    assert (await purge_expired(services)).audit == 1  # the operator's row, 731 days old
    [refusal] = await AuditRepo(services.store.db.conn).recent()
    assert (refusal.actor, refusal.outcome, refusal.times) == (coordinator, "denied", 2)
    clock.advance(days=700)
    assert (await purge_expired(services)).audit == 1  # 731 days after its last time
    assert await AuditRepo(services.store.db.conn).recent() == []


async def test_audit_retention_follows_the_setting(tmp_path) -> None:
    clock = FakeClock()
    settings = make_settings(tmp_path, SIAGA_AUDIT_RETENTION_DAYS="10")
    async with open_services(settings, clock) as services:
        await services.authz.authorize("cli:op", Action.ROLES_MANAGE, detail="list")
        clock.advance(days=9)
        assert (await purge_expired(services)).audit == 0
        clock.advance(days=2)
        assert (await purge_expired(services)).audit == 1
