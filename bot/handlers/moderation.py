"""Moderators approve or reject notices that wait for approval, and review urgent ones that
went out without it.

    review message ──mod:ok:<id>──► approved: sent now or scheduled; the author is told
                   └─mod:no:<id>──► REASON (typed) ──► rejected; the author gets the reason
                                        └─back──► the review list
    (typed text instead of a button, before anything else: DECIDE, the review again)
    review-after message ──mod:seen:<id>──► marked as reviewed (by a moderator other than
                                            its author)
"""

from __future__ import annotations

from bot.authz import Action, decide
from bot.broadcasting import notices as svc
from bot.broadcasting.desk import NoticeDesk, review_queue
from bot.broadcasting.views import Approve, Reject, Reviewed, ReviewQueue, status_text
from bot.context import Context
from bot.events import Reply, say
from bot.feature import Feature, On
from bot.flow import Flow, Step
from bot.menu import main_menu

REASON_LIMIT = 500


async def _allowed(ctx: Context, notice_id: int | str, what: str) -> bool:
    return await ctx.services.authz.authorize(ctx.person.identity, Action.CONTENT_APPROVE,
                                              detail=f"{what} notice {notice_id}")


async def queue(ctx: Context, _: ReviewQueue | None = None) -> list[Reply]:
    """Show every notice waiting for approval or review, each with its buttons."""
    ctx.conv.clear()
    if not await _allowed(ctx, "*", "list"):
        return [main_menu(ctx, "broadcast.not_moderator")]
    desk = ctx.use(NoticeDesk)
    waiting = [(n, await desk.reach_of(n)) for n in (await desk.awaiting_approval())[:10]]
    review = [(n, await desk.reach_of(n)) for n in (await desk.awaiting_review())[:10]]
    if not waiting and not review:
        return [main_menu(ctx, "broadcast.review_empty")]
    return review_queue(ctx, waiting, review)


async def on_approve(ctx: Context, data: Approve) -> list[Reply]:
    """Approve a pending notice (never one's own); the first decision wins."""
    if not await _allowed(ctx, data.id, "approve"):
        return [main_menu(ctx, "broadcast.not_moderator")]
    desk = ctx.use(NoticeDesk)
    notice = await desk.get(data.id)
    if notice is None:
        return [main_menu(ctx, "broadcast.not_found")]
    if notice.status != "pending":
        return [main_menu(ctx, "broadcast.already_decided", id=notice.id,
                          status=status_text(notice))]
    if notice.author == ctx.person.identity:  # four eyes
        desk.refuse_own(notice, "notice.approve")
        return [main_menu(ctx, "broadcast.not_self", id=notice.id)]
    if ctx.conv.flow == FLOW.name:
        ctx.conv.clear()
    decided = await desk.approve(data.id)
    if decided is None:
        return [main_menu(ctx, "broadcast.already_decided", id=notice.id,
                          status=status_text(notice))]
    if decided.status == "missed":
        return [main_menu(ctx, "broadcast.approved_missed", id=notice.id)]
    return [main_menu(ctx, "broadcast.approved", id=notice.id,
                      when=svc.when_text(ctx.services, decided, ctx.lang))]


async def on_reject(ctx: Context, data: Reject) -> list[Reply]:
    """Start a rejection: ask for the reason the author will read."""
    if not await _allowed(ctx, data.id, "reject"):
        return [main_menu(ctx, "broadcast.not_moderator")]
    notice = await ctx.use(NoticeDesk).get(data.id)
    if notice is None:
        return [main_menu(ctx, "broadcast.not_found")]
    if notice.status != "pending":
        return [main_menu(ctx, "broadcast.already_decided", id=notice.id,
                          status=status_text(notice))]
    FLOW.start(ctx, "reason", id=notice.id)
    return [reason_prompt(ctx)]


async def on_reviewed(ctx: Context, data: Reviewed) -> list[Reply]:
    """Mark an urgent notice that went out without approval as reviewed (never one's own:
    four eyes hold for notices sent before review too)."""
    if not await _allowed(ctx, data.id, "review"):
        return [main_menu(ctx, "broadcast.not_moderator")]
    desk = ctx.use(NoticeDesk)
    notice = await desk.get(data.id)
    if notice is None:
        return [main_menu(ctx, "broadcast.not_found")]
    if notice.author == ctx.person.identity:
        desk.refuse_own(notice, "notice.review")
        return [main_menu(ctx, "broadcast.not_self_review", id=notice.id)]
    desk.mark_reviewed(data.id)
    return [main_menu(ctx, "broadcast.reviewed", id=data.id)]


def reason_prompt(ctx: Context) -> Reply:
    return say("broadcast.ask_reason", [FLOW.back_row(ctx, "broadcast.reason_back")],
               id=ctx.conv.data.get("id"))


async def on_reason(ctx: Context) -> list[Reply]:
    """Take the reason for a rejection, reject, and tell the author."""
    reason = ctx.event.text.strip()
    if len(reason) < 3 or len(reason) > REASON_LIMIT:
        return await FLOW.again(ctx, "broadcast.bad_reason", limit=REASON_LIMIT)
    notice_id = int(ctx.conv.data.get("id", 0))
    ctx.conv.clear()
    if not await _allowed(ctx, notice_id, "reject"):
        return [main_menu(ctx, "broadcast.not_moderator")]
    desk = ctx.use(NoticeDesk)
    decided = await desk.reject(notice_id, reason)
    if decided is None:
        current = await desk.get(notice_id)
        if current is None:
            return [main_menu(ctx, "broadcast.not_found")]
        return [main_menu(ctx, "broadcast.already_decided", id=notice_id,
                          status=status_text(current))]
    return [main_menu(ctx, "broadcast.rejected", id=notice_id)]


async def resume(ctx: Context) -> bool:
    """Typed text from a moderator (in no flow) who was sent a review request since their
    last message: they are on that request's Approve / Reject step (DECIDE)."""
    services = ctx.services
    if not decide(await services.authz.grants(ctx.person.identity), Action.CONTENT_APPROVE,
                  None, services.areas).allowed:
        return False
    notice = await ctx.use(NoticeDesk).asked_since(ctx.person.last_seen_at)
    if notice is None:
        return False
    FLOW.start(ctx, "decide", id=notice.id)
    return True


async def decide_prompt(ctx: Context) -> Reply:
    """The review request again, with Approve / Reject (or what became of the notice)."""
    desk = ctx.use(NoticeDesk)
    notice = await desk.get(int(ctx.conv.data.get("id", 0)))
    if notice is None or notice.status != "pending":
        ctx.conv.clear()
        if notice is None:
            return main_menu(ctx, "broadcast.not_found")
        return main_menu(ctx, "broadcast.already_decided", id=notice.id,
                         status=status_text(notice))
    replies = svc.review_replies(ctx.services, notice, await desk.reach_of(notice),
                                 "broadcast.review", ctx.lang, ctx.event.channel)
    return replies[-1]  # the text with the buttons (a photo, if any, came with the request)


FLOW = Flow("moderate", {"reason": Step(ask=reason_prompt, typed=on_reason),
                         "decide": Step(ask=decide_prompt)},
            on_cancel=queue, first="reason")

FEATURE = Feature(
    "moderation",
    buttons=(On(ReviewQueue, queue), On(Approve, on_approve), On(Reject, on_reject),
             On(Reviewed, on_reviewed)),
    flows=(FLOW,),
    resume=resume,
)
