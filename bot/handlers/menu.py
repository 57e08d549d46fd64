"""Main menu: the eight things a resident can do, reachable from every screen."""

from __future__ import annotations

from typing import Any

from bot.context import Context
from bot.events import Button, Reply, button, say

# (payload, label key); the order is the order on screen, two per row
ITEMS = (
    ("m:info", "menu.info"),
    ("m:gejala", "menu.symptoms"),
    ("m:relawan", "menu.volunteer"),
    ("m:hoaks", "menu.hoax"),
    ("m:cekfakta", "menu.factcheck"),
    ("m:pengumuman", "menu.notices"),
    ("m:darurat", "menu.emergency"),
    ("m:pengaturan", "menu.settings"),
)


def area_label(ctx: Context) -> str | None:
    """'RT 03 / RW 02, Kel. Cimuncang' for the person's RT, or None."""
    chain = ctx.areas.chain(ctx.person.area_code or "")
    if chain is None:
        return None
    kel, rw, rt = chain
    return f"RT {rt.number} / RW {rw.number}, {kel.name}"


def menu_buttons(ctx: Context) -> list[list[Button]]:
    buttons = [button(key, payload) for payload, key in ITEMS]
    rows = [buttons[i:i + 2] for i in range(0, len(buttons), 2)]
    if not ctx.person.consented or not ctx.person.area_code:
        rows.append([button("menu.join", "join")])
    return rows


def main_menu(ctx: Context, key: str = "menu.title", **params: Any) -> Reply:
    """The main menu under a heading from ``key``."""
    return say(key, menu_buttons(ctx), area=area_label(ctx), **params)


def back_to_menu() -> list[Button]:
    return [button("common.menu", "menu")]


async def show(ctx: Context) -> list[Reply]:
    """Show the main menu; leaves any unfinished flow."""
    ctx.conv.clear()
    return [main_menu(ctx)]
