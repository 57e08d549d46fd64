"""Claim matching for hoax reports: normalisation, fingerprints, the text index, photos."""

from __future__ import annotations

import io

import pytest
from PIL import Image, ImageDraw

from bot.hoax.matching import ClaimIndex
from bot.hoax.normalize import fingerprint, normalize, normalize_url, urls
from bot.hoax.photos import PhotoIndex, distance, photo_hash, thumbnail

BLACKOUT = ("Akan ada pemadaman listrik total di Serang selama 12 jam mulai hari Sabtu. "
            "Saudara saya yang kerja di PLN yang bilang. Siapkan air bersih dan senter.")
WATER = ("Air PDAM di Serang tercemar bakteri berbahaya, jangan diminum sampai hari Sabtu. "
         "Kata dokter di RSUD Serang ini benar.")
KIDNAP = ("Ada penculikan anak pakai mobil putih di Cipocok Jaya, sudah 3 anak hilang minggu "
          "ini. Tolong awasi anak anak kita. Polisi sudah menangkap 2 orang.")


@pytest.fixture
def index() -> ClaimIndex:
    idx = ClaimIndex()
    idx.build([(1, BLACKOUT), (2, WATER), (3, KIDNAP)])
    return idx


# ---------------------------------------------------------------------------- normalising


def test_boilerplate_emoji_and_slang_give_the_same_fingerprint() -> None:
    forwarded = ("SEBARKAN!! 🙏🙏🙏 Info dari grup sebelah: Akan ada pemadaman listrik total "
                 "di Serang selama 12 jam mulai hari Sabtu!!!!!! Sdr sy yg kerja di PLN yg "
                 "bilang... Siapkan air bersih dan senter 🔦🔦 Mohon disebarluaskan. "
                 "Forwarded many times")
    assert normalize(forwarded) == normalize(BLACKOUT)
    assert fingerprint(forwarded) == fingerprint(BLACKOUT)
    assert fingerprint("Viralkan!!! copas dari grup: jgn minum air PDAM, tdk aman krn "
                       "tercemar") == fingerprint("Jangan minum air PDAM, tidak aman karena "
                                                  "tercemar. Share ke grup!")
    assert normalize("PENTIIIING!!! hati2 ya") == "penting hati hati ya"
    assert fingerprint(BLACKOUT) != fingerprint(WATER)
    assert len(fingerprint(BLACKOUT)) == 32


def test_urls_lose_scheme_www_and_tracking_but_shorteners_stay() -> None:
    plain = "kompas.com/read/2024/05/01/Banjir?id=7"
    for variant in ("https://www.kompas.com/read/2024/05/01/Banjir/?utm_source=wa&id=7",
                    "http://KOMPAS.com/read/2024/05/01/Banjir?fbclid=IwAR0x&id=7#top",
                    "www.kompas.com/read/2024/05/01/Banjir?id=7&gclid=1&igshid=2&si=3"):
        assert normalize_url(variant) == plain
    assert normalize_url("https://twitter.com/bmkg/status/1?s=20&t=abc") == \
        "twitter.com/bmkg/status/1"
    # shorteners are kept as they are (no network): the code's case and query stay
    assert normalize_url("https://bit.ly/AbC12") == "bit.ly/AbC12"
    assert normalize_url("https://www.s.id/Vaksin?ref=x") == "s.id/Vaksin?ref=x"
    assert normalize_url("http://t.co/XyZ") == "t.co/XyZ"
    assert normalize_url("https://tinyurl.com/Hoaks1") == "tinyurl.com/Hoaks1"
    assert normalize_url("wa.me/6281234567?text=Halo") == "wa.me/6281234567?text=Halo"
    text = ("Cek di https://www.kompas.com/read/2024/05/01/Banjir/?utm_source=wa&id=7, dan "
            "bit.ly/AbC12.")
    assert urls(text) == [plain, "bit.ly/AbC12"]
    assert fingerprint(text) == fingerprint(
        "cek di http://kompas.com/read/2024/05/01/Banjir?id=7&utm_medium=x dan bit.ly/AbC12")
    assert fingerprint("lihat bit.ly/AbC12") != fingerprint("lihat bit.ly/abc12")


# ---------------------------------------------------------------------------- text matching


def test_exact_match_comes_first(index: ClaimIndex) -> None:
    found = index.match("Sebarkan!! " + BLACKOUT.upper() + " 🙏🙏")
    assert found[0].case_id == 1
    assert found[0].kind == "exact"
    assert found[0].score == 1.0


def test_variant_with_typos_and_other_order_is_an_automatic_match(index: ClaimIndex) -> None:
    report = ("Sdr sy yg kerja di PLN yg bilang!! Akan ada pemadaman lsitrik total di Serang "
              "selama 12 jam mulai hr Sabtu. Siapkan air bersih dan sentre 😱😱 viralkan")
    found = index.match(report)
    assert [c.case_id for c in found] == [1]
    assert found[0].kind == "auto"
    assert 0.875 <= found[0].score < 1.0


