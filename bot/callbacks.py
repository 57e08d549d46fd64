"""Typed callback data: what a button carries, encoded and checked in one place.

Each kind of button is a frozen dataclass with a prefix::

    @dataclass(frozen=True)
    class Topic(Callback, prefix="topic"):
        slug: str

    Topic("5m").pack() == "topic:5m";  decode("topic:5m") == Topic("5m")

Fields are ``str`` (letters, digits and ``_ . -``), ``int`` (digits only) or a ``Literal``
of allowed words. ``pack`` refuses anything over Telegram's 64 bytes; ``decode`` returns
None for anything that is not exactly one registered kind with valid fields, so a forged or
stale payload is rejected before any handler runs.
"""

from __future__ import annotations

import dataclasses
import re
from typing import Any, ClassVar, Literal, get_args, get_origin, get_type_hints

MAX_BYTES = 64  # Telegram's limit for callback_data
_WORD = re.compile(r"[A-Za-z0-9_.\-]{1,60}")
_NUMBER = re.compile(r"[0-9]{1,12}")

_KINDS: dict[str, type[Callback]] = {}


class CallbackError(ValueError):
    """A button's data could not be built (a bug: too long, or a value the kind refuses)."""


class Callback:
    prefix: ClassVar[str]
    _fields: ClassVar[tuple[tuple[str, Any], ...]]

    def __init_subclass__(cls, prefix: str, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if prefix in _KINDS:
            raise CallbackError(f"two button kinds share the prefix {prefix!r}")
        cls.prefix = prefix
        _KINDS[prefix] = cls

    @classmethod
    def _spec(cls) -> tuple[tuple[str, Any], ...]:
        if "_fields" not in cls.__dict__:
            hints = get_type_hints(cls)  # the defining module imports Literal if it uses it
            cls._fields = tuple((f.name, hints[f.name])
                                for f in dataclasses.fields(cls))  # type: ignore[arg-type]
        return cls._fields

    def pack(self) -> str:
        """The payload to put on the button."""
        parts = [self.prefix]
        for name, kind in self._spec():
            value = getattr(self, name)
            text = str(value)
            if _parse(kind, text) != value:
                raise CallbackError(f"{self.prefix}: {name}={value!r} cannot be sent")
            parts.append(text)
        payload = ":".join(parts)
        if len(payload.encode()) > MAX_BYTES:
            raise CallbackError(f"{payload!r} is longer than {MAX_BYTES} bytes")
        return payload


def _parse(kind: Any, text: str) -> Any:
    """The value ``text`` stands for as a field of type ``kind``; None if it is not one."""
    if get_origin(kind) is Literal:
        return text if text in get_args(kind) else None
    if kind is int:
        return int(text) if _NUMBER.fullmatch(text) else None
    if kind is str:
        return text if _WORD.fullmatch(text) else None
    raise CallbackError(f"unsupported field type {kind!r}")


def decode(payload: str) -> Callback | None:
    """The button kind and values ``payload`` encodes; None when it is not a valid one."""
    if not payload or len(payload.encode()) > MAX_BYTES:
        return None
    parts = payload.split(":")
    for size in range(len(parts), 0, -1):  # the longest registered prefix wins
        kind = _KINDS.get(":".join(parts[:size]))
        if kind is None:
            continue
        spec, values = kind._spec(), parts[size:]
        if len(values) != len(spec):
            return None
        parsed = {}
        for (name, field_type), text in zip(spec, values, strict=True):
            value = _parse(field_type, text)
            if value is None:
                return None
            parsed[name] = value
        return kind(**parsed)
    return None


def kinds() -> dict[str, type[Callback]]:
    """Every registered button kind by prefix (for tests and documentation)."""
    return dict(_KINDS)
