"""Health-protocol information: a list of topics, each a page with Back and Menu.

    /info ──► TOPICS ──topic:<slug>──► PAGE ──topics──► TOPICS
                                         └──menu──► MENU
"""

from __future__ import annotations

from bot.context import Context
from bot.events import Reply, button, raw_button, say


async def topics(ctx: Context) -> list[Reply]:
    """List the health topics as buttons."""
    items = ctx.services.content.topic_list(ctx.lang)
    rows = [[raw_button(tp.title, f"topic:{tp.slug}")] for tp in items]
    return [say("info.topics", [*rows, [button("common.menu", "menu")]])]


async def page(ctx: Context, slug: str) -> list[Reply] | None:
    """Show one topic page; None if there is no such topic (an old or forged button)."""
    topic = ctx.services.content.topic(ctx.lang, slug)
    if topic is None:
        return None
    rows = [[button("common.back", "topics"), button("common.menu", "menu")]]
    return [say("info.page", rows, title=topic.title, body=topic.body,
                updated=topic.updated.isoformat(), sources=topic.sources)]
