"""The language question, shared by onboarding and Settings."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from bot.callbacks import Callback
from bot.config import SUPPORTED_LANGUAGES
from bot.context import Context
from bot.events import Reply, button, say


@dataclass(frozen=True)
class Lang(Callback, prefix="lang"):
    code: Literal["id", "en"]


def language_reply(ctx: Context, key: str, **params: object) -> Reply:
    """Ask the language under the heading ``key``; the current one is ticked."""
    rows = [[button(f"lang.{code}", Lang(code).pack(), selected=code == ctx.lang)]  # type: ignore[arg-type]
            for code in SUPPORTED_LANGUAGES]
    return say(key, rows, **params)
