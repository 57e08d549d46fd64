"""One Jinja environment per output format; every key exists in both languages."""

from __future__ import annotations

from bot.content import load_content
from bot.events import t
from bot.render import Renderer


def test_every_key_exists_in_both_languages() -> None:
    content = load_content()
    assert set(content.messages["id"]) == set(content.messages["en"])
    assert [tp.slug for tp in content.topic_list("id")] == [
        tp.slug for tp in content.topic_list("en")]


def test_required_topics_are_present_and_dated() -> None:
    content = load_content()
    for lang in ("id", "en"):
        slugs = {tp.slug for tp in content.topic_list(lang)}
        assert {"5m", "isolasi-mandiri", "vaksinasi", "ke-faskes", "merawat-keluarga"} <= slugs
        for tp in content.topic_list(lang):
            assert tp.updated.year >= 2023 and tp.sources


def test_telegram_escapes_values_and_other_formats_do_not() -> None:
    content = load_content()
    text = t("coordinator.invites", links=[{"area": "<RT & RW>", "invite": "x", "link": None}])
    tg = Renderer(content, "telegram").render(text, "id")
    wa = Renderer(content, "whatsapp").render(text, "id")
    plain = Renderer(content, "console").render(text, "id")
    assert "&lt;RT &amp; RW&gt;" in tg and "<b>Tautan undangan RT Anda</b>" in tg
    assert "<RT & RW>" in wa and "*Tautan undangan RT Anda*" in wa
    assert "<RT & RW>" in plain and "*" not in plain.split("\n")[0]


def test_topic_bold_markup_per_format() -> None:
    content = load_content()
    topic = content.topic("id", "ke-faskes")
    assert topic is not None and "**" in topic.body
    text = t("info.page", title=topic.title, body=topic.body, updated="2026-11-29", sources="")
    assert "**" not in Renderer(content, "telegram").render(text, "id")
    assert "<b>" in Renderer(content, "telegram").render(text, "id")


def test_messages_fit_telegram_limit() -> None:
    content = load_content()
    renderer = Renderer(content, "telegram")
    for lang in ("id", "en"):
        for tp in content.topic_list(lang):
            page = renderer.render(t("info.page", title=tp.title, body=tp.body,
                                     updated=tp.updated.isoformat(), sources=tp.sources), lang)
            assert len(page) < 4096, tp.slug
