"""The advice pages per triage level (``pages/advice-*.md``), which the symptom feature shows
after the questionnaire: present in both languages, not listed under Info, filled from
settings, short enough for one chat message, dated and sourced. Each page is rendered as
``info.page_text`` renders it for a registered person."""

from __future__ import annotations

from pathlib import Path

from bot.app import open_services
from bot.clock import FakeClock
from bot.content import topic_values
from bot.handlers.info import page_text
from bot.render import Renderer
from tests.chat import Chat
from tests.conftest import make_settings

LEVELS = ("advice-low", "advice-moderate", "advice-high", "advice-urgent")
AMBULANCE, EMERGENCY, HEALTH_INFO, SPO2 = "0254-777-1190", "0254-777-1120", "1500-999", "92"
SETTINGS = {"SIAGA_CONTACT_AMBULANCE": AMBULANCE, "SIAGA_CONTACT_EMERGENCY": EMERGENCY,
            "SIAGA_CONTACT_HEALTH_INFO": HEALTH_INFO, "SIAGA_SPO2_LIMIT": SPO2}


async def _advice(tmp_path: Path, fmt: str = "console", **env: str
                  ) -> dict[str, dict[str, str]]:
    """lang -> slug -> the advice page as the person reads it."""
    settings = make_settings(tmp_path, **env)
    out: dict[str, dict[str, str]] = {}
    async with open_services(settings, FakeClock()) as services:
        chat = Chat(services, "warga")
        await chat.register()
        renderer = Renderer(services.content, fmt)
        for lang in ("id", "en"):
            listed = {tp.slug for tp in services.content.topic_list(lang)}
            out[lang] = {}
            for slug in LEVELS:
                page = services.content.page(lang, slug)
                assert page is not None, (lang, slug)
                assert slug not in listed  # not under Info
                body = services.content.topic_body(lang, page,
                                                   topic_values(services.settings, lang))
                assert len(body) < 1500, (lang, slug, len(body))  # one short chat message
                out[lang][slug] = renderer.render(page_text(services, lang, page), lang)
    return out


async def test_every_level_has_a_page_in_both_languages_filled_from_settings(
        tmp_path: Path) -> None:
    pages = await _advice(tmp_path, **SETTINGS)
    heading = {"id": "Tanda bahaya", "en": "Danger signs"}
    action = {"id": f"Segera ke IGD atau telepon {AMBULANCE}.",
              "en": f"Go to the emergency room (IGD) or call {AMBULANCE}."}
    for lang, by_slug in pages.items():
        for slug, text in by_slug.items():
            assert "{{" not in text and "{%" not in text, (lang, slug)
            rest = text.replace(AMBULANCE, "").replace(EMERGENCY, "")
            for old in ("119", "112", "94%", "1500-567"):
                assert old not in rest, (lang, slug, old)
            # the shared danger-sign list with the deployment's limit and ambulance number
            assert f"\n{heading[lang]}\n" in text and action[lang] in text, (lang, slug)
            assert f"{SPO2}%" in text, (lang, slug)
        for slug in ("advice-low", "advice-moderate", "advice-high"):
            assert HEALTH_INFO in by_slug[slug], (lang, slug)


async def test_the_urgent_page_starts_with_the_action(tmp_path: Path) -> None:
    pages = await _advice(tmp_path, **SETTINGS)
    first = {lang: pages[lang]["advice-urgent"].split("\n\n")[1].splitlines()[0]
             for lang in pages}
    assert first["id"].startswith(f"Segera telepon {AMBULANCE} atau pergi ke IGD terdekat "
                                  "sekarang.")
    assert first["en"].startswith(f"Call {AMBULANCE} or go to the nearest emergency room (IGD) "
                                  "now.")
    assert EMERGENCY in pages["id"]["advice-urgent"]


def _no_112(tmp_path: Path) -> str:
    """A settings file like the example, for an area without 112."""
    example = Path(__file__).resolve().parent.parent / "config" / "settings.example.toml"
    text = example.read_text(encoding="utf-8").replace('emergency = "112"', 'emergency = ""')
    (tmp_path / "settings.toml").write_text(text, encoding="utf-8")
    return str(tmp_path / "settings.toml")


async def test_no_112_on_the_urgent_page_where_there_is_none(tmp_path: Path) -> None:
    pages = await _advice(tmp_path, SIAGA_CONFIG=_no_112(tmp_path))
    for lang in pages:
        text = pages[lang]["advice-urgent"]
        assert "112" not in text and "119" in text, lang


async def test_pages_follow_the_current_rules_and_name_the_risk_groups(tmp_path: Path) -> None:
    pages = await _advice(tmp_path)
    for slug in ("advice-moderate", "advice-high"):
        assert "**" not in pages["id"][slug]
        assert "3–5 hari" in pages["id"][slug] and "Permenkes 23/2023" in pages["id"][slug]
        assert "3–5 days" in pages["en"][slug] and "Permenkes 23/2023" in pages["en"][slug]
        assert "10 hari" not in pages["id"][slug]  # the 2022 rule
        assert "tes COVID-19" in pages["id"][slug]  # when to test
    for slug in ("advice-low", "advice-moderate", "advice-high"):
        for group in ("60 tahun ke atas", "penyakit penyerta", "ibu hamil", "belum divaksin"):
            assert group in pages["id"][slug], (slug, group)
        assert "aged 60 and over" in pages["en"][slug]
    assert "1–14 hari setelah tertular (covid19.go.id, 2020)" in pages["id"]["advice-low"]


async def test_pages_are_dated_sourced_and_fit_one_telegram_message(tmp_path: Path) -> None:
    pages = await _advice(tmp_path, fmt="telegram")
    for lang, by_slug in pages.items():
        for slug, text in by_slug.items():
            assert len(text) < 4096, (lang, slug)
            review = ("Ditinjau 1 Desember 2026 oleh Tim konten Siaga Warga" if lang == "id"
                      else "Reviewed 1 December 2026 by the Siaga Warga content team")
            assert review in text, (lang, slug)
            sources = "Sumber: " if lang == "id" else "Sources: "
            assert sources in text and "WHO (2023)" in text, (lang, slug)
