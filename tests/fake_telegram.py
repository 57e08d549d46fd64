"""A fake Telegram Bot API server for tests and benchmarks.

The real python-telegram-bot (PTB) talks to it over HTTP on 127.0.0.1::

    fake = FakeBotAPI()
    await fake.start()
    bot = telegram.Bot(fake.token, base_url=fake.base_url, base_file_url=fake.base_file_url)
    ...
    await fake.stop()

Wire format (as sent by PTB 22.x, see ``telegram/request/_httpxrequest.py``): every call is a
``POST {base_url}{token}/{method}`` with an ``application/x-www-form-urlencoded`` body, or
``multipart/form-data`` when files are uploaded.  Each form value is the JSON encoding of the
parameter, except plain strings which are sent raw (so ``reply_markup``/``commands``/``scope`` are
JSON strings, ``chat_id=123``, ``text=hello``).  JSON request bodies and GET query strings are
accepted too.  Answers are ``{"ok": true, "result": ...}`` or
``{"ok": false, "error_code": N, "description": "...", "parameters": {"retry_after": N}}`` with
the HTTP status equal to ``error_code`` (PTB maps the status to its exception classes).

Run as a separate process for benchmarks::

    python -m tests.fake_telegram --port 0 --latency-ms 50 [--rate-limit 30]

``rate_limit`` (``--rate-limit``) makes the send methods (``_SEND_METHODS``) answer 429 "Too
Many Requests: retry after 1" like Telegram's flood control when the bot goes faster than that
many calls per second over all chats; it is a token bucket holding ``max(1, rate_limit / 10)``
calls, so short bursts pass.  Off by default.

Reply keyboards: a ``ReplyKeyboardMarkup`` (``keyboard``) stays on the chat until a message
with ``ReplyKeyboardRemove`` (``remove_keyboard``) or another keyboard; ``reply_keyboard()``
says which one the user has, ``FakeUser.tap`` presses one of its buttons (a plain button sends
its label as text, a ``request_contact`` one shares the user's own contact) and
``FakeUser.send_contact`` shares a contact card (the user's own, or someone else's).  A
message the bot deletes is skipped by ``FakeUser.next_reply``; a silent keyboard-removal note
(``remove_keyboard`` with ``disable_notification``) is held back briefly, until the bot
deletes it, sends something after it, or ``TRANSIENT_HOLD`` seconds pass.

It prints ``READY http://127.0.0.1:<port>/bot`` and serves until SIGTERM/SIGINT.  Control
endpoints (JSON) live under ``/_control/``; see :meth:`FakeBotAPI._control`.
"""

import argparse
import asyncio
import contextlib
import itertools
import json
import re
import signal
import time
from collections import Counter, deque
from collections.abc import Callable
from typing import Any

import aiohttp
from aiohttp import web

JSONDict = dict[str, Any]

DEFAULT_TOKEN = "123456:TEST-token-abcdefghijklmnopqrstuv"

MAX_TEXT_LENGTH = 4096
MAX_CAPTION_LENGTH = 1024
MAX_CALLBACK_DATA_BYTES = 64

# Parameters whose form value is a plain string and must never be JSON-decoded ("text=123" stays
# the string "123").  Everything else is JSON-decoded when possible (ints, bools, objects).
_STRING_PARAMS = frozenset(
    {
        "text", "caption", "parse_mode", "callback_query_id", "url", "secret_token",
        "language_code", "action", "ip_address", "description", "short_description", "name",
        "query", "emoji", "inline_message_id", "business_connection_id", "message_effect_id",
        "file_id", "title", "address", "phone_number", "first_name", "last_name", "vcard",
        "foursquare_id", "foursquare_type", "google_place_id", "google_place_type",
        "custom_title", "photo", "document", "sticker", "audio", "video", "voice", "animation",
        "video_note", "thumbnail", "certificate", "question", "explanation", "payload",
        "performer", "file_name",
    }
)  # fmt: skip
# Parameters that are JSON objects/arrays; in JSON bodies they may also arrive as JSON strings.
_JSON_PARAMS = frozenset(
    {
        "reply_markup", "commands", "scope", "entities", "caption_entities", "allowed_updates",
        "link_preview_options", "reply_parameters", "media", "results", "menu_button",
        "permissions", "rights", "reaction", "message_ids",
    }
)  # fmt: skip
_ID_PARAMS = frozenset({"chat_id", "from_chat_id", "user_id", "message_id", "reply_to_message_id"})

_TRUE_METHODS = (
    "sendChatAction", "setMyDescription", "setMyShortDescription", "setMyName",
    "setChatMenuButton", "setMessageReaction", "pinChatMessage", "unpinChatMessage",
    "unpinAllChatMessages", "leaveChat", "banChatMember", "unbanChatMember",
    "restrictChatMember", "approveChatJoinRequest", "declineChatJoinRequest", "logOut", "close",
    "setMyDefaultAdministratorRights", "deleteMessages",
)  # fmt: skip

# Methods that count as "the bot answered" in the benchmark bookkeeping (/_control/sent).
_SEND_METHODS = frozenset(
    {
        "sendMessage", "sendPhoto", "sendDocument", "sendAudio", "sendVideo", "sendVoice",
        "sendAnimation", "sendSticker", "sendVideoNote", "sendLocation", "sendVenue",
        "sendContact", "sendMediaGroup", "forwardMessage", "copyMessage", "editMessageText",
        "editMessageCaption", "editMessageReplyMarkup", "answerCallbackQuery",
    }
)  # fmt: skip

# Kinds of chat-log entries that FakeUser.next_reply() returns (markup-only edits are skipped).
_REPLY_KINDS = frozenset({"send", "edit_text", "edit_caption"})
TRANSIENT_HOLD = 0.5  # seconds a silent keyboard-removal note is held back (see above)

_MEDIA_METHODS = {
    "sendPhoto": "photo",
    "sendDocument": "document",
    "sendAudio": "audio",
    "sendVideo": "video",
    "sendVoice": "voice",
    "sendAnimation": "animation",
    "sendSticker": "sticker",
    "sendVideoNote": "video_note",
}

_FAKE_JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00FAKE\xff\xd9"

_API_PATH_RE = re.compile(r"^/bot([^/]+)/([^/]+)$")
_FILE_PATH_RE = re.compile(r"^/file/bot([^/]+)/(.+)$")
_COMMAND_RE = re.compile(r"/[A-Za-z0-9_]{1,32}(?:@[A-Za-z0-9_]{1,64})?")
_BOT_COMMAND_NAME_RE = re.compile(r"[a-z0-9_]{1,32}")
_SECRET_TOKEN_RE = re.compile(r"[A-Za-z0-9_-]{1,256}")


class ApiError(Exception):
    """A Telegram error answer; raised inside method handlers."""

    def __init__(self, code: int, description: str, parameters: JSONDict | None = None) -> None:
        super().__init__(f"{code} {description}")
        self.code = code
        self.description = description
        self.parameters = parameters

    def payload(self) -> JSONDict:
        out: JSONDict = {"ok": False, "error_code": self.code, "description": self.description}
        if self.parameters:
            out["parameters"] = self.parameters
        return out


def _bad_request(description: str) -> ApiError:
    return ApiError(400, f"Bad Request: {description}")


def _u16len(s: str) -> int:
    """Length in UTF-16 code units (Telegram's unit for entity offsets and text limits)."""
    return len(s.encode("utf-16-le")) // 2


def _byte_offset(text: str, index: int) -> int:
    return len(text[:index].encode("utf-8"))


# --------------------------------------------------------------------------------------------
# Formatting: HTML / MarkdownV2 / Markdown parsing with Telegram's error messages
# --------------------------------------------------------------------------------------------

_HTML_TAGS = {
    "b": "bold", "strong": "bold", "i": "italic", "em": "italic", "u": "underline",
    "ins": "underline", "s": "strikethrough", "strike": "strikethrough", "del": "strikethrough",
    "tg-spoiler": "spoiler", "span": "spoiler", "a": "text_link", "code": "code", "pre": "pre",
    "blockquote": "blockquote", "tg-emoji": "custom_emoji",
}  # fmt: skip
_HTML_ENTITY_RE = re.compile(r"&(lt|gt|amp|quot|#[0-9]{1,7}|#[xX][0-9a-fA-F]{1,6});")
_HTML_NAMED = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}
_HTML_ATTR_RE = re.compile(r"""\s*([a-zA-Z_:-]+)\s*(?:=\s*("[^"]*"|'[^']*'|[^\s>"']*))?""")


class _Builder:
    """Accumulates plain text and tracks the UTF-16 offset."""

    def __init__(self) -> None:
        self.parts: list[str] = []
        self.u16 = 0
        self.nchars = 0

    def add(self, s: str) -> None:
        self.parts.append(s)
        self.u16 += _u16len(s)
        self.nchars += len(s)

    def text(self) -> str:
        return "".join(self.parts)


def _finish_entities(entities: list[JSONDict]) -> list[JSONDict]:
    entities = [e for e in entities if e["length"] > 0]
    entities.sort(key=lambda e: (e["offset"], -e["length"]))
    return entities


