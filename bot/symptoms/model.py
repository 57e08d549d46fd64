"""The questionnaire's answers and the words for them (content keys ``symptoms.<group>.<key>``).

The keys below are an interface: the triage rules file (``config/triage.toml``), the database
(``symptom_reports``) and the CSV export name answers by them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

# asked first, one question: any yes -> call the ambulance / go to the IGD at once
RED_FLAGS = ("breathing", "chest", "bluish", "confused")
# of the last 14 days, one yes/no question each, in this order
SYMPTOMS = ("fever", "cough", "sore_throat", "breathless", "smell_taste",
            "diarrhoea", "aches", "tired", "runny_nose", "headache")
AGE_GROUPS = ("lt18", "18_39", "40_59", "60plus")
CONTACT = ("yes", "no", "unsure")  # close contact with a confirmed case, last 14 days
CONDITIONS = ("diabetes", "hypertension", "heart", "lung", "kidney", "immune")
SUBJECTS = ("self", "household")  # the report is about the resident or someone at home


class Level(StrEnum):
    LOW = "low"
    MODERATE = "moderate"
    HIGH = "high"


@dataclass(frozen=True)
class Answers:
    """What the resident answered (red flags alone when any was yes)."""

    red_flags: frozenset[str] = frozenset()
    subject: str = "self"
    age_group: str = ""
    symptoms: frozenset[str] = frozenset()
    close_contact: str = "no"
    conditions: frozenset[str] = frozenset()
    pregnant: bool | None = None  # None: not asked
    extra: dict[str, str] = field(default_factory=dict, compare=False)

    @property
    def urgent(self) -> bool:
        return bool(self.red_flags)
