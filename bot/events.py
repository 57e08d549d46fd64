"""Channel-neutral incoming events and outgoing replies.

Adapters translate a channel's update into an ``Event`` and render each ``Reply`` back;
handlers see only these types.
"""

from __future__ import annotations

import base64
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any


class Kind(StrEnum):
    COMMAND = "command"  # "/start abc" -> command="start", args="abc"
    TEXT = "text"
    BUTTON = "button"  # a press on one of our buttons; payload is its data
    MEDIA = "media"  # sticker, photo, voice, ... outside a flow that asks for it
    # the person shared a phone number with a contact button (``contact_button``): ``text``
    # is it in E.164 ("+6281234567890"), or "" when it is not their own number
    CONTACT = "contact"
    OTHER = "other"  # anything else the person did (location, poll, ...)


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
    media_ref: str = ""  # the channel's id of a photo or document the person sent
    media_name: str = ""  # file name of a document
    media_mime: str = ""
    group: str = ""  # group chat title when the event comes from a group (not a private chat)
    group_admin: bool = False  # the sender administers that group (checked by the channel)


@dataclass(frozen=True)
class Text:
    """Text addressed by a content key, rendered per language and output format."""

    key: str
    params: Mapping[str, Any] = field(default_factory=dict)


CONTACT = "contact"  # ``Button.request`` of a button that shares the person's phone number
CONTACT_PAYLOAD = "#contact"  # its payload: no callback (a forged press of it is stale)


@dataclass(frozen=True)
class Button:
    """A button: pressing it sends ``payload`` back (a ``Kind.BUTTON`` event), or, with
    ``request`` "contact", the person's own phone number (a ``Kind.CONTACT`` event)."""

    label: Text
    payload: str
    request: str = ""


@dataclass(frozen=True)
class Media:
    """A photo or document sent with a reply (its text becomes the caption): one the channel
    already has (``ref``, its file id), or one the bot made (``data``: a chart, a CSV)."""

    kind: str  # photo | document
    ref: str = ""  # the channel's file id
    name: str = ""
    data: bytes = b""  # the file itself, when the bot made it (``name`` is its file name)


@dataclass(frozen=True)
class Reply:
    text: Text
    buttons: tuple[tuple[Button, ...], ...] = ()
    media: Media | None = None

    @property
    def payloads(self) -> list[str]:
        return [b.payload for row in self.buttons for b in row]

    @property
    def asks_contact(self) -> bool:
        """Whether one of its buttons shares the person's phone number."""
        return any(b.request == CONTACT for row in self.buttons for b in row)


def t(key: str, **params: Any) -> Text:
    return Text(key, params)


def say(key: str, buttons: list[list[Button]] | None = None, **params: Any) -> Reply:
    """Build a reply from a content key, with optional rows of buttons."""
    rows = tuple(tuple(row) for row in (buttons or []) if row)
    return Reply(Text(key, params), rows)


def button(key: str, payload: str, **params: Any) -> Button:
    return Button(Text(key, params), payload)


def contact_button(key: str, **params: Any) -> Button:
    """A button that shares the person's own phone number (never typed by hand): on
    Telegram, the "share my contact" keyboard button; on the console, a demo number. The
    step that shows it takes the ``Kind.CONTACT`` event (``Step(contact=True)``)."""
    return Button(Text(key, params), CONTACT_PAYLOAD, CONTACT)


def e164(number: str) -> str:
    """A phone number as a channel gives it ("6281234567890", "+62 812-3456-7890") in E.164
    form: "+" and its digits; "" when it has no digits. A number starting with "00" (the
    international prefix) loses it."""
    digits = "".join(ch for ch in number if ch.isdigit())
    if digits.startswith("00"):
        digits = digits[2:]
    return f"+{digits}" if digits else ""


def raw_button(label: str, payload: str) -> Button:
    """A button whose label is data (a place name, an RT number), not a content key."""
    return Button(Text("raw", {"value": label}), payload)


def _value_json(value: Any) -> Any:
    if isinstance(value, Text):
        return _text_json(value)
    if isinstance(value, list | tuple):
        return [_value_json(v) for v in value]
    if isinstance(value, dict):
        return {k: _value_json(v) for k, v in value.items()}
    return value


def _value_from(value: Any) -> Any:
    if isinstance(value, dict) and set(value) == {"key", "params"}:
        return _text_from(value)
    if isinstance(value, list):
        return [_value_from(v) for v in value]
    if isinstance(value, dict):
        return {k: _value_from(v) for k, v in value.items()}
    return value


def _text_json(text: Text) -> dict[str, Any]:
    return {"key": text.key, "params": {k: _value_json(v) for k, v in text.params.items()}}


def _text_from(data: Mapping[str, Any]) -> Text:
    return Text(data["key"], {k: _value_from(v) for k, v in data["params"].items()})


def reply_to_json(reply: Reply) -> dict[str, Any]:
    """A reply as JSON, to be queued in the outbox and sent later."""
    out: dict[str, Any] = {"text": _text_json(reply.text)}
    if reply.buttons:
        out["buttons"] = [[_button_json(b) for b in row] for row in reply.buttons]
    if reply.media:
        out["media"] = {"kind": reply.media.kind, "ref": reply.media.ref,
                        "name": reply.media.name}
        if reply.media.data:
            out["media"]["data"] = base64.b64encode(reply.media.data).decode("ascii")
    return out


def _button_json(b: Button) -> dict[str, Any]:
    out = {"label": _text_json(b.label), "payload": b.payload}
    if b.request:
        out["request"] = b.request
    return out


def reply_from_json(data: Mapping[str, Any]) -> Reply:
    rows = tuple(tuple(Button(_text_from(b["label"]), b["payload"], b.get("request", ""))
                       for b in row)
                 for row in data.get("buttons", []))
    media = None
    if data.get("media"):
        found = dict(data["media"])
        found["data"] = base64.b64decode(found.get("data", ""))
        media = Media(**found)
    return Reply(_text_from(data["text"]), rows, media)
