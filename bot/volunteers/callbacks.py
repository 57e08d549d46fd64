"""The volunteer feature's buttons that live outside a flow: on a call-out, on a reminder,
on a help request and its alert."""

from __future__ import annotations

from dataclasses import dataclass

from bot.callbacks import Callback


@dataclass(frozen=True)
class Accept(Callback, prefix="vo-yes"):
    """A volunteer takes a place on call-out ``callout``."""

    callout: int


@dataclass(frozen=True)
class Decline(Callback, prefix="vo-no"):
    callout: int


@dataclass(frozen=True)
class GiveBack(Callback, prefix="vo-back"):
    """An accepted volunteer gives their place back (before the start)."""

    callout: int


@dataclass(frozen=True)
class Roster(Callback, prefix="vo-roster"):
    """The coordinator's live roster of a call-out."""

    callout: int


@dataclass(frozen=True)
class CancelCallout(Callback, prefix="vo-cancel"):
    callout: int


@dataclass(frozen=True)
class PickHelper(Callback, prefix="vo-pick"):
    """The coordinator chooses a volunteer for help request ``request``."""

    request: int


@dataclass(frozen=True)
class Assign(Callback, prefix="vo-assign"):
    request: int
    person: int


@dataclass(frozen=True)
class RequestDone(Callback, prefix="vo-done"):
    """The household, the volunteer or a coordinator marks help request ``request`` done."""

    request: int
