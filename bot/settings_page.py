"""The settings page, shown by Settings and again after onboarding's "change RT" steps."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from bot.callbacks import Callback
from bot.context import Context
from bot.events import Reply, button, say, t
from bot.menu import menu_row, person_area


@dataclass(frozen=True)
class Setting(Callback, prefix="set"):
    what: Literal["lang", "area", "notices", "erase"]


def settings_replies(ctx: Context, key: str = "settings.title") -> list[Reply]:
    p = ctx.person
    rows = [
        [button("settings.language", Setting("lang").pack())],
        [button("settings.area", Setting("area").pack())],
        [button("settings.notices_off" if p.notices_regular else "settings.notices_on",
                Setting("notices").pack())],
        [button("settings.erase", Setting("erase").pack())],
        menu_row(),
    ]
    return [say(key, rows, area=person_area(ctx), notices=p.notices_regular,
                language=t(f"lang.{ctx.lang}"))]