def parse_html(text: str) -> tuple[str, list[JSONDict]]:
    """Parse Telegram HTML; raise ApiError(400) with tdlib's messages on malformed markup."""
    out = _Builder()
    stack: list[tuple[str, int, JSONDict]] = []  # (tag name, start offset, attributes)
    entities: list[JSONDict] = []
    n = len(text)
    i = 0
    while i < n:
        c = text[i]
        if c == "&":
            m = _HTML_ENTITY_RE.match(text, i)
            if m:
                ref = m.group(1)
                if ref in _HTML_NAMED:
                    out.add(_HTML_NAMED[ref])
                else:
                    code = int(ref[2:], 16) if ref[1:2] in "xX" else int(ref[1:])
                    out.add(chr(code) if 0 < code <= 0x10FFFF else "&")
                i = m.end()
                continue
        if c != "<":
            out.add(c)
            i += 1
            continue
        begin = i
        i += 1
        if i < n and text[i] == "/":
            if not stack:
                offset = _byte_offset(text, begin)
                raise _parse_error(f"Unexpected end tag at byte offset {offset}")
            j = i + 1
            while j < n and not text[j].isspace() and text[j] != ">":
                j += 1
            end_name = text[i + 1 : j]
            while j < n and text[j].isspace():
                j += 1
            if j >= n or text[j] != ">":
                raise _parse_error(f"Unclosed end tag at byte offset {_byte_offset(text, begin)}")
            name, start, attrs = stack.pop()
            if end_name and end_name != name:
                raise _parse_error(
                    f"Unmatched end tag at byte offset {_byte_offset(text, begin)}, "
                    f'expected "</{name}>", found "</{end_name}>"'
                )
            _html_entity(name, start, out, attrs, stack, entities)
            i = j + 1
            continue
        j = i
        while j < n and not text[j].isspace() and text[j] != ">":
            j += 1
        if j >= n:
            raise _parse_error(f"Unclosed start tag at byte offset {_byte_offset(text, begin)}")
        name = text[i:j].lower()
        if name not in _HTML_TAGS:
            raise _parse_error(
                f'Unsupported start tag "{name}" at byte offset {_byte_offset(text, begin)}'
            )
        attrs: JSONDict = {}
        while True:
            while j < n and text[j].isspace():
                j += 1
            if j >= n:
                offset = _byte_offset(text, begin)
                raise _parse_error(f"Unclosed start tag at byte offset {offset}")
            if text[j] == ">":
                break
            m = _HTML_ATTR_RE.match(text, j)
            if not m or m.end() == j:
                raise _parse_error(
                    f'Empty attribute name in the tag "{name}" at byte offset '
                    f"{_byte_offset(text, begin)}"
                )
            value = m.group(2) or ""
            if value[:1] in ("'", '"'):
                value = value[1:-1]
            attrs[m.group(1).lower()] = _unescape_html(value)
            j = m.end()
        if name == "span" and attrs.get("class") != "tg-spoiler":
            raise _parse_error('Tag "span" must have class "tg-spoiler"')
        attrs["_chars"] = out.nchars
        stack.append((name, out.u16, attrs))
        i = j + 1
    if stack:
        raise _parse_error(f'Can\'t find end tag corresponding to start tag "{stack[-1][0]}"')
    return out.text(), _finish_entities(entities)


def _unescape_html(value: str) -> str:
    return _HTML_ENTITY_RE.sub(
        lambda m: _HTML_NAMED.get(m.group(1)) or m.group(0), value
    )


def _html_entity(
    name: str,
    start: int,
    out: _Builder,
    attrs: JSONDict,
    stack: list[tuple[str, int, JSONDict]],
    entities: list[JSONDict],
) -> None:
    etype = _HTML_TAGS[name]
    entity: JSONDict = {"type": etype, "offset": start, "length": out.u16 - start}
    if etype == "text_link":
        entity["url"] = attrs.get("href") or out.text()[attrs["_chars"] :]
    elif etype == "custom_emoji":
        entity["custom_emoji_id"] = attrs.get("emoji-id", "0")
    elif etype == "blockquote" and "expandable" in attrs:
        entity["type"] = "expandable_blockquote"
    elif etype == "code" and stack and stack[-1][0] == "pre":
        # <pre><code class="language-x">: merged into the enclosing pre entity
        lang = attrs.get("class", "")
        if lang.startswith("language-"):
            stack[-1][2]["_language"] = lang[len("language-") :]
        return
    elif etype == "pre" and attrs.get("_language"):
        entity["language"] = attrs["_language"]
    entities.append(entity)


def _parse_error(message: str) -> ApiError:
    return _bad_request(f"can't parse entities: {message}")


_MDV2_RESERVED = "_*[]()~`>#+-=|{}.!"
_MDV2_NAMES = {
    "bold": "Bold", "italic": "Italic", "underline": "Underline",
    "strikethrough": "Strikethrough", "spoiler": "Spoiler", "code": "Code", "pre": "Pre",
    "text_link": "TextUrl", "custom_emoji": "CustomEmoji",
}  # fmt: skip


def parse_markdown_v2(text: str) -> tuple[str, list[JSONDict]]:
    """Parse MarkdownV2 like tdlib does (unescaped reserved characters are errors)."""
    out = _Builder()
    stack: list[JSONDict] = []  # {"type", "offset", "byte", "pos", "language"}
    entities: list[JSONDict] = []
    n = len(text)

    def at(k: int) -> str:
        return text[k] if k < n else ""

    def reserved_error(ch: str) -> ApiError:
        return _parse_error(
            f"Character '{ch}' is reserved and must be escaped with the preceding '\\'"
        )

    i = 0
    while i < n:
        c = text[i]
        if c == "\\" and i + 1 < n and 0 < ord(text[i + 1]) <= 126:
            out.add(text[i + 1])
            i += 2
            continue
        in_code = bool(stack) and stack[-1]["type"] in ("code", "pre")
        reserved = "`" if in_code else _MDV2_RESERVED
        if c not in reserved:
            out.add(c)
            i += 1
            continue
        line_start = i == 0 or text[i - 1] == "\n"
        if not in_code and line_start and c == ">":  # blockquote line marker
            i += 1
            continue
        if not in_code and line_start and text.startswith("**>", i):  # expandable blockquote
            i += 3
            continue
        if not in_code and text.startswith("||", i) and at(i + 2) in ("\n", ""):
            if not stack or stack[-1]["type"] != "spoiler":  # end of expandable blockquote
                i += 2
                continue
        top = stack[-1]["type"] if stack else None
        is_end = (
            (top == "bold" and c == "*")
            or (top == "italic" and c == "_" and at(i + 1) != "_")
            or (top == "code" and c == "`")
            or (top == "pre" and text.startswith("```", i))
            or (top in ("text_link", "custom_emoji") and c == "]")
            or (top == "underline" and text.startswith("__", i))
            or (top == "strikethrough" and c == "~")
            or (top == "spoiler" and text.startswith("||", i))
        )
        if not is_end:
            begin = i
            language = None
            if c == "_":
                if at(i + 1) == "_":
                    etype = "underline"
                    i += 1
                else:
                    etype = "italic"
            elif c == "*":
                etype = "bold"
            elif c == "~":
                etype = "strikethrough"
            elif c == "|":
                if at(i + 1) != "|":
                    raise reserved_error(c)
                etype = "spoiler"
                i += 1
            elif c == "[":
                etype = "text_link"
            elif c == "`":
                if text.startswith("```", i):
                    etype = "pre"
                    i += 3
                    k = i
                    while k < n and not text[k].isspace() and text[k] != "`":
                        k += 1
                    if k != i and k < n and text[k] != "`":
                        language = text[i:k]
                        i = k
                    if at(i) in ("\n", "\r"):
                        i += 2 if at(i + 1) in ("\n", "\r") and at(i + 1) != at(i) else 1
                    i -= 1
                else:
                    etype = "code"
            elif c == "!" and at(i + 1) == "[":
                etype = "custom_emoji"
                i += 1
            else:
                raise reserved_error(c)
            stack.append(
                {
                    "type": etype,
                    "offset": out.u16,
                    "chars": out.nchars,
                    "byte": begin,
                    "language": language,
                }
            )
            i += 1
            continue
        entry = stack.pop()
        etype = entry["type"]
        entity: JSONDict = {"type": etype, "offset": entry["offset"]}
        if etype == "underline" or etype == "spoiler":
            i += 1
        elif etype == "pre":
            i += 2
            if entry["language"]:
                entity["language"] = entry["language"]
        elif etype in ("text_link", "custom_emoji"):
            if at(i + 1) != "(":
                if etype == "custom_emoji":
                    raise _parse_error("Custom emoji entity must contain a tg://emoji URL")
                url = out.text()[entry["chars"] :]
            else:
                i += 2
                url_begin = i
                url_parts = []
                while i < n and text[i] != ")":
                    if text[i] == "\\" and i + 1 < n and 0 < ord(text[i + 1]) <= 126:
                        url_parts.append(text[i + 1])
                        i += 2
                        continue
                    url_parts.append(text[i])
                    i += 1
                if i >= n:
                    raise _parse_error(
                        f"Can't find end of a URL at byte offset {_byte_offset(text, url_begin)}"
                    )
                url = "".join(url_parts)
            if etype == "custom_emoji":
                entity["custom_emoji_id"] = url.rsplit("id=", 1)[-1]
            else:
                entity["url"] = url
        entity["length"] = out.u16 - entry["offset"]
        entities.append(entity)
        i += 1
    if stack:
        entry = stack[-1]
        raise _parse_error(
            f"Can't find end of {_MDV2_NAMES[entry['type']]} entity at byte offset "
            f"{_byte_offset(text, entry['byte'])}"
        )
    return out.text(), _finish_entities(entities)


def parse_markdown(text: str) -> tuple[str, list[JSONDict]]:
    """Parse legacy Markdown (``*bold*``, ``_italic_``, `` `code` ``, ``[text](url)``)."""
    out = _Builder()
    entities: list[JSONDict] = []
    n = len(text)
    i = 0
    while i < n:
        c = text[i]
        if c == "\\" and i + 1 < n and text[i + 1] in "_*`[":
            out.add(text[i + 1])
            i += 2
            continue
        if c not in "_*`[":
            out.add(c)
            i += 1
            continue
        begin = i
        start = out.u16
        is_pre = c == "`" and text.startswith("```", i)
        end_char = "]" if c == "[" else c
        language = None
        if is_pre:
            i += 3
            k = i
            while k < n and not text[k].isspace() and text[k] != "`":
                k += 1
            if k != i and k < n and text[k] != "`":
                language = text[i:k]
                i = k
            if i < n and text[i] == "\n":
                i += 1
        else:
            i += 1
        while i < n and (text[i] != end_char or (is_pre and not text.startswith("```", i))):
            out.add(text[i])
            i += 1
        if i >= n:
            raise _parse_error(
                "Can't find end of the entity starting at byte offset "
                f"{_byte_offset(text, begin)}"
            )
        entity: JSONDict = {"offset": start, "length": out.u16 - start}
        if is_pre:
            entity["type"] = "pre"
            if language:
                entity["language"] = language
            i += 3
        elif c == "[":
            i += 1
            if i < n and text[i] == "(":
                close = text.find(")", i)
                if close < 0:
                    raise _parse_error(
                        "Can't find end of a URL at byte offset " f"{_byte_offset(text, i)}"
                    )
                entity["type"] = "text_link"
                entity["url"] = text[i + 1 : close]
                i = close + 1
            else:
                continue
        else:
            entity["type"] = {"*": "bold", "_": "italic", "`": "code"}[c]
            i += 1
        entities.append(entity)
    return out.text(), _finish_entities(entities)


