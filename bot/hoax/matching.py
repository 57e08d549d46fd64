"""Matching a reported claim against the known cases: ``ClaimIndex``.

An in-memory index, rebuilt at start from the stored cases (``build(pairs)`` of (id, text)).
``match(text)`` answers, best first, with ``Candidate(case_id, score, kind)``:

1. exact: the fingerprint of the normalised text (``bot.hoax.normalize.fingerprint``) is a
   stored case's: score 1.0, kind "exact";
2. fuzzy: candidates from a MinHash LSH (``datasketch.MinHashLSH``), each scored with
   ``rapidfuzz.fuzz.token_sort_ratio`` / 100 over the normalised texts; a score from ``auto``
   (default 0.875) is kind "auto" (the report joins the case by itself), from ``similar``
   (default 0.70) kind "similar" (a suggestion for moderators); below, nothing.

Texts whose normalised form is under ``MIN_CHARS`` (8) characters are not matched.

Why these choices (measured on the generated chain messages of ``bench/match.py``):

* Shingles: the set of words plus word bigrams of the normalised text; texts under
  ``SHORT_CHARS`` (64) characters also get their character 4-grams, so that a typo in a
  three-word claim still leaves most of the set in common. Words rather than word 3-grams:
  a variant of a chain message (typos, slang, sentences in another order, one dropped) keeps
  a Jaccard similarity of 0.74 or more with its source in 95 % of cases over words, 0.37 over
  word 3-grams; bigrams cut the candidates that only share common words. Character 5-grams
  for every text kept 0.66 and cost three times as much to build.
* MinHash: ``num_perm`` 32, LSH ``params`` (8 bands of 4 rows, not the threshold's optimum):
  a pair at Jaccard 0.6 is a candidate with a probability of 0.67, at 0.7 of 0.88, at 0.8 of
  0.97; fewer bands keep the start-up time and the memory within the targets at 100,000
  cases. Shingles are hashed with ``zlib.crc32`` through a per-index cache of the words (the
  vocabulary of chain messages is small), so the candidates are the same in every process.
* Score: ``token_sort_ratio`` (the Indel ratio of the sorted words) is symmetric, ignores the
  order of sentences and counts extra or missing words; ``token_set_ratio`` gives a short
  text inside a long one 1.0 and, on the generated corpus, gave two unrelated messages up to
  0.91 (an automatic match), ``token_sort_ratio`` at most 0.72; variants of a message scored
  0.86 or more in 95 % of cases.

Memory: the normalised texts, 64 bits of each fingerprint and the LSH's 8 band keys each.
``MinHashLSH`` is datasketch's (banding, query, removal), with two storages of its own
(``_CompactBuckets``, ``_CompactKeys``, on datasketch's storage interface) and
``hashfunc=hash`` so that a band's key is one int: with the default storage (a ``set`` per
bucket, bytes keys) the bench process peaked at 408 MB at 100,000 cases, with these at 229 MB
(interpreter and corpus included). Build of 100,000 cases: about 8.3 s on 2 CPUs; a match:
p50 0.5 ms, p99 5.5 ms (``python -m bench match``).

Known limit: the LSH finds a pair reliably from a Jaccard similarity of about 0.7 (of words
and bigrams); a "similar" pair (0.70 to 0.875) that shares fewer words may be missed (of
1,000 generated variants matched against 10,000 cases, 35 that scored 0.70 or more against
their source were not among the candidates; a full scan finds them but takes 200 ms at
100,000 cases).
"""

from __future__ import annotations

import hashlib
import zlib
from collections.abc import Iterable
from dataclasses import dataclass
from itertools import pairwise
from typing import Any, Literal

from datasketch import MinHash, MinHashLSH
from datasketch.storage import OrderedStorage, UnorderedStorage
from rapidfuzz import fuzz

from bot.hoax.normalize import MIN_CHARS, normalize

SHORT_CHARS = 64  # normalised texts shorter than this also get character 4-grams
NUM_PERM = 32
BANDS, ROWS = 8, 4  # BANDS * ROWS <= NUM_PERM
MAX_CANDIDATES = 2000  # LSH candidates scored at most (a safety net, see match())

Kind = Literal["exact", "auto", "similar"]


@dataclass(frozen=True, slots=True)
class Candidate:
    case_id: int
    score: float  # 0..1
    kind: Kind


Match = Candidate  # the name the issue uses


