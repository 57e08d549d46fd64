"""/undangan (/invite): a coordinator gets the invite links of the RTs they coordinate."""

from __future__ import annotations

from bot.authz import Action
from bot.context import Context
from bot.events import Reply
from bot.feature import Command, Feature, Who
from bot.menu import main_menu


async def invites(ctx: Context) -> list[Reply]:
    """List invite links for the coordinator's own RTs; refuse anyone else."""
    ctx.conv.clear()
    authz, areas = ctx.services.authz, ctx.areas
    scopes = await authz.scopes(ctx.person.identity)
    traits = ctx.services.channels.get(ctx.event.channel)
    links = []
    for scope in scopes:
        if await authz.authorize(ctx.person.identity, Action.INVITE_VIEW, scope):
            for rt in areas.rts_within(scope):
                links.append({"area": areas.label(rt.code, full=True), "invite": rt.invite,
                              "link": traits.invite_link(rt.invite) if traits else None})
    if not links:
        if not scopes:  # still audited: a refused attempt is a privileged action too
            await authz.authorize(ctx.person.identity, Action.INVITE_VIEW, ctx.person.area_code)
        return [main_menu(ctx, "coordinator.not_allowed")]
    return [main_menu(ctx, "coordinator.invites", links=links)]


FEATURE = Feature(
    "coordinator",
    commands=(Command("undangan", invites, alias="invite", who=Who.STAFF),),
)
