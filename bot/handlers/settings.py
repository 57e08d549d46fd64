"""/pengaturan (/settings): language, RT, regular notices on/off, and erasing one's data.

    /pengaturan ──► SETTINGS ──set:lang──► LANGUAGE ──lang:id|en──► SETTINGS
                       ├─set:area──► onboarding's area steps ──► SETTINGS
                       ├─set:notices──► (toggle) SETTINGS
                       ├─set:health──► My health data (symptoms) ──► withdraw consent
                       └─set:erase──► /hapusdata confirmation
"""

from __future__ import annotations

from bot.context import Context
from bot.events import Reply
from bot.feature import Command, Feature, MenuItem, On
from bot.flow import Flow, Step
from bot.handlers import onboarding, privacy, symptoms
from bot.handlers.language import Lang, language_reply
from bot.settings_page import Setting, settings_replies


async def show(ctx: Context) -> list[Reply]:
    """Show the current settings and what can be changed."""
    ctx.conv.clear()
    return settings_replies(ctx)


async def on_setting(ctx: Context, data: Setting) -> list[Reply]:
    if data.what == "lang":
        FLOW.start(ctx, "language")
        return [await FLOW.ask(ctx)]
    if data.what == "area":
        return await onboarding.change_area(ctx)
    if data.what == "erase":
        return await privacy.ask(ctx)
    if data.what == "health":
        return await symptoms.my_data(ctx)
    # notices: turn regular (non-urgent) notices off or on; urgent notices always arrive
    ctx.person.notices_regular = not ctx.person.notices_regular
    ctx.conv.clear()
    key = "settings.notices_now_on" if ctx.person.notices_regular else "settings.notices_now_off"
    return settings_replies(ctx, key)


async def on_language(ctx: Context, data: Lang) -> list[Reply]:
    """Switch the language and show the settings again, in that language."""
    ctx.person.language = data.code
    ctx.conv.clear()
    return settings_replies(ctx, "settings.language_changed")


FLOW = Flow("settings", {
    "language": Step(ask=lambda ctx: language_reply(ctx, "settings.pick_language")),
})

FEATURE = Feature(
    "settings",
    commands=(Command("pengaturan", show, alias="settings", public=True),),
    buttons=(On(Setting, on_setting), On(Lang, on_language, FLOW.name, ("language",))),
    flows=(FLOW,),
    menu=MenuItem(80, "menu.settings", "pengaturan"),
)
