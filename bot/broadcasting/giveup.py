"""Giving up on messages that could not be delivered for too long.

A message still queued ``outbox.give_up_after`` (default 24 hours) after it was queued is
marked failed, with the reason and its last error. For a notice, its author is told once per
run how many residents it did not reach and why (in the same commit); the run's report then
counts them as failed. Other messages (alerts, messages to staff and authors) are logged.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from bot.broadcasting.notices import notify
from bot.context import Services
from bot.events import say
from db.repositories.outbox import GaveUp
from db.store import Tx

log = logging.getLogger(__name__)


def hours(after: timedelta) -> int:
    return max(1, round(after.total_seconds() / 3600))


async def give_up(services: Services, channel: str) -> int:
    """Fail ``channel``'s messages queued longer than ``outbox.give_up_after`` ago and still
    not sent; tell the authors of the notices among them. Returns how many were given up."""
    now = services.clock.now()
    after = services.settings.outbox.give_up_after
    within = hours(after)
    oldest = await services.store.reads.outbox.oldest_queued(channel)
    if oldest is None or oldest >= now - after:
        return 0  # nothing that old: no write

    async def write(tx: Tx) -> list[GaveUp]:
        found = await tx.outbox.give_up(channel, now - after, now,
                                        f"not delivered within {within} h; last: ")
        for group in found:
            if group.kind != "notice" or group.ref_id is None:
                continue
            run = await tx.notices.run(group.ref_id)
            notice = await tx.notices.get(run.notice_id) if run else None
            if notice is None:
                continue
            await notify(tx, notice.author, say(
                "broadcast.gave_up", id=notice.id, count=group.count, hours=within,
                unreachable=group.unreachable > 0), now)
        return found

    found = await services.store.write(write)
    if not found:
        return 0
    total = sum(g.count for g in found)
    notices = sum(g.count for g in found if g.kind == "notice")
    unreachable = sum(g.unreachable for g in found)
    log.warning("%s outbox: gave up %d messages not delivered within %d h (%d notices to "
                "residents, %d other messages; %d held back because %s could not be reached)",
                channel, total, within, notices, total - notices, unreachable, channel)
    services.signals.outbox()  # the authors' messages
    return total
