"""Rendering and sending one reply on Telegram: shared by the chat (``telegram.py``) and the
outbox transport (``telegram_outbox.py``), each with its own ``Bot`` and connection pool."""

from __future__ import annotations

from datetime import timedelta

from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup, InputFile, Message
from telegram.constants import ParseMode

from bot.content import Content
from bot.events import Reply
from bot.render import Renderer

CHANNEL = "telegram"
CAPTION_LIMIT = 1024  # characters of a photo's or document's caption


def seconds(value: int | float | timedelta) -> float:
    """A PTB time period (``retry_after``) in seconds."""
    return value.total_seconds() if isinstance(value, timedelta) else float(value)


class TelegramReplies:
    def __init__(self, content: Content, default_language: str) -> None:
        self.renderer = Renderer(content, "telegram", default_language)
        self.labels = Renderer(content, "console", default_language)  # button labels: plain

    def text(self, reply: Reply, lang: str) -> str:
        return self.renderer.render(reply.text, lang)

    def markup(self, reply: Reply, lang: str) -> InlineKeyboardMarkup | None:
        if not reply.buttons:
            return None
        return InlineKeyboardMarkup([
            [InlineKeyboardButton(self.labels.render(b.label, lang), callback_data=b.payload)
             for b in row]
            for row in reply.buttons
        ])

    async def send(self, bot: Bot, chat_id: int, reply: Reply, lang: str) -> Message:
        """Send one reply: a text message, or a photo/document with the text as caption."""
        text = self.text(reply, lang)
        markup = self.markup(reply, lang)
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
