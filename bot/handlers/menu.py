"""/menu: the main menu, reachable from every screen; its items run their commands.

    /menu, menu ──► MENU ──m:<command>──► that command (e.g. m:info ──► /info)
"""

from __future__ import annotations

from bot.context import Context
from bot.events import Reply
from bot.feature import Command, Feature, On, Who
from bot.menu import OpenItem, ShowMenu, main_menu


async def show(ctx: Context) -> list[Reply]:
    """Show the main menu; leaves any unfinished flow."""
    ctx.conv.clear()
    return [main_menu(ctx)]


async def open_item(ctx: Context, data: OpenItem) -> list[Reply] | None:
    """Run the command of a main-menu item (only the items on the menu)."""
    features = ctx.services.features
    if features is None or data.command not in {i.command for i in features.menu_items}:
        return None
    command = features.command(data.command)
    return await command.handler(ctx) if command else None


async def _show(ctx: Context, _: ShowMenu) -> list[Reply]:
    return await show(ctx)


FEATURE = Feature(
    "menu",
    commands=(Command("menu", show, who=Who.RESIDENT, public=True),),
    buttons=(On(ShowMenu, _show), On(OpenItem, open_item)),
)
