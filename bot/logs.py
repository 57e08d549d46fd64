"""Logs name people by pseudonym only.

``PseudonymFilter`` rewrites every channel identity (``telegram:123456``) in a log line, its
traceback included, to its keyed pseudonym (``p:…``, the same as in the audit log), and so
does it with a bare chat or user ID where a line names one as such (``chat_id=123456``).
``protect`` puts the filter on the root logger's handlers, where every line ends up.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Iterable

from bot.pseudonyms import Pseudonyms

CHANNELS = ("telegram", "whatsapp", "wa", "console", "sms")

# a bare positive ID named as a person's chat or user: chat_id=123, "user_id": 123, chat 123
_BARE = re.compile(r"(?i)(\b(?:(?:chat|user|sender)(?:[ _]?id)?|from[ _]id)\b[\"']?\s*[:=]?\s*)"
                   r"(\d{5,})\b")


class PseudonymFilter(logging.Filter):
    def __init__(self, pseudonyms: Pseudonyms, channels: Iterable[str] = ()) -> None:
        super().__init__()
        self.pseudonyms = pseudonyms
        names = sorted({*CHANNELS, *channels}, key=len, reverse=True)
        self._identity = re.compile(
            r"(?<![\w.])(?:" + "|".join(map(re.escape, names)) + r"):[+\w@.-]*\w")
        self._formatter = logging.Formatter()

    def scrub(self, text: str) -> str:
        """``text`` with every identity and named chat ID replaced by its pseudonym."""
        text = self._identity.sub(lambda m: self.pseudonyms(m.group(0)), text)
        return _BARE.sub(
            lambda m: m.group(1) + self.pseudonyms(f"telegram:{m.group(2)}"), text)

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a broken format string: leave it to the handler to report
            return True
        clean = self.scrub(message)
        if clean != message:
            record.msg, record.args = clean, None
        if record.exc_info and not record.exc_text:
            record.exc_text = self._formatter.formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = self.scrub(record.exc_text)
        if record.stack_info:
            record.stack_info = self.scrub(record.stack_info)
        return True


def protect(pseudonyms: Pseudonyms, channels: Iterable[str] = ()) -> Callable[[], None]:
    """Filter every handler of the root logger; return the function that takes it off."""
    found = PseudonymFilter(pseudonyms, channels)
    handlers = list(logging.getLogger().handlers)
    for handler in handlers:
        handler.addFilter(found)

    def remove() -> None:
        for handler in handlers:
            handler.removeFilter(found)

    return remove
