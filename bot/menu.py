"""The main menu, built from the registered features.

Every screen can end in the main menu, so handlers and the router share this module; the
items themselves come from the features (``Feature.menu``), never from a list here.
Areas are named by ``Areas.label``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from bot.callbacks import Callback
from bot.context import Context
from bot.events import Button, Reply, Text, button, say


@dataclass(frozen=True)
class ShowMenu(Callback, prefix="menu"):
    """Show the main menu."""


@dataclass(frozen=True)
class OpenItem(Callback, prefix="m"):
    """A main-menu item: runs the command of the same name."""

    command: str


@dataclass(frozen=True)
class Join(Callback, prefix="join"):
    """Register with an RT (shown to people who have not yet)."""


def person_area(ctx: Context) -> Text | None:
    """The person's own RT with its kelurahan, or None."""
    return ctx.areas.label(ctx.person.area_code, full=True) \
        if ctx.areas.rt(ctx.person.area_code) else None


def menu_buttons(ctx: Context) -> list[list[Button]]:
    items = ctx.services.features.menu_items if ctx.services.features else ()
    buttons = [button(item.label, OpenItem(item.command).pack()) for item in items]
    rows = [buttons[i:i + 2] for i in range(0, len(buttons), 2)]
    if not ctx.person.consented or not ctx.person.area_code:
        rows.append([button("menu.join", Join().pack())])
    return rows


def main_menu(ctx: Context, key: str = "menu.title", **params: Any) -> Reply:
    """The main menu under a heading from ``key``."""
    return say(key, menu_buttons(ctx), area=person_area(ctx), **params)


def menu_row() -> list[Button]:
    """A row with one button back to the main menu."""
    return [button("common.menu", ShowMenu().pack())]
