"""Counts people read: the word agrees with the number in English (1 person / 2 people);
Indonesian has no plural inflection (1 orang / 2 orang); big numbers are grouped per language."""

from __future__ import annotations

import pytest

from bot.content import load_content
from bot.events import t
from bot.render import Renderer

CONTENT = load_content()


def _summary(lang: str, reach: int, groups: int = 0) -> str:
    text = t("broadcast.summary", audience="RT 03 / RW 02", segment="All residents", reach=reach,
             groups=groups, opted_out=0, category="Regular", when="now", deferred="",
             volunteers=False, approval=False)
    return Renderer(CONTENT, "console").render(text, lang)


def _line(text: str, start: str) -> str:
    return next(line for line in text.splitlines() if line.startswith(start))


@pytest.mark.parametrize(("lang", "reach", "groups", "line"), [
    ("en", 1, 0, "• Reaches: 1 person"),
    ("en", 2, 0, "• Reaches: 2 people"),
    ("en", 0, 1, "• Reaches: 0 people + 1 RT group"),
    ("en", 1234, 2, "• Reaches: 1,234 people + 2 RT groups"),
    ("id", 1, 1, "• Menjangkau: 1 orang + 1 grup RT"),
    ("id", 1234, 0, "• Menjangkau: 1.234 orang"),
])
def test_the_reach_agrees_with_its_number(lang: str, reach: int, groups: int, line: str
                                          ) -> None:
    text = _summary(lang, reach, groups)
    assert _line(text, "• Reaches" if lang == "en" else "• Menjangkau") == line


def test_review_and_lists_agree_with_their_numbers() -> None:
    words = Renderer(CONTENT, "console")
    review = t("broadcast.review", id=7, author="Pak Ahmad", audience="RT 03", reach=1,
               urgent=False, media="", when="now", body="Kerja bakti", shortened=False)
    assert "RT 03 · 1 person\n" in words.render(review, "en")
    assert "RT 03 · 1 orang\n" in words.render(review, "id")
    assert words.render(t("broadcast.audience_count", n=1), "en") == "1 RT"
    assert words.render(t("broadcast.audience_count", n=3), "en") == "3 RTs"
    assert words.render(t("broadcast.list_footer", n=1), "en").startswith("1 open notice.")
    assert words.render(t("announcements.none", days=1), "en").endswith("last 1 day.")
    assert words.render(t("announcements.none", days=7), "en").endswith("last 7 days.")


def test_no_english_text_leaves_a_plural_to_guess() -> None:
    for key, source in CONTENT.messages["en"].items():
        assert "(s)" not in source, key
