"""Content files: message templates (``*.toml``), topic pages (``topics/*.md``) and pages
shown by a feature but not listed under Info (``pages/*.md``, e.g. triage advice).

Message templates may be split by feature (``messages.toml``, ``symptoms.toml``, ...): every
``*.toml`` of a language folder is read, and a key defined twice stops start-up.

Each language has a folder ``bot/content/<lang>/``. A content author adds a topic by adding
``topics/<order>-<slug>.md`` with a small front matter; no code changes.

A topic body is a Jinja template (plain text, not escaped; the page template escapes it):
phone numbers and thresholds come from settings as ``{{ ambulance }}``, ``{{ emergency }}``
("" where the deployment has no 112), ``{{ emergency_note }}`` (the deployment's note on
112 in the reader's language, "" for none), ``{{ health_info }}`` and ``{{ spo2_limit }}``, and a
shared snippet ``topics/_<name>.md`` (no front matter) is included with
``{% include "<name>" %}``, e.g. the one list of danger signs, ``_danger-signs.md``.
An editor's note goes in a Jinja comment ``{# ... #}``: residents never see it.

Front matter (``key: value`` lines), all required but ``sources``: ``slug``, ``title``,
``order``, ``updated`` (the date of the last edit), ``reviewed`` (the date the page was
last checked against its sources, shown in words) and ``reviewed_by`` (who checked it,
e.g. "Tim konten Siaga Warga (bukan tenaga kesehatan)"); ``sources`` is one line.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field
from datetime import date
from importlib import resources
from importlib.resources.abc import Traversable
from typing import Any

from jinja2 import DictLoader, Environment, StrictUndefined, Template, TemplateError

from bot.config import SUPPORTED_LANGUAGES, Settings

_FRONT = re.compile(r"\A---\n(.*?)\n---\n(.*)\Z", re.S)
_SLUG = re.compile(r"[a-z0-9-]{1,40}")
_MAX_BODY = 3500  # characters of a rendered page body (Telegram allows 4096 in all)
# the values a topic body may use, with stand-ins to check every page when content loads
_SAMPLE_VALUES = {"ambulance": "119-000-000", "emergency": "112-000-000",
                  "emergency_note": "", "health_info": "1500-567-000", "spo2_limit": 94}


def topic_values(settings: Settings, lang: str = "id") -> dict[str, Any]:
    """The settings a topic body in ``lang`` may name (see the module docstring)."""
    c = settings.contacts
    return {"ambulance": c.ambulance, "emergency": c.emergency,
            "emergency_note": c.note(lang), "health_info": c.health_info,
            "spo2_limit": settings.health.spo2_limit}


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
    reviewed: date  # when the page was last checked against its sources
    reviewed_by: str  # who checked it (a team, not a made-up clinician)


@dataclass(frozen=True)
class Content:
    messages: dict[str, dict[str, str]]  # lang -> key -> template source
    topics: dict[str, dict[str, Topic]]  # lang -> slug -> topic, in display order
    snippets: dict[str, dict[str, str]] = field(default_factory=dict)  # lang -> name -> text
    pages: dict[str, dict[str, Topic]] = field(default_factory=dict)  # lang -> slug -> page

    def topic(self, lang: str, slug: str) -> Topic | None:
        return self.topics.get(lang, {}).get(slug)

    def page(self, lang: str, slug: str) -> Topic | None:
        """A page of ``pages/`` (not listed under Info), e.g. the advice for a risk level."""
        return self.pages.get(lang, {}).get(slug)

    def topic_list(self, lang: str) -> list[Topic]:
        return list(self.topics.get(lang, {}).values())

    _templates: dict[tuple[str, str], Template] = field(
        default_factory=dict, compare=False, repr=False)

    def topic_body(self, lang: str, topic: Topic, values: dict[str, Any]) -> str:
        """The topic's body with the settings ``values`` (``topic_values``) filled in."""
        cache = (lang, topic.slug, id(topic))
        template = self._templates.get(cache)
        if template is None:
            template = _environment(self.snippets.get(lang, {})).from_string(topic.body)
            self._templates[cache] = template
        return template.render(values).strip()


