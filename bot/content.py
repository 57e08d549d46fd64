"""Content files: message templates (``messages.toml``) and topic pages (``topics/*.md``).

Each language has a folder ``bot/content/<lang>/``. A content author adds a topic by adding
``topics/<order>-<slug>.md`` with a small front matter; no code changes.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from datetime import date
from importlib import resources
from importlib.resources.abc import Traversable

from bot.config import SUPPORTED_LANGUAGES

_FRONT = re.compile(r"\A---\n(.*?)\n---\n(.*)\Z", re.S)
_SLUG = re.compile(r"[a-z0-9-]{1,40}")


class ContentError(Exception):
    """A content file is malformed; the message names the file."""


@dataclass(frozen=True)
class Topic:
    slug: str
    title: str
    order: int
    updated: date
    sources: str
    body: str


@dataclass(frozen=True)
class Content:
    messages: dict[str, dict[str, str]]  # lang -> key -> template source
    topics: dict[str, dict[str, Topic]]  # lang -> slug -> topic, in display order

    def topic(self, lang: str, slug: str) -> Topic | None:
        return self.topics.get(lang, {}).get(slug)

    def topic_list(self, lang: str) -> list[Topic]:
        return list(self.topics.get(lang, {}).values())


def _parse_topic(name: str, text: str) -> Topic:
    match = _FRONT.match(text.replace("\r\n", "\n"))
    if not match:
        raise ContentError(f"{name}: must start with a --- front matter block ---")
    meta: dict[str, str] = {}
    for line in match.group(1).splitlines():
        if line.strip():
            key, sep, value = line.partition(":")
            if not sep:
                raise ContentError(f"{name}: front matter line {line!r} has no ':'")
            meta[key.strip()] = value.strip()
    for key in ("slug", "title", "order", "updated"):
        if not meta.get(key):
            raise ContentError(f"{name}: front matter needs {key}")
    if not _SLUG.fullmatch(meta["slug"]):
        raise ContentError(f"{name}: slug must be 1-40 of a-z, 0-9 and -")
    try:
        order = int(meta["order"])
        updated = date.fromisoformat(meta["updated"])
    except ValueError as exc:
        raise ContentError(f"{name}: {exc}") from None
    body = match.group(2).strip()
    if len(body) > 3500:
        raise ContentError(f"{name}: body is {len(body)} characters; keep it under 3500")
    return Topic(meta["slug"], meta["title"], order, updated, meta.get("sources", ""), body)


def _load_language(folder: Traversable, lang: str) -> tuple[dict[str, str], dict[str, Topic]]:
    messages_file = folder / "messages.toml"
    try:
        messages = tomllib.loads(messages_file.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise ContentError(f"{lang}/messages.toml: {exc}") from None
    flat = {k: str(v) for k, v in _flatten(messages).items()}
    topics: list[Topic] = []
    topic_dir = folder / "topics"
    if topic_dir.is_dir():
        for entry in topic_dir.iterdir():
            if entry.name.endswith(".md"):
                topics.append(_parse_topic(f"{lang}/topics/{entry.name}",
                                           entry.read_text(encoding="utf-8")))
    topics.sort(key=lambda tp: (tp.order, tp.slug))
    by_slug: dict[str, Topic] = {}
    for tp in topics:
        if tp.slug in by_slug:
            raise ContentError(f"{lang}/topics: slug {tp.slug!r} is used twice")
        by_slug[tp.slug] = tp
    return flat, by_slug


def _flatten(table: dict, prefix: str = "") -> dict[str, object]:
    out: dict[str, object] = {}
    for key, value in table.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            out.update(_flatten(value, f"{name}."))
        else:
            out[name] = value
    return out


def load_content(root: Traversable | None = None) -> Content:
    """Load every language's messages and topics; ContentError names a broken file."""
    root = root or resources.files("bot").joinpath("content")
    messages: dict[str, dict[str, str]] = {}
    topics: dict[str, dict[str, Topic]] = {}
    for lang in SUPPORTED_LANGUAGES:
        messages[lang], topics[lang] = _load_language(root / lang, lang)
    return Content(messages, topics)
