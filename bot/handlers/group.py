"""/hubungkan (/link) and /putuskan (/unlink), sent inside an RT's Telegram group.

The sender must coordinate that RT (checked, with an audit row) and administer the group
(checked by the channel). Once linked, notices to the RT are posted in the group too.

    /hubungkan [RT number] (in a group) ──► linked, or a clear reason why not
    /putuskan (in a group) ──► unlinked
"""

from __future__ import annotations

from bot.areas import RT
from bot.authz import Action
from bot.broadcasting import notices as svc
from bot.broadcasting.desk import NoticeDesk
from bot.context import Context
from bot.events import Reply, say, t
from bot.feature import Command, Feature, Who


def _rt_choices(ctx: Context, scopes: list[str]) -> list[RT]:
    return [rt for rt in (ctx.areas.rt(c) for c in svc.rt_codes(ctx.areas, scopes)) if rt]


def _pick(choices: list[RT], arg: str) -> RT | None:
    """The RT the argument names: its number ("03", "3") when that is unique among the
    person's RTs, else its code ("cimuncang-rw02-rt03")."""
    if not arg:
        return choices[0] if len(choices) == 1 else None
    wanted = arg.strip().lower().removeprefix("rt").strip()
    by_code = [rt for rt in choices if rt.code == wanted]
    by_number = [rt for rt in choices if wanted in {rt.number, rt.number.lstrip("0")}]
    found = by_code or by_number
    return found[0] if len(found) == 1 else None


async def link(ctx: Context) -> list[Reply]:
    """Link this group to the sender's RT, if they coordinate it and administer the group."""
    event, services = ctx.event, ctx.services
    identity = ctx.person.identity
    scopes = [] if ctx.is_new else await services.authz.scopes(identity)
    choices = _rt_choices(ctx, scopes)
    if not choices:
        await services.authz.authorize(identity, Action.BROADCAST_SEND, None,
                                       detail="link group: not a coordinator")
        return [say("group.not_coordinator")]
    rt = _pick(choices, event.args)
    if rt is None:
        numbers = [r.number for r in choices]
        unique = len(set(numbers)) == len(numbers)  # RT numbers repeat across RWs
        return [say("group.which_rt", choices=[
            ctx.areas.label(r.code) if unique else
            t("group.rt_with_code", area=ctx.areas.label(r.code), code=r.code)
            for r in choices], example=choices[0].number if unique else choices[0].code)]
    if not await services.authz.authorize(identity, Action.BROADCAST_SEND, rt.code,
                                          detail=f"link group {event.address}"):
        return [say("group.not_coordinator")]
    if not event.group_admin:
        return [say("group.not_admin")]
    ctx.use(NoticeDesk).link_group(rt.code)
    traits = services.channels.get(event.channel)
    return [say("group.linked", area=ctx.areas.label(rt.code), title=event.group,
                per_minute=traits.group_per_minute if traits else 0)]


async def unlink(ctx: Context) -> list[Reply]:
    """Stop posting notices in this group (its RT's coordinator, a group admin)."""
    event, services = ctx.event, ctx.services
    identity = ctx.person.identity
    desk = ctx.use(NoticeDesk)
    linked = await desk.groups_linked_here()
    if not linked:
        return [say("group.not_linked")]
    allowed = not ctx.is_new and all([
        await services.authz.authorize(identity, Action.BROADCAST_SEND, code,
                                       detail=f"unlink group {event.address}")
        for code in linked])
    if not allowed:
        return [say("group.not_coordinator")]
    if not event.group_admin:
        return [say("group.not_admin")]
    desk.unlink_group()
    return [say("group.unlinked", areas=ctx.areas.labels(linked))]


FEATURE = Feature(
    "group",
    commands=(Command("hubungkan", link, alias="link", who=Who.GROUP),
              Command("putuskan", unlink, alias="unlink", who=Who.GROUP)),
)
