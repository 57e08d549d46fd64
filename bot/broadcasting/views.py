"""How notices are shown to coordinators and moderators, and the buttons that act on one.

Shared by the notice wizard, "my notices" and moderation, so none of them imports another.
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.callbacks import Callback
from bot.events import Button, Text, button, t
from db.repositories.notices import Notice


@dataclass(frozen=True)
class NewNotice(Callback, prefix="bc:new"):
    """Start writing a notice."""


@dataclass(frozen=True)
class MyNotices(Callback, prefix="bc:list"):
    """List my open notices."""


@dataclass(frozen=True)
class ReviewQueue(Callback, prefix="bc:review"):
    """List the notices waiting for a moderator."""


@dataclass(frozen=True)
class Pause(Callback, prefix="bc:pause"):
    id: int


@dataclass(frozen=True)
class Resume(Callback, prefix="bc:resume"):
    id: int


@dataclass(frozen=True)
class CancelNotice(Callback, prefix="bc:cancel"):
    """Ask to cancel a notice."""

    id: int


@dataclass(frozen=True)
class CancelConfirmed(Callback, prefix="bc:cancel!"):
    id: int


@dataclass(frozen=True)
class Approve(Callback, prefix="mod:ok"):
    id: int


@dataclass(frozen=True)
class Reject(Callback, prefix="mod:no"):
    id: int


@dataclass(frozen=True)
class Reviewed(Callback, prefix="mod:seen"):
    id: int


def short(text: str, limit: int = 80) -> str:
    """The start of a notice, to name it in a list or a confirmation."""
    return text if len(text) <= limit else text[:limit - 1] + "…"


def status_text(notice: Notice, listed: bool = False) -> Text:
    """The notice's state; a finished notice still ``listed`` is one whose messages go out;
    a live notice that repeats (daily, weekly, monthly) is "repeating", not "scheduled"."""
    if listed and notice.status == "done":
        return t("broadcast.status_sending")
    if notice.status == "active" and notice.recurring:
        return t("broadcast.status_recurring")
    return t(f"broadcast.status_{notice.status}")


def review_buttons(notice: Notice, after: bool) -> list[list[Button]]:
    """Approve / Reject; for a notice already sent without approval: Mark as reviewed /
    Stop & cancel (what has not gone out yet)."""
    nid = notice.id or 0
    if after:
        return [[button("broadcast.mark_reviewed", Reviewed(nid).pack()),
                 button("broadcast.review_stop", CancelNotice(nid).pack())]]
    return [[button("broadcast.approve", Approve(nid).pack()),
             button("broadcast.reject", Reject(nid).pack())]]
