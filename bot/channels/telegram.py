"""The Telegram channel: translate updates to events and render replies with python-telegram-bot.

Every update is written to the inbox before Telegram is told we have it: in polling mode the
next getUpdates (whose offset confirms the batch) is only sent after the batch is committed;
in webhook mode the HTTP 200 is only sent after the update is committed. Items are then
handled by the dispatcher and marked done in the same commit as the person's new state.
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import json
import logging
import os
from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import timedelta
from typing import Any
from urllib.parse import urlparse

from aiohttp import web
from telegram import Bot, BotCommand, InlineKeyboardButton, InlineKeyboardMarkup, Message
from telegram.constants import ParseMode
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

from bot.channels.dispatcher import Dispatcher
from bot.channels.http import AiohttpRequest
from bot.config import ConfigError
from bot.context import Services
from bot.core import Core
from bot.events import Event, Kind, Reply
from bot.render import Renderer
from bot.router import PUBLIC_COMMANDS
from db.repositories.inbox import InboxItem, NewUpdate

log = logging.getLogger(__name__)

CHANNEL = "telegram"
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
GROUP_TYPES = ("group", "supergroup")
GROUP_COMMANDS = ("hubungkan", "link", "putuskan", "unlink")
MEDIA_KEYS = ("sticker", "photo", "video", "voice", "audio", "document", "animation",
              "video_note")
COMMAND_DESCRIPTIONS = {
    "id": {
        "start": "Mulai / daftar ke RT", "menu": "Menu utama", "info": "Info protokol kesehatan",
        "gejala": "Lapor gejala", "relawan": "Jadi relawan", "hoaks": "Lapor hoaks",
        "cekfakta": "Cek fakta", "pengumuman": "Pengumuman RT/RW", "darurat": "Kontak darurat",
        "pengaturan": "Bahasa, RT, pengumuman", "bantuan": "Bantuan",
        "hapusdata": "Hapus semua data saya",
    },
    "en": {
        "start": "Start / register with your RT", "menu": "Main menu",
        "info": "Health-protocol info", "symptoms": "Report symptoms",
        "volunteer": "Become a volunteer", "hoax": "Report a hoax", "factcheck": "Check facts",
        "notices": "RT/RW notices", "emergency": "Emergency contacts",
        "settings": "Language, RT, notices", "help": "Help",
        "deletemydata": "Delete all my data",
    },
}


def sender_of(update: dict[str, Any]) -> str | None:
    """The identity an update belongs to (its ordering key), if any."""
    for key in ("message", "edited_message", "callback_query", "my_chat_member"):
        body = update.get(key)
        if isinstance(body, dict) and isinstance(body.get("from"), dict):
            return f"{CHANNEL}:{body['from'].get('id')}"
    return None


def translate(update: dict[str, Any], me: str | None = None) -> Event | None:
    """Turn a raw Telegram update into a neutral event; None for updates we do not answer.

    ``me`` is the bot's username: in a group, ``/hubungkan@OtherBot`` is not for us."""
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
        # in a group only /hubungkan (/link) is ours; everything else there is ignored
        if command is None or command[0] not in GROUP_COMMANDS:
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


def _seconds(value: int | float | timedelta) -> float:
    return value.total_seconds() if isinstance(value, timedelta) else float(value)


