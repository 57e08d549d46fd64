"""Rendering and sending one reply on Telegram: shared by the chat (``telegram.py``) and the
outbox transport (``telegram_outbox.py``), each with its own ``Bot`` and connection pool.

A reply's buttons are inline buttons, except in a reply that asks for the person's phone
number (a ``contact_button``): Telegram allows one keyboard per message and only a reply
keyboard can share a contact, so such a reply gets a ``ReplyKeyboardMarkup`` whose contact
button is ``request_contact`` and whose other buttons (Lewati, Kembali, Batal) are plain
keyboard buttons. Tapping one of those sends its label as text; ``Keyboards`` remembers, per
chat, which payload each label stands for, and the chat channel turns that text back into
the button press (``TelegramChannel.prepare``). The next reply of the chat to another event
removes the keyboard (``ReplyKeyboardRemove``; a reply with inline buttons cannot carry it, so
a short removal message is sent first and deleted at once).

The keyboard state is in memory only: after a restart a tap on "Lewati" reaches the step as
typed text (the step asks its question again, which shows the keyboard again and restores the
labels), and a keyboard left open then stays until the next contact request is answered.
"""

from __future__ import annotations

import logging
from collections import OrderedDict
from datetime import timedelta

from telegram import (
    Bot,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    InputFile,
    KeyboardButton,
    Message,
    ReplyKeyboardMarkup,
    ReplyKeyboardRemove,
)
from telegram.constants import ParseMode
from telegram.error import TelegramError

from bot.content import Content
from bot.events import CONTACT, Reply
from bot.render import Renderer

log = logging.getLogger(__name__)

CHANNEL = "telegram"
CAPTION_LIMIT = 1024  # characters of a photo's or document's caption
REMOVAL_TEXT = "✓"  # the removal message, deleted as soon as it is sent
Markup = InlineKeyboardMarkup | ReplyKeyboardMarkup | ReplyKeyboardRemove


def seconds(value: int | float | timedelta) -> float:
    """A PTB time period (``retry_after``) in seconds."""
    return value.total_seconds() if isinstance(value, timedelta) else float(value)


class Keyboards:
    """The chats where our reply keyboard (a contact request) is open, each with the payload
    of every other button by its label. In memory, at most ``limit`` chats (the oldest are
    forgotten: their taps then arrive as text, see the module docstring)."""

    def __init__(self, limit: int = 10_000) -> None:
        self.limit = limit
        self._open: OrderedDict[str, dict[str, str]] = OrderedDict()

    def opened(self, chat_id: int | str, labels: dict[str, str]) -> None:
        key = str(chat_id)
        self._open.pop(key, None)
        self._open[key] = labels
        while len(self._open) > self.limit:
            self._open.popitem(last=False)

    def is_open(self, chat_id: int | str) -> bool:
        return str(chat_id) in self._open

    def closed(self, chat_id: int | str) -> None:
        self._open.pop(str(chat_id), None)

    def payload(self, chat_id: int | str, text: str) -> str | None:
        """The payload of the keyboard button labelled ``text`` in that chat, if open."""
        return self._open.get(str(chat_id), {}).get(text)


class TelegramReplies:
    def __init__(self, content: Content, default_language: str) -> None:
        self.renderer = Renderer(content, "telegram", default_language)
        self.labels = Renderer(content, "console", default_language)  # button labels: plain
        self.keyboards = Keyboards()

    def text(self, reply: Reply, lang: str) -> str:
        return self.renderer.render(reply.text, lang)

    def markup(self, reply: Reply, lang: str) -> InlineKeyboardMarkup | ReplyKeyboardMarkup | None:
        """Inline buttons; a reply keyboard when the reply asks for the phone number."""
        if not reply.buttons:
            return None
        if reply.asks_contact:
            return ReplyKeyboardMarkup(
                [[KeyboardButton(self.labels.render(b.label, lang),
                                 request_contact=True if b.request == CONTACT else None)
                  for b in row] for row in reply.buttons],
                resize_keyboard=True, one_time_keyboard=True)
        return InlineKeyboardMarkup([
            [InlineKeyboardButton(self.labels.render(b.label, lang), callback_data=b.payload)
             for b in row]
            for row in reply.buttons
        ])

    def keyboard_labels(self, reply: Reply, lang: str) -> dict[str, str]:
        """Label -> payload of the plain buttons of a contact request's reply keyboard."""
        return {self.labels.render(b.label, lang): b.payload
                for row in reply.buttons for b in row if b.request != CONTACT}

    async def send(self, bot: Bot, chat_id: int, reply: Reply, lang: str, *,
                   close_keyboard: bool = False) -> Message:
        """Send one reply: a text message, or a photo/document with the text as caption.

        ``close_keyboard`` (the chat's answers to a person, not the outbox's messages):
        remove an open contact keyboard with this reply."""
        markup: Markup | None = self.markup(reply, lang)
        closing = close_keyboard and not reply.asks_contact and self.keyboards.is_open(chat_id)
        if closing and markup is None:
            markup = ReplyKeyboardRemove()
        elif closing:
            await self.remove_keyboard(bot, chat_id)
        sent = await self._send(bot, chat_id, reply, lang, markup)
        if reply.asks_contact:
            self.keyboards.opened(chat_id, self.keyboard_labels(reply, lang))
        elif closing:
            self.keyboards.closed(chat_id)
        return sent

    async def remove_keyboard(self, bot: Bot, chat_id: int) -> None:
        """Remove the reply keyboard ahead of a message that carries inline buttons: a silent
        message with ``ReplyKeyboardRemove``, deleted right away (the keyboard stays gone)."""
        note = await bot.send_message(chat_id, REMOVAL_TEXT, reply_markup=ReplyKeyboardRemove(),
                                      disable_notification=True)
        self.keyboards.closed(chat_id)
        try:
            await bot.delete_message(chat_id, note.message_id)
        except TelegramError as exc:  # the note stays: harmless
            log.info("could not delete the keyboard removal message: %s", exc)

    async def _send(self, bot: Bot, chat_id: int, reply: Reply, lang: str,
                    markup: Markup | None) -> Message:
        text = self.text(reply, lang)
        if reply.media is not None:
            media = reply.media
            file: str | InputFile = (InputFile(media.data, filename=media.name or None)
                                     if media.data else media.ref)
            # a caption over Telegram's limit follows the file as its own message
            caption, after = (text, None) if len(text) <= CAPTION_LIMIT else (None, text)
            send = bot.send_photo if media.kind == "photo" else bot.send_document
            sent = await send(chat_id, file, caption=caption, parse_mode=ParseMode.HTML,
                              reply_markup=None if after else markup)
            if after is None:
                return sent
            return await bot.send_message(chat_id, after, parse_mode=ParseMode.HTML,
                                          reply_markup=markup, disable_web_page_preview=True)
        return await bot.send_message(chat_id, text, parse_mode=ParseMode.HTML,
                                      reply_markup=markup, disable_web_page_preview=True)