def test_related_claim_is_only_a_suggestion(index: ClaimIndex) -> None:
    # the same blackout, told with another source and other advice: between the thresholds
    retold = ("Mulai hari Sabtu akan ada pemadaman listrik total di Serang selama 12 jam. "
              "Teman saya yang kerja di PLN yang cerita. Jangan lupa isi bensin.")
    found = index.match(retold)
    assert [(c.case_id, c.kind) for c in found] == [(1, "similar")]
    assert 0.70 <= found[0].score < 0.875
    # one sentence replaced: still a suggestion for the moderators, never merged by itself
    advice = ("Akan ada pemadaman listrik total di Serang selama 12 jam mulai hari Sabtu. "
              "Saudara saya yang kerja di PLN yang bilang. Jangan lupa isi bensin dan beli "
              "lilin yang banyak.")
    assert [(c.case_id, c.kind) for c in index.match(advice)] == [(1, "similar")]


def test_unrelated_claim_matches_nothing(index: ClaimIndex) -> None:
    # shares the town, the day and some words with WATER and BLACKOUT: below 0.70
    report = ("Sekolah di Serang diliburkan 5 hari karena wabah baru mulai hari Sabtu. "
              "Kata guru di sana ini benar.")
    assert index.match(report) == []


def test_thresholds_come_from_parameters() -> None:
    partial = ("Akan ada pemadaman listrik total di Serang selama 12 jam mulai hari Sabtu. "
               "Saudara saya yang kerja di PLN yang bilang. Jangan lupa isi bensin dan beli "
               "lilin yang banyak.")
    lenient = ClaimIndex(similar=0.5, auto=0.7)
    lenient.build([(1, BLACKOUT)])
    assert [(c.case_id, c.kind) for c in lenient.match(partial)] == [(1, "auto")]
    strict = ClaimIndex(similar=0.95, auto=0.99)
    strict.build([(1, BLACKOUT)])
    assert strict.match(partial) == []
    with pytest.raises(ValueError):
        ClaimIndex(similar=0.9, auto=0.8)


def test_short_texts_are_not_matched() -> None:
    idx = ClaimIndex()
    idx.build([(1, "hoaks!!"), (2, "Vaksin mengandung chip"), (3, BLACKOUT)])
    assert idx.match("hoaks!!") == []
    assert idx.match("🙏🙏 sebarkan!!! 🙏") == []
    assert idx.match("") == []
    # eight characters and more are matched, even with a typo
    assert [c.case_id for c in idx.match("vaksin mengandung cip")] == [2]


def test_remove_and_replace(index: ClaimIndex) -> None:
    index.remove(1)
    assert 1 not in index
    assert index.match(BLACKOUT) == []
    index.remove(1)  # twice: nothing happens
    index.add(4, BLACKOUT)
    assert [(c.case_id, c.kind) for c in index.match(BLACKOUT)] == [(4, "exact")]
    index.add(4, WATER)  # the same id again: the text is replaced
    assert index.match(BLACKOUT) == []
    assert {c.case_id for c in index.match(WATER)} == {2, 4}
    assert len(index) == 3
    # the same id twice in one build: the later text wins
    again = ClaimIndex()
    again.build([(5, BLACKOUT), (5, KIDNAP)])
    assert again.match(BLACKOUT) == []
    assert [(c.case_id, c.kind) for c in again.match(KIDNAP)] == [(5, "exact")]
    again.remove(5)
    assert again.match(KIDNAP) == []


def test_best_first_among_several(index: ClaimIndex) -> None:
    index.add(10, BLACKOUT.replace("12 jam", "10 jam"))
    found = index.match(BLACKOUT)
    assert [c.case_id for c in found] == [1, 10]
    assert [c.kind for c in found] == ["exact", "auto"]


# ---------------------------------------------------------------------------- photos


def _picture(kind: str) -> bytes:
    image = Image.new("RGB", (640, 480), "white")
    draw = ImageDraw.Draw(image)
    if kind == "flood":
        draw.rectangle((0, 300, 640, 480), fill=(30, 80, 160))
        draw.polygon([(100, 300), (200, 150), (300, 300)], fill=(150, 60, 40))
        draw.ellipse((450, 40, 560, 150), fill=(250, 200, 0))
        draw.text((20, 20), "BANJIR SERANG", fill="black")
    else:
        for x in range(0, 640, 80):
            draw.rectangle((x, 0, x + 40, 480), fill=(20, 140, 60))
        draw.ellipse((200, 140, 440, 380), outline="red", width=12)
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


def _forwarded(data: bytes) -> bytes:
    """What a messenger makes of it: half the size, JPEG quality 40."""
    image = Image.open(io.BytesIO(data))
    image = image.resize((image.width // 2, image.height // 2))
    out = io.BytesIO()
    image.save(out, format="JPEG", quality=40)
    return out.getvalue()


def test_a_reencoded_photo_matches_and_a_different_one_does_not() -> None:
    flood, other = _picture("flood"), _picture("stripes")
    original = photo_hash(flood)
    assert len(original) == 16
    forwarded = photo_hash(_forwarded(flood))
    assert distance(original, forwarded) <= 4
    assert distance(original, photo_hash(other)) > 10
    photos = PhotoIndex()
    photos.add(7, original)
    assert [(c.case_id, c.distance) for c in photos.match(forwarded)] == \
        [(7, distance(original, forwarded))]
    assert photos.match(photo_hash(other)) == []
    photos.remove(7)
    assert photos.match(forwarded) == []


def test_thumbnail_is_a_small_jpeg() -> None:
    small = thumbnail(_picture("flood"))
    image = Image.open(io.BytesIO(small))
    assert image.format == "JPEG"
    assert max(image.size) == 160
    assert len(small) < 10_000
