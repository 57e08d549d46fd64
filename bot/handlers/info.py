"""Health-protocol information: a list of topics, each a page with Back and Menu.

    /info ──► TOPICS ──topic:<slug>──► PAGE ──topics──► TOPICS
                                         └──menu──► MENU
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.callbacks import Callback
from bot.content import topic_values
from bot.context import Context
from bot.events import Reply, button, raw_button, say
from bot.feature import Command, Feature, MenuItem, On
from bot.menu import ShowMenu, menu_row


@dataclass(frozen=True)
class Topics(Callback, prefix="topics"):
    """The list of topics."""


@dataclass(frozen=True)
class Topic(Callback, prefix="topic"):
    slug: str


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
    services = ctx.services
    body = services.content.topic_body(ctx.lang, topic, topic_values(services.settings))
    return [say("info.page", rows, title=topic.title, body=body,
                updated=topic.updated.isoformat(), sources=topic.sources)]


async def _topics(ctx: Context, _: Topics) -> list[Reply]:
    return await topics(ctx)


FEATURE = Feature(
    "info",
    commands=(Command("info", topics, public=True),),
    buttons=(On(Topics, _topics), On(Topic, page)),
    menu=MenuItem(10, "menu.info", "info"),
)
