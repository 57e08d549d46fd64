"""Health-protocol information: a list of topics, each a page with Back and Menu.

    /info ──► TOPICS ──topic:<slug>──► PAGE ──topics──► TOPICS
                                         └──menu──► MENU

A page ends with when and by whom it was last checked against its sources ("Ditinjau
1 Desember 2026 oleh …", the date in words from Babel) and the sources. ``page_text`` builds
that text for any page, so a feature showing a page of ``pages/`` (e.g. the triage advice)
shows it the same way.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from babel.dates import format_date

from bot.callbacks import Callback
from bot.content import Topic as Page
from bot.content import topic_values
from bot.context import Context, Services
from bot.events import Reply, Text, button, raw_button, say, t
from bot.feature import Command, Feature, MenuItem, On
from bot.menu import ShowMenu, menu_row

# Babel locale per content language: Indonesian English writes "1 December 2026"
_LOCALES = {"id": "id", "en": "en_ID"}


@dataclass(frozen=True)
class Topics(Callback, prefix="topics"):
    """The list of topics."""


@dataclass(frozen=True)
class Topic(Callback, prefix="topic"):
    slug: str


def long_date(day: date, lang: str) -> str:
    """E.g. "1 Desember 2026" / "1 December 2026"."""
    return format_date(day, format="long", locale=_LOCALES.get(lang, lang))


def page_text(services: Services, lang: str, page: Page) -> Text:
    """A topic or a page of ``pages/`` as the reader sees it: title, body with the settings
    filled in, the review line (date in words, reviewer) and the sources."""
    body = services.content.topic_body(lang, page, topic_values(services.settings, lang))
    return t("info.page", title=page.title, body=body, reviewed=long_date(page.reviewed, lang),
             reviewed_by=page.reviewed_by, sources=page.sources)


async def topics(ctx: Context) -> list[Reply]:
    """List the health topics as buttons."""
    items = ctx.services.content.topic_list(ctx.lang)
    rows = [[raw_button(tp.title, Topic(tp.slug).pack())] for tp in items]
    return [say("info.topics", [*rows, menu_row()])]


async def page(ctx: Context, data: Topic) -> list[Reply] | None:
    """Show one topic page; None if there is no such topic (an old or forged button)."""
    topic = ctx.services.content.topic(ctx.lang, data.slug)
    if topic is None:
        return None
    rows = [[button("common.back", Topics().pack()), button("common.menu", ShowMenu().pack())]]
    text = page_text(ctx.services, ctx.lang, topic)
    return [Reply(text, tuple(tuple(row) for row in rows))]


async def _topics(ctx: Context, _: Topics) -> list[Reply]:
    return await topics(ctx)


FEATURE = Feature(
    "info",
    commands=(Command("info", topics, public=True),),
    buttons=(On(Topics, _topics), On(Topic, page)),
    menu=MenuItem(10, "menu.info", "info"),
)
