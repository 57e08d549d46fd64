"""Photos of a reported claim: a perceptual hash, a thumbnail for moderators, an index.

``photo_hash(data)`` is ImageHash's ``phash`` (DCT of a 32 x 32 grey copy, 64 bits) as 16 hex
digits: a forward re-compressed by a messenger (JPEG quality 40, half the size) stays within a
few bits of the original, a different picture is about 32 bits away. ``PhotoIndex`` matches
within ``max_distance`` bits (default 10 of 64, ``hoax.photo_distance`` in the settings): the
re-encoded forwards of the tests are within 4, unrelated pictures 20 or more apart.

Only the hash and ``thumbnail(data)`` (a small JPEG, 160 px on its longer side) are kept.
"""

from __future__ import annotations

import io
from dataclasses import dataclass

import imagehash
from PIL import Image, ImageOps

DEFAULT_MAX_DISTANCE = 10


def _open(data: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(data))
    image = ImageOps.exif_transpose(image)  # a phone photo as it is seen, not as stored
    return image.convert("RGB")


def photo_hash(data: bytes) -> str:
    """The 64-bit perceptual hash (ImageHash ``phash``) of a picture, as 16 hex digits."""
    return str(imagehash.phash(_open(data)))


def distance(a: str, b: str) -> int:
    """Hamming distance of two hashes from ``photo_hash``."""
    return imagehash.hex_to_hash(a) - imagehash.hex_to_hash(b)


def thumbnail(data: bytes, size: int = 160) -> bytes:
    """A small JPEG of the picture (at most ``size`` px each side) for moderators."""
    image = _open(data)
    image.thumbnail((size, size))
    out = io.BytesIO()
    image.save(out, format="JPEG", quality=70, optimize=True)
    return out.getvalue()


@dataclass(frozen=True, slots=True)
class PhotoCandidate:
    case_id: int
    distance: int


class PhotoIndex:
    """Known cases' photo hashes; ``match`` finds those within ``max_distance`` bits. A
    linear scan over 64-bit ints (``int.bit_count``): well under a microsecond a photo, fine
    for the photos of 100,000 cases."""

    def __init__(self, max_distance: int = DEFAULT_MAX_DISTANCE) -> None:
        self.max_distance = max_distance
        self._hashes: dict[tuple[int, str], int] = {}  # (case id, photo hash) -> int value

    def __len__(self) -> int:
        return len(self._hashes)

    def add(self, case_id: int, photo: str) -> None:
        """Store a photo hash (from ``photo_hash``) of a case."""
        self._hashes[(case_id, photo)] = int(photo, 16)

    def remove(self, case_id: int) -> None:
        """Forget every photo of a case."""
        for key in [k for k in self._hashes if k[0] == case_id]:
            del self._hashes[key]

    def match(self, photo: str) -> list[PhotoCandidate]:
        """Cases with a photo within ``max_distance`` bits, nearest first."""
        value = int(photo, 16)
        best: dict[int, int] = {}
        for (case_id, _), stored in self._hashes.items():
            d = (value ^ stored).bit_count()
            if d <= self.max_distance and d < best.get(case_id, 65):
                best[case_id] = d
        return sorted((PhotoCandidate(c, d) for c, d in best.items()),
                      key=lambda c: (c.distance, c.case_id))