def _digest(normalized: str) -> int:
    """64 bits of the fingerprint (a hit is checked against the stored text)."""
    return int.from_bytes(hashlib.sha256(normalized.encode("utf-8")).digest()[:8], "little")


def _band_key(band: bytes) -> int:
    """An LSH band's bytes as one int: a Python int key takes less memory than bytes. The
    built-in hash differs between processes, which does not matter: the index lives in one
    process and is rebuilt at start."""
    return hash(band)


class _CompactBuckets(UnorderedStorage):
    """An LSH band's buckets for ``MinHashLSH``: a plain dict from the band's key to one case
    id, or a tuple of them when several share it. datasketch's ``DictSetStorage`` keeps a
    ``set`` per bucket (about 200 bytes each, most buckets holding one id): at 100,000 cases
    and 8 bands that alone was about 170 MB."""

    def __init__(self) -> None:
        self._dict: dict[Any, Any] = {}

    def keys(self) -> Any:
        return self._dict.keys()

    def get(self, key: Any) -> tuple[Any, ...]:
        held = self._dict.get(key, ())
        return held if isinstance(held, tuple) else (held,)

    def insert(self, key: Any, *vals: Any, **kwargs: Any) -> None:
        held = self._dict.get(key)
        if held is None and len(vals) == 1:
            self._dict[key] = vals[0]
            return
        current = () if held is None else held if isinstance(held, tuple) else (held,)
        self._dict[key] = tuple(dict.fromkeys((*current, *vals)))

    def remove(self, *keys: Any, **kwargs: Any) -> None:
        for key in keys:
            self._dict.pop(key, None)

    def remove_val(self, key: Any, val: Any, **kwargs: Any) -> None:
        rest = tuple(v for v in self.get(key) if v != val)
        if not rest:
            self._dict.pop(key, None)
        else:
            self._dict[key] = rest[0] if len(rest) == 1 else rest

    def size(self) -> int:
        return len(self._dict)

    def itemcounts(self, **kwargs: Any) -> dict[Any, int]:
        return {k: len(self.get(k)) for k in self._dict}

    def has_key(self, key: Any) -> bool:
        return key in self._dict


class _CompactKeys(OrderedStorage):
    """``MinHashLSH.keys``: case id -> its band keys, as a tuple instead of a list."""

    def __init__(self) -> None:
        self._dict: dict[Any, tuple[Any, ...]] = {}

    def keys(self) -> Any:
        return self._dict.keys()

    def get(self, key: Any) -> tuple[Any, ...]:
        return self._dict.get(key, ())

    def insert(self, key: Any, *vals: Any, **kwargs: Any) -> None:
        self._dict[key] = self._dict.get(key, ()) + vals

    def remove(self, *keys: Any, **kwargs: Any) -> None:
        for key in keys:
            self._dict.pop(key, None)

    def remove_val(self, key: Any, val: Any, **kwargs: Any) -> None:
        self._dict[key] = tuple(v for v in self._dict.get(key, ()) if v != val)

    def size(self) -> int:
        return len(self._dict)

    def itemcounts(self, **kwargs: Any) -> dict[Any, int]:
        return {k: len(v) for k, v in self._dict.items()}

    def has_key(self, key: Any) -> bool:
        return key in self._dict


def _lsh() -> MinHashLSH:
    lsh = MinHashLSH(num_perm=NUM_PERM, params=(BANDS, ROWS), hashfunc=_band_key)
    lsh.hashtables = [_CompactBuckets() for _ in range(BANDS)]
    lsh.keys = _CompactKeys()
    return lsh


