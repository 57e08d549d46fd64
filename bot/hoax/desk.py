"""The hoax desk: what the hoax handlers may read and decide for one update
(``ctx.use(HoaxDesk)``): a resident's report and notes, the fact-check library, and the
moderators' queue, holds, verdicts, merges, splits, mutes and clarifications.

A report is committed on its own before the reply, because the reply says what became of it
(a verdict, a case under review, a new case). Moderators' decisions that another moderator
may take at the same moment (hold, publish, merge, split) are committed on their own too.
Every moderation action is authorised through ``bot/authz.py`` (``hoax.review``) and
audited. Nothing here tells a moderator who reported: only counts per area.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.authz import Action
from bot.context import Context
from bot.hoax import service as svc
from bot.hoax.book import ClaimBook, Found
from db.repositories.hoax import Case, Note, Report
from db.store import Tx

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Limit:
    """Why a person may not report now: "muted" (until ``until``) or "rate" (too many in
    the last hour)."""

    reason: str
    until: datetime | None = None


@dataclass(frozen=True)
class Photo:
    """A picture someone sent, as far as it is kept: its hash and a small thumbnail."""

    hash: str
    thumbnail: bytes


@dataclass(frozen=True)
class Spread:
    """Where a claim came from: reporters per RW, and per RT within it."""

    rw_code: str
    reporters: int
    rts: tuple[tuple[str, int], ...]


class HoaxDesk:
    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx
        self.services = ctx.services
        self.reads = ctx.services.store.reads
        self.me = ctx.person.identity

    def now(self) -> datetime:
        return self.services.clock.now()

    @property
    def book(self) -> ClaimBook:
        book = self.services.claims
        if book is None:
            raise RuntimeError("services were opened without a claim book (bot/app.py)")
        return book

    async def _write(self, fn):  # type: ignore[no-untyped-def]
        result = await self.services.store.write(fn)
        self.services.signals.outbox()
        return result

    # --- residents --------------------------------------------------------------------------

    async def limit(self) -> Limit | None:
        """Whether I may report now (muted by a moderator, or over the hourly limit)."""
        now = self.now()
        until = await self.reads.hoax.muted_until(self.me, now)
        if until is not None:
            return Limit("muted", until)
        per_hour = self.services.settings.hoax.reports_per_hour
        if await self.reads.hoax.reports_since(self.me, now - timedelta(hours=1)) >= per_hour:
            return Limit("rate")
        return None

    async def photo(self) -> Photo | None:
        """The picture of this update (fetched through its channel), hashed; None if it
        cannot be fetched or read."""
        event = self.ctx.event
        fetch = self.services.downloads.get(event.channel)
        if fetch is None or not event.media_ref:
            return None
        from bot.hoax.photos import photo_hash, thumbnail  # Pillow, ImageHash: on first use

        try:
            data = await fetch(event.media_ref)
            found = await asyncio.to_thread(lambda: (photo_hash(data), thumbnail(data)))
        except Exception:
            log.warning("could not read a picture sent for a hoax report", exc_info=True)
            return None
        return Photo(*found)

    async def report(self, text: str, photo: Photo | None) -> svc.Received:
        """File a report (``text`` already cut to ``svc.MAX_TEXT``); committed now."""
        person, now = self.ctx.person, self.now()
        return await self._write(lambda tx: svc.receive(
            self.services, tx, self.book, person.identity, person.area_code or "", text,
            photo.hash if photo else "", photo.thumbnail if photo else None, now))

    async def extend(self, report_id: int, case_id: int, text: str, photo: Photo | None
                     ) -> None:
        """A piece sent within ``svc.PIECES_WITHIN`` of the report joins it."""
        await self._write(lambda tx: svc.extend(tx, self.book, report_id, case_id, text,
                                                photo.hash if photo else ""))

    def add_note(self, case_id: int, text: str) -> None:
        """More information on a published verdict (reopens it for moderators)."""
        now = self.now()

        async def write(tx: Tx) -> None:
            await svc.add_note(self.services, tx, case_id, self.me, text, now)

        self.ctx.later(write, "outbox")

    async def case(self, case_id: int) -> Case | None:
        """The case, or the case it was merged into."""
        return await self.reads.hoax.live(case_id)

    async def published(self, limit: int = 5, offset: int = 0) -> list[Case]:
        return await self.reads.hoax.published(limit, offset)

    async def search(self, words: str, limit: int = 5) -> list[Case]:
        return await self.reads.hoax.search(words.split()[:6], limit)

    # --- moderators ---------------------------------------------------------------------------

    async def allowed(self, detail: str = "") -> bool:
        """Whether I may moderate (audited)."""
        return await self.services.authz.authorize(self.me, Action.HOAX_REVIEW, None, detail)

    async def queue(self, limit: int = 10) -> tuple[list[Case], int]:
        """The open cases, most reporters first, then the most recent; and how many are
        open in all."""
        return await self.reads.hoax.queue(limit), await self.reads.hoax.open_count()

    async def spread(self, case_id: int) -> list[Spread]:
        """Reporters of a case per RW (most first), and per RT within each RW."""
        per_rw: dict[str, list[tuple[str, int]]] = {}
        for code, n in await self.reads.hoax.spread(case_id):
            rt = self.services.areas.rt(code)
            per_rw.setdefault(rt.rw_code if rt else "", []).append((code, n))
        found = [Spread(rw, sum(n for _, n in rts), tuple(rts)) for rw, rts in per_rw.items()]
        return sorted(found, key=lambda s: (-s.reporters, s.rw_code))

    async def similar(self, case: Case, limit: int = 3) -> list[tuple[Found, Case]]:
        """Other cases like this one, best first, with what they are."""
        found = []
        for f in await svc.found_similar(self.reads, self.book, case):
            other = await self.reads.hoax.case(f.case_id)
            if other is not None and other.status != "merged":
                found.append((f, other))
            if len(found) >= limit:
                break
        return found

    async def reports(self, case_id: int) -> list[Report]:
        """The case's reports, without their reporters."""
        return await self.reads.hoax.reports(case_id)

    async def notes(self, case_id: int) -> list[Note]:
        return await self.reads.hoax.notes(case_id)

    async def thumbnail(self, case_id: int) -> bytes | None:
        return await self.reads.hoax.thumbnail(case_id)

    async def hold(self, case_id: int) -> Case | None:
        """Hold the case for ``moderation.claim_minutes`` (None: someone else holds it, or
        it is not open)."""
        now = self.now()
        return await self._write(lambda tx: svc.hold(self.services, tx, case_id, self.me,
                                                     now))

    def release(self, case_id: int) -> None:
        async def write(tx: Tx) -> None:
            await tx.hoax.release(case_id, self.me)

        self.ctx.later(write)

    async def publish(self, case_id: int, verdict: str, explanation: str, sources: list[str]
                      ) -> int | None:
        """Publish and tell every reporter; how many were told (None: not held by me)."""
        now = self.now()
        return await self._write(lambda tx: svc.publish(
            self.services, tx, case_id, self.me, verdict, explanation, sources, now))

    async def merge(self, case_id: int, into: int) -> bool:
        now = self.now()
        merged = await self._write(lambda tx: svc.merge(self.services, tx, case_id, into,
                                                        self.me, now))
        if merged:
            self.book.remove(case_id)
        return merged

    async def split(self, case_id: int, report_id: int) -> int | None:
        now = self.now()
        new = await self._write(lambda tx: svc.split(tx, case_id, report_id, self.me, now))
        if new is not None:
            report = next((r for r in await self.reads.hoax.reports(new)), None)
            if report is not None:
                self.book.add(new, report.text, report.photo_hash)
        return new

    async def mute(self, report_id: int, days: int) -> datetime | None:
        now = self.now()
        return await self._write(lambda tx: svc.mute(self.services, tx, report_id, days,
                                                     self.me, now))

    async def clarify(self, case_id: int) -> object | None:
        """Send the verdict as a notice to the RWs where the claim spread (waiting for
        another moderator's approval); the notice, or None."""
        now, lang = self.now(), self.ctx.lang
        return await self._write(lambda tx: svc.clarify(self.services, tx, case_id, self.me,
                                                        lang, now))