def format_text(
    text: str, parse_mode: str | None, entities: list[JSONDict] | None
) -> tuple[str, list[JSONDict]]:
    """Return (plain text, entities) as Telegram would store them."""
    mode = (parse_mode or "").lower()
    if mode == "html":
        return parse_html(text)
    if mode == "markdownv2":
        return parse_markdown_v2(text)
    if mode == "markdown":
        return parse_markdown(text)
    if mode:
        raise _bad_request(f"unsupported parse_mode {parse_mode}")
    return text, list(entities or [])


# --------------------------------------------------------------------------------------------
# Builders for realistic update objects (usable by benchmarks without a running fake)
# --------------------------------------------------------------------------------------------


def make_user(
    user_id: int,
    first_name: str = "Warga",
    language_code: str | None = "id",
    username: str | None = None,
) -> JSONDict:
    user: JSONDict = {"id": user_id, "is_bot": False, "first_name": first_name}
    if username:
        user["username"] = username
    if language_code:
        user["language_code"] = language_code
    return user


def private_chat(user: JSONDict) -> JSONDict:
    chat: JSONDict = {"id": user["id"], "type": "private", "first_name": user["first_name"]}
    if user.get("username"):
        chat["username"] = user["username"]
    return chat


def command_entities(text: str) -> list[JSONDict]:
    """A bot_command entity for a leading /command (as Telegram's client-side parser does)."""
    m = _COMMAND_RE.match(text)
    if not m or (m.end() < len(text) and not text[m.end()].isspace()):
        return []
    return [{"type": "bot_command", "offset": 0, "length": _u16len(m.group(0))}]


def _file_ids(kind: str, n: int) -> tuple[str, str]:
    return f"{kind.upper()}-FILE-{n:08d}-fake", f"U{kind[:3]}{n:08d}"


# --------------------------------------------------------------------------------------------
# The fake server
# --------------------------------------------------------------------------------------------


class _CommandsDict(dict):
    """``commands[(scope_type, language_code)]``; "" and None language codes are the same."""

    @staticmethod
    def _norm(key: Any) -> Any:
        if isinstance(key, tuple) and len(key) == 2 and key[1] == "":
            return (key[0], None)
        return key

    def __getitem__(self, key: Any) -> Any:
        return super().__getitem__(self._norm(key))

    def __contains__(self, key: object) -> bool:
        return super().__contains__(self._norm(key))

    def get(self, key: Any, default: Any = None) -> Any:
        return super().get(self._norm(key), default)


