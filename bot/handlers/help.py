"""/bantuan (/help): what the bot is, who runs it, and every command; usable before
registering."""

from __future__ import annotations

from bot.context import Context
from bot.events import Reply
from bot.feature import Command, Feature, Who
from bot.menu import main_menu


async def show(ctx: Context) -> list[Reply]:
    """Explain the bot and its commands; back to the menu."""
    s = ctx.services.settings
    staff = not ctx.is_new and bool(await ctx.services.authz.grants(ctx.person.identity))
    return [main_menu(ctx, "help.text", operator=s.operator, deployment=s.deployment_name,
                      staff=staff)]


FEATURE = Feature(
    "help",
    commands=(Command("bantuan", show, alias="help", who=Who.EVERYONE, public=True),),
)
