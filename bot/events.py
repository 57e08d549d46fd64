"""Channel-neutral incoming events and outgoing replies.

Adapters translate a channel's update into an ``Event`` and render each ``Reply`` back;
handlers see only these types.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any


class Kind(StrEnum):
    COMMAND = "command"  # "/start abc" -> command="start", args="abc"
    TEXT = "text"
    BUTTON = "button"  # a press on one of our buttons; payload is its data
    MEDIA = "media"  # sticker, photo, voice, ... outside a flow that asks for it
    OTHER = "other"  # anything else the person did (location, contact, poll, ...)


@dataclass(frozen=True)
class Event:
    identity: str  # "telegram:12345"
    channel: str  # "telegram" | "console" | "whatsapp"
    address: str  # where replies go (chat id)
    kind: Kind
    text: str = ""
    command: str = ""
    args: str = ""
    payload: str = ""
    media_type: str = ""
    language_hint: str | None = None  # e.g. Telegram's language_code
    ack: str = ""  # channel token to acknowledge (Telegram callback query id)


@dataclass(frozen=True)
class Text:
    """Text addressed by a content key, rendered per language and output format."""

    key: str
    params: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Button:
    label: Text
    payload: str


@dataclass(frozen=True)
class Reply:
    text: Text
    buttons: tuple[tuple[Button, ...], ...] = ()

    @property
    def payloads(self) -> list[str]:
        return [b.payload for row in self.buttons for b in row]


def t(key: str, **params: Any) -> Text:
    return Text(key, params)


def say(key: str, buttons: list[list[Button]] | None = None, **params: Any) -> Reply:
    """Build a reply from a content key, with optional rows of buttons."""
    rows = tuple(tuple(row) for row in (buttons or []) if row)
    return Reply(Text(key, params), rows)


def button(key: str, payload: str, **params: Any) -> Button:
    return Button(Text(key, params), payload)


def raw_button(label: str, payload: str) -> Button:
    """A button whose label is data (a place name, an RT number), not a content key."""
    return Button(Text("raw", {"value": label}), payload)
