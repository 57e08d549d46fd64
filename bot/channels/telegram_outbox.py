"""Telegram's side of the outbox: send one queued message and say what happened.

It has its own connection pool (and its own ``Bot``), so notices going out never queue in
front of replies to people chatting with the bot. Telegram's rules: about 30 messages a
second overall (we default to 25), one a second per private chat, 20 a minute per group.
"""

from __future__ import annotations

import asyncio
from typing import Protocol

from telegram import Bot
from telegram.error import (
    BadRequest,
    ChatMigrated,
    Forbidden,
    InvalidToken,
    NetworkError,
    RetryAfter,
    TelegramError,
    TimedOut,
)

from bot.broadcasting.outbox import Delivery, RateLimiter
from bot.channels.http import AiohttpRequest
from bot.channels.telegram_replies import CHANNEL, TelegramReplies, seconds
from bot.context import Services
from bot.events import Reply


class Chat(Protocol):
    """The Telegram chat channel whose replies share this outbox's rate."""

    services: Services
    replies: TelegramReplies
    limiter: RateLimiter | None


class TelegramOutbox:
    channel = CHANNEL

    def __init__(self, chat: Chat, bot: Bot | None = None) -> None:
        tg = chat.services.settings.telegram
        self.limiter = RateLimiter(tg.send_rate)
        chat.limiter = self.limiter  # replies take their slots too (reply_slot)
        self.per_chat = tg.per_chat_interval
        self.per_group = 60.0 / tg.group_per_minute
        self.replies = chat.replies
        self._request: AiohttpRequest | None = None
        if bot is None:
            self._request = AiohttpRequest(max(8, min(256, int(tg.send_rate))))
            bot = Bot(tg.bot_token or "", base_url=tg.base_url, request=self._request)
        self.bot = bot
        self._lock = asyncio.Lock()
        self._initialized = False

    def interval(self, address: str) -> float:
        return self.per_group if address.startswith("-") else self.per_chat

    async def start(self) -> None:
        """Nothing to do yet: the connection is made with the first message (the channel's
        own start-up reports a wrong token or an unreachable Bot API)."""

    async def _ready(self) -> None:
        async with self._lock:
            if not self._initialized:
                await self.bot.initialize()
                self._initialized = True

    async def stop(self) -> None:
        if self._initialized:
            await self.bot.shutdown()
        if self._request is not None:
            await self._request.shutdown()

    async def send(self, address: str, lang: str, reply: Reply) -> Delivery:
        try:
            await self._ready()
            message = await self.replies.send(self.bot, int(address), reply, lang)
        except Exception as exc:
            return _failure(exc)
        return Delivery("sent", external_id=str(message.message_id))

    async def edit(self, address: str, message_id: str, lang: str, reply: Reply) -> Delivery:
        try:
            await self._ready()
            await self.bot.edit_message_text(
                self.replies.text(reply, lang), chat_id=int(address),
                message_id=int(message_id), parse_mode="HTML")
        except BadRequest as exc:
            if "not modified" in str(exc).lower():
                return Delivery("sent", external_id=message_id)
            return _failure(exc)
        except Exception as exc:
            return _failure(exc)
        return Delivery("sent", external_id=message_id)


def _failure(exc: Exception) -> Delivery:
    """What a Bot API error means for the message."""
    if isinstance(exc, RetryAfter):
        return Delivery("limited", retry_after=seconds(exc.retry_after), reason=str(exc))
    if isinstance(exc, ChatMigrated):
        return Delivery("retry", moved_to=str(exc.new_chat_id), reason=str(exc))
    if isinstance(exc, Forbidden):  # blocked by the user, deactivated, removed from the group
        return Delivery("blocked", reason=str(exc)[:200])
    if isinstance(exc, BadRequest):  # our message or the chat is wrong: sending again won't help
        return Delivery("failed", reason=str(exc)[:200])
    if isinstance(exc, (TimedOut, NetworkError, InvalidToken)):
        # no answer about the message: 5xx, timeouts, refused or dropped connections (and a
        # token Telegram no longer accepts): the sender holds and probes, no attempt is used
        return Delivery("unreachable", reason=f"{type(exc).__name__}: {exc}"[:200])
    if isinstance(exc, TelegramError):  # an answer we do not expect: retry, counting attempts
        return Delivery("retry", reason=f"{type(exc).__name__}: {exc}"[:200])
    raise exc
