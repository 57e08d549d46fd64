"""The settings page, shown by Settings and again after onboarding's "change RT" steps.
It also leads to the person's health data (symptom reports, withdrawing the consent).

After a change, the page is the same whole page (language, RT, regular notices) under one
line saying what changed, so no line goes missing from one screen to the next."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from bot.callbacks import Callback
from bot.context import Context
from bot.events import Reply, button, say, t
from bot.menu import menu_row, person_area


@dataclass(frozen=True)
class Setting(Callback, prefix="set"):
    what: Literal["lang", "area", "notices", "health", "erase"]


def settings_replies(ctx: Context, key: str = "settings.title") -> list[Reply]:
    """The settings page; any other ``key`` is a line said above it (e.g. what changed)."""
    p = ctx.person
    rows = [
        [button("settings.language", Setting("lang").pack())],
        [button("settings.area", Setting("area").pack())],
        [button("settings.notices_off" if p.notices_regular else "settings.notices_on",
                Setting("notices").pack())],
        [button("settings.health", Setting("health").pack())],
        [button("settings.erase", Setting("erase").pack())],
        menu_row(),
    ]
    area = person_area(ctx)
    note = t(key, area=area) if key != "settings.title" else None
    return [say("settings.title", rows, area=area, notices=p.notices_regular,
                language=t(f"lang.{ctx.lang}"), note=note)]
