"""Render content keys to text, one Jinja environment per output format.

``telegram``: HTML, every value escaped. ``whatsapp``: WhatsApp's *bold* markup, not escaped.
``console``: plain text. Templates mark emphasis with the ``b`` filter and topic bodies with
``rich`` (``**bold**`` in content files), so one template serves every format.

Counts: ``{{ n|num }}`` writes a number as the language groups digits (1,234 / 1.234) and
``{{ n|plural(one="person", other="people") }}`` picks the word form by the language's plural
category (CLDR names: ``one``, ``other`` ...; Indonesian has no plural inflection, so always
``other``, and its templates simply write the one form)::

    Reaches: {{ reach|num }} {{ reach|plural(one="person", other="people") }}
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable
from typing import Any

from jinja2 import DictLoader, Environment, StrictUndefined, Template, pass_context
from jinja2.runtime import Context as Scope
from markupsafe import Markup

from bot.content import Content
from bot.events import Text

FORMATS = ("telegram", "whatsapp", "console")
_BOLD = re.compile(r"\*\*(.+?)\*\*", re.S)
# the plural category of a count, per language (CLDR); a language not listed has one form
PLURAL_RULES: dict[str, Callable[[int], str]] = {
    "en": lambda n: "one" if n == 1 else "other",
}
_GROUPING = {"id": "."}  # thousands separator where it is not ","


@pass_context
def _plural(scope: Scope, count: Any, **forms: str) -> str:
    """The word form for ``count`` in the template's language (``other`` if no better)."""
    if "other" not in forms:
        raise TypeError("plural needs at least other=...")
    rule = PLURAL_RULES.get(str(scope.get("lang")))
    category = rule(int(count)) if rule is not None else "other"
    return forms.get(category, forms["other"])


@pass_context
def _num(scope: Scope, count: Any) -> str:
    """A whole number with the language's thousands separator."""
    return f"{int(count):,}".replace(",", _GROUPING.get(str(scope.get("lang")), ","))


def _bold_for(fmt: str) -> Callable[[Any], Any]:
    if fmt == "telegram":
        return lambda value: Markup("<b>{}</b>").format(value)
    if fmt == "whatsapp":
        return lambda value: f"*{value}*"
    return lambda value: str(value)


def _rich_for(fmt: str) -> Callable[[Any], Any]:
    if fmt == "telegram":
        return lambda value: Markup(_BOLD.sub(r"<b>\1</b>", html.escape(str(value), quote=False)))
    if fmt == "whatsapp":
        return lambda value: _BOLD.sub(r"*\1*", str(value))
    return lambda value: _BOLD.sub(r"\1", str(value))


def _reach_for(fmt: str) -> Callable[[Any], Any]:
    """A person's chat identity as something a coordinator can use to reach them: on
    Telegram a link that opens a chat with that account; elsewhere the identity itself."""

    def reach(value: Any) -> Any:
        channel, _, user = str(value).partition(":")
        if fmt == "telegram" and channel == "telegram" and user.isdigit():
            return Markup('<a href="tg://user?id={}">{}</a>').format(user, str(value))
        return str(value)

    return reach


class Renderer:
    def __init__(self, content: Content, fmt: str, default_language: str = "id") -> None:
        if fmt not in FORMATS:
            raise ValueError(f"unknown output format {fmt!r}")
        self.fmt = fmt
        self.default_language = default_language
        sources = {
            f"{lang}/{key}": source
            for lang, table in content.messages.items()
            for key, source in table.items()
        }
        self.env = Environment(
            loader=DictLoader(sources),
            autoescape=fmt == "telegram",
            undefined=StrictUndefined,
            keep_trailing_newline=False,
            trim_blocks=True,
            lstrip_blocks=True,
        )
        self.env.filters["b"] = _bold_for(fmt)
        self.env.filters["rich"] = _rich_for(fmt)
        self.env.filters["plural"] = _plural
        self.env.filters["num"] = _num
        self.env.filters["reach"] = _reach_for(fmt)
        self._known = set(sources)
        self._cache: dict[str, Template] = {}

    def has(self, lang: str, key: str) -> bool:
        return f"{lang}/{key}" in self._known

    def render(self, text: Text, lang: str | None) -> str:
        """Render ``text`` in ``lang`` (falling back to the default language)."""
        lang = lang or self.default_language
        name = f"{lang}/{text.key}"
        if name not in self._known:
            name = f"{self.default_language}/{text.key}"
        template = self._cache.get(name)
        if template is None:
            template = self._cache[name] = self.env.get_template(name)
        params: dict[str, Any] = {"lang": lang}
        for key, value in text.params.items():
            params[key] = self._nested(value, lang)
        return template.render(params).strip()

    def _nested(self, value: Any, lang: str) -> Any:
        """A nested content key is rendered in the same language (already escaped)."""
        if isinstance(value, Text):
            rendered = self.render(value, lang)
            return Markup(rendered) if self.fmt == "telegram" else rendered
        if isinstance(value, list | tuple):
            return [self._nested(v, lang) for v in value]
        if isinstance(value, dict):
            return {k: self._nested(v, lang) for k, v in value.items()}
        return value
