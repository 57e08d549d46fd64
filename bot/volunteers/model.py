"""The volunteer feature's words for things (content keys ``volunteers.<group>.<key>``) and
the records it keeps (defined with their repository). The keys are an interface: the
database, the CSV export and the content name them."""

from __future__ import annotations

from db.repositories.volunteers import Callout, HelpRequest, Roster, Volunteer

__all__ = ["AVAILABILITY", "CONSENT_VERSION", "EVENING_FROM", "HELP_KINDS", "HELP_SKILLS",
           "SKILLS", "Callout", "HelpRequest", "Roster", "Volunteer"]

SKILLS = ("health", "logistics", "education", "transport", "kitchen", "it_media", "other")
AVAILABILITY = ("weekdays", "weekends", "evenings")
HELP_KINDS = ("groceries", "medicine", "transport", "other")
# which skills a help request calls for (any volunteer when empty)
HELP_SKILLS: dict[str, tuple[str, ...]] = {
    "groceries": ("logistics", "kitchen"),
    "medicine": ("health", "logistics", "transport"),
    "transport": ("transport",),
    "other": (),
}
CONSENT_VERSION = "relawan-1"  # change with the text of volunteers.consent
EVENING_FROM = 17  # a task starting at or after this hour (local) suits "evenings"
