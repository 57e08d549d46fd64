"""The hoax feature's buttons that live outside a flow: on a verdict, and the moderators'
desk."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from bot.callbacks import Callback


@dataclass(frozen=True)
class MoreInfo(Callback, prefix="hx-more"):
    """"I have more information" on a published verdict."""

    case: int


@dataclass(frozen=True)
class Verdict(Callback, prefix="hx-show"):
    """Show a published verdict of the fact-check library."""

    case: int


@dataclass(frozen=True)
class Queue(Callback, prefix="hx-queue"):
    """The moderators' queue of open cases."""


@dataclass(frozen=True)
class OpenCase(Callback, prefix="hx-case"):
    case: int


@dataclass(frozen=True)
class Hold(Callback, prefix="hx-hold"):
    """Claim a case to work on it."""

    case: int


@dataclass(frozen=True)
class Release(Callback, prefix="hx-release"):
    case: int


@dataclass(frozen=True)
class Decide(Callback, prefix="hx-decide"):
    """Start writing the verdict of a held case."""

    case: int


@dataclass(frozen=True)
class Merge(Callback, prefix="hx-merge"):
    """Merge the held case ``case`` into ``into``."""

    case: int
    into: int


@dataclass(frozen=True)
class Split(Callback, prefix="hx-split"):
    """Take report ``report`` out of the held case ``case``."""

    case: int
    report: int


@dataclass(frozen=True)
class Mute(Callback, prefix="hx-mute"):
    """Mute the (unnamed) person behind report ``report`` for ``days``."""

    report: int
    days: Literal["1", "7", "30"]


@dataclass(frozen=True)
class Clarify(Callback, prefix="hx-clarify"):
    """Send a published verdict as a notice to the RWs where the claim spread."""

    case: int
