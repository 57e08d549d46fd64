"""Menu items whose feature is not built yet: say so in one line and return to the menu.

Each is a registry entry (``soon.feature(...)`` in ``bot/registry.py``) that the issue
building the feature replaces with its own module.
"""

from __future__ import annotations

from bot.context import Context
from bot.events import Reply, t
from bot.feature import Command, Feature, Handler, MenuItem
from bot.menu import main_menu


def not_yet(sentence: str) -> Handler:
    """Build a handler that says the feature named by ``sentence`` is coming."""

    async def handler(ctx: Context) -> list[Reply]:
        ctx.conv.clear()
        contacts = ctx.services.settings.contacts
        return [main_menu(ctx, "soon.text", feature=t(sentence), ambulance=contacts.ambulance)]

    handler.__doc__ = f"Say that {sentence} is not available yet; back to the menu."
    return handler


def feature(command: str, alias: str, order: int, label: str, sentence: str) -> Feature:
    """A not-yet-built feature: its command, English alias and main-menu item."""
    return Feature(f"soon-{command}",
                   commands=(Command(command, not_yet(sentence), alias=alias, public=True),),
                   menu=MenuItem(order, label, command))
