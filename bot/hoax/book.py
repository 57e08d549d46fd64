"""The claim book: every known case's text and photo, indexed in memory for matching.

Built from the stored cases when the first report or case view needs it (about 8 s for
100,000, see ``bench match``; the matching libraries, some 70 MB, are loaded only then), then
kept up to date as cases are added, merged or split. Several bot processes on one database each
keep their own book: before matching, a book reads the cases other processes added since
(``refresh``), so a report never misses a case because another worker filed it.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING

from bot.config import HoaxSettings
from bot.hoax.normalize import MIN_CHARS, fingerprint, normalize
from db.store import Tx

if TYPE_CHECKING:
    from bot.hoax.matching import ClaimIndex
    from bot.hoax.photos import PhotoIndex

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Found:
    """A known case like the report: ``kind`` is "exact", "auto" (joins it by itself),
    "photo" (the same picture) or "similar" (for moderators only)."""

    case_id: int
    score: float
    kind: str

    @property
    def automatic(self) -> bool:
        return self.kind in ("exact", "auto", "photo")


class ClaimBook:
    def __init__(self, settings: HoaxSettings) -> None:
        self.settings = settings
        self.texts: ClaimIndex | None = None  # made with the first load
        self.photos: PhotoIndex | None = None
        self.seen = 0  # the highest case id read from the database

    @staticmethod
    def fingerprint(text: str) -> str:
        """The exact-match key of a claim ("" for texts too short to match: under
        ``MIN_CHARS`` characters once normalised)."""
        return fingerprint(text) if len(normalize(text)) >= MIN_CHARS else ""

    async def load(self, tx: Tx) -> int:
        """Index every case a report may join (read since the last load); how many."""
        if self.texts is None or self.photos is None:
            from bot.hoax.matching import ClaimIndex
            from bot.hoax.photos import PhotoIndex

            self.texts = ClaimIndex(similar=self.settings.similar_threshold,
                                    auto=self.settings.auto_threshold)
            self.photos = PhotoIndex(max_distance=self.settings.photo_distance)
        rows = await tx.hoax.matchable(after=self.seen)
        self.texts.build((cid, claim) for cid, claim, _ in rows if claim)
        for cid, _, photo in rows:
            if photo:
                self.photos.add(cid, photo)
        if rows:
            self.seen = max(cid for cid, _, _ in rows)
        return len(rows)

    async def refresh(self, tx: Tx) -> None:
        """Read the cases added since (by this or another process)."""
        if self.texts is None or await tx.hoax.newest_id() > self.seen:
            started = time.monotonic()
            loaded = await self.load(tx)
            if loaded > 1000:
                log.info("claim book: %d hoax cases indexed in %.1f s", loaded,
                         time.monotonic() - started)

    def add(self, case_id: int, text: str, photo_hash: str) -> None:
        if self.texts is None or self.photos is None:
            return  # not loaded yet: the first load reads it from the database
        if text:
            self.texts.add(case_id, text)
        if photo_hash:
            self.photos.add(case_id, photo_hash)
        self.seen = max(self.seen, case_id)

    def remove(self, case_id: int) -> None:
        """A merged case: reports go to the case it was merged into."""
        if self.texts is None or self.photos is None:
            return
        self.texts.remove(case_id)
        self.photos.remove(case_id)

    async def find(self, tx: Tx, text: str, photo_hash: str) -> Found | None:
        """The best known case for a report, if one is alike enough to join by itself."""
        best = [f for f in await self.similar(tx, text, photo_hash) if f.automatic]
        return best[0] if best else None

    async def similar(self, tx: Tx, text: str, photo_hash: str) -> list[Found]:
        """Known cases like this text or photo, best first (automatic ones first)."""
        await self.refresh(tx)
        found: dict[int, Found] = {}
        exact = await tx.hoax.by_fingerprint(self.fingerprint(text))
        if exact is not None:
            found[exact.id] = Found(exact.id, 1.0, "exact")
        assert self.texts is not None and self.photos is not None  # refresh loaded them
        for c in self.texts.match(text) if text else []:
            found.setdefault(c.case_id, Found(c.case_id, c.score, c.kind))
        for p in self.photos.match(photo_hash) if photo_hash else []:
            if p.case_id not in found or not found[p.case_id].automatic:
                found[p.case_id] = Found(p.case_id, 1.0 - p.distance / 64, "photo")
        order = {"exact": 0, "photo": 1, "auto": 2, "similar": 3}
        return sorted(found.values(), key=lambda f: (order[f.kind], -f.score, f.case_id))
