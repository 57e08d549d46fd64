"""The Telegram channel: translate updates to events and send replies with python-telegram-bot.

Updates go to the intake (``bot/intake.py``) before Telegram is told we have them: in
polling mode the next getUpdates (whose offset confirms the batch) is only sent after the
batch is committed; in webhook mode the HTTP 200 is only sent after the update is committed.
The webhook route is served by the one web server (``bot/web.py``); the secret is checked here.
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import logging
import os
from collections.abc import AsyncIterator, Iterator
from dataclasses import replace
from typing import Any
from urllib.parse import urlparse

from aiohttp import web
from telegram import BotCommand
from telegram.error import (
    BadRequest,
    Conflict,
    Forbidden,
    InvalidToken,
    NetworkError,
    RetryAfter,
    TelegramError,
    TimedOut,
)
from telegram.ext import Application, ApplicationBuilder

from bot.channels.http import AiohttpRequest
from bot.channels.telegram_outbox import TelegramOutbox
from bot.channels.telegram_replies import CHANNEL, TelegramReplies, seconds
from bot.channels.traits import telegram_traits
from bot.config import ConfigError, TelegramSettings
from bot.context import Services
from bot.core import Core
from bot.events import Event, Kind, Reply, e164, t
from bot.intake import Intake, idle
from bot.render import Renderer
from bot.web import Route, read_json
from db.errors import StorageFull

log = logging.getLogger(__name__)

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
GROUP_TYPES = ("group", "supergroup")
MEDIA_KEYS = ("sticker", "photo", "video", "voice", "audio", "document", "animation",
              "video_note")
def sender_of(update: dict[str, Any]) -> str | None:
    """The identity an update belongs to (its ordering key), if any."""
    for key in ("message", "edited_message", "callback_query", "my_chat_member"):
        body = update.get(key)
        if isinstance(body, dict) and isinstance(body.get("from"), dict):
            return f"{CHANNEL}:{body['from'].get('id')}"
    return None


def translate(update: dict[str, Any], me: str | None = None,
              group_commands: frozenset[str] = frozenset()) -> Event | None:
    """Turn a raw Telegram update into a neutral event; None for updates we do not answer.

    ``me`` is the bot's username: in a group, ``/hubungkan@OtherBot`` is not for us.
    ``group_commands`` are the commands the features answer inside a group."""
    query = update.get("callback_query")
    if isinstance(query, dict):
        user = query.get("from") or {}
        message = query.get("message") or {}
        chat = message.get("chat") or {"id": user.get("id"), "type": "private"}
        if chat.get("type") != "private" or "id" not in user:
            return None
        return Event(identity=f"{CHANNEL}:{user['id']}", channel=CHANNEL,
                     address=str(chat["id"]), kind=Kind.BUTTON,
                     payload=str(query.get("data") or ""), ack=str(query.get("id", "")),
                     language_hint=user.get("language_code"))
    message = update.get("message")
    if not isinstance(message, dict):
        return None  # edits, channel posts, polls, member updates: nothing to answer
    user, chat = message.get("from") or {}, message.get("chat") or {}
    if "id" not in user or user.get("is_bot"):
        return None
    base = {"identity": f"{CHANNEL}:{user['id']}", "channel": CHANNEL,
            "address": str(chat.get("id")), "language_hint": user.get("language_code")}
    command = _command(message)
    if chat.get("type") in GROUP_TYPES:
        # in a group only the group commands (/hubungkan) are ours; the rest is ignored
        if command is None or command[0] not in group_commands:
            return None
        target = _mention(message)
        if target and me and target.lower() != me.lower():
            return None
        return Event(kind=Kind.COMMAND, command=command[0], args=command[1],
                     group=str(chat.get("title") or "grup"), **base)
    if chat.get("type") != "private":
        return None
    if command is not None:
        return Event(kind=Kind.COMMAND, command=command[0], args=command[1], **base)
    text = message.get("text")
    if isinstance(text, str):
        return Event(kind=Kind.TEXT, text=text, **base)
    contact = message.get("contact")
    if isinstance(contact, dict):
        # the "share my contact" button sends the person's own card (user_id == from.id); a
        # contact picked from the address book or forwarded is someone else's: no number
        own = contact.get("user_id") is not None and contact.get("user_id") == user["id"]
        number = e164(str(contact.get("phone_number") or "")) if own else ""
        return Event(kind=Kind.CONTACT, text=number, **base)
    caption = str(message.get("caption") or "")
    photos = message.get("photo")
    if isinstance(photos, list) and photos:
        largest = photos[-1]
        return Event(kind=Kind.MEDIA, media_type="photo", text=caption,
                     media_ref=str(largest.get("file_id", "")), **base)
    document = message.get("document")
    if isinstance(document, dict):
        return Event(kind=Kind.MEDIA, media_type="document", text=caption,
                     media_ref=str(document.get("file_id", "")),
                     media_name=str(document.get("file_name") or ""),
                     media_mime=str(document.get("mime_type") or ""), **base)
    for key in MEDIA_KEYS:
        if key in message:
            return Event(kind=Kind.MEDIA, media_type=key, **base)
    return Event(kind=Kind.OTHER, **base)


def _mention(message: dict[str, Any]) -> str:
    """The bot a command is addressed to ("/link@SiagaWargaBot" -> "SiagaWargaBot")."""
    head = str(message.get("text") or "").split(maxsplit=1)
    return head[0].partition("@")[2] if head else ""


def _command(message: dict[str, Any]) -> tuple[str, str] | None:
    """(command, arguments) when the message starts with a bot command."""
    text = message.get("text")
    if not isinstance(text, str) or not text.startswith("/"):
        return None
    entities = message.get("entities") or []
    head = next((e for e in entities
                 if e.get("type") == "bot_command" and e.get("offset") == 0), None)
    if head is None:
        return None
    length = int(head.get("length") or len(text))  # UTF-16 units; commands are ASCII
    return text[1:length].split("@", 1)[0].lower()[:64], text[length:].strip()


def blocked_by(update: dict[str, Any]) -> tuple[str, bool] | None:
    """(identity, still reachable) when a person blocks or unblocks the bot."""
    member = update.get("my_chat_member")
    if not isinstance(member, dict) or (member.get("chat") or {}).get("type") != "private":
        return None
    status = (member.get("new_chat_member") or {}).get("status")
    return f"{CHANNEL}:{member['from']['id']}", status not in {"kicked", "left"}


def removed_from_group(update: dict[str, Any]) -> str | None:
    """The group's chat id when the bot was removed from a group (its link must go)."""
    member = update.get("my_chat_member")
    if not isinstance(member, dict):
        return None
    chat = member.get("chat") or {}
    status = (member.get("new_chat_member") or {}).get("status")
    if chat.get("type") in GROUP_TYPES and status in {"kicked", "left"}:
        return str(chat.get("id"))
    return None