class FakeBotAPI:
    """In-memory Telegram Bot API served over HTTP by aiohttp.web."""

    def __init__(
        self,
        token: str = DEFAULT_TOKEN,
        *,
        latency: float = 0.0,
        rate_limit: float | None = None,
        bot_username: str = "SiagaWargaTestBot",
        bot_id: int = 123456,
        bot_first_name: str = "Siaga Warga",
    ) -> None:
        self.token = token
        self.latency = latency
        if rate_limit is not None and rate_limit <= 0:
            raise ValueError("rate_limit must be positive")
        self.rate_limit = rate_limit
        self._bucket_size = max(1.0, rate_limit / 10.0) if rate_limit else 0.0
        self._tokens = self._bucket_size
        self._tokens_at = time.monotonic()
        self.bot_user: JSONDict = {
            "id": bot_id,
            "is_bot": True,
            "first_name": bot_first_name,
            "username": bot_username,
        }
        self.host = "127.0.0.1"
        self.port: int | None = None
        self._runner: web.AppRunner | None = None
        self._stopping = False
        self._changed = asyncio.Event()
        self._update_ids = itertools.count(1)
        self._last_update_id = 0
        self._callback_ids = itertools.count(4_213_370_000_000_000_001)
        self._file_counter = itertools.count(1)
        self._msg_counter: dict[int, int] = {}
        self._users: dict[int, JSONDict] = {}
        self._chats: dict[int, JSONDict] = {}
        self._fake_users: dict[int, FakeUser] = {}
        self._poll_generation = 0
        self._reset_state()

    def _reset_state(self) -> None:
        self.calls: list[tuple[str, JSONDict]] = []
        self.failed_calls: list[tuple[str, JSONDict, int]] = []
        self.limited_count = 0  # send calls answered 429 by the rate limit
        self.call_counts: Counter[str] = Counter()
        self.sent_log: list[JSONDict] = []
        self.enqueued = 0
        self.enqueue_times: dict[int, float] = {}
        self.webhook: JSONDict | None = None
        self.webhook_options: JSONDict = {}
        self.commands: dict[tuple[str, str | None], list[JSONDict]] = _CommandsDict()
        self.commands_by_scope: dict[tuple[str, str | None], list[JSONDict]] = {}
        self.bot_settings: dict[str, JSONDict] = {}
        self.chat_admins: dict[int, set[int]] = {}
        self.blocked: set[int] = set()
        self.files: dict[str, JSONDict] = {}
        self._files_by_path: dict[str, str] = {}
        self._consumed: set[int] = set()
        self._pending: deque[JSONDict] = deque()
        self._bot_msgs: dict[int, dict[int, JSONDict]] = {}
        self._user_msgs: dict[int, dict[int, JSONDict]] = {}
        self._chat_log: dict[int, list[tuple[str, JSONDict]]] = {}
        self.reply_keyboards: dict[int, JSONDict] = {}  # chat -> the reply keyboard it shows
        self.deleted: set[tuple[int, int]] = set()  # (chat, message) the bot deleted
        self._silent_notes: dict[tuple[int, int], float] = {}  # removal notes: sent at
        self._callbacks: dict[str, JSONDict] = {}
        self._last_update_time: dict[int, float] = {}
        self._failures: list[JSONDict] = []
        for fake_user in self._fake_users.values():
            fake_user._cursor = 0
            fake_user.answered_callbacks.clear()

    def reset(self) -> None:
        """Forget calls, messages, pending updates, failures, webhook and commands.

        Update ids and message ids keep increasing so a running poller is not confused.
        """
        self._reset_state()
        self._notify()

    # ---------------------------------------------------------------- lifecycle

    @property
    def bot_username(self) -> str:
        return self.bot_user["username"]

    @property
    def bot_id(self) -> int:
        return self.bot_user["id"]

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}/bot"

    @property
    def base_file_url(self) -> str:
        return f"http://{self.host}:{self.port}/file/bot"

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> None:
        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.router.add_route("*", "/_control/{name}", self._control)
        app.router.add_route("*", "/{tail:.*}", self._dispatch)
        self._runner = web.AppRunner(
            app,
            access_log=None,
            handler_cancellation=True,
            shutdown_timeout=1.0 + self.latency,
        )
        await self._runner.setup()
        site = web.TCPSite(self._runner, host, port)
        await site.start()
        self.host = host
        self.port = self._runner.addresses[0][1]
        self._stopping = False

    async def stop(self) -> None:
        self._stopping = True
        self._notify()
        if self._runner is not None:
            runner, self._runner = self._runner, None
            await runner.cleanup()

    async def __aenter__(self) -> "FakeBotAPI":
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    # ---------------------------------------------------------------- test-side API

    def user(
        self,
        user_id: int,
        *,
        first_name: str = "Warga",
        language_code: str | None = "id",
        username: str | None = None,
    ) -> "FakeUser":
        """A resident talking to the bot in a private chat (chat_id == user_id); cached per id."""
        fake_user = self._fake_users.get(user_id)
        if fake_user is None:
            fake_user = FakeUser(self, user_id, first_name, language_code, username)
            self._fake_users[user_id] = fake_user
        else:  # repeated call: only non-default arguments change the cached user
            if first_name != "Warga":
                fake_user.first_name = first_name
            if language_code != "id":
                fake_user.language_code = language_code
            if username is not None:
                fake_user.username = username
        self._users[user_id] = fake_user.user_dict
        self._chats[user_id] = fake_user.chat
        return fake_user

    def push_update(self, update: JSONDict) -> JSONDict:
        """Enqueue an update for getUpdates (update_id assigned if missing) and wake pollers."""
        self._assign_update_id(update)
        now = time.monotonic()
        self.enqueue_times[update["update_id"]] = now
        self._register_update(update, now)
        pending = self._pending
        if pending and pending[-1]["update_id"] >= update["update_id"]:
            pending.append(update)
            self._pending = deque(sorted(pending, key=lambda u: u["update_id"]))
        else:
            pending.append(update)
        self.enqueued += 1
        self._notify()
        return update

    def fail(
        self,
        method: str,
        error_code: int,
        description: str,
        *,
        retry_after: int | None = None,
        times: int = 1,
        chat_id: int | None = None,
    ) -> None:
        """Answer the next ``times`` calls of ``method`` (optionally only for ``chat_id``)
        with a Telegram error, e.g. ``fail("sendMessage", 429, "Too Many Requests: retry
        after 5", retry_after=5)`` or ``fail("sendMessage", 403, "Forbidden: bot was blocked
        by the user", chat_id=42)``."""
        self._failures.append(
            {
                "method": method.lower(),
                "code": error_code,
                "description": description,
                "retry_after": retry_after,
                "remaining": times,
                "chat_id": chat_id,
            }
        )

    def clear_failures(self) -> None:
        self._failures.clear()

    def block(self, chat_id: int) -> None:
        """Later calls to this chat fail with 403 "Forbidden: bot was blocked by the user"."""
        self.blocked.add(chat_id)

    def unblock(self, chat_id: int) -> None:
        self.blocked.discard(chat_id)

    def messages_to(self, chat_id: int) -> list[JSONDict]:
        """Snapshots of every message the bot sent or edited in that chat, in order.

        Unlike the API answer, a snapshot carries any reply_markup the bot passed (also reply
        keyboards / ForceReply / ReplyKeyboardRemove); edits carry ``edit_date``.
        """
        return [snap for _, snap in self._chat_log.get(chat_id, [])]

    def reply_keyboard(self, chat_id: int) -> JSONDict | None:
        """The reply keyboard (``ReplyKeyboardMarkup``) the chat shows now, if any."""
        return self.reply_keyboards.get(chat_id)

    def current_messages(self, chat_id: int) -> list[JSONDict]:
        """The bot's messages in that chat as they are now (after edits, without deleted)."""
        return list(self._bot_msgs.get(chat_id, {}).values())

    def calls_of(self, method: str) -> list[JSONDict]:
        return [params for name, params in self.calls if name == method]

    async def wait_for_call(
        self,
        method: str,
        predicate: Callable[[JSONDict], bool] | None = None,
        timeout: float = 5.0,  # noqa: ASYNC109
    ) -> JSONDict:
        """Params of the first call of ``method`` (matching ``predicate``) that no earlier
        wait_for_call returned; calls made before this wait count too."""

        def check() -> JSONDict | None:
            for index, (name, params) in enumerate(self.calls):
                if name != method or index in self._consumed:
                    continue
                if predicate is None or predicate(params):
                    self._consumed.add(index)
                    return params
            return None

        try:
            return await self._wait_until(check, timeout)
        except TimeoutError:
            recent = [name for name, _ in self.calls[-15:]]
            raise AssertionError(
                f"no {method} call within {timeout}s (matching predicate: "
                f"{predicate is not None}); last calls: {recent}"
            ) from None

    async def deliver_webhook(self, update: JSONDict) -> int:
        """POST one update to the URL set by setWebhook (with the secret token header), as
        Telegram would; returns the HTTP status the bot's webhook answered with."""
        if not self.webhook:
            raise RuntimeError("no webhook is set")
        self._assign_update_id(update)
        self._register_update(update, time.monotonic())
        headers = {}
        if self.webhook.get("secret_token"):
            headers["X-Telegram-Bot-Api-Secret-Token"] = self.webhook["secret_token"]
        async with (
            aiohttp.ClientSession() as session,
            session.post(self.webhook["url"], json=update, headers=headers) as resp,
        ):
            await resp.read()
            return resp.status

    # ---------------------------------------------------------------- internals

    def _notify(self) -> None:
        event, self._changed = self._changed, asyncio.Event()
        event.set()

    async def _wait_until(self, check: Callable[[], Any], timeout: float) -> Any:  # noqa: ASYNC109
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            result = check()
            if result is not None:
                return result
            remaining = deadline - loop.time()
            if remaining <= 0:
                raise TimeoutError
            event = self._changed
            if self._silent_notes:  # a held removal note is released by time alone
                remaining = min(remaining, 0.05)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(event.wait(), remaining)

    def _assign_update_id(self, update: JSONDict) -> None:
        if update.get("update_id") is None:
            self._last_update_id += 1
            update["update_id"] = self._last_update_id
        else:
            self._last_update_id = max(self._last_update_id, int(update["update_id"]))

    def _register_update(self, update: JSONDict, t: float) -> None:
        for key in ("message", "edited_message", "channel_post", "business_message"):
            msg = update.get(key)
            if isinstance(msg, dict) and isinstance(msg.get("chat"), dict):
                chat_id = msg["chat"]["id"]
                self._chats.setdefault(chat_id, msg["chat"])
                sender = msg.get("from")
                if isinstance(sender, dict) and not sender.get("is_bot"):
                    self._users.setdefault(sender["id"], sender)
                mid = msg.get("message_id")
                if isinstance(mid, int):
                    if mid > self._msg_counter.get(chat_id, 0):
                        self._msg_counter[chat_id] = mid
                    if key == "message":
                        self._user_msgs.setdefault(chat_id, {})[mid] = msg
                self._last_update_time[chat_id] = t
                return
        cq = update.get("callback_query")
        if isinstance(cq, dict):
            sender = cq.get("from") or {}
            message = cq.get("message")
            chat_id = (
                message["chat"]["id"]
                if isinstance(message, dict) and isinstance(message.get("chat"), dict)
                else sender.get("id")
            )
            self._callbacks[str(cq.get("id"))] = {
                "user_id": sender.get("id"),
                "chat_id": chat_id,
                "answered": False,
            }
            if chat_id is not None:
                self._last_update_time[chat_id] = t
            return
        for value in update.values():
            if isinstance(value, dict) and isinstance(value.get("chat"), dict):
                self._last_update_time[value["chat"]["id"]] = t
                return

    def _next_message_id(self, chat_id: int) -> int:
        mid = self._msg_counter.get(chat_id, 0) + 1
        self._msg_counter[chat_id] = mid
        return mid

    def _chat(self, chat_id: int) -> JSONDict:
        chat = self._chats.get(chat_id)
        if chat is None:
            if chat_id > 0:
                user = self._users.get(chat_id)
                chat = {
                    "id": chat_id,
                    "type": "private",
                    "first_name": user["first_name"] if user else "Warga",
                }
            else:
                kind = "supergroup" if str(chat_id).startswith("-100") else "group"
                chat = {"id": chat_id, "type": kind, "title": f"Grup {chat_id}"}
            self._chats[chat_id] = chat
        return chat

    def _new_file(self, kind: str, data: bytes | None = None, **extra: Any) -> JSONDict:
        n = next(self._file_counter)
        file_id, unique_id = _file_ids(kind, n)
        content = _FAKE_JPEG if data is None else data
        path = f"{kind}s/file_{n}.{'jpg' if kind == 'photo' else 'bin'}"
        self.files[file_id] = {
            "file_id": file_id,
            "file_unique_id": unique_id,
            "file_size": len(content),
            "file_path": path,
            "_data": content,
        }
        self._files_by_path[path] = file_id
        return {
            "file_id": file_id,
            "file_unique_id": unique_id,
            "file_size": len(content),
            **extra,
        }

    def _photo_sizes(self, data: bytes | None = None) -> list[JSONDict]:
        return [
            self._new_file("photo", data, width=w, height=h)
            for w, h in ((90, 68), (320, 240), (1280, 960))
        ]

    # ---------------------------------------------------------------- HTTP layer

    async def _dispatch(self, request: web.Request) -> web.StreamResponse:
        t0 = time.monotonic()
        path = request.path
        m = _API_PATH_RE.match(path)
        if m is None:
            fm = _FILE_PATH_RE.match(path)
            if fm is not None:
                return self._download(fm.group(1), fm.group(2))
            return _json_response(ApiError(404, "Not Found").payload(), 404)
        if m.group(1) != self.token:
            self.call_counts["_unauthorized"] += 1
            return _json_response(ApiError(401, "Unauthorized").payload(), 401)
        raw_method = m.group(2)
        handler_name = _METHOD_INDEX.get(raw_method.lower())
        method = handler_name or raw_method
        # the flood control judges the moment the call arrives, not when it is answered
        limited = self.rate_limit is not None and method in _SEND_METHODS \
            and not self._take_token(t0)
        try:
            params = await _read_params(request)
        except ValueError as exc:
            return _json_response(_bad_request(f"can't parse request: {exc}").payload(), 400)
        if self.latency > 0:
            await asyncio.sleep(self.latency)
        self.calls.append((method, params))
        self.call_counts[method] += 1
        self._notify()
        if handler_name is None:
            return _json_response(ApiError(404, "Not Found").payload(), 404)
        try:
            if limited:
                self.limited_count += 1
                raise ApiError(429, "Too Many Requests: retry after 1", {"retry_after": 1})
            self._check_failures(method, params)
            result = await getattr(self, "_m_" + handler_name)(params)
        except ApiError as err:
            self.failed_calls.append((method, params, err.code))
            return _json_response(err.payload(), err.code)
        if method in _SEND_METHODS:
            self._log_sent(method, params, t0)
        return _json_response({"ok": True, "result": result}, 200)

    def _take_token(self, now: float) -> bool:
        """Token bucket of the rate limit: True if a send call may pass at ``now``."""
        assert self.rate_limit is not None
        self._tokens = min(self._bucket_size,
                           self._tokens + (now - self._tokens_at) * self.rate_limit)
        self._tokens_at = now
        if self._tokens >= 1.0:
            self._tokens -= 1.0
            return True
        return False

    def _check_failures(self, method: str, params: JSONDict) -> None:
        if not self._failures:
            return
        lowered = method.lower()
        for rule in self._failures:
            if rule["method"] != lowered:
                continue
            if rule["chat_id"] is not None and params.get("chat_id") != rule["chat_id"]:
                continue
            rule["remaining"] -= 1
            if rule["remaining"] <= 0:
                self._failures.remove(rule)
            parameters = None
            if rule["retry_after"] is not None:
                parameters = {"retry_after": rule["retry_after"]}
            raise ApiError(rule["code"], rule["description"], parameters)

    def _log_sent(self, method: str, params: JSONDict, t0: float) -> None:
        chat_id = params.get("chat_id")
        if method == "answerCallbackQuery":
            info = self._callbacks.get(str(params.get("callback_query_id")))
            chat_id = info["chat_id"] if info else None
        enqueued_at = self._last_update_time.get(chat_id) if chat_id is not None else None
        self.sent_log.append(
            {
                "chat_id": chat_id,
                "method": method,
                "t": t0,
                "reply_to_update_latency": None if enqueued_at is None else t0 - enqueued_at,
            }
        )

    def _download(self, token: str, path: str) -> web.Response:
        if token != self.token:
            return _json_response(ApiError(401, "Unauthorized").payload(), 401)
        file_id = self._files_by_path.get(path)
        if file_id is None:
            return _json_response(ApiError(404, "Not Found").payload(), 404)
        return web.Response(body=self.files[file_id]["_data"])

    async def _control(self, request: web.Request) -> web.Response:
        """Control endpoints (JSON), for benchmarks driving a separate fake process.

        POST /_control/updates  list (or one) of updates -> {"ok", "update_ids"}. Shorthands:
            {"user_id": 7, "text": "/start"}, {"user_id": 7, "callback_data": "x"},
            {"user_id": 7, "click": "Label"}  (optional "first_name", "language_code")
        GET  /_control/stats    {"enqueued", "sent", "pending", "calls": {method: count}}
                                (with a rate limit also "limited": send calls answered 429)
        GET  /_control/sent     [{"chat_id", "method", "t", "reply_to_update_latency"}]
        GET  /_control/calls    [[method, params], ...]
        GET  /_control/enqueued {update_id: monotonic enqueue time}
        GET  /_control/messages?chat_id=N   messages_to(N)
        POST /_control/fail     {"method", "error_code", "description", "retry_after"?,
                                 "times"?, "chat_id"?}
        POST /_control/reset
        """
        name = request.match_info["name"]
        body: Any = None
        try:
            if request.method == "POST" and request.can_read_body:
                body = await request.json()
        except ValueError:
            return _json_response({"ok": False, "description": "invalid JSON"}, 400)
        if name == "updates" and request.method == "POST":
            items = body if isinstance(body, list) else [body]
            ids = []
            try:
                for item in items:
                    update = self._expand_shorthand(item)
                    ids.append(self.push_update(update)["update_id"])
            except (AssertionError, KeyError, TypeError) as exc:
                return _json_response({"ok": False, "description": str(exc)}, 400)
            return _json_response({"ok": True, "update_ids": ids}, 200)
        if name == "stats":
            stats = {
                "enqueued": self.enqueued,
                "sent": len(self.sent_log),
                "pending": len(self._pending),
                "calls": dict(self.call_counts),
            }
            if self.rate_limit is not None:
                stats["limited"] = self.limited_count
            return _json_response(stats, 200)
        if name == "sent":
            return _json_response(self.sent_log, 200)
        if name == "calls":
            return _json_response(self.calls, 200)
        if name == "enqueued":
            return _json_response(self.enqueue_times, 200)
        if name == "messages":
            return _json_response(self.messages_to(int(request.query["chat_id"])), 200)
        if name == "fail" and request.method == "POST":
            self.fail(
                body["method"],
                int(body["error_code"]),
                body["description"],
                retry_after=body.get("retry_after"),
                times=int(body.get("times", 1)),
                chat_id=body.get("chat_id"),
            )
            return _json_response({"ok": True}, 200)
        if name == "reset" and request.method == "POST":
            self.reset()
            return _json_response({"ok": True}, 200)
        return _json_response({"ok": False, "description": "unknown control endpoint"}, 404)

    def _expand_shorthand(self, item: JSONDict) -> JSONDict:
        if not isinstance(item, dict):
            raise TypeError(f"update must be an object, got {item!r}")
        if "user_id" not in item:
            return item
        fake_user = self._fake_users.get(item["user_id"]) or self.user(
            item["user_id"],
            first_name=item.get("first_name", "Warga"),
            language_code=item.get("language_code", "id"),
        )
        if "text" in item:
            return fake_user._message_update({"text": item["text"]}, command=True)
        if "callback_data" in item:
            return fake_user._callback_update(item["callback_data"], item.get("message_id"))
        if "click" in item:
            msg, button = fake_user._find_button(item["click"], item.get("message_id"))
            return fake_user._callback_update(button["callback_data"], msg["message_id"])
        raise KeyError("shorthand needs one of text / callback_data / click")

    # ---------------------------------------------------------------- validation helpers

    def _target_chat(self, params: JSONDict, key: str = "chat_id") -> int:
        chat_id = params.get(key)
        if chat_id is None or chat_id == "":
            raise _bad_request(f"{key} is empty")
        if not isinstance(chat_id, int) or isinstance(chat_id, bool):
            raise _bad_request("chat not found")
        if chat_id in self.blocked:
            raise ApiError(403, "Forbidden: bot was blocked by the user")
        return chat_id

    @staticmethod
    def _validate_markup(markup: Any) -> None:
        if markup is None:
            return
        if not isinstance(markup, dict):
            raise _bad_request("can't parse reply keyboard markup JSON object")
        if "remove_keyboard" in markup and markup["remove_keyboard"] is not True:
            raise _bad_request("can't parse ReplyKeyboardRemove: remove_keyboard must be True")
        if "keyboard" in markup:
            keyboard = markup["keyboard"]
            if not isinstance(keyboard, list) or not all(isinstance(r, list) for r in keyboard):
                raise _bad_request("field \"keyboard\" of the ReplyKeyboardMarkup must be an "
                                   "Array of Arrays")
            for row in keyboard:
                for button in row:
                    text = button if isinstance(button, str) else (
                        button.get("text") if isinstance(button, dict) else None)
                    if not isinstance(text, str) or not text:
                        raise _bad_request("can't parse keyboard button: Text must be a String")
                    if isinstance(button, dict) and not isinstance(
                            button.get("request_contact", False), bool):
                        raise _bad_request("can't parse keyboard button: request_contact must "
                                           "be a Boolean")
        if "inline_keyboard" not in markup:
            return
        rows = markup["inline_keyboard"]
        if not isinstance(rows, list) or not all(isinstance(row, list) for row in rows):
            raise _bad_request("field \"inline_keyboard\" of the InlineKeyboardMarkup must be "
                               "an Array of Arrays")
        actions = (
            "url", "callback_data", "web_app", "login_url", "switch_inline_query",
            "switch_inline_query_current_chat", "switch_inline_query_chosen_chat",
            "copy_text", "callback_game", "pay",
        )  # fmt: skip
        for row in rows:
            for button in row:
                if not isinstance(button, dict) or not isinstance(button.get("text"), str):
                    raise _bad_request("can't parse inline keyboard button: Text must be a String")
                if not any(key in button for key in actions):
                    raise _bad_request(
                        "can't parse inline keyboard button: Text buttons are unallowed in the "
                        "inline keyboard"
                    )
                data = button.get("callback_data")
                if data is not None:
                    size = len(str(data).encode("utf-8"))
                    if size == 0 or size > MAX_CALLBACK_DATA_BYTES:
                        raise _bad_request("BUTTON_DATA_INVALID")

    def _formatted(self, params: JSONDict, field: str, entities_key: str) -> JSONDict:
        """{field: plain, entities_key: [...]} for text/caption honoring parse_mode."""
        raw = params.get(field)
        if raw is None:
            return {}
        plain, entities = format_text(str(raw), params.get("parse_mode"), params.get(entities_key))
        limit = MAX_TEXT_LENGTH if field == "text" else MAX_CAPTION_LENGTH
        if _u16len(plain) > limit:
            raise _bad_request("message is too long" if field == "text"
                               else "message caption is too long")
        out: JSONDict = {field: plain}
        if entities:
            out[entities_key] = entities
        return out

    def _store_bot_message(
        self, chat_id: int, params: JSONDict, content: JSONDict, kind: str = "send"
    ) -> JSONDict:
        reply_to = None
        reply_parameters = params.get("reply_parameters") or {}
        reply_mid = reply_parameters.get("message_id") or params.get("reply_to_message_id")
        if reply_mid is not None:
            reply_chat = reply_parameters.get("chat_id", chat_id)
            reply_to = self._find_message(reply_chat, reply_mid)
            allow = reply_parameters.get(
                "allow_sending_without_reply", params.get("allow_sending_without_reply")
            )
            if reply_to is None and not allow:
                raise _bad_request("message to be replied not found")
        msg: JSONDict = {
            "message_id": self._next_message_id(chat_id),
            "from": self.bot_user,
            "chat": self._chat(chat_id),
            "date": int(time.time()),
        }
        if reply_to is not None:
            msg["reply_to_message"] = {
                k: v for k, v in reply_to.items() if k != "reply_to_message"
            }
        msg.update(content)
        markup = params.get("reply_markup")
        if isinstance(markup, dict) and "inline_keyboard" in markup:
            msg["reply_markup"] = markup
        if isinstance(markup, dict) and "keyboard" in markup:
            self.reply_keyboards[chat_id] = markup
        if isinstance(markup, dict) and markup.get("remove_keyboard"):
            self.reply_keyboards.pop(chat_id, None)
            if params.get("disable_notification"):
                self._silent_notes[(chat_id, msg["message_id"])] = time.monotonic()
        self._bot_msgs.setdefault(chat_id, {})[msg["message_id"]] = msg
        self._log(chat_id, kind, msg, markup)
        return msg

    def _log(self, chat_id: int, kind: str, msg: JSONDict, markup: Any) -> None:
        snapshot = dict(msg)
        if markup is not None and "reply_markup" not in snapshot:
            snapshot["reply_markup"] = markup
        self._chat_log.setdefault(chat_id, []).append((kind, snapshot))

    def _find_message(self, chat_id: Any, message_id: Any) -> JSONDict | None:
        msg = self._bot_msgs.get(chat_id, {}).get(message_id)
        if msg is None:
            msg = self._user_msgs.get(chat_id, {}).get(message_id)
        return msg

    def _editable(self, params: JSONDict) -> JSONDict | None:
        """The bot message addressed by chat_id+message_id (None for inline messages)."""
        if params.get("inline_message_id"):
            return None
        chat_id = self._target_chat(params)
        message_id = params.get("message_id")
        if message_id is None:
            raise _bad_request("message identifier is not specified")
        msg = self._bot_msgs.get(chat_id, {}).get(message_id)
        if msg is None:
            if message_id in self._user_msgs.get(chat_id, {}):
                raise _bad_request("message can't be edited")
            raise _bad_request("message to edit not found")
        return msg

    def _apply_edit(self, msg: JSONDict, changes: JSONDict, markup: Any, kind: str) -> JSONDict:
        new_markup = markup if isinstance(markup, dict) and "inline_keyboard" in markup else None
        unchanged = all(msg.get(k) == v for k, v in changes.items()) and msg.get(
            "reply_markup"
        ) == new_markup
        if unchanged:
            raise _bad_request(
                "message is not modified: specified new message content and reply markup are "
                "exactly the same as a current content and reply markup of the message"
            )
        updated = dict(msg)
        for key, value in changes.items():
            if value is None:
                updated.pop(key, None)
            else:
                updated[key] = value
        if new_markup is None:
            updated.pop("reply_markup", None)
        else:
            updated["reply_markup"] = new_markup
        updated["edit_date"] = int(time.time())
        chat_id = msg["chat"]["id"]
        self._bot_msgs[chat_id][msg["message_id"]] = updated
        self._log(chat_id, kind, updated, markup)
        return updated

    # ---------------------------------------------------------------- Bot API methods

    async def _m_getMe(self, params: JSONDict) -> JSONDict:
        return {
            **self.bot_user,
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
            "can_connect_to_business": False,
            "has_main_web_app": False,
        }

    async def _m_getUpdates(self, params: JSONDict) -> list[JSONDict]:
        if self.webhook:
            raise ApiError(
                409,
                "Conflict: can't use getUpdates method while webhook is active; use "
                "deleteWebhook to delete the webhook first",
            )
        offset = params.get("offset")
        limit = params.get("limit") or 100
        limit = max(1, min(100, int(limit)))
        timeout = float(params.get("timeout") or 0)
        self._poll_generation += 1
        generation = self._poll_generation
        self._notify()  # terminates an older long poll
        if offset is not None:
            offset = int(offset)
            pending = self._pending
            if offset < 0:
                while len(pending) > -offset:
                    pending.popleft()
            else:
                while pending and pending[0]["update_id"] < offset:
                    pending.popleft()

        def check() -> list[JSONDict] | None:
            if self._poll_generation != generation:
                raise ApiError(
                    409,
                    "Conflict: terminated by other getUpdates request; make sure that only "
                    "one bot instance is running",
                )
            if self._pending:
                return list(itertools.islice(self._pending, limit))
            if self._stopping:
                return []
            return None

        try:
            return await self._wait_until(check, timeout)
        except TimeoutError:
            return []

    async def _m_sendMessage(self, params: JSONDict) -> JSONDict:
        chat_id = self._target_chat(params)
        if not str(params.get("text") or "").strip():
            raise _bad_request("message text is empty")
        content = self._formatted(params, "text", "entities")
        if not content.get("text", "").strip():
            raise _bad_request("message text is empty")
        self._validate_markup(params.get("reply_markup"))
        if params.get("link_preview_options"):
            content["link_preview_options"] = params["link_preview_options"]
        return self._store_bot_message(chat_id, params, content)

    async def _send_media(self, method: str, params: JSONDict) -> JSONDict:
        chat_id = self._target_chat(params)
        kind = _MEDIA_METHODS[method]
        value = params.get(kind)
        if value is None or value == "":
            raise _bad_request(f"there is no {kind} in the request")
        self._validate_markup(params.get("reply_markup"))
        content = self._media_content(kind, value)
        if kind != "sticker":
            content.update(self._formatted(params, "caption", "caption_entities"))
        return self._store_bot_message(chat_id, params, content)

    def _media_content(self, kind: str, value: Any) -> JSONDict:
        data: bytes | None = None
        extra: JSONDict = {}
        if isinstance(value, dict) and "_upload" in value:
            data = value["_upload"]
            if value.get("filename"):
                extra["file_name"] = value["filename"]
            if value.get("content_type"):
                extra["mime_type"] = value["content_type"]
        elif isinstance(value, str) and value in self.files:
            existing = self.files[value]
            if kind == "photo":
                return {"photo": [{k: v for k, v in existing.items() if k in (
                    "file_id", "file_unique_id", "file_size")} | {"width": 1280, "height": 960}]}
            data = existing["_data"]
        if kind == "photo":
            return {"photo": self._photo_sizes(data)}
        shapes: dict[str, JSONDict] = {
            "document": {},
            "audio": {"duration": 1},
            "voice": {"duration": 1},
            "video": {"width": 640, "height": 360, "duration": 1},
            "animation": {"width": 320, "height": 240, "duration": 1},
            "video_note": {"length": 240, "duration": 1},
            "sticker": {"type": "regular", "width": 512, "height": 512, "is_animated": False,
                        "is_video": False},
        }
        if kind == "document":
            extra.setdefault("file_name", "document.bin")
        if kind == "sticker":
            extra.pop("file_name", None)
            extra.pop("mime_type", None)
        return {kind: self._new_file(kind, data, **shapes[kind], **extra)}

    async def _m_sendPhoto(self, params: JSONDict) -> JSONDict:
        return await self._send_media("sendPhoto", params)

    async def _m_sendDocument(self, params: JSONDict) -> JSONDict:
        return await self._send_media("sendDocument", params)

    async def _m_sendAudio(self, params: JSONDict) -> JSONDict:
        return await self._send_media("sendAudio", params)

    async def _m_sendVideo(self, params: JSONDict) -> JSONDict:
        return await self._send_media("sendVideo", params)

    async def _m_sendVoice(self, params: JSONDict) -> JSONDict:
        return await self._send_media("sendVoice", params)

    async def _m_sendAnimation(self, params: JSONDict) -> JSONDict:
        return await self._send_media("sendAnimation", params)

    async def _m_sendSticker(self, params: JSONDict) -> JSONDict:
        return await self._send_media("sendSticker", params)

    async def _m_sendVideoNote(self, params: JSONDict) -> JSONDict:
        return await self._send_media("sendVideoNote", params)

    async def _m_sendMediaGroup(self, params: JSONDict) -> list[JSONDict]:
        chat_id = self._target_chat(params)
        media = params.get("media")
        if not isinstance(media, list) or not 2 <= len(media) <= 10:
            raise _bad_request("wrong number of messages in media group")
        group_id = str(next(self._file_counter) + 10_000_000_000)
        out = []
        for item in media:
            kind = item.get("type", "photo")
            ref = item.get("media", "")
            value: Any = ref
            if isinstance(ref, str) and ref.startswith("attach://"):
                value = params.get(ref[len("attach://") :], ref)
            content = self._media_content(kind, value)
            content.update(self._formatted(item, "caption", "caption_entities"))
            content["media_group_id"] = group_id
            out.append(self._store_bot_message(chat_id, params, content))
        return out

    async def _m_sendLocation(self, params: JSONDict) -> JSONDict:
        chat_id = self._target_chat(params)
        location = {"latitude": float(params["latitude"]), "longitude": float(params["longitude"])}
        self._validate_markup(params.get("reply_markup"))
        return self._store_bot_message(chat_id, params, {"location": location})

    async def _m_sendVenue(self, params: JSONDict) -> JSONDict:
        chat_id = self._target_chat(params)
        location = {"latitude": float(params["latitude"]), "longitude": float(params["longitude"])}
        venue = {"location": location, "title": params.get("title", ""),
                 "address": params.get("address", "")}
        self._validate_markup(params.get("reply_markup"))
        return self._store_bot_message(chat_id, params, {"location": location, "venue": venue})

    async def _m_sendContact(self, params: JSONDict) -> JSONDict:
        chat_id = self._target_chat(params)
        contact = {"phone_number": params.get("phone_number", ""),
                   "first_name": params.get("first_name", "")}
        if params.get("last_name"):
            contact["last_name"] = params["last_name"]
        return self._store_bot_message(chat_id, params, {"contact": contact})

    async def _m_forwardMessage(self, params: JSONDict) -> JSONDict:
        chat_id = self._target_chat(params)
        original = self._find_message(params.get("from_chat_id"), params.get("message_id"))
        if original is None:
            raise _bad_request("message to forward not found")
        content = _message_content(original)
        sender = original.get("from")
        content["forward_origin"] = (
            {"type": "user", "sender_user": sender, "date": original["date"]}
            if sender
            else {"type": "hidden_user", "sender_user_name": "Warga", "date": original["date"]}
        )
        return self._store_bot_message(chat_id, {}, content)

    async def _m_copyMessage(self, params: JSONDict) -> JSONDict:
        chat_id = self._target_chat(params)
        original = self._find_message(params.get("from_chat_id"), params.get("message_id"))
        if original is None:
            raise _bad_request("message to copy not found")
        content = _message_content(original)
        if params.get("caption") is not None:
            content.update(self._formatted(params, "caption", "caption_entities"))
        self._validate_markup(params.get("reply_markup"))
        msg = self._store_bot_message(chat_id, params, content)
        return {"message_id": msg["message_id"]}

    async def _m_editMessageText(self, params: JSONDict) -> JSONDict | bool:
        msg = self._editable(params)
        self._validate_markup(params.get("reply_markup"))
        if not str(params.get("text") or "").strip():
            raise _bad_request("message text is empty")
        content = self._formatted(params, "text", "entities")
        if msg is None:
            return True
        if "text" not in msg:
            raise _bad_request("there is no text in the message to edit")
        changes = {"text": content["text"], "entities": content.get("entities")}
        return self._apply_edit(msg, changes, params.get("reply_markup"), "edit_text")

    async def _m_editMessageCaption(self, params: JSONDict) -> JSONDict | bool:
        msg = self._editable(params)
        self._validate_markup(params.get("reply_markup"))
        content = self._formatted(params, "caption", "caption_entities")
        if msg is None:
            return True
        if "text" in msg:
            raise _bad_request("there is no caption in the message to edit")
        changes = {
            "caption": content.get("caption"),
            "caption_entities": content.get("caption_entities"),
        }
        return self._apply_edit(msg, changes, params.get("reply_markup"), "edit_caption")

    async def _m_editMessageReplyMarkup(self, params: JSONDict) -> JSONDict | bool:
        msg = self._editable(params)
        self._validate_markup(params.get("reply_markup"))
        if msg is None:
            return True
        return self._apply_edit(msg, {}, params.get("reply_markup"), "edit_markup")

    async def _m_deleteMessage(self, params: JSONDict) -> bool:
        chat_id = self._target_chat(params)
        message_id = params.get("message_id")
        for store in (self._bot_msgs, self._user_msgs):
            if store.get(chat_id, {}).pop(message_id, None) is not None:
                if store is self._bot_msgs:
                    self.deleted.add((chat_id, message_id))
                    self._chat_log.setdefault(chat_id, []).append(
                        ("delete", {"message_id": message_id}))
                return True
        raise _bad_request("message to delete not found")

    async def _m_answerCallbackQuery(self, params: JSONDict) -> bool:
        query_id = str(params.get("callback_query_id", ""))
        info = self._callbacks.get(query_id)
        if info is None or info["answered"]:
            raise _bad_request(
                "query is too old and response timeout expired or query ID is invalid"
            )
        info["answered"] = True
        fake_user = self._fake_users.get(info["user_id"])
        if fake_user is not None:
            fake_user.answered_callbacks.append(params)
        return True

    async def _m_setMyCommands(self, params: JSONDict) -> bool:
        commands = params.get("commands")
        if not isinstance(commands, list) or len(commands) > 100:
            raise _bad_request("can't parse commands JSON object")
        for command in commands:
            if not isinstance(command, dict) or not _BOT_COMMAND_NAME_RE.fullmatch(
                str(command.get("command", ""))
            ):
                raise _bad_request("BOT_COMMAND_INVALID")
            if not 1 <= len(str(command.get("description", ""))) <= 256:
                raise _bad_request("command description must be 1-256 characters")
        scope, language = _scope_key(params)
        self.commands[(scope["type"], language)] = commands
        self.commands_by_scope[(json.dumps(scope, sort_keys=True), language)] = commands
        return True

    async def _m_deleteMyCommands(self, params: JSONDict) -> bool:
        scope, language = _scope_key(params)
        self.commands.pop((scope["type"], language), None)
        self.commands_by_scope.pop((json.dumps(scope, sort_keys=True), language), None)
        return True

    async def _m_getMyCommands(self, params: JSONDict) -> list[JSONDict]:
        scope, language = _scope_key(params)
        return self.commands_by_scope.get((json.dumps(scope, sort_keys=True), language), [])

    async def _m_setWebhook(self, params: JSONDict) -> bool:
        url = params.get("url") or ""
        secret = params.get("secret_token")
        if secret is not None and not _SECRET_TOKEN_RE.fullmatch(str(secret)):
            raise _bad_request("secret token contains unallowed characters")
        if params.get("drop_pending_updates"):
            self._pending.clear()
        if not url:
            self.webhook = None
            self.webhook_options = {}
            return True
        self.webhook = {"url": url, "secret_token": secret}
        self.webhook_options = {
            k: params[k]
            for k in ("max_connections", "allowed_updates", "ip_address")
            if k in params
        }
        self._notify()
        return True

    async def _m_deleteWebhook(self, params: JSONDict) -> bool:
        if params.get("drop_pending_updates"):
            self._pending.clear()
        self.webhook = None
        self.webhook_options = {}
        return True

    async def _m_getWebhookInfo(self, params: JSONDict) -> JSONDict:
        info: JSONDict = {
            "url": self.webhook["url"] if self.webhook else "",
            "has_custom_certificate": False,
            "pending_update_count": len(self._pending),
        }
        if self.webhook:
            info.update(self.webhook_options)
        return info

    def _member(self, chat_id: Any, user_id: Any) -> JSONDict:
        user = self.bot_user if user_id == self.bot_user["id"] else self._users.get(user_id)
        if user is None:
            user = make_user(int(user_id) if isinstance(user_id, int) else 0)
        if user_id in self.chat_admins.get(chat_id, set()):
            return {
                "status": "administrator",
                "user": user,
                "can_be_edited": False,
                "is_anonymous": False,
                "can_manage_chat": True,
                "can_delete_messages": True,
                "can_manage_video_chats": True,
                "can_restrict_members": True,
                "can_promote_members": False,
                "can_change_info": True,
                "can_invite_users": True,
                "can_post_stories": False,
                "can_edit_stories": False,
                "can_delete_stories": False,
                "can_pin_messages": True,
            }
        return {"status": "member", "user": user}

    async def _m_getChatMember(self, params: JSONDict) -> JSONDict:
        chat_id = self._target_chat(params)
        if params.get("user_id") is None:
            raise _bad_request("user_id is empty")
        return self._member(chat_id, params["user_id"])

    async def _m_getChatAdministrators(self, params: JSONDict) -> list[JSONDict]:
        chat_id = self._target_chat(params)
        return [self._member(chat_id, uid) for uid in sorted(self.chat_admins.get(chat_id, ()))]

    async def _m_getChatMemberCount(self, params: JSONDict) -> int:
        chat_id = self._target_chat(params)
        return 2 if chat_id > 0 else max(2, len(self.chat_admins.get(chat_id, ())) + 1)

    async def _m_getChat(self, params: JSONDict) -> JSONDict:
        chat_id = self._target_chat(params)
        return {
            **self._chat(chat_id),
            "accent_color_id": 0,
            "max_reaction_count": 11,
            "accepted_gift_types": {
                "unlimited_gifts": False,
                "limited_gifts": False,
                "unique_gifts": False,
                "premium_subscription": False,
            },
        }

    async def _m_getFile(self, params: JSONDict) -> JSONDict:
        info = self.files.get(str(params.get("file_id", "")))
        if info is None:
            raise _bad_request("invalid file_id")
        return {k: v for k, v in info.items() if not k.startswith("_")}

    async def _simple_true(self, params: JSONDict) -> bool:
        if "chat_id" in params:
            self._target_chat(params)
        if params.get("action") == "":
            raise _bad_request("wrong parameter action in request")
        return True


