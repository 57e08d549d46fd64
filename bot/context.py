"""What a handler gets: the event, the person, their conversation state and the services."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeVar

from bot.areas import Areas
from bot.authz import Authorizer
from bot.channels.traits import ChannelTraits
from bot.clock import Clock
from bot.config import Settings
from bot.content import Content
from bot.events import Event
from bot.pseudonyms import Pseudonyms
from db.repositories.people import Conversation, Person
from db.store import Store, Tx

if TYPE_CHECKING:
    from bot.feature import Catalog
    from bot.hoax.book import ClaimBook
    from bot.symptoms.triage import Rules

S = TypeVar("S")


@dataclass
class Signals:
    """Wake-up calls from handlers to the background workers (sender, scheduler)."""

    outbox_listeners: list[Callable[[], None]] = field(default_factory=list)
    schedule_listeners: list[Callable[[], None]] = field(default_factory=list)

    def outbox(self) -> None:
        """New rows are in the outbox: senders look now instead of at their next poll."""
        for listener in self.outbox_listeners:
            listener()

    def schedule(self) -> None:
        """A notice's schedule changed: the scheduler re-reads it."""
        for listener in self.schedule_listeners:
            listener()


@dataclass(frozen=True)
class Services:
    settings: Settings
    content: Content
    areas: Areas
    store: Store
    clock: Clock
    authz: Authorizer
    signals: Signals = field(default_factory=Signals)
    channels: dict[str, ChannelTraits] = field(default_factory=dict)  # the configured ones
    features: Catalog | None = None  # the registered features (bot/registry.py)
    # how the audit log, kept notices and logs name a person (keyed; bot/pseudonyms.py)
    pseudonyms: Pseudonyms = field(default_factory=Pseudonyms.ephemeral)
    triage: Rules | None = None  # the symptom report's rules (symptoms.triage_file)
    claims: ClaimBook | None = None  # every hoax case, indexed for matching (bot/hoax/book.py)
    # per channel: fetch the bytes of a photo or document a person sent (its media_ref)
    downloads: dict[str, Callable[[str], Awaitable[bytes]]] = field(default_factory=dict)


@dataclass
class Context:
    event: Event
    person: Person
    conv: Conversation
    services: Services
    is_new: bool = False
    erased: bool = False  # set by /hapusdata: nothing about the person is saved afterwards
    # writes to run in the same commit as the new state, after the replies were delivered;
    # services add them (``later``), handlers never do
    on_commit: list[Callable[[Tx], Awaitable[object]]] = field(
        default_factory=list)
    wake: set[str] = field(default_factory=set)  # "outbox", "schedule": signal after commit
    _services: dict[type, Any] = field(default_factory=dict)

    def later(self, write: Callable[[Tx], Awaitable[object]], *wake: str) -> None:
        """Run ``write`` in the commit that saves this update's state; then wake ``wake``."""
        self.on_commit.append(write)
        self.wake.update(wake)

    def use(self, kind: type[S]) -> S:
        """The domain service ``kind`` for this update (one per update, made on first use)."""
        found = self._services.get(kind)
        if found is None:
            found = self._services[kind] = kind(self)
        return found

    @property
    def lang(self) -> str:
        """The person's language: their choice, else their app's language, else the default."""
        if self.person.language:
            return self.person.language
        hint = (self.event.language_hint or "").lower()[:2]
        if hint in {"id", "en"}:
            return hint
        return self.services.settings.default_language

    @property
    def areas(self) -> Areas:
        return self.services.areas
