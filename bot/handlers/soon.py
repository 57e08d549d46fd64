"""Menu items whose feature is not built yet: say so in one line and return to the menu.

Each is a registry entry (``soon.feature(...)`` in ``bot/registry.py``) that the issue
building the feature replaces with its own module. A health item also names the ambulance
number and may offer health pages to read meanwhile; the others do not send people to 119.
"""

from __future__ import annotations

from bot.context import Context
from bot.events import Reply, raw_button, say, t
from bot.feature import Command, Feature, Handler, MenuItem
from bot.handlers.info import Topic
from bot.menu import menu_buttons, person_area


def not_yet(sentence: str, health: bool = False, pages: tuple[str, ...] = ()) -> Handler:
    """Build a handler that says the feature named by ``sentence`` is coming; a ``health``
    item adds the ambulance number and buttons to the topic ``pages`` (slugs)."""

    async def handler(ctx: Context) -> list[Reply]:
        ctx.conv.clear()
        content = ctx.services.content
        found = [tp for tp in (content.topic(ctx.lang, slug) for slug in pages) if tp]
        rows = [[raw_button(tp.title, Topic(tp.slug).pack())] for tp in found]
        ambulance = ctx.services.settings.contacts.ambulance if health else ""
        return [say("soon.text", [*rows, *menu_buttons(ctx)], area=person_area(ctx),
                    feature=t(sentence), ambulance=ambulance, pages=bool(found))]

    handler.__doc__ = f"Say that {sentence} is not available yet; back to the menu."
    return handler


def feature(command: str, alias: str, order: int, label: str, sentence: str, *,
            health: bool = False, pages: tuple[str, ...] = ()) -> Feature:
    """A not-yet-built feature: its command, English alias and main-menu item (``health``:
    its answer names the ambulance number and offers the topic ``pages``)."""
    return Feature(f"soon-{command}",
                   commands=(Command(command, not_yet(sentence, health, pages), alias=alias,
                                     public=True),),
                   menu=MenuItem(order, label, command))