class TelegramChannel:
    def __init__(self, services: Services, core: Core, application: Application) -> None:
        self.services = services
        self.core = core
        self.app = application
        self.bot = application.bot
        lang = services.settings.default_language
        self.renderer = Renderer(services.content, "telegram", lang)
        self.labels = Renderer(services.content, "console", lang)  # button labels are plain
        self.dispatcher = Dispatcher(self._process, services.settings.telegram.max_concurrent)
        self._stop = asyncio.Event()
        self._requests: tuple[AiohttpRequest, ...] = ()
        self.backoff = 0.5  # first retry delay in seconds (tests shorten it)
        self.limiter: Any = None  # the outbox's rate limiter, once the outbox runs

    @classmethod
    def build(cls, services: Services, core: Core) -> TelegramChannel:
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
        channel = cls(services, core, application)
        channel._requests = requests
        return channel

    # --- sending -------------------------------------------------------------------------

    def markup(self, reply: Reply, lang: str) -> InlineKeyboardMarkup | None:
        if not reply.buttons:
            return None
        return InlineKeyboardMarkup([
            [InlineKeyboardButton(self.labels.render(b.label, lang), callback_data=b.payload)
             for b in row]
            for row in reply.buttons
        ])

    async def send_reply(self, bot: Bot, chat_id: int, reply: Reply, lang: str) -> Message:
        """Send one reply: a text message, or a photo/document with the text as caption."""
        text = self.renderer.render(reply.text, lang)
        markup = self.markup(reply, lang)
        if reply.media is not None and reply.media.kind == "photo":
            return await bot.send_photo(chat_id, reply.media.ref, caption=text,
                                        parse_mode=ParseMode.HTML, reply_markup=markup)
        if reply.media is not None:
            return await bot.send_document(chat_id, reply.media.ref, caption=text,
                                           parse_mode=ParseMode.HTML, reply_markup=markup)
        return await bot.send_message(chat_id, text, parse_mode=ParseMode.HTML,
                                      reply_markup=markup, disable_web_page_preview=True)

    async def _call(self, what: str, fn: Any, *args: Any, **kwargs: Any) -> Any:
        """Call the Bot API, waiting out 429s and retrying 5xx/timeouts with backoff."""
        delay = self.backoff
        for attempt in range(6):
            try:
                return await fn(*args, **kwargs)
            except RetryAfter as exc:
                await asyncio.sleep(_seconds(exc.retry_after))
            except (Forbidden, BadRequest, InvalidToken):
                raise
            except (TimedOut, NetworkError) as exc:
                if attempt == 5:
                    raise
                log.warning("%s failed (%s); retrying in %.1fs", what, exc, delay)
                await asyncio.sleep(delay)
                delay = min(delay * 2, 30.0)
        raise TimedOut(f"{what}: still rate-limited after retries")

    async def deliver(self, event: Event, lang: str, replies: list[Reply]) -> bool:
        """Send the replies in order (answering a button press alongside); False if blocked."""
        ack = None
        if event.ack:
            ack = asyncio.create_task(self._answer(event.ack))
        try:
            for reply in replies:
                if self.limiter is not None:  # replies count towards the rate, never wait
                    self.limiter.take()
                try:
                    await self._call("sendMessage", self.send_reply, self.bot,
                                     int(event.address), reply, lang)
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

    # --- the inbox -----------------------------------------------------------------------

    async def record(self, updates: list[dict[str, Any]]) -> list[InboxItem]:
        """Commit raw updates to the inbox; return the ones not seen before."""
        rows = [NewUpdate(str(u["update_id"]), sender_of(u), json.dumps(u, ensure_ascii=False))
                for u in updates if "update_id" in u]
        now = self.services.clock.now()
        return await self.services.store.write(lambda tx: tx.inbox.record(CHANNEL, rows,
                                                                                  now))

    async def _process(self, item: InboxItem) -> None:
        clock = self.services.clock

        async def finish(tx: Any, error: str | None = None) -> None:
            await tx.inbox.finish(item.id, clock.now(), error)

        try:
            update = json.loads(item.payload)
            event = translate(update, self.services.settings.telegram.bot_username
                              or getattr(self.bot, "username", None))
            if event is None:
                membership = blocked_by(update)
                if membership is not None:
                    identity, reachable = membership
                    await self.services.store.write(
                        lambda tx: tx.people.set_active(identity, reachable))
                group = removed_from_group(update)
                if group is not None:
                    await self.services.store.write(
                        lambda tx: tx.notices.unlink_group(CHANNEL, group))
                await self.services.store.write(finish)
                return
            if event.group:
                event = await self._check_group_admin(event)
            delay = self.backoff * 10
            while True:
                try:
                    await self.core.handle(event, self.deliver, finish)
                    return
                except (TimedOut, NetworkError) as exc:
                    if isinstance(exc, BadRequest):
                        raise
                    # Telegram unreachable: keep the update (and this person's next ones)
                    # and answer it once Telegram is back; its state was not saved.
                    log.warning("update %s not delivered (%s); retrying in %.0fs",
                                item.external_id, exc, delay)
                    await asyncio.sleep(delay)
                    delay = min(delay * 2, 120.0)
        except Exception as exc:
            log.exception("update %s failed", item.external_id)
            error = f"{type(exc).__name__}: {exc}"[:500]
            await self.services.store.write(lambda tx: finish(tx, error))

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

    async def resume_pending(self) -> int:
        """Hand every update left unfinished by a previous run to the dispatcher."""
        items = await self.services.store.reads.inbox.pending(CHANNEL)
        # a webhook may have recorded them out of order; Telegram's update ids are in order
        items.sort(key=lambda it: int(it.external_id) if it.external_id.isdigit() else 0)
        for item in items:
            self.dispatcher.submit(item)
        if items:
            log.info("resuming %d unfinished updates from the inbox", len(items))
        return len(items)

    @contextlib.asynccontextmanager
    async def outbox(self) -> AsyncIterator[Any]:
        """The transport the outbox sender uses (its own connection pool)."""
        from bot.channels.telegram_outbox import TelegramOutbox

        transport = TelegramOutbox(self)
        try:
            await transport.start()
            yield transport
        finally:
            await transport.stop()

    # --- lifecycle -----------------------------------------------------------------------

    async def register_commands(self) -> None:
        """Register the command menu in Bahasa Indonesia (default) and English."""
        ids = [BotCommand(i, COMMAND_DESCRIPTIONS["id"][i]) for i, _ in PUBLIC_COMMANDS]
        ens = [BotCommand(e, COMMAND_DESCRIPTIONS["en"][e]) for _, e in PUBLIC_COMMANDS]
        await self._call("setMyCommands", self.bot.set_my_commands, ids)
        await self._call("setMyCommands", self.bot.set_my_commands, ens, language_code="en")

    async def start(self) -> None:
        """Connect (retrying a brief network failure), register commands, resume the inbox."""
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
                log.warning("cannot reach Telegram yet (%s); retrying in %.0fs", exc, delay)
                await asyncio.sleep(delay)
                delay *= 2
        await self.register_commands()
        await self.resume_pending()

    async def stop(self, grace: float = 10.0) -> None:
        """Stop taking updates, let the ones in hand finish (up to ``grace`` s), shut down."""
        self._stop.set()
        try:
            await asyncio.wait_for(self.dispatcher.join(), timeout=grace)
        except TimeoutError:
            log.warning("stopping with %d updates unfinished; they resume at next start",
                        self.dispatcher.backlog)
        await self.dispatcher.cancel()
        await self.app.shutdown()
        for request in self._requests:  # also when start-up failed before PTB initialised
            await request.shutdown()

    async def poll(self) -> None:
        """Long-poll getUpdates; each batch is committed before the next call confirms it."""
        tg = self.services.settings.telegram
        await self._call("deleteWebhook", self.bot.delete_webhook)
        offset: int | None = None
        delay = 1.0
        while not self._stop.is_set():
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
                await asyncio.sleep(_seconds(exc.retry_after))
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
                fresh = await self.record(updates)
            except Exception:  # not confirmed: Telegram sends the batch again
                log.exception("could not record %d updates; retrying", len(updates))
                await asyncio.sleep(delay)
                continue
            for item in fresh:
                self.dispatcher.submit(item)
            offset = max(u["update_id"] for u in updates) + 1

    async def run_polling(self) -> None:
        try:
            await self.start()
            await self.poll()
        finally:
            await self.stop()

    # --- webhook -------------------------------------------------------------------------

    def webhook_app(self) -> web.Application:
        """The aiohttp app that receives Telegram's POSTs (secret checked on every request)."""
        tg = self.services.settings.telegram
        secret = (tg.webhook_secret or "").encode()
        path = urlparse(tg.webhook_url or "").path or "/"

        async def receive(request: web.Request) -> web.Response:
            given = request.headers.get(SECRET_HEADER, "").encode()
            if not secret or not hmac.compare_digest(given, secret):
                return web.Response(status=403, text="forbidden")
            try:
                update = await request.json()
            except (json.JSONDecodeError, UnicodeDecodeError):
                return web.Response(status=400, text="bad json")
            if not isinstance(update, dict) or not isinstance(update.get("update_id"), int):
                return web.Response(status=400, text="not an update")
            for item in await self.record([update]):
                self.dispatcher.submit(item)
            return web.Response(text="ok")

        async def health(_: web.Request) -> web.Response:
            return web.Response(text="ok")

        app = web.Application(client_max_size=1024 * 1024)
        app.router.add_post(path, receive)
        app.router.add_get("/healthz", health)
        return app

    async def run_webhook(self) -> None:
        s = self.services.settings
        runner = web.AppRunner(self.webhook_app(), access_log=None)
        try:
            await self.start()
            await runner.setup()
            try:
                await web.TCPSite(runner, s.http_host, s.http_port).start()
            except OSError as exc:
                raise ConfigError(f"SIAGA_HTTP_PORT: cannot listen on {s.http_host}:"
                                  f"{s.http_port} ({exc.strerror})") from None
            try:
                await self._call("setWebhook", self.bot.set_webhook,
                                 url=s.telegram.webhook_url,
                                 secret_token=s.telegram.webhook_secret,
                                 allowed_updates=["message", "callback_query", "my_chat_member"])
            except BadRequest as exc:
                raise ConfigError(f"TELEGRAM_WEBHOOK_URL: Telegram refused the webhook "
                                  f"({exc.message})") from None
            log.info("webhook listening on %s:%s", s.http_host, s.http_port)
            await self._stop.wait()
        finally:
            await runner.cleanup()
            await self.stop()
