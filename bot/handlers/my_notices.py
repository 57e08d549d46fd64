"""A coordinator's own notices: list the open ones, pause, resume or cancel one.

    /siaran ──bc:list──► LIST (waiting, scheduled, recurring, paused, going out)
        each ──bc:pause:<id>|bc:resume:<id>──► the notice again, changed
             └─bc:cancel:<id>──► CONFIRM ──bc:cancel!:<id>──► cancelled (and what stopped)
                                        └─bc:list──► LIST

A moderator may cancel any notice (e.g. an urgent one sent without approval).
"""

from __future__ import annotations

from bot.authz import Action
from bot.broadcasting import notices as svc
from bot.broadcasting.desk import NoticeDesk
from bot.broadcasting.schedule import format_date, format_local
from bot.broadcasting.views import (
    CancelConfirmed,
    CancelNotice,
    MyNotices,
    NewNotice,
    Pause,
    Resume,
    short,
    status_text,
)
from bot.context import Context
from bot.events import Button, Reply, button, say
from bot.feature import Feature, On
from bot.menu import main_menu, menu_row
from db.repositories.notices import OPEN_STATUSES, Notice


async def list_mine(ctx: Context, _: MyNotices | None = None) -> list[Reply]:
    """List the coordinator's waiting, scheduled, recurring, paused and sending notices."""
    ctx.conv.clear()
    mine = await ctx.use(NoticeDesk).mine()
    if not mine:
        return [main_menu(ctx, "broadcast.none_open")]
    replies = [_item_reply(ctx, notice) for notice in mine[-10:]]
    replies.append(say("broadcast.list_footer", [[button("broadcast.new", NewNotice().pack())],
                                                 menu_row()], n=len(mine)))
    return replies


def _item_reply(ctx: Context, notice: Notice, key: str = "broadcast.item") -> Reply:
    services, nid = ctx.services, notice.id or 0
    row: list[Button] = []
    if notice.status == "active" and notice.next_run_at is not None:
        row.append(button("broadcast.pause", Pause(nid).pack()))
    if notice.status == "paused":
        row.append(button("broadcast.resume", Resume(nid).pack()))
    if notice.status in {*OPEN_STATUSES, "done"}:
        row.append(button("broadcast.cancel", CancelNotice(nid).pack()))
    tz = services.settings.timezone
    return say(key, [row], id=notice.id, status=status_text(notice, listed=True),
               when=svc.when_text(services, notice, ctx.lang),
               next=format_local(notice.next_run_at, tz) if notice.next_run_at else "",
               audience=ctx.areas.labels(notice.areas), body=short(notice.body),
               until=format_date(notice.end_date) if notice.end_date else "")


async def _notice_i_may(ctx: Context, notice_id: int, cancelling: bool
                        ) -> tuple[Notice | None, list[Reply] | None]:
    """The notice if the person may act on it (author; a moderator may cancel), else why not."""
    desk = ctx.use(NoticeDesk)
    notice = await desk.get(notice_id)
    if notice is None:
        return None, [main_menu(ctx, "broadcast.not_yours")]
    if notice.author != ctx.person.identity:
        if not cancelling or not await ctx.services.authz.authorize(
                ctx.person.identity, Action.CONTENT_APPROVE,
                detail=f"cancel notice {notice.id}"):
            return None, [main_menu(ctx, "broadcast.not_yours")]
    going_out = cancelling and await desk.going_out(notice_id)
    if notice.status not in OPEN_STATUSES and not going_out:
        return None, [main_menu(ctx, "broadcast.already_closed", id=notice.id,
                                status=status_text(notice))]
    return notice, None


async def on_pause(ctx: Context, data: Pause) -> list[Reply]:
    return await _pause_or_resume(ctx, data.id, "pause")


async def on_resume(ctx: Context, data: Resume) -> list[Reply]:
    return await _pause_or_resume(ctx, data.id, "resume")


async def _pause_or_resume(ctx: Context, notice_id: int, action: str) -> list[Reply]:
    notice, refused = await _notice_i_may(ctx, notice_id, cancelling=False)
    if notice is None:
        return refused or []
    desk = ctx.use(NoticeDesk)
    changed = await desk.pause_or_resume(notice_id, action)
    if action == "pause" and changed is not None and changed.status == "paused":
        return [_item_reply(ctx, changed, "broadcast.paused")]
    if action == "resume" and changed is not None and changed.status == "active":
        return [_item_reply(ctx, changed, "broadcast.resumed")]
    if action == "resume" and changed is not None and changed.status == "missed":
        return [main_menu(ctx, "broadcast.resume_missed", id=notice_id)]
    return [_item_reply(ctx, await desk.get(notice_id) or notice)]


async def on_cancel(ctx: Context, data: CancelNotice) -> list[Reply]:
    """Ask before cancelling."""
    notice, refused = await _notice_i_may(ctx, data.id, cancelling=True)
    if notice is None:
        return refused or []
    return [say("broadcast.confirm_cancel", [[
        button("broadcast.cancel_yes", CancelConfirmed(data.id).pack()),
        button("broadcast.cancel_no", MyNotices().pack())]], id=notice.id,
        body=short(notice.body))]


async def on_cancel_confirmed(ctx: Context, data: CancelConfirmed) -> list[Reply]:
    """Cancel the notice and whatever of it has not gone out yet."""
    notice, refused = await _notice_i_may(ctx, data.id, cancelling=True)
    if notice is None:
        return refused or []
    stopped = await ctx.use(NoticeDesk).cancel(notice)
    return [main_menu(ctx, "broadcast.cancelled", id=data.id, stopped=stopped)]


FEATURE = Feature(
    "my_notices",
    buttons=(On(MyNotices, list_mine), On(Pause, on_pause), On(Resume, on_resume),
             On(CancelNotice, on_cancel), On(CancelConfirmed, on_cancel_confirmed)),
)
