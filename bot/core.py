"""The channel-neutral core: load the person, route the event, deliver replies, save state.

Replies are delivered before the new state is committed, so a crash in between means the
update is handled again from the old state (answered twice) rather than lost. The commit is
one function (``persist``) that may be run again as a whole, e.g. by the intake while the
disk is full: the save is retried, the update is not handled (and answered) a second time.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import replace
from datetime import datetime

from bot import router
from bot.context import Context, Services
from bot.events import Event, Reply, t
from db.repositories.people import Conversation, Person
from db.store import Tx, Write

log = logging.getLogger(__name__)

# Sends the replies; returns False when the person can no longer be reached (blocked the bot).
Deliver = Callable[[Event, str, list[Reply]], Awaitable[bool | None]]
Finish = Callable[[Tx], Awaitable[None]]
# Commits the update's writes (the default: once, finishing even if the task is cancelled).
Save = Callable[[Write[None]], Awaitable[None]]


class Core:
    def __init__(self, services: Services) -> None:
        self.services = services

    async def handle(self, event: Event, deliver: Deliver, finish: Finish | None = None,
                     save: Save | None = None) -> list[Reply]:
        """Handle one event for one person; ``finish`` runs in the same commit as the state,
        which ``save`` makes (it may run the commit more than once until one succeeds)."""
        services = self.services
        now = services.clock.now()
        loaded = await services.store.reads.people.load(event.identity)
        if loaded is None:
            person = Person(event.identity, event.channel, event.address, now, now)
            ctx = Context(event, person, Conversation(), services, is_new=True)
        else:
            person, conv = loaded
            if not event.group:  # a command sent in a group must not redirect private replies
                person.address, person.active = event.address, True
            ctx = Context(event, person, conv, services)
        before = replace(person)
        try:
            replies = await router.route(ctx)
        except Exception:
            log.exception("handler failed for %s (%s)", event.identity, event.kind)
            # nothing half-done is committed: the person as they were, no pending writes
            person = ctx.person = before
            ctx.conv.clear()
            ctx.on_commit.clear()
            ctx.erased = False
            ctx.wake.clear()
            replies = router.error_replies(ctx)
        if await deliver(event, ctx.lang, replies) is False and not event.group:
            person.active = False  # (a group that removed the bot says nothing about them)
        known_id = person.id

        async def persist(tx: Tx) -> None:
            # run again after a failed commit: a newcomer's id from the undone insert is gone
            person.id = known_id
            # the person first, so the services' writes can refer to a newcomer's id
            if not ctx.erased and not (ctx.is_new and event.group):  # no record from a group
                await tx.people.save(person, ctx.conv, now)
            for write in ctx.on_commit:
                await write(tx)
            if person.id is not None and not ctx.erased:
                await _drop_unwanted_notices(tx, before, person, now)
            if finish is not None:
                await finish(tx)

        if save is None:
            # once the replies are out, save even if this task is being cancelled (shutdown),
            # so a clean restart does not answer the same update again
            await asyncio.shield(services.store.write(persist))
        else:
            await save(persist)
        if "outbox" in ctx.wake:
            services.signals.outbox()
        if "schedule" in ctx.wake:
            services.signals.schedule()
        return replies

    async def say(self, event: Event, deliver: Deliver, key: str, **params: object) -> None:
        """Send one text (no buttons) in the person's language, without handling the event or
        saving anything: "slow down", "try again later"."""
        loaded = await self.services.store.reads.people.load(event.identity)
        language = loaded[0].language if loaded is not None else None
        hint = (event.language_hint or "").lower()[:2]
        lang = language or (hint if hint in {"id", "en"} else
                            self.services.settings.default_language)
        await deliver(event, lang, [Reply(t(key, **params))])


async def _drop_unwanted_notices(tx: Tx, before: Person, after: Person,
                                 now: datetime) -> None:
    """Notices queued for someone who just moved RT, or turned regular notices off, are not
    sent (a regular notice held for quiet hours would otherwise arrive in the morning)."""
    outbox = tx.outbox
    if before.area_code and after.area_code != before.area_code:
        await outbox.drop_notices_to(after.id or 0, "moved", now, regular_only=False)
    elif before.notices_regular and not after.notices_regular:
        await outbox.drop_notices_to(after.id or 0, "opted_out", now, regular_only=True)