def _environment(snippets: dict[str, str]) -> Environment:
    return Environment(loader=DictLoader(snippets), undefined=StrictUndefined,
                       autoescape=False, keep_trailing_newline=True, trim_blocks=True,
                       lstrip_blocks=True)


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
    for key in ("slug", "title", "order", "updated", "reviewed", "reviewed_by"):
        if not meta.get(key):
            raise ContentError(f"{name}: front matter needs {key}")
    if not _SLUG.fullmatch(meta["slug"]):
        raise ContentError(f"{name}: slug must be 1-40 of a-z, 0-9 and -")
    try:
        order = int(meta["order"])
        updated = date.fromisoformat(meta["updated"])
        reviewed = date.fromisoformat(meta["reviewed"])
    except ValueError as exc:
        raise ContentError(f"{name}: {exc}") from None
    body = match.group(2).strip()
    return Topic(meta["slug"], meta["title"], order, updated, meta.get("sources", ""), body,
                 reviewed, meta["reviewed_by"])


def _check_bodies(lang: str, topics: list[Topic], snippets: dict[str, str]) -> None:
    """Render every page with stand-in values: a typo or an unknown name fails at startup."""
    env = _environment(snippets)
    for tp in topics:
        try:
            body = env.from_string(tp.body).render(_SAMPLE_VALUES)
        except TemplateError as exc:
            raise ContentError(f"{lang}/topics/{tp.slug}: {exc}") from None
        if len(body) > _MAX_BODY:
            raise ContentError(f"{lang}/topics/{tp.slug}: body is {len(body)} characters; "
                               f"keep it under {_MAX_BODY}")


def _load_messages(folder: Traversable, lang: str) -> dict[str, str]:
    flat: dict[str, str] = {}
    files = sorted((e for e in folder.iterdir() if e.name.endswith(".toml")),
                   key=lambda e: (e.name != "messages.toml", e.name))
    for entry in files:
        try:
            table = tomllib.loads(entry.read_text(encoding="utf-8"))
        except tomllib.TOMLDecodeError as exc:
            raise ContentError(f"{lang}/{entry.name}: {exc}") from None
        for key, value in _flatten(table).items():
            if key in flat:
                raise ContentError(f"{lang}/{entry.name}: key {key!r} is defined twice")
            flat[key] = str(value)
    return flat


def _load_pages(folder: Traversable, lang: str, snippets: dict[str, str]
                ) -> dict[str, Topic]:
    """The ``*.md`` pages of ``folder`` by slug, in order (snippets ``_*.md`` collected)."""
    pages: list[Topic] = []
    if folder.is_dir():
        for entry in folder.iterdir():
            if entry.name.startswith("_") and entry.name.endswith(".md"):
                text = entry.read_text(encoding="utf-8").replace("\r\n", "\n").strip()
                snippets[entry.name[1:-3]] = text + "\n"  # a blank line after it stays
            elif entry.name.endswith(".md"):
                pages.append(_parse_topic(f"{lang}/{folder.name}/{entry.name}",
                                          entry.read_text(encoding="utf-8")))
    pages.sort(key=lambda tp: (tp.order, tp.slug))
    by_slug: dict[str, Topic] = {}
    for tp in pages:
        if tp.slug in by_slug:
            raise ContentError(f"{lang}/{folder.name}: slug {tp.slug!r} is used twice")
        by_slug[tp.slug] = tp
    return by_slug


def _load_language(
    folder: Traversable, lang: str,
) -> tuple[dict[str, str], dict[str, Topic], dict[str, str], dict[str, Topic]]:
    flat = _load_messages(folder, lang)
    snippets: dict[str, str] = {}
    topics = _load_pages(folder / "topics", lang, snippets)
    pages = _load_pages(folder / "pages", lang, snippets)
    _check_bodies(lang, [*topics.values(), *pages.values()], snippets)
    return flat, topics, snippets, pages


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
    snippets: dict[str, dict[str, str]] = {}
    pages: dict[str, dict[str, Topic]] = {}
    for lang in SUPPORTED_LANGUAGES:
        messages[lang], topics[lang], snippets[lang], pages[lang] = _load_language(
            root / lang, lang)
    return Content(messages, topics, snippets, pages)
