"""/undangan: a coordinator gets the invite links of the RTs they coordinate."""

from __future__ import annotations

from bot.authz import Action
from bot.context import Context
from bot.events import Reply
from bot.handlers.menu import main_menu


async def invites(ctx: Context) -> list[Reply]:
    """List invite links for the coordinator's own RTs; refuse anyone else."""
    ctx.conv.clear()
    authz, areas = ctx.services.authz, ctx.areas
    scopes = await authz.scopes(ctx.person.identity)
    links = []
    for scope in scopes:
        if await authz.authorize(ctx.person.identity, Action.INVITE_VIEW, scope):
            for rt in areas.rts_within(scope):
                kel, rw, _ = areas.chain(rt.code)  # type: ignore[misc]
                links.append({"area": f"RT {rt.number} / RW {rw.number}, {kel.name}",
                              "invite": rt.invite})
    if not links:
        if not scopes:  # still audited: a refused attempt is a privileged action too
            await authz.authorize(ctx.person.identity, Action.INVITE_VIEW, ctx.person.area_code)
        return [main_menu(ctx, "coordinator.not_allowed")]
    username = ctx.services.settings.telegram.bot_username
    return [main_menu(ctx, "coordinator.invites", links=links, username=username)]
