"""What differs per channel, as data the core can ask about (no channel library here).

Limits are counted the way the channel counts them (Telegram counts UTF-16 code units, so an
emoji may count twice). Notices go to every channel, so the wizard checks the strictest.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass


def utf16_length(text: str) -> int:
    """Length in UTF-16 code units (how Telegram counts message length)."""
    return len(text.encode("utf-16-le")) // 2


@dataclass(frozen=True)
class ChannelTraits:
    name: str
    text_limit: int  # one message's text
    caption_limit: int  # the text under a photo or document
    buttons_per_message: int
    can_edit: bool  # a sent message can be edited (progress reports)
    length: Callable[[str], int] = len
    invite_format: str = ""  # "{code}" is replaced; empty: no link, the code is typed
    group_per_minute: int = 0  # messages a minute to one group chat (0: no groups)

    def invite_link(self, code: str) -> str | None:
        """The link that opens the bot with an RT's invite code, if the channel has one."""
        return self.invite_format.replace("{code}", code) if self.invite_format else None


SIGNATURE_ROOM = 596  # the signature, time and header residents see around a notice's text
CAPTION_ROOM = 200


def notice_limits(channels: Iterable[ChannelTraits]) -> tuple[int, int, Callable[[str], int]]:
    """(text limit, caption limit, length function) a notice's body must fit on every channel.

    When channels count differently, the stricter count is used for both limits."""
    found = list(channels)
    text = min(c.text_limit for c in found) - SIGNATURE_ROOM
    caption = min(c.caption_limit for c in found) - CAPTION_ROOM
    counters = {c.length for c in found}
    length: Callable[[str], int] = utf16_length if utf16_length in counters else len
    return text, caption, length


def telegram_traits(username: str | None, group_per_minute: int = 20) -> ChannelTraits:
    invite = f"https://t.me/{username}?start={{code}}" if username else ""
    return ChannelTraits("telegram", text_limit=4096, caption_limit=1024,
                         buttons_per_message=100, can_edit=True, length=utf16_length,
                         invite_format=invite, group_per_minute=group_per_minute)


CONSOLE = ChannelTraits("console", text_limit=4096, caption_limit=1024, buttons_per_message=100,
                        can_edit=True)
