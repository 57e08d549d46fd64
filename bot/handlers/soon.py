"""Menu items whose feature is not built yet: say so in one line and return to the menu."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from bot.context import Context
from bot.events import Reply, t
from bot.handlers.menu import main_menu

FEATURES = {  # feature -> its name in a sentence (menu labels carry an emoji)
    "gejala": "soon.symptoms",
    "relawan": "soon.volunteer",
    "hoaks": "soon.hoax",
    "cekfakta": "soon.factcheck",
    "pengumuman": "soon.notices",
}


def not_yet(feature: str) -> Callable[[Context], Awaitable[list[Reply]]]:
    """Build a handler that says ``feature`` is coming and shows the menu."""

    async def handler(ctx: Context) -> list[Reply]:
        ctx.conv.clear()
        contacts = ctx.services.settings.contacts
        return [main_menu(ctx, "soon.text", feature=t(FEATURES[feature]),
                          ambulance=contacts.ambulance)]

    handler.__doc__ = f"Say that {feature} is not available yet; back to the menu."
    return handler