@contextlib.contextmanager
def _explained(settings: TelegramSettings) -> Iterator[None]:
    """Telegram refusing us at start-up, as one line naming the setting to fix (no secret)."""
    try:
        yield
    except InvalidToken:
        raise ConfigError("TELEGRAM_BOT_TOKEN: Telegram rejected this token "
                          "(check it with @BotFather)") from None
    except Conflict:
        raise ConfigError("TELEGRAM_BOT_TOKEN: another process is already receiving "
                          "this bot's updates; stop it first") from None
    except NetworkError as exc:
        reason = str(exc).replace(settings.bot_token or "", "<token>")
        raise ConfigError(f"TELEGRAM_BASE_URL: cannot reach the Bot API at "
                          f"{settings.base_url} ({reason})") from None


MAX_DOWNLOAD = 5_000_000  # bytes of a photo the bot fetches (a hoax report's picture)


class TelegramChannel:
    name = CHANNEL

    def __init__(self, services: Services, application: Application, intake: Intake) -> None:
        tg = services.settings.telegram
        self.services = services
        self.app = application
        self.bot = application.bot
        self.traits = services.channels.get(CHANNEL) or telegram_traits(
            tg.bot_username, tg.group_per_minute)
        features = services.features
        self.group_commands = features.group_commands() if features else frozenset()
        self.max_concurrent = tg.max_concurrent
        self.replies = TelegramReplies(services.content, services.settings.default_language)
        self._requests: tuple[AiohttpRequest, ...] = ()
        self.backoff = 0.5  # first retry delay of a Bot API call in seconds (tests shorten it)
        self.limiter: Any = None  # the outbox's rate limiter, once the outbox runs
        self.intake = intake
        intake.add(self)
        services.downloads[CHANNEL] = self.download

    async def download(self, file_id: str) -> bytes:
        """The bytes of a photo or document a person sent (Bot API getFile, at most
        ``MAX_DOWNLOAD`` bytes)."""
        file = await self._call("getFile", self.bot.get_file, file_id)
        if file.file_size is not None and file.file_size > MAX_DOWNLOAD:
            raise ValueError(f"file of {file.file_size} bytes is over {MAX_DOWNLOAD}")
        return bytes(await file.download_as_bytearray())

    @classmethod
    def build(cls, services: Services, core: Core, intake: Intake | None = None
              ) -> TelegramChannel:
        """The channel, feeding ``intake`` (the process's, shared by every channel), or an
        intake of its own into ``core``."""
        tg = services.settings.telegram
        # PTB 22 warns on every RetryAfter unless time periods are timedeltas; we handle both.
        os.environ.setdefault("PTB_TIMEDELTA", "true")
        # a button press sends two requests at once (the reply and the callback answer)
        requests = (AiohttpRequest(tg.max_concurrent * 2),
                    AiohttpRequest(1, read_timeout=tg.poll_timeout + 10))
        application = (
            ApplicationBuilder()
            .token(tg.bot_token or "")
            .base_url(tg.base_url)
            .request(requests[0])
            .get_updates_request(requests[1])
            .updater(None)
            .build()
        )
        channel = cls(services, application, intake or Intake(services, core))
        channel._requests = requests
        return channel

    # --- sending -------------------------------------------------------------------------

    async def _call(self, what: str, fn: Any, *args: Any, **kwargs: Any) -> Any:
        """Call the Bot API, waiting out 429s and retrying 5xx/timeouts with backoff. While
        it waits, the update's dispatcher slot goes to other people (``idle``)."""
        delay = self.backoff
        for attempt in range(6):
            try:
                return await fn(*args, **kwargs)
            except RetryAfter as exc:
                async with idle():
                    await asyncio.sleep(seconds(exc.retry_after))
            except (Forbidden, BadRequest, InvalidToken):
                raise
            except (TimedOut, NetworkError) as exc:
                if attempt == 5:
                    raise
                log.warning("%s failed (%s); retrying in %.1fs", what, exc, delay)
                async with idle():
                    await asyncio.sleep(delay)
                delay = min(delay * 2, 30.0)
        raise TimedOut(f"{what}: still rate-limited after retries")

    async def deliver(self, event: Event, lang: str, replies: list[Reply]) -> bool:
        """Send the replies in order (answering a button press alongside); False if blocked.

        Replies that do not ask for the phone number again remove its keyboard, if open."""
        ack = None
        if event.ack:
            ack = asyncio.create_task(self._answer(event.ack))
        close = not any(reply.asks_contact for reply in replies)
        try:
            for reply in replies:
                if self.limiter is not None:  # replies count towards the shared rate
                    await self.limiter.reply_slot()
                try:
                    await self._call("sendMessage", self.replies.send, self.bot,
                                     int(event.address), reply, lang, close_keyboard=close)
                except BadRequest as exc:  # our message is at fault: sending it again won't help
                    log.error("Telegram refused reply %s: %s", reply.text.key, exc)
        except Forbidden:
            log.info("%s blocked the bot or is deactivated", event.identity)
            return False
        except BaseException:
            if ack is not None:
                ack.cancel()
            raise
        if ack is not None:
            await ack
        return True

    async def _answer(self, query_id: str) -> None:
        try:
            await self._call("answerCallbackQuery", self.bot.answer_callback_query, query_id)
        except TelegramError as exc:  # too old to answer: the reply message still arrives
            log.debug("answerCallbackQuery failed: %s", exc)

    @contextlib.asynccontextmanager
    async def outbox(self) -> AsyncIterator[TelegramOutbox]:
        """The transport the outbox sender uses (its own connection pool)."""
        transport = TelegramOutbox(self)
        try:
            await transport.start()
            yield transport
        finally:
            await transport.stop()

    # --- what the intake asks ------------------------------------------------------------

    def external_id(self, raw: dict[str, Any]) -> str | None:
        return str(raw["update_id"]) if "update_id" in raw else None

    def sender_of(self, raw: dict[str, Any]) -> str | None:
        return sender_of(raw)

    def translate(self, raw: dict[str, Any]) -> Event | None:
        return translate(raw, self.services.settings.telegram.bot_username
                         or getattr(self.bot, "username", None), self.group_commands)

    async def prepare(self, event: Event) -> Event:
        if event.group:
            return await self._check_group_admin(event)
        return self._keyboard_press(event)

    def _keyboard_press(self, event: Event) -> Event:
        """A tap on a plain button of the contact keyboard (Lewati, Kembali, Batal) arrives as
        its label: the button press it stands for, while that keyboard is open. The labels
        are kept in memory: after a restart the text reaches the step as typed text, and the
        step asks again (see ``telegram_replies``)."""
        if event.kind != Kind.TEXT:
            return event
        payload = self.replies.keyboards.payload(event.address, event.text)
        if payload is None:
            return event
        return replace(event, kind=Kind.BUTTON, payload=payload, text="")

    async def on_other(self, raw: dict[str, Any]) -> None:
        """A person blocked or unblocked the bot; the bot was removed from a group."""
        membership = blocked_by(raw)
        if membership is not None:
            identity, reachable = membership
            await self.services.store.write(
                lambda tx: tx.people.set_active(identity, reachable))
        group = removed_from_group(raw)
        if group is not None:
            await self.services.store.write(lambda tx: tx.notices.unlink_group(CHANNEL, group))

    def is_unreachable(self, exc: BaseException) -> bool:
        """Timeouts and network errors, 5xx included, after ``_call``'s retries (a 400 is
        our mistake, not an outage)."""
        return isinstance(exc, TimedOut | NetworkError) and not isinstance(exc, BadRequest)

    async def _check_group_admin(self, event: Event) -> Event:
        """Tell the core whether the sender of a group command administers that group."""
        user_id = int(event.identity.split(":", 1)[1])
        try:
            member = await self._call("getChatMember", self.bot.get_chat_member,
                                      int(event.address), user_id)
            admin = member.status in {"creator", "administrator"}
        except TelegramError as exc:
            log.info("cannot check group admin in %s: %s", event.address, exc)
            admin = False
        return replace(event, group_admin=admin)

    # --- lifecycle -----------------------------------------------------------------------

    async def register_commands(self) -> None:
        """Register the command menu in Bahasa Indonesia (default) and English: the commands
        the registered features show residents, described in content."""
        features = self.services.features
        commands = features.public_commands() if features is not None else []
        words = Renderer(self.services.content, "console", "id")
        ids = [BotCommand(c.name, words.render(t(c.description), "id")) for c in commands]
        ens = [BotCommand(c.alias or c.name, words.render(t(c.description), "en"))
               for c in commands]
        await self._call("setMyCommands", self.bot.set_my_commands, ids)
        await self._call("setMyCommands", self.bot.set_my_commands, ens, language_code="en")

    async def start(self) -> None:
        """Connect (retrying a brief network failure) and register the commands."""
        tg = self.services.settings.telegram
        log.info("Telegram channel starting (%s)", "webhook" if tg.webhook else "long polling")
        with _explained(tg):
            delay = self.backoff * 2
            for attempt in range(3):
                try:
                    await self.app.initialize()
                    break
                except (InvalidToken, BadRequest, Forbidden):
                    raise
                except (TimedOut, NetworkError) as exc:
                    if attempt == 2:
                        raise
                    log.warning("cannot reach Telegram yet (%s); retrying in %.0fs", exc,
                                delay)
                    await asyncio.sleep(delay)
                    delay *= 2
            await self.register_commands()

    async def run(self) -> None:
        """Long-poll, or (webhook mode) register the webhook and let the web server receive."""
        tg = self.services.settings.telegram
        with _explained(tg):
            if not tg.webhook:
                await self.poll()
                return
            try:
                await self._call("setWebhook", self.bot.set_webhook, url=tg.webhook_url,
                                 secret_token=tg.webhook_secret,
                                 allowed_updates=["message", "callback_query", "my_chat_member"])
            except BadRequest as exc:
                raise ConfigError(f"TELEGRAM_WEBHOOK_URL: Telegram refused the webhook "
                                  f"({exc.message})") from None
        log.info("Telegram webhook set; receiving at %s", self.webhook_path)
        await asyncio.Event().wait()  # until cancelled

    async def stop(self) -> None:
        """Disconnect; also when start-up failed before PTB initialised."""
        await self.app.shutdown()
        for request in self._requests:
            await request.shutdown()

    async def poll(self) -> None:
        """Long-poll getUpdates; each batch is committed before the next call confirms it.

        Above the intake's backlog cap no getUpdates is sent: Telegram keeps the updates
        (for 24 hours) until the backlog has drained."""
        tg = self.services.settings.telegram
        await self._call("deleteWebhook", self.bot.delete_webhook)
        offset: int | None = None
        delay = 1.0
        while True:
            await self.intake.room()
            try:
                # Bot._post returns the raw JSON; the public get_updates would parse it into
                # objects we would only serialise again to store them verbatim.
                updates = await self.bot._post(
                    "getUpdates",
                    {"offset": offset, "timeout": tg.poll_timeout, "limit": 100},
                    read_timeout=tg.poll_timeout + 10,
                )
                delay = 1.0
            except RetryAfter as exc:
                await asyncio.sleep(seconds(exc.retry_after))
                continue
            except (InvalidToken, Conflict):
                raise
            except TelegramError as exc:  # network trouble or an odd answer: try again
                log.warning("getUpdates failed (%s); retrying in %.0fs", exc, delay)
                await asyncio.sleep(delay)
                delay = min(delay * 2, 30.0)
                continue
            if not updates:
                continue
            try:
                await self.intake.record(CHANNEL, updates)
            except StorageFull:  # (logged once by the database) not confirmed: sent again
                await asyncio.sleep(delay)
                continue
            except Exception:  # not confirmed: Telegram sends the batch again
                log.exception("could not record %d updates; retrying", len(updates))
                await asyncio.sleep(delay)
                continue
            offset = max(u["update_id"] for u in updates) + 1

    # --- webhook -------------------------------------------------------------------------

    @property
    def webhook_path(self) -> str:
        return urlparse(self.services.settings.telegram.webhook_url or "").path or "/"

    def routes(self) -> list[Route]:
        """Telegram's POSTs on the web server, in webhook mode."""
        if not self.services.settings.telegram.webhook:
            return []
        return [Route("POST", self.webhook_path, self.receive)]

    async def receive(self, request: web.Request) -> web.Response:
        """One update from Telegram: secret checked, committed, then (only then) 200.

        503 while the backlog is above its cap or the update cannot be stored (a full disk):
        Telegram keeps it and sends it again later."""
        secret = (self.services.settings.telegram.webhook_secret or "").encode()
        given = request.headers.get(SECRET_HEADER, "").encode()
        if not secret or not hmac.compare_digest(given, secret):
            return web.Response(status=403, text="forbidden")
        try:
            update = await read_json(request)
        except ValueError:
            return web.Response(status=400, text="bad json")
        if not isinstance(update, dict) or not isinstance(update.get("update_id"), int):
            return web.Response(status=400, text="not an update")
        if not self.intake.accepting():
            return web.Response(status=503, text="busy, send again later")
        try:
            await self.intake.record(CHANNEL, [update])
        except StorageFull:
            return web.Response(status=503, text="cannot store now, send again later")
        return web.Response(text="ok")
