"""The language question, shared by onboarding and Settings."""

from __future__ import annotations

from bot.config import SUPPORTED_LANGUAGES
from bot.context import Context
from bot.events import Reply, button, say


def language_reply(ctx: Context, key: str, **params: str) -> Reply:
    """Ask the language under the heading ``key``; the current one is ticked."""
    rows = [[button(f"lang.{code}", f"lang:{code}", selected=code == ctx.lang)]
            for code in SUPPORTED_LANGUAGES]
    return say(key, rows, **params)


def is_language(code: str) -> bool:
    return code in SUPPORTED_LANGUAGES
