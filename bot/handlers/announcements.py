"""/pengumuman (/notices): the latest notices sent to the resident's RT, RW or kelurahan."""

from __future__ import annotations

from datetime import timedelta

from bot.broadcasting import notices as svc
from bot.broadcasting.desk import NoticeDesk
from bot.context import Context
from bot.events import Reply, button, say
from bot.feature import Command, Feature, MenuItem
from bot.menu import Join, main_menu, menu_row

DAYS = 30
LATEST = 5


async def latest(ctx: Context) -> list[Reply]:
    """Show the last few notices for the person's area (newest last), then the menu."""
    ctx.conv.clear()
    area = ctx.person.area_code if ctx.person.consented else None
    chain = ctx.areas.chain(area) if area else None
    if chain is None:
        return [say("announcements.no_area", [[button("menu.join", Join().pack())],
                                              menu_row()])]
    since = ctx.services.clock.now() - timedelta(days=DAYS)
    found = await ctx.use(NoticeDesk).latest_for_me([unit.code for unit in chain], since,
                                                    LATEST)
    if not found:
        return [main_menu(ctx, "announcements.none", days=DAYS)]
    replies = [say("announcements.header", n=len(found), days=DAYS)]
    for notice, run in reversed(found):
        replies.append(svc.compose(ctx.services, notice, ctx.lang, run.started_at))
    replies.append(main_menu(ctx, "announcements.footer"))
    return replies


FEATURE = Feature(
    "announcements",
    commands=(Command("pengumuman", latest, alias="notices", public=True),),
    menu=MenuItem(60, "menu.notices", "pengumuman"),
)
