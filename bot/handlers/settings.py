"""Settings: language, RT, regular notices on/off, and erasing one's data.

    /pengaturan ──► SETTINGS ──set:lang──► LANGUAGE ──lang:id|en──► SETTINGS
                       ├─set:area──► onboarding area steps ──► SETTINGS
                       ├─set:notices──► (toggle) SETTINGS
                       └─set:erase──► /hapusdata confirmation
"""

from __future__ import annotations

from bot.context import Context
from bot.events import Reply, button, say, t
from bot.handlers.language import is_language, language_reply
from bot.handlers.menu import area_label

FLOW = "settings"


def settings_replies(ctx: Context, key: str = "settings.title") -> list[Reply]:
    p = ctx.person
    rows = [
        [button("settings.language", "set:lang")],
        [button("settings.area", "set:area")],
        [button("settings.notices_off" if p.notices_regular else "settings.notices_on",
                "set:notices")],
        [button("settings.erase", "set:erase")],
        [button("common.menu", "menu")],
    ]
    return [say(key, rows, area=area_label(ctx), notices=p.notices_regular,
                language=t(f"lang.{ctx.lang}"))]


async def show(ctx: Context) -> list[Reply]:
    """Show the current settings and what can be changed."""
    ctx.conv.clear()
    return settings_replies(ctx)


async def ask_language(ctx: Context) -> list[Reply]:
    """Ask which language to use from now on."""
    ctx.conv.go(FLOW, "language")
    return [language_reply(ctx, "settings.pick_language")]


async def on_language(ctx: Context, code: str) -> list[Reply] | None:
    """Switch the language and show the settings again, in that language."""
    if ctx.conv.flow != FLOW or ctx.conv.step != "language" or not is_language(code):
        return None
    ctx.person.language = code
    ctx.conv.clear()
    return settings_replies(ctx, "settings.language_changed")


async def toggle_notices(ctx: Context) -> list[Reply]:
    """Turn regular (non-urgent) notices off or on; urgent notices always arrive."""
    ctx.person.notices_regular = not ctx.person.notices_regular
    ctx.conv.clear()
    key = "settings.notices_now_on" if ctx.person.notices_regular else "settings.notices_now_off"
    return settings_replies(ctx, key)
