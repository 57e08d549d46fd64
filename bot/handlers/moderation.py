"""Moderators approve or reject notices that wait for approval, and review urgent ones that
went out without it.

    review message ──mod:ok:<id>──► approved: sent now or scheduled; the author is told
                   └─mod:no:<id>──► REASON (typed) ──► rejected; the author gets the reason
    review-after message ──mod:seen:<id>──► marked as reviewed
"""

from __future__ import annotations

from bot.authz import Action
from bot.broadcasting import notices as svc
from bot.context import Context
from bot.events import Kind, Reply, button, say
from bot.handlers.broadcast import parse_id, short, status_text
from bot.handlers.menu import main_menu
from db.repositories.notices import Notice
from db.store import Tx

FLOW = "moderate"
REASON_LIMIT = 500


async def _allowed(ctx: Context, notice_id: str, what: str) -> bool:
    return await ctx.services.authz.authorize(ctx.person.identity, Action.CONTENT_APPROVE,
                                              detail=f"{what} notice {notice_id}")


async def queue(ctx: Context) -> list[Reply]:
    """Show every notice waiting for approval, each with Approve / Reject."""
    ctx.conv.clear()
    if not await _allowed(ctx, "*", "list"):
        return [main_menu(ctx, "broadcast.not_moderator")]
    services = ctx.services
    tx = services.store.reads
    waiting = await tx.notices.awaiting_approval()
    review = await tx.notices.awaiting_review()
    if not waiting and not review:
        return [main_menu(ctx, "broadcast.review_empty")]
    replies = []
    for notice in waiting[:10]:
        reach = await svc.reach_of(services, tx, notice)
        replies += svc.review_replies(services, notice, reach, "broadcast.review", ctx.lang)
    for notice in review[:10]:
        reach = await svc.reach_of(services, tx, notice)
        replies += svc.review_replies(services, notice, reach, "broadcast.review_after",
                                      ctx.lang)
    return replies


async def on_button(ctx: Context, arg: str) -> list[Reply] | None:
    """Approve, start a rejection, or mark an after-the-fact review as done."""
    action, _, value = arg.partition(":")
    if action not in {"ok", "no", "seen"} or parse_id(value) is None:
        return None
    if not await _allowed(ctx, value, {"ok": "approve", "no": "reject",
                                       "seen": "review"}[action]):
        return [main_menu(ctx, "broadcast.not_moderator")]
    services = ctx.services
    notice = await services.store.reads.notices.get(parse_id(value) or 0)
    if notice is None:
        return [main_menu(ctx, "broadcast.not_found")]
    if action == "seen":
        await services.store.write(lambda tx: _mark_reviewed(tx, notice, ctx.person.identity))
        return [main_menu(ctx, "broadcast.reviewed", id=notice.id)]
    if notice.status != "pending":
        return [main_menu(ctx, "broadcast.already_decided", id=notice.id,
                          status=status_text(notice))]
    if action == "ok" and notice.author == ctx.person.identity:
        return [main_menu(ctx, "broadcast.not_self", id=notice.id)]  # four eyes
    if action == "no":
        ctx.conv.go(FLOW, "reason", id=notice.id)
        return [reason_prompt(ctx)]
    decided = await services.store.write(lambda tx: approve(ctx, tx, notice.id or 0))
    if decided is None:
        return [main_menu(ctx, "broadcast.already_decided", id=notice.id,
                          status=status_text(notice))]
    ctx.wake.update({"outbox", "schedule"})
    if decided.status == "missed":
        return [main_menu(ctx, "broadcast.approved_missed", id=notice.id)]
    return [main_menu(ctx, "broadcast.approved", id=notice.id,
                      when=svc.when_text(services, decided, ctx.lang))]



def reason_prompt(ctx: Context) -> Reply:
    return say("broadcast.ask_reason", [[button("broadcast.reason_back", "mod:back")]],
               id=ctx.conv.data.get("id"))


async def _mark_reviewed(tx: Tx, notice: Notice, who: str) -> None:
    fresh = await tx.notices.get(notice.id or 0)
    if fresh is not None and fresh.needs_review:
        fresh.needs_review = False
        fresh.decided_by = fresh.decided_by or who
        await tx.notices.save(fresh)
        await svc.record(tx, who, "notice.review", fresh, fresh.updated_at)


async def approve(ctx: Context, tx: Tx, notice_id: int) -> Notice | None:
    """Approve a pending notice (inside a write); None if someone decided first."""
    services = ctx.services
    notice = await tx.notices.get(notice_id)
    if notice is None or notice.status != "pending":
        return None
    now = services.clock.now()
    notice.decided_by, notice.decided_at = ctx.person.identity, now
    await svc.activate(services, tx, notice, now)
    await svc.record(tx, ctx.person.identity, "notice.approve", notice, now, notice.status)
    key = "broadcast.author_approved_missed" if notice.status == "missed" else \
        "broadcast.author_approved"
    await svc.notify(tx, notice.author, lambda lang: say(
        key, id=notice.id, body=short(notice.body),
        when=svc.when_text(services, notice, lang)), now)
    return notice


async def on_text(ctx: Context) -> list[Reply]:
    """Take the reason for a rejection, reject, and tell the author."""
    if ctx.event.kind != Kind.TEXT:
        return [say("fallback.use_buttons"), reason_prompt(ctx)]
    reason = ctx.event.text.strip()
    if len(reason) < 3 or len(reason) > REASON_LIMIT:
        return [say("broadcast.bad_reason", limit=REASON_LIMIT), reason_prompt(ctx)]
    services = ctx.services
    notice_id = int(ctx.conv.data.get("id", 0))
    ctx.conv.clear()
    if not await _allowed(ctx, str(notice_id), "reject"):
        return [main_menu(ctx, "broadcast.not_moderator")]

    async def reject(tx: Tx) -> Notice | None:
        notice = await tx.notices.get(notice_id)
        if notice is None or notice.status != "pending":
            return None
        now = services.clock.now()
        notice.status, notice.reason = "rejected", reason
        notice.decided_by, notice.decided_at, notice.updated_at = ctx.person.identity, now, now
        notice.next_run_at = None
        await tx.notices.save(notice)
        await svc.record(tx, ctx.person.identity, "notice.reject", notice, now, reason)
        await svc.notify(tx, notice.author, say(
            "broadcast.author_rejected", id=notice.id, body=short(notice.body),
            reason=reason), now)
        return notice

    decided = await services.store.write(reject)
    if decided is None:
        current = await services.store.reads.notices.get(notice_id)
        if current is None:
            return [main_menu(ctx, "broadcast.not_found")]
        return [main_menu(ctx, "broadcast.already_decided", id=notice_id,
                          status=status_text(current))]
    ctx.wake.add("outbox")
    return [main_menu(ctx, "broadcast.rejected", id=notice_id)]


async def back(ctx: Context) -> list[Reply]:
    ctx.conv.clear()
    return await queue(ctx)

