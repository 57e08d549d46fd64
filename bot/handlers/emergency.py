"""/darurat (/emergency): national numbers, then the puskesmas, hospital and RT/RW of the
person's area; usable before registering."""

from __future__ import annotations

from bot.context import Context
from bot.events import Reply
from bot.feature import Command, Feature, MenuItem, Who
from bot.menu import main_menu


async def show(ctx: Context) -> list[Reply]:
    """List the emergency numbers for the person's area; back to the menu."""
    ctx.conv.clear()
    c = ctx.services.settings.contacts
    local: list[dict[str, object]] = []
    chain = ctx.areas.chain(ctx.person.area_code or "")
    if chain is not None:
        for unit in chain:
            local += [{"role": x.role_label(), "name": x.name, "phone": x.phone}
                      for x in unit.contacts]
    return [main_menu(ctx, "emergency.text", ambulance=c.ambulance, emergency=c.emergency,
                      emergency_note=c.note(ctx.lang), health_info=c.health_info,
                      local=local, registered=chain is not None, demo=ctx.areas.demo)]


FEATURE = Feature(
    "emergency",
    commands=(Command("darurat", show, alias="emergency", who=Who.EVERYONE, public=True),),
    menu=MenuItem(70, "menu.emergency", "darurat"),
)
