"""The notice desk: what the notice, moderation, group and announcement handlers may read and
decide, for one update (``ctx.use(NoticeDesk)``).

Writes join the commit that saves the person's state (``ctx.later``), except where noted:
a decision that another person or the scheduler may take at the same moment (approve,
reject, pause, resume, cancel) is committed on its own before the reply, because the reply
must say whose decision won, and only the write itself can know that.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from bot.broadcasting import notices as svc
from bot.broadcasting.views import short
from bot.context import Context
from bot.events import Reply, say
from db.repositories.audit import AuditEntry
from db.repositories.notices import GroupLink, Notice, Run
from db.store import Tx


class NoticeDesk:
    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx
        self.services = ctx.services
        self.reads = ctx.services.store.reads
        self.me = ctx.person.identity

    def now(self) -> datetime:
        return self.services.clock.now()

    # --- reads ------------------------------------------------------------------------------

    async def get(self, notice_id: int) -> Notice | None:
        return await self.reads.notices.get(notice_id)

    async def mine(self) -> list[Notice]:
        """My notices still open: waiting, scheduled, recurring, paused or going out."""
        return await self.reads.notices.open_by(self.me)

    async def awaiting_approval(self) -> list[Notice]:
        return await self.reads.notices.awaiting_approval()

    async def asked_since(self, since: datetime) -> Notice | None:
        """The first notice submitted for approval since ``since`` (the person's last
        message) that I may decide: the review request I was sent and have not answered."""
        for notice in await self.reads.notices.awaiting_approval():
            if notice.created_at > since and notice.author != self.me:
                return notice
        return None

    async def awaiting_review(self) -> list[Notice]:
        return await self.reads.notices.awaiting_review()

    async def going_out(self, notice_id: int) -> bool:
        """Whether messages of the notice are still being sent."""
        return await self.reads.notices.has_unfinished_run(notice_id)

    async def reach(self, rts: list[str], segment: str, category: str) -> tuple[int, int, int]:
        """(people reached, people who turned regular notices off, linked groups whose
        linker still coordinates the RT: the others are unlinked when the notice goes)."""
        reads = self.reads
        reach, opted_out = await reads.notices.reach(rts, segment, category)
        groups: set[tuple[str, str]] = set()
        for link in await reads.notices.links_for(rts) if segment == "all" else []:
            if svc.may_link(self.services, await reads.roles.grants_of(link.linked_by),
                            link.area_code):
                groups.add((link.channel, link.address))
        return reach, opted_out, len(groups)

    async def reach_of(self, notice: Notice) -> int:
        return await svc.reach_of(self.services, self.reads, notice)

    async def signature(self, scope: str) -> str:
        return await svc.signature(self.services, self.reads, self.me, scope)

    async def has_reviewers(self) -> bool:
        return bool(await svc.moderators(self.reads))

    async def latest_for_me(self, codes: list[str], since: datetime, limit: int
                            ) -> list[tuple[Notice, Run]]:
        """The latest notices sent to these areas (volunteer-only ones for volunteers)."""
        person_id = self.ctx.person.id
        volunteer = person_id is not None and await self.reads.notices.is_volunteer(person_id)
        return await self.reads.notices.latest_for(codes, since, limit, volunteer)

    async def groups_linked_here(self) -> list[str]:
        event = self.ctx.event
        return await self.reads.notices.linked_to(event.channel, event.address)

    # --- decisions in the update's commit ---------------------------------------------------

    def submit(self, notice: Notice, needs_approval: bool, skipped_approval: bool) -> None:
        """Save a new notice: waiting for approval, or live (sent now or scheduled)."""
        services, me, now = self.services, self.me, self.now()

        async def write(tx: Tx) -> None:
            notice.status = "pending" if needs_approval else "active"
            notice.needs_review = skipped_approval
            await tx.notices.create(notice)
            await svc.record(tx, me, "notice.submit", notice, now,
                             "urgent, sent without approval" if skipped_approval
                             else notice.status)
            if not needs_approval:
                await svc.activate(services, tx, notice, now)
            if needs_approval or skipped_approval:
                key = "broadcast.review" if needs_approval else "broadcast.review_after"
                await svc.request_review(services, tx, notice, key, now)

        self.ctx.later(write, "outbox", "schedule")

    def mark_reviewed(self, notice_id: int) -> None:
        """Mark an urgent notice that skipped approval as reviewed (once; never by its
        author: four eyes)."""
        me = self.me

        async def write(tx: Tx) -> None:
            fresh = await tx.notices.get(notice_id)
            if fresh is not None and fresh.needs_review and fresh.author != me:
                fresh.needs_review = False
                fresh.decided_by = fresh.decided_by or me
                await tx.notices.save(fresh)
                await svc.record(tx, me, "notice.review", fresh, fresh.updated_at)

        self.ctx.later(write)

    def refuse_own(self, notice: Notice, action: str) -> None:
        """Audit a moderator's refused attempt to approve or review their own notice."""
        me, now = self.me, self.now()
        entry = AuditEntry(at=now, actor=me, action=action, target=f"notice:{notice.id}",
                           outcome="denied", detail="own notice: another moderator decides")
        self.ctx.later(lambda tx: tx.audit.add(entry))

    def link_group(self, rt_code: str) -> None:
        event = self.ctx.event
        link = GroupLink(rt_code, event.channel, event.address, event.group, self.me,
                         self.now())
        self.ctx.later(lambda tx: tx.notices.link_group(link))

    def unlink_group(self) -> None:
        event = self.ctx.event
        self.ctx.later(lambda tx: tx.notices.unlink_group(event.channel, event.address))

    # --- decisions committed on their own (see the module's docstring) ----------------------

    async def _decide(self, fn: Callable[[Tx], Any], *wake: str) -> Any:
        result = await self.services.store.write(fn)
        self.ctx.wake.update(wake)
        return result

    async def approve(self, notice_id: int) -> Notice | None:
        """Approve a pending notice; None if someone decided first."""
        services, me = self.services, self.me

        async def write(tx: Tx) -> Notice | None:
            notice = await _pending(tx, notice_id)
            if notice is None:
                return None
            now = services.clock.now()
            notice.decided_by, notice.decided_at = me, now
            await svc.activate(services, tx, notice, now, start=False)
            key = "broadcast.author_approved_missed" if notice.status == "missed" else \
                "broadcast.author_approved"
            await svc.notify(tx, notice.author, lambda lang: say(
                key, id=notice.id, body=short(notice.body),
                when=svc.when_text(services, notice, lang)), now)
            # fired after the author is told: the approval arrives before the progress
            if notice.next_run_at is not None and notice.next_run_at <= now:
                await svc.fire(services, tx, notice, notice.next_run_at, now)
            await svc.record(tx, me, "notice.approve", notice, now, notice.status)
            return notice

        return await self._decide(write, "outbox", "schedule")

    async def reject(self, notice_id: int, reason: str) -> Notice | None:
        """Reject a pending notice with a reason the author is told; None if decided."""
        services, me = self.services, self.me

        async def write(tx: Tx) -> Notice | None:
            notice = await _pending(tx, notice_id)
            if notice is None:
                return None
            now = services.clock.now()
            notice.status, notice.reason = "rejected", reason
            notice.decided_by, notice.decided_at, notice.updated_at = me, now, now
            notice.next_run_at = None
            await tx.notices.save(notice)
            await svc.record(tx, me, "notice.reject", notice, now, reason)
            await svc.notify(tx, notice.author, say(
                "broadcast.author_rejected", id=notice.id, body=short(notice.body),
                reason=reason), now)
            return notice

        return await self._decide(write, "outbox")

    async def pause_or_resume(self, notice_id: int, action: str) -> Notice | None:
        """Pause or resume a notice (audited); the notice as it now is."""
        services, me = self.services, self.me
        step = svc.pause if action == "pause" else svc.resume

        async def write(tx: Tx) -> Notice | None:
            now = services.clock.now()
            changed = await step(services, tx, notice_id, now)
            if changed is not None:
                await svc.record(tx, me, f"notice.{action}", changed, now, changed.status)
            return changed

        return await self._decide(write, "schedule")

    async def cancel(self, notice: Notice) -> int:
        """Cancel a notice and whatever of it has not gone out; how many messages stopped."""
        services, me = self.services, self.me

        async def write(tx: Tx) -> int:
            now = services.clock.now()
            await svc.record(tx, me, "notice.cancel", notice, now)
            _, stopped = await svc.cancel(services, tx, notice.id or 0, now)
            return stopped

        return await self._decide(write, "outbox", "schedule")


async def _pending(tx: Tx, notice_id: int) -> Notice | None:
    """The notice, if it still waits for a decision (read inside the deciding write)."""
    notice = await tx.notices.get(notice_id)
    return notice if notice is not None and notice.status == "pending" else None


def review_queue(ctx: Context, waiting: list[tuple[Notice, int]], review: list[tuple[Notice, int]]
                 ) -> list[Reply]:
    """What a moderator sees for each notice waiting for approval or review."""
    out: list[Reply] = []
    channel = ctx.event.channel
    for notice, reach in waiting:
        out += svc.review_replies(ctx.services, notice, reach, "broadcast.review", ctx.lang,
                                  channel)
    for notice, reach in review:
        out += svc.review_replies(ctx.services, notice, reach, "broadcast.review_after",
                                  ctx.lang, channel)
    return out
