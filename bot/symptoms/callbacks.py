"""The buttons of the symptom feature that live outside its questionnaire: on an alert, on a
report in the coordinator's list, on a check-in, and the resident's own health data."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from bot.callbacks import Callback


@dataclass(frozen=True)
class Handle(Callback, prefix="sx-take"):
    """"I'll handle it" on an alert or a listed report."""

    report: int


@dataclass(frozen=True)
class Close(Callback, prefix="sx-done"):
    """Mark a report done."""

    report: int


@dataclass(frozen=True)
class AddNote(Callback, prefix="sx-note"):
    """Write a note on a report (the next typed text)."""

    report: int


@dataclass(frozen=True)
class Reports(Callback, prefix="sx-list"):
    """The coordinator's list of open reports."""


@dataclass(frozen=True)
class CheckinAnswer(Callback, prefix="sx-ci"):
    """A resident's answer to "how is it now?"."""

    checkin: int
    answer: Literal["better", "same", "worse", "well"]


@dataclass(frozen=True)
class MyHealthData(Callback, prefix="sx-mine"):
    """The resident's own health data: what is kept, and withdrawing the consent."""


@dataclass(frozen=True)
class Withdraw(Callback, prefix="sx-withdraw"):
    """Withdraw the consent: identified reports become anonymous counts."""

    step: Literal["ask", "sure"] = "ask"