for _name in _TRUE_METHODS:
    setattr(FakeBotAPI, "_m_" + _name, FakeBotAPI._simple_true)

_METHOD_INDEX = {
    name[3:].lower(): name[3:] for name in dir(FakeBotAPI) if name.startswith("_m_")
}


def _scope_key(params: JSONDict) -> tuple[JSONDict, str | None]:
    scope = params.get("scope") or {"type": "default"}
    if not isinstance(scope, dict) or "type" not in scope:
        raise _bad_request("can't parse BotCommandScope JSON object")
    return scope, params.get("language_code") or None


def _message_content(msg: JSONDict) -> JSONDict:
    skip = {"message_id", "from", "chat", "date", "edit_date", "reply_markup",
            "reply_to_message", "forward_origin", "message_thread_id"}  # fmt: skip
    return {k: v for k, v in msg.items() if k not in skip}


def _json_response(payload: Any, status: int) -> web.Response:
    return web.Response(
        body=json.dumps(payload, ensure_ascii=False).encode("utf-8"),
        status=status,
        content_type="application/json",
    )


def _decode_param(key: str, value: Any, from_form: bool) -> Any:
    if isinstance(value, str):
        if from_form and key not in _STRING_PARAMS:
            try:
                return json.loads(value)
            except ValueError:
                return value
        if key in _JSON_PARAMS:
            try:
                return json.loads(value)
            except ValueError:
                return value
        if key in _ID_PARAMS and re.fullmatch(r"-?\d+", value):
            return int(value)
    return value


