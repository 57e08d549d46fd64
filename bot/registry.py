"""Every feature the bot offers, one line each. Adding a feature: write its module in
``bot/handlers/`` (ending in ``FEATURE = Feature(...)``), add its content keys in both
languages, and add its line here."""

from __future__ import annotations

from bot.feature import Catalog
from bot.handlers import (
    announcements,
    broadcast,
    callouts,
    coordinator,
    emergency,
    group,
    health_desk,
    help,
    hoax,
    hoax_desk,
    info,
    menu,
    moderation,
    my_notices,
    onboarding,
    privacy,
    settings,
    symptoms,
    volunteers,
)

FEATURES = (
    onboarding.FEATURE,
    menu.FEATURE,
    info.FEATURE,
    symptoms.FEATURE,
    volunteers.FEATURE,
    hoax.FEATURE,
    hoax.FACTCHECK,
    announcements.FEATURE,
    emergency.FEATURE,
    settings.FEATURE,
    help.FEATURE,
    privacy.FEATURE,
    coordinator.FEATURE,
    broadcast.FEATURE,
    my_notices.FEATURE,
    moderation.FEATURE,
    hoax_desk.FEATURE,
    health_desk.FEATURE,
    callouts.FEATURE,
    group.FEATURE,
)


def catalog() -> Catalog:
    """The catalog of every registered feature (checked for clashes)."""
    return Catalog(FEATURES)
