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
from bot.context import Context
from bot.events import Reply, say
from db.repositories.notices import GroupLink


def _rt_choices(ctx: Context, scopes: list[str]) -> list[RT]:
    return [rt for rt in (ctx.areas.rt(c) for c in svc.rt_codes(ctx.areas, scopes)) if rt]


def _pick(ctx: Context, choices: list[RT], arg: str) -> RT | None:
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
    rt = _pick(ctx, choices, event.args)
    if rt is None:
        numbers = [r.number for r in choices]
        unique = len(set(numbers)) == len(numbers)  # RT numbers repeat across RWs
        return [say("group.which_rt", choices=[
            svc.area_label(ctx.areas, r.code) + ("" if unique else f" ({r.code})")
            for r in choices], example=choices[0].number if unique else choices[0].code)]
    if not await services.authz.authorize(identity, Action.BROADCAST_SEND, rt.code,
                                          detail=f"link group {event.address}"):
        return [say("group.not_coordinator")]
    if not event.group_admin:
        return [say("group.not_admin")]
    now = services.clock.now()
    group = GroupLink(rt.code, event.channel, event.address, event.group, identity, now)
    await services.store.write(lambda tx: tx.notices.link_group(group))
    return [say("group.linked", area=svc.area_label(ctx.areas, rt.code), title=event.group,
                per_minute=services.settings.telegram.group_per_minute)]


async def unlink(ctx: Context) -> list[Reply]:
    """Stop posting notices in this group (its RT's coordinator, a group admin)."""
    event, services = ctx.event, ctx.services
    identity = ctx.person.identity
    linked = await services.store.reads.notices.linked_to(event.channel, event.address)
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
    await services.store.write(
        lambda tx: tx.notices.unlink_group(event.channel, event.address))
    return [say("group.unlinked", areas=svc.audience_label(ctx.areas, linked))]