async def _read_params(request: web.Request) -> JSONDict:
    params: JSONDict = {k: _decode_param(k, v, True) for k, v in request.query.items()}
    if request.method != "POST" or not request.can_read_body:
        return params
    content_type = request.content_type
    if content_type == "application/json":
        raw = await request.read()
        body = json.loads(raw) if raw.strip() else {}
        if not isinstance(body, dict):
            raise ValueError("JSON body must be an object")
        params.update({k: _decode_param(k, v, False) for k, v in body.items()})
    elif content_type in ("application/x-www-form-urlencoded", "multipart/form-data"):
        form = await request.post()
        for key, value in form.items():
            if isinstance(value, web.FileField):
                data = value.file.read()
                params[key] = {
                    "filename": value.filename,
                    "content_type": value.content_type,
                    "size": len(data),
                    "_upload": data,
                }
            else:
                params[key] = _decode_param(key, value, True)
    return params


# --------------------------------------------------------------------------------------------
# A resident in a private chat
# --------------------------------------------------------------------------------------------


class FakeUser:
    """A resident chatting privately with the bot (chat_id == user_id)."""

    def __init__(
        self,
        api: FakeBotAPI,
        user_id: int,
        first_name: str = "Warga",
        language_code: str | None = "id",
        username: str | None = None,
    ) -> None:
        self.api = api
        self.id = user_id
        self.chat_id = user_id
        self.first_name = first_name
        self.language_code = language_code
        self.username = username
        # as Telegram gives a shared contact's number: international, often without "+"
        self.phone_number = f"62812{user_id % 10**8:08d}"
        self.answered_callbacks: list[JSONDict] = []
        self._cursor = 0

    @property
    def user_dict(self) -> JSONDict:
        return make_user(self.id, self.first_name, self.language_code, self.username)

    @property
    def chat(self) -> JSONDict:
        return private_chat(self.user_dict)

    # -------------------------------------------------- building updates

    def _message_update(self, content: JSONDict, *, command: bool = False) -> JSONDict:
        msg: JSONDict = {
            "message_id": self.api._next_message_id(self.chat_id),
            "from": self.user_dict,
            "chat": self.chat,
            "date": int(time.time()),
            **content,
        }
        if command and "text" in content:
            entities = command_entities(content["text"])
            if entities:
                msg["entities"] = entities
        return {"message": msg}

    def _callback_update(self, data: str, message_id: int | None = None) -> JSONDict:
        bot_msgs = self.api._bot_msgs.get(self.chat_id, {})
        if message_id is None:
            message = next(reversed(bot_msgs.values()), None) if bot_msgs else None
        else:
            message = bot_msgs.get(message_id)
        if message is None:  # Telegram's InaccessibleMessage (deleted / too old)
            message = {"chat": self.chat, "message_id": message_id or 1, "date": 0}
        return {
            "callback_query": {
                "id": str(next(self.api._callback_ids)),
                "from": self.user_dict,
                "message": dict(message),
                "chat_instance": str(8_000_000_000_000_000_000 + self.chat_id),
                "data": data,
            }
        }

    def _keyboard_message(self, message_id: int | None = None) -> JSONDict | None:
        bot_msgs = self.api._bot_msgs.get(self.chat_id, {})
        if message_id is not None:
            return bot_msgs.get(message_id)
        for msg in reversed(bot_msgs.values()):
            if (msg.get("reply_markup") or {}).get("inline_keyboard"):
                return msg
        return None

    def _find_button(self, label: str, message_id: int | None = None) -> tuple[JSONDict, JSONDict]:
        msg = self._keyboard_message(message_id)
        if msg is None:
            texts = [m.get("text", m.get("caption")) for m in self.api.current_messages(self.id)]
            raise AssertionError(
                f"user {self.id}: no bot message with an inline keyboard to click {label!r} "
                f"(bot messages in chat: {texts[-5:]})"
            )
        for row in msg.get("reply_markup", {}).get("inline_keyboard", []):
            for button in row:
                if button.get("text") == label:
                    if "callback_data" not in button:
                        raise AssertionError(
                            f"button {label!r} is not a callback button: {button}"
                        )
                    return msg, button
        raise AssertionError(
            f"user {self.id}: no button {label!r} on message {msg['message_id']} "
            f"({msg.get('text', msg.get('caption'))!r}); available: {self.buttons(msg)}"
        )

    async def _push(self, update: JSONDict) -> JSONDict:
        self.api.push_update(update)
        await asyncio.sleep(0)
        return update

    # -------------------------------------------------- actions

    async def send(self, text: str, *, reply_to_message_id: int | None = None) -> JSONDict:
        """Send a text message; a leading /command gets a bot_command entity."""
        update = self._message_update({"text": text}, command=True)
        if reply_to_message_id is not None:
            replied = self.api._find_message(self.chat_id, reply_to_message_id)
            if replied is not None:
                update["message"]["reply_to_message"] = replied
        return await self._push(update)

    async def send_sticker(self, emoji: str = "👍") -> JSONDict:
        sticker = self.api._new_file(
            "sticker", None, type="regular", width=512, height=512, is_animated=False,
            is_video=False, emoji=emoji,
        )  # fmt: skip
        return await self._push(self._message_update({"sticker": sticker}))

    async def send_photo(self, caption: str | None = None) -> JSONDict:
        content: JSONDict = {"photo": self.api._photo_sizes()}
        if caption is not None:
            content["caption"] = caption
        return await self._push(self._message_update(content))

    async def send_document(
        self,
        file_name: str = "laporan.pdf",
        data: bytes = b"%PDF-1.4 fake",
        caption: str | None = None,
    ) -> JSONDict:
        document = self.api._new_file(
            "document", data, file_name=file_name, mime_type="application/octet-stream"
        )
        content: JSONDict = {"document": document}
        if caption is not None:
            content["caption"] = caption
        return await self._push(self._message_update(content))

    async def send_location(
        self, latitude: float = -6.2, longitude: float = 106.816666
    ) -> JSONDict:
        location = {"latitude": latitude, "longitude": longitude}
        return await self._push(self._message_update({"location": location}))

    async def send_contact(self, phone_number: str = "+6281234567890", *, own: bool = True,
                           user_id: int | None = None) -> JSONDict:
        """Share a contact card: ``own`` (the default) is the user's own card, as the "share
        my contact" keyboard button sends it (``user_id`` is theirs); otherwise someone
        else's, picked from the address book (``user_id`` that person's Telegram id, or none
        when they are not on Telegram)."""
        contact: JSONDict = {"phone_number": phone_number,
                             "first_name": self.first_name if own else "Teman"}
        if own or user_id is not None:
            contact["user_id"] = self.id if own else user_id
        return await self._push(self._message_update({"contact": contact}))

    def keyboard(self) -> list[JSONDict]:
        """The buttons of the reply keyboard the chat shows, as objects with ``text``."""
        markup = self.api.reply_keyboard(self.chat_id) or {}
        return [b if isinstance(b, dict) else {"text": b}
                for row in markup.get("keyboard", []) for b in row]

    def keyboard_buttons(self) -> list[str]:
        """Labels of the reply keyboard the chat shows ([] when none)."""
        return [b["text"] for b in self.keyboard()]

    async def tap(self, label: str) -> JSONDict:
        """Tap a reply keyboard button: a ``request_contact`` button shares the user's own
        contact (``phone_number``); a plain one sends its label as a text message."""
        for button in self.keyboard():
            if button["text"] == label:
                if button.get("request_contact"):
                    return await self.send_contact(self.phone_number)
                return await self._push(self._message_update({"text": label}))
        raise AssertionError(f"user {self.id}: no reply keyboard button {label!r} "
                             f"(keyboard: {self.keyboard_buttons()})")

    async def block_bot(self) -> JSONDict:
        """The user blocks the bot: pushes the my_chat_member update Telegram sends (status
        "kicked") and makes every later call to this chat fail with 403."""
        self.api.block(self.chat_id)
        return await self._push(self._member_update("member", "kicked"))

    async def unblock_bot(self) -> JSONDict:
        """The user unblocks (restarts) the bot: my_chat_member update back to "member"."""
        self.api.unblock(self.chat_id)
        return await self._push(self._member_update("kicked", "member"))

    def _member_update(self, old: str, new: str) -> JSONDict:
        def member(status: str) -> JSONDict:
            out: JSONDict = {"status": status, "user": self.api.bot_user}
            if status == "kicked":
                out["until_date"] = 0
            return out

        return {
            "my_chat_member": {
                "chat": self.chat,
                "from": self.user_dict,
                "date": int(time.time()),
                "old_chat_member": member(old),
                "new_chat_member": member(new),
            }
        }

    async def click(self, label: str, *, message_id: int | None = None) -> JSONDict:
        """Press the inline button labelled ``label`` on the most recent bot message with an
        inline keyboard (or on ``message_id``); pushes the callback_query update."""
        msg, button = self._find_button(label, message_id)
        return await self._push(self._callback_update(button["callback_data"], msg["message_id"]))

    async def click_data(self, data: str, message_id: int | None = None) -> JSONDict:
        """Push a callback_query with arbitrary (possibly forged) data.  The attached message is
        ``message_id`` or the latest bot message; an unknown one becomes an InaccessibleMessage
        (date 0)."""
        return await self._push(self._callback_update(data, message_id))

    # -------------------------------------------------- observing the bot

    def _take_reply(self) -> JSONDict | None:
        log = self.api._chat_log.get(self.chat_id, [])
        while self._cursor < len(log):
            kind, snapshot = log[self._cursor]
            key = (self.chat_id, snapshot.get("message_id"))
            if kind == "send" and key in self.api.deleted:
                self._cursor += 1  # the bot took it back: not a reply the user keeps
                continue
            sent_at = self.api._silent_notes.get(key)
            if kind == "send" and sent_at is not None and self._cursor == len(log) - 1 \
                    and time.monotonic() - sent_at < TRANSIENT_HOLD:
                return None  # a keyboard-removal note the bot may delete in a moment
            self._cursor += 1
            if kind in _REPLY_KINDS:
                return snapshot
        return None

    async def next_reply(self, timeout: float = 5.0) -> JSONDict:  # noqa: ASYNC109
        """The next message sent (send*) or edited (editMessageText/Caption) to this chat that
        this user has not returned yet."""
        try:
            return await self.api._wait_until(self._take_reply, timeout)
        except TimeoutError:
            seen = [m.get("text", m.get("caption")) for m in self.api.messages_to(self.chat_id)]
            recent = [
                (name, params.get("chat_id")) for name, params in self.api.calls[-10:]
            ]
            raise AssertionError(
                f"user {self.id}: no new bot reply within {timeout}s; messages to this chat so "
                f"far: {seen[-5:]}; last API calls: {recent}; failed calls: "
                f"{[(m, c) for m, _, c in self.api.failed_calls[-5:]]}"
            ) from None

    async def replies_until_quiet(
        self,
        quiet: float = 0.3,
        timeout: float = 5.0,  # noqa: ASYNC109
    ) -> list[JSONDict]:
        """Collect replies until none arrives for ``quiet`` seconds (or ``timeout`` overall)."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        replies: list[JSONDict] = []
        while True:
            remaining = deadline - loop.time()
            if remaining <= 0:
                return replies
            try:
                replies.append(
                    await self.api._wait_until(self._take_reply, min(quiet, remaining))
                )
            except TimeoutError:
                return replies

    def buttons(self, message: JSONDict | None = None) -> list[str]:
        """Labels of the inline keyboard of ``message`` (default: the latest bot message in
        this chat that has one), row by row."""
        if message is None:
            message = self._keyboard_message()
            if message is None:
                return []
        markup = message.get("reply_markup") or {}
        rows = markup.get("inline_keyboard", [])
        return [button.get("text", "") for row in rows for button in row]

    @property
    def messages(self) -> list[JSONDict]:
        return self.api.messages_to(self.chat_id)


# --------------------------------------------------------------------------------------------
# Separate-process mode
# --------------------------------------------------------------------------------------------


async def _serve(args: argparse.Namespace) -> None:
    fake = FakeBotAPI(args.token, latency=args.latency_ms / 1000.0,
                      rate_limit=args.rate_limit)
    await fake.start(args.host, args.port)
    print(f"READY {fake.base_url}", flush=True)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    try:
        await stop.wait()
    finally:
        await fake.stop()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Fake Telegram Bot API server")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--latency-ms", type=float, default=0.0)
    parser.add_argument("--rate-limit", type=float, default=None, metavar="PER_S",
                        help="answer send calls beyond this many per second with 429")
    parser.add_argument("--token", default=DEFAULT_TOKEN)
    args = parser.parse_args(argv)
    if args.rate_limit is not None and args.rate_limit <= 0:
        parser.error("--rate-limit must be positive")
    asyncio.run(_serve(args))


if __name__ == "__main__":
    main()
