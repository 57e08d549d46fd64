"""Health pages: phone numbers and the SpO2 limit come from settings, one list of danger
signs with one action, and no 112 where a deployment has none. Pages are read as a person
reads them: through the real router, rendered as plain text."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from bot.app import open_services
from bot.clock import FakeClock
from bot.config import ConfigError
from bot.content import ContentError, load_content
from bot.handlers.info import Topic
from tests.chat import Chat
from tests.conftest import make_settings

AMBULANCE, EMERGENCY, SPO2 = "0254-777-1190", "0254-777-1120", "91"
DANGER_ACTION = {"id": "Segera ke IGD atau telepon {}.", "en": "Go to the emergency room (IGD) "
                 "or call {}."}
HEADING = {"id": "Tanda bahaya", "en": "Danger signs"}


async def _pages(tmp_path: Path, **env: str) -> tuple[dict[str, dict[str, str]], str]:
    """Every topic page in both languages, and the 🚑 page, as a registered person sees them."""
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
    return pages, emergency


async def test_every_page_takes_numbers_and_the_spo2_limit_from_settings(tmp_path: Path) -> None:
    pages, _ = await _pages(tmp_path, SIAGA_CONTACT_AMBULANCE=AMBULANCE,
                            SIAGA_CONTACT_EMERGENCY=EMERGENCY, SIAGA_SPO2_LIMIT=SPO2)
    for lang, by_slug in pages.items():
        assert len(by_slug) >= 6
        for slug, text in by_slug.items():
            # the shipped defaults appear nowhere, not even inside a longer number
            for old in ("119", "112", "118", "94%", "95%", "93%", "90%"):
                assert old not in text.replace(AMBULANCE, "").replace(EMERGENCY, ""), (
                    lang, slug, old)
            assert "{{" not in text and "{%" not in text, (lang, slug)
        assert AMBULANCE in by_slug["ke-faskes"] and EMERGENCY in by_slug["ke-faskes"]
        for slug in ("isolasi-mandiri", "ke-faskes", "merawat-keluarga", "gejala"):
            assert f"{SPO2}%" in by_slug[slug], (lang, slug)


async def test_one_list_of_danger_signs_with_one_action_on_every_page(tmp_path: Path) -> None:
    pages, _ = await _pages(tmp_path, SIAGA_CONTACT_AMBULANCE=AMBULANCE)
    for lang, by_slug in pages.items():
        lists = {}
        for slug in ("isolasi-mandiri", "ke-faskes", "merawat-keluarga", "gejala"):
            text = by_slug[slug]
            start = text.index(HEADING[lang])
            action = DANGER_ACTION[lang].format(AMBULANCE)
            end = text.index(action, start) + len(action)
            lists[slug] = text[start:end]
            signs = [line for line in lists[slug].splitlines() if line.startswith("•")]
            assert len(signs) == 8, (lang, slug, signs)
        assert len(set(lists.values())) == 1, lang  # the same list, word for word
        # nobody who is hard to wake is sent to a puskesmas
        assert "puskesmas" not in next(iter(lists.values())).lower()


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


def test_a_typo_in_a_page_fails_when_content_loads(tmp_path: Path) -> None:
    root = Path(__file__).resolve().parent.parent / "bot" / "content"
    copy = tmp_path / "content"
    for lang in ("id", "en"):
        (copy / lang / "topics").mkdir(parents=True)
        (copy / lang / "messages.toml").write_text(
            (root / lang / "messages.toml").read_text(encoding="utf-8"), encoding="utf-8")
        for page in (root / lang / "topics").iterdir():
            (copy / lang / "topics" / page.name).write_text(
                page.read_text(encoding="utf-8"), encoding="utf-8")
    assert load_content(copy).topic("en", "ke-faskes") is not None
    page = copy / "en" / "topics" / "40-ke-faskes.md"
    page.write_text(page.read_text(encoding="utf-8").replace("{{ ambulance }}",
                                                             "{{ ambulans }}"),
                    encoding="utf-8")
    with pytest.raises(ContentError, match="en/topics/ke-faskes"):
        load_content(copy)
