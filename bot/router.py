"""Route a neutral event to its handler.

Commands (Indonesian and English names) and stateless buttons work from anywhere; buttons
that belong to a step (language, consent, area, confirmations) are accepted only on that
step, so an old or forged button gets a clear answer instead of acting. Nothing is ever
left unanswered.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from bot.context import Context
from bot.events import Kind, Reply, say
from bot.handlers import (
    announcements,
    broadcast,
    coordinator,
    emergency,
    group,
    help,
    info,
    menu,
    moderation,
    onboarding,
    privacy,
    settings,
    soon,
)
from bot.handlers.language import language_reply

Handler = Callable[[Context], Awaitable[list[Reply]]]

COMMANDS: dict[str, Handler] = {
    "start": onboarding.start,
    "menu": menu.show,
    "info": info.topics,
    "gejala": soon.not_yet("gejala"),
    "relawan": soon.not_yet("relawan"),
    "hoaks": soon.not_yet("hoaks"),
    "cekfakta": soon.not_yet("cekfakta"),
    "pengumuman": announcements.latest,
    "darurat": emergency.show,
    "pengaturan": settings.show,
    "bantuan": help.show,
    "hapusdata": privacy.ask,
    "undangan": coordinator.invites,
    "siaran": broadcast.home,
    "hubungkan": group.link,
    "putuskan": group.unlink,
}
GROUP_COMMANDS = {"hubungkan": group.link, "putuskan": group.unlink}
ALIASES = {
    "help": "bantuan",
    "symptoms": "gejala",
    "volunteer": "relawan",
    "hoax": "hoaks",
    "factcheck": "cekfakta",
    "notices": "pengumuman",
    "emergency": "darurat",
    "settings": "pengaturan",
    "deletemydata": "hapusdata",
    "invite": "undangan",
    "broadcast": "siaran",
    "link": "hubungkan",
    "unlink": "putuskan",
}
# Main-menu buttons ("m:<command>") run the command of the same name.
MENU_ITEMS = {payload.split(":", 1)[1] for payload, _ in menu.ITEMS}

# Commands Telegram shows in its menu, (id, en) name pairs; /undangan is for coordinators.
PUBLIC_COMMANDS = (
    ("start", "start"), ("menu", "menu"), ("info", "info"), ("gejala", "symptoms"),
    ("relawan", "volunteer"), ("hoaks", "hoax"), ("cekfakta", "factcheck"),
    ("pengumuman", "notices"), ("darurat", "emergency"), ("pengaturan", "settings"),
    ("bantuan", "help"), ("hapusdata", "deletemydata"),
)


def error_replies(ctx: Context) -> list[Reply]:
    return [menu.main_menu(ctx, "fallback.error")]


async def _in_flow_reprompt(ctx: Context, key: str, **params: str) -> list[Reply] | None:
    """Say ``key`` and ask the current step's question again, if the person is in a flow."""
    if ctx.conv.flow == onboarding.FLOW:
        return [say(key, **params), onboarding.prompt(ctx)]
    if ctx.conv.flow == settings.FLOW and ctx.conv.step == "language":
        return [say(key, **params), language_reply(ctx, "settings.pick_language")]
    if ctx.conv.flow == privacy.FLOW and ctx.conv.data.get("nonce"):
        return [say(key, **params), await privacy.confirm_reply(ctx)]
    if ctx.conv.flow == broadcast.FLOW:
        return [say(key, **params), broadcast.prompt(ctx)]
    if ctx.conv.flow == moderation.FLOW:
        return [say(key, **params), moderation.reason_prompt(ctx)]
    return None


async def _button(ctx: Context, payload: str) -> list[Reply] | None:
    kind, _, arg = payload.partition(":")
    if payload == "menu":
        return await menu.show(ctx)
    if kind == "m" and arg in MENU_ITEMS:
        return await COMMANDS[arg](ctx)
    if payload == "topics":
        return await info.topics(ctx)
    if kind == "topic":
        return await info.page(ctx, arg)
    if payload == "join":
        return await onboarding.join(ctx)
    if kind == "lang":
        if ctx.conv.flow == settings.FLOW:
            return await settings.on_language(ctx, arg)
        return await onboarding.on_language(ctx, arg)
    if kind == "consent":
        return await onboarding.on_consent(ctx, arg)
    if kind in {"kel", "rw", "rt"} or payload == "back":
        return await onboarding.on_area(ctx, kind, arg)
    if kind == "join":
        return await onboarding.on_join(ctx, arg)
    if kind == "del":
        return await privacy.on_answer(ctx, arg)
    if kind == "set":
        return await _settings_button(ctx, arg)
    if kind == "bc":
        return await broadcast.on_button(ctx, arg)
    if payload == "mod:back" and ctx.conv.flow == moderation.FLOW:
        return await moderation.back(ctx)
    if kind == "mod":
        return await moderation.on_button(ctx, arg)
    return None


async def _settings_button(ctx: Context, arg: str) -> list[Reply] | None:
    if arg == "lang":
        return await settings.ask_language(ctx)
    if arg == "area":
        return await onboarding.change_area(ctx)
    if arg == "notices":
        return await settings.toggle_notices(ctx)
    if arg == "erase":
        return await privacy.ask(ctx)
    return None


async def route(ctx: Context) -> list[Reply]:
    """Return the replies to one event."""
    event = ctx.event
    if event.group:  # in a group chat only the group commands are answered
        name = ALIASES.get(event.command, event.command)
        handler = GROUP_COMMANDS.get(name)
        return await handler(ctx) if handler is not None else []
    if event.kind == Kind.COMMAND:
        name = ALIASES.get(event.command, event.command)
        if name in GROUP_COMMANDS:
            key = "group.use_in_group"
            return await _in_flow_reprompt(ctx, key) or [menu.main_menu(ctx, key)]
        handler = COMMANDS.get(name)
        if handler is None:
            key, command = "fallback.unknown_command", event.command
            return await _in_flow_reprompt(ctx, key, command=command) or [
                menu.main_menu(ctx, key, command=command)
            ]
        if ctx.is_new and name not in {"start", "hapusdata", "bantuan", "darurat"}:
            return await onboarding.start(ctx)  # a newcomer's first word starts onboarding
        return await handler(ctx)
    if ctx.is_new:
        return await onboarding.start(ctx)
    if event.kind == Kind.BUTTON:
        replies = await _button(ctx, event.payload)
        if replies is not None:
            return replies
        return await _in_flow_reprompt(ctx, "fallback.stale_button") or [
            menu.main_menu(ctx, "fallback.stale_button")
        ]
    if ctx.conv.flow == broadcast.FLOW and event.kind in {Kind.TEXT, Kind.MEDIA}:
        return await broadcast.on_message(ctx)
    if ctx.conv.flow == moderation.FLOW and event.kind == Kind.TEXT:
        return await moderation.on_text(ctx)
    if event.kind == Kind.TEXT:
        if ctx.conv.flow == onboarding.FLOW:
            return await onboarding.on_text(ctx)
        return await _in_flow_reprompt(ctx, "fallback.use_buttons") or [
            menu.main_menu(ctx, "fallback.text")
        ]
    key = "fallback.media" if event.kind == Kind.MEDIA else "fallback.other"
    return await _in_flow_reprompt(ctx, key) or [menu.main_menu(ctx, key)]