class ClaimIndex:
    """Known cases by exact fingerprint and by MinHash LSH; see the module docstring."""

    def __init__(self, similar: float = 0.70, auto: float = 0.875) -> None:
        if not 0 <= similar <= auto <= 1:
            raise ValueError("thresholds: 0 <= similar <= auto <= 1")
        self.similar = similar
        self.auto = auto
        self._texts: dict[int, str] = {}  # case id -> normalised text
        self._exact: dict[int, int | list[int]] = {}  # fingerprint digest -> case id(s)
        self._lsh = _lsh()
        self._hashes: dict[str, int] = {}  # shingle -> crc32 (a cache)

    def __len__(self) -> int:
        return len(self._texts)

    def __contains__(self, case_id: object) -> bool:
        return case_id in self._texts

    # ---------------------------------------------------------------------------- shingles

    def _hash(self, shingle: str) -> int:
        value = self._hashes.get(shingle)
        if value is None:
            value = zlib.crc32(shingle.encode("utf-8"))
            if len(self._hashes) < 200_000:  # bounded: rare shingles are not kept
                self._hashes[shingle] = value
        return value

    def _shingle_hashes(self, normalized: str) -> list[int]:
        words = [self._hash(w) for w in normalized.split()]
        hashes = set(words)
        hashes.update(((a * 0x9E3779B1) ^ b) & 0xFFFFFFFF for a, b in pairwise(words))
        if len(normalized) < SHORT_CHARS:
            hashes.update(self._hash("#" + normalized[i:i + 4])
                          for i in range(len(normalized) - 3))
        return list(hashes)

    @staticmethod
    def _identity(value: int) -> int:
        return value

    def _minhashes(self, normalized: list[str]) -> list[MinHash]:
        return MinHash.bulk([self._shingle_hashes(n) for n in normalized], num_perm=NUM_PERM,
                            hashfunc=self._identity)

    # ----------------------------------------------------------------------------- writing

    def add(self, case_id: int, text: str) -> None:
        """Store (or replace) a case's text."""
        self.build([(case_id, text)])

    def build(self, pairs: Iterable[tuple[int, str]]) -> None:
        """Add many cases at once (the start-up rebuild from the stored cases)."""
        batch: list[tuple[int, str]] = []
        pending: set[int] = set()
        for case_id, text in pairs:
            if case_id in pending:  # the same id twice in one build: the later text wins
                self._insert(batch)
                batch, pending = [], set()
            if case_id in self._texts:
                self.remove(case_id)
            normalized = normalize(text)
            self._texts[case_id] = normalized
            digest = _digest(normalized)
            held = self._exact.get(digest)
            if held is None:
                self._exact[digest] = case_id
            else:
                self._exact[digest] = [*(held if isinstance(held, list) else [held]), case_id]
            if len(normalized) >= MIN_CHARS:
                batch.append((case_id, normalized))
                pending.add(case_id)
            if len(batch) >= 4096:
                self._insert(batch)
                batch, pending = [], set()
        if batch:
            self._insert(batch)

    def _insert(self, batch: list[tuple[int, str]]) -> None:
        minhashes = self._minhashes([n for _, n in batch])
        with self._lsh.insertion_session() as session:
            for (case_id, _), mh in zip(batch, minhashes, strict=True):
                session.insert(case_id, mh, check_duplication=False)

    def remove(self, case_id: int) -> None:
        """Forget a case (merged, deleted); unknown ids are ignored."""
        normalized = self._texts.pop(case_id, None)
        if normalized is None:
            return
        digest = _digest(normalized)
        held = self._exact.get(digest)
        if isinstance(held, list):
            rest = [i for i in held if i != case_id]
            self._exact[digest] = rest[0] if len(rest) == 1 else rest
        elif held == case_id:
            del self._exact[digest]
        if case_id in self._lsh:
            self._lsh.remove(case_id)

    # ----------------------------------------------------------------------------- reading

    def match(self, text: str, limit: int = 10) -> list[Candidate]:
        """Known cases like ``text``, best first: exact, then auto, then similar matches."""
        normalized = normalize(text)
        if len(normalized) < MIN_CHARS:
            return []
        texts = self._texts
        held = self._exact.get(_digest(normalized))
        same = held if isinstance(held, list) else [] if held is None else [held]
        found: dict[int, Candidate] = {
            case_id: Candidate(case_id, 1.0, "exact")
            for case_id in same if texts[case_id] == normalized
        }
        [minhash] = self._minhashes([normalized])
        keys = self._lsh.query(minhash)
        if len(keys) > MAX_CANDIDATES:  # a degenerate bucket: score the first ones only
            keys = sorted(keys)[-MAX_CANDIDATES:]
        cutoff = self.similar * 100
        for case_id in keys:
            if case_id in found:
                continue
            score = fuzz.token_sort_ratio(normalized, texts[case_id], score_cutoff=cutoff)
            if score:
                value = round(score / 100, 4)
                kind: Kind = "auto" if value >= self.auto else "similar"
                found[case_id] = Candidate(case_id, value, kind)
        ranked = sorted(found.values(), key=lambda c: (c.kind != "exact", -c.score, c.case_id))
        return ranked[:limit]

    def text(self, case_id: int) -> str | None:
        """The normalised text stored for a case."""
        return self._texts.get(case_id)
