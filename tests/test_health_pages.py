"""Health pages: phone numbers and the SpO2 limit come from settings, one list of danger
signs with one action, no 112 where a deployment has none, editorial notes and old rules
kept out of "what applies now", risk groups named alike, sources for the facts, and a review
line in words. Topic pages are read as a person reads them: through the real router,
rendered as plain text; the pages of ``pages/`` (shown by the symptom feature) as
``info.page_text`` renders them for that person."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from bot.app import open_services
from bot.clock import FakeClock
from bot.config import ConfigError
from bot.content import ContentError, load_content
from bot.handlers.info import Topic, page_text
from tests.chat import Chat
from tests.conftest import make_settings

AMBULANCE, EMERGENCY, SPO2 = "0254-777-1190", "0254-777-1120", "91"
DANGER_ACTION = {"id": "Segera ke IGD atau telepon {}.", "en": "Go to the emergency room (IGD) "
                 "or call {}."}
HEADING = {"id": "Tanda bahaya", "en": "Danger signs"}


RISK_GROUPS = {"id": ("60 tahun ke atas", "penyakit penyerta", "ibu hamil", "belum divaksin"),
               "en": ("aged 60 and over", "other illnesses", "pregnant", "not vaccinated")}
REVIEWED = {"id": "Ditinjau 1 Desember 2026 oleh Tim konten Siaga Warga (bukan tenaga kesehatan)",
            "en": "Reviewed 1 December 2026 by the Siaga Warga content team (not health workers)"}
ADVICE = ("advice-low", "advice-moderate", "advice-high", "advice-urgent")


async def _pages(tmp_path: Path, **env: str) -> tuple[dict[str, dict[str, str]], str]:
    """Every topic page in both languages, and the 🚑 page, as a registered person sees them;
    the pages of ``pages/`` too, under their slugs."""
    settings = make_settings(tmp_path, **env)
    pages: dict[str, dict[str, str]] = {}
    async with open_services(settings, FakeClock()) as services:
        chat = Chat(services, "warga")
        await chat.register()
        emergency = "\n".join(await chat.send("/darurat"))
        for lang in ("id", "en"):
            if lang == "en":
                await chat.send("/pengaturan")
                await chat.press("Bahasa")
                await chat.press("English")
            pages[lang] = {}
            for topic in services.content.topic_list(lang):
                texts = await chat.forge(Topic(topic.slug).pack())
                assert chat.lang == lang
                pages[lang][topic.slug] = "\n".join(texts)
            for slug, page in services.content.pages[lang].items():
                pages[lang][slug] = chat.words.render(page_text(services, lang, page), lang)
    return pages, emergency


async def test_every_page_takes_numbers_and_the_spo2_limit_from_settings(tmp_path: Path) -> None:
    pages, _ = await _pages(tmp_path, SIAGA_CONTACT_AMBULANCE=AMBULANCE,
                            SIAGA_CONTACT_EMERGENCY=EMERGENCY, SIAGA_SPO2_LIMIT=SPO2)
    for lang, by_slug in pages.items():
        assert len(by_slug) >= 10 and set(ADVICE) <= set(by_slug)
        for slug, text in by_slug.items():
            # the shipped defaults appear nowhere, not even inside a longer number
            for old in ("119", "112", "118", "94%", "95%", "93%", "90%"):
                assert old not in text.replace(AMBULANCE, "").replace(EMERGENCY, ""), (
                    lang, slug, old)
            assert "{{" not in text and "{%" not in text, (lang, slug)
        assert AMBULANCE in by_slug["ke-faskes"] and EMERGENCY in by_slug["ke-faskes"]
        for slug in ("isolasi-mandiri", "ke-faskes", "merawat-keluarga", "gejala", *ADVICE):
            assert f"{SPO2}%" in by_slug[slug], (lang, slug)
        assert AMBULANCE in by_slug["advice-urgent"] and EMERGENCY in by_slug["advice-urgent"]


async def test_one_list_of_danger_signs_with_one_action_on_every_page(tmp_path: Path) -> None:
    pages, _ = await _pages(tmp_path, SIAGA_CONTACT_AMBULANCE=AMBULANCE)
    for lang, by_slug in pages.items():
        lists = {}
        for slug in ("isolasi-mandiri", "ke-faskes", "merawat-keluarga", "gejala", *ADVICE):
            text = by_slug[slug]
            start = text.index(f"\n{HEADING[lang]}\n") + 1
            action = DANGER_ACTION[lang].format(AMBULANCE)
            end = text.index(action, start) + len(action)
            lists[slug] = text[start:end]
            signs = [line for line in lists[slug].splitlines() if line.startswith("•")]
            assert len(signs) == 7, (lang, slug, signs)
            # the list says where it comes from
            assert "WHO 2023; indonesiabaik.id 2021" in text[end:end + 80], (lang, slug)
        assert len(set(lists.values())) == 1, lang  # the same list, word for word
        # nobody who is hard to wake is sent to a puskesmas
        assert "puskesmas" not in next(iter(lists.values())).lower()


async def test_breathlessness_alone_is_not_a_danger_sign(tmp_path: Path) -> None:
    """The source means breathlessness *with* more than 24 breaths a minute (or so severe
    that speaking in sentences is hard), not any breathlessness."""
    pages, _ = await _pages(tmp_path)
    for lang, word in (("id", "sesak"), ("en", "breath")):
        for slug, text in pages[lang].items():
            for line in text.splitlines():
                if line.startswith("•") and word in line.lower() and HEADING[lang] in text:
                    if "24" in line or "sentences" in line or "kalimat" in line:
                        continue
                    # a breathing line outside the danger list must not send anyone to the IGD
                    assert "IGD" not in line and "ambulan" not in line.lower(), (lang, slug)
        signs = pages[lang]["ke-faskes"].split(HEADING[lang], 1)[1].split("\n\n", 1)[0]
        breathing = [ln for ln in signs.splitlines() if word in ln.lower()]
        assert breathing and all("24" in ln for ln in breathing), (lang, breathing)
    assert "Sesak napas, atau napas cepat" not in pages["id"]["ke-faskes"]


async def test_editorial_notes_and_old_rules_are_not_shown_as_current(tmp_path: Path) -> None:
    pages, _ = await _pages(tmp_path)
    for lang, by_slug in pages.items():
        for slug, text in by_slug.items():
            for note in ("belum terverifikasi", "not verified", "{#", "#}", "Editor"):
                assert note not in text, (lang, slug, note)
    current = {"id": ("Yang berlaku sekarang", "Aturan sebelumnya (2020–2022"),
               "en": ("What applies now", "Earlier rules (2020–2022")}
    for lang, (now, before) in current.items():
        text = pages[lang]["5m"]
        assert text.index(now) < text.index(before)
        # the 2022 mask rule is listed under the earlier rules only
        assert text.index("Inmendagri 53/2022") > text.index(before), lang
        assert text.count("Inmendagri 53/2022") == 2  # that line and the sources
        # end of the pandemic status and who handles COVID-19 now, with their sources
        assert "Keppres 17/2023" in text.split(before)[0] and "Perpres 48/2023" in text


async def test_close_contact_is_everyone_living_with_the_patient(tmp_path: Path) -> None:
    pages, _ = await _pages(tmp_path)
    care = {"id": pages["id"]["merawat-keluarga"], "en": pages["en"]["merawat-keluarga"]}
    assert "merawat pasien tanpa alat pelindung diri termasuk kontak erat" not in care["id"]
    assert "Semua orang yang serumah dengan pasien, termasuk Anda yang merawatnya, adalah " \
           "kontak erat (Menkes, Juli 2021" in care["id"]
    assert "without protective equipment is a close contact" not in care["en"]
    assert "Everyone who lives with the patient, including you who care for them, is a close " \
           "contact (Minister of Health, July 2021" in care["en"]
    # the symptoms page gives the current (simpler) rule first, the 2020 rule as the earlier one
    text = pages["id"]["gejala"]
    assert text.index("Sejak Juli 2021") < text.index("Definisi rinci sebelumnya (KMK 413/2020)")


async def test_the_same_risk_groups_on_every_page_that_names_them(tmp_path: Path) -> None:
    pages, _ = await _pages(tmp_path)
    for lang, by_slug in pages.items():
        for slug in ("5m", "isolasi-mandiri", "ke-faskes", "merawat-keluarga", *ADVICE[:3]):
            for group in RISK_GROUPS[lang]:
                assert group in by_slug[slug], (lang, slug, group)
    # isoman says what a person in a risk group should do
    assert "Jika Anda termasuk kelompok ini, tanyakan ke puskesmas apakah Anda boleh isoman " \
           "di rumah." in pages["id"]["isolasi-mandiri"]


async def test_incubation_has_its_source(tmp_path: Path) -> None:
    pages, _ = await _pages(tmp_path)
    assert "1–14 hari setelah tertular (masa inkubasi; covid19.go.id, 2020)" in pages["id"][
        "gejala"]
    assert "(the incubation period; covid19.go.id, 2020)" in pages["en"]["gejala"]


async def test_every_page_shows_when_and_by_whom_it_was_reviewed(tmp_path: Path) -> None:
    pages, _ = await _pages(tmp_path)
    for lang, by_slug in pages.items():
        for slug, text in by_slug.items():
            assert REVIEWED[lang] in text, (lang, slug)
            assert "Diperbarui" not in text and "Updated 20" not in text, (lang, slug)
            assert ("Sumber: " if lang == "id" else "Sources: ") in text, (lang, slug)


async def test_the_emergency_note_is_in_the_readers_language(tmp_path: Path) -> None:
    pages, _ = await _pages(tmp_path, SIAGA_CONTACT_EMERGENCY_NOTE="aktif di Kota Serang",
                            SIAGA_CONTACT_EMERGENCY_NOTE_EN="works in Serang city")
    for slug in ("ke-faskes", "advice-urgent"):
        assert "112**" not in pages["id"][slug]
        assert "112, nomor darurat tunggal yang gratis (aktif di Kota Serang)" in pages["id"][slug]
        assert "112, the free single emergency number (works in Serang city)" in pages["en"][slug]


def test_a_page_without_a_review_stops_start_up(tmp_path: Path) -> None:
    copy = _copy_content(tmp_path)
    for folder, name, missing in (("topics", "20-isolasi-mandiri.md", "reviewed_by"),
                                  ("pages", "advice-high.md", "reviewed")):
        page = copy / "id" / folder / name
        original = page.read_text(encoding="utf-8")
        page.write_text(re.sub(rf"\n{missing}: [^\n]*", "", original, count=1),
                        encoding="utf-8")
        with pytest.raises(ContentError, match=rf"id/{folder}/{name}: .*needs {missing}"):
            load_content(copy)
        page.write_text(original, encoding="utf-8")
    page = copy / "en" / "pages" / "advice-low.md"
    page.write_text(page.read_text(encoding="utf-8").replace("reviewed: 2026-12-01",
                                                             "reviewed: 1 Dec"),
                    encoding="utf-8")
    with pytest.raises(ContentError, match=r"en/pages/advice-low\.md"):
        load_content(copy)


async def test_no_112_anywhere_where_the_deployment_has_none(tmp_path: Path) -> None:
    pages, emergency = await _pages(tmp_path, SIAGA_CONFIG=str(_no_112(tmp_path)))
    assert "Ambulans & gawat darurat kesehatan: 119" in emergency
    assert "Panggilan darurat" not in emergency and "112" not in emergency
    assert "Halo Kemenkes" in emergency
    for lang, by_slug in pages.items():
        for slug, text in by_slug.items():
            assert "112" not in text, (lang, slug)
        assert "119" in by_slug["ke-faskes"]


async def test_the_112_line_is_there_by_default(tmp_path: Path) -> None:
    pages, emergency = await _pages(tmp_path)
    assert "Panggilan darurat 112" in emergency
    assert re.search(r"112\b", pages["id"]["ke-faskes"])
    assert "94%" in pages["id"]["ke-faskes"] and "94%" in pages["en"]["gejala"]


def _no_112(tmp_path: Path) -> Path:
    example = (Path(__file__).resolve().parent.parent / "config" / "settings.example.toml")
    text = example.read_text(encoding="utf-8").replace('emergency = "112"', 'emergency = ""')
    assert 'emergency = ""' in text
    path = tmp_path / "settings.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_the_spo2_limit_is_checked(tmp_path: Path) -> None:
    assert make_settings(tmp_path).health.spo2_limit == 94
    assert make_settings(tmp_path, SIAGA_SPO2_LIMIT="92").health.spo2_limit == 92
    with pytest.raises(ConfigError, match="SIAGA_SPO2_LIMIT"):
        make_settings(tmp_path, SIAGA_SPO2_LIMIT="9")


def _copy_content(tmp_path: Path) -> Path:
    """A copy of the shipped content (every *.toml, topics/ and pages/) to break."""
    root = Path(__file__).resolve().parent.parent / "bot" / "content"
    copy = tmp_path / "content"
    for lang in ("id", "en"):
        for folder in ("topics", "pages"):
            (copy / lang / folder).mkdir(parents=True)
            for page in (root / lang / folder).glob("*.md"):
                (copy / lang / folder / page.name).write_text(
                    page.read_text(encoding="utf-8"), encoding="utf-8")
        for table in (root / lang).glob("*.toml"):
            (copy / lang / table.name).write_text(table.read_text(encoding="utf-8"),
                                                  encoding="utf-8")
    return copy


def test_a_typo_in_a_page_fails_when_content_loads(tmp_path: Path) -> None:
    copy = _copy_content(tmp_path)
    assert load_content(copy).topic("en", "ke-faskes") is not None
    assert load_content(copy).page("en", "advice-urgent") is not None
    page = copy / "en" / "topics" / "40-ke-faskes.md"
    page.write_text(page.read_text(encoding="utf-8").replace("{{ ambulance }}",
                                                             "{{ ambulans }}"),
                    encoding="utf-8")
    with pytest.raises(ContentError, match="en/topics/ke-faskes"):
        load_content(copy)
