"""Route a neutral event to the feature that answers it, by walking the catalog.

Commands (Indonesian names and English aliases) work from anywhere; a newcomer is welcomed
first, except for the few commands meant for everyone. A button's data is decoded into its
typed kind before any handler runs: forged, stale or malformed data gets a clear answer, and
a button that belongs to a step is accepted only on that step. Typed text and media go to the
flow the person is in, or to the step a message of the bot left them on (a review request's
Approve / Reject). Nothing is ever left unanswered; inside a flow, the step's question is
asked again.
"""

from __future__ import annotations

from bot import callbacks
from bot.context import Context
from bot.events import Kind, Reply
from bot.feature import Catalog, Who
from bot.flow import Back, Cancel, Flow
from bot.menu import main_menu

WELCOME = "start"  # the command that greets newcomers (every channel's entry command)


def error_replies(ctx: Context) -> list[Reply]:
    return [main_menu(ctx, "fallback.error")]


def _catalog(ctx: Context) -> Catalog:
    assert ctx.services.features is not None, "open_services registers the features"
    return ctx.services.features


async def _explain(ctx: Context, key: str, **params: str) -> list[Reply]:
    """Say ``key``; inside a flow, ask its step's question again, else show the menu."""
    flow = _catalog(ctx).flow(ctx.conv.flow)
    if flow is not None:
        return await flow.again(ctx, key, **params)
    return [main_menu(ctx, key, **params)]


async def _welcome(ctx: Context) -> list[Reply]:
    command = _catalog(ctx).command(WELCOME)
    return await command.handler(ctx) if command else [main_menu(ctx)]


async def _command(ctx: Context) -> list[Reply]:
    name = ctx.event.command
    command = _catalog(ctx).command(name)
    if command is None:
        return await _explain(ctx, "fallback.unknown_command", command=name)
    if command.who == Who.GROUP:
        return await _explain(ctx, "group.use_in_group")
    if ctx.is_new and command.who != Who.EVERYONE:
        return await _welcome(ctx)  # a newcomer's first word starts onboarding
    return await command.handler(ctx)


async def _button(ctx: Context) -> list[Reply]:
    catalog = _catalog(ctx)
    data = callbacks.decode(ctx.event.payload)
    flow = catalog.flow(ctx.conv.flow)
    if flow is not None and isinstance(data, Back) and \
            (data.flow, data.step) == (ctx.conv.flow, ctx.conv.step):
        return await flow.back(ctx)
    if flow is not None and isinstance(data, Cancel) and data.flow == ctx.conv.flow:
        return await flow.cancel(ctx)
    on = catalog.handler_for(data, ctx) if data is not None else None
    replies = await on.press(ctx, data) if on is not None else None
    if replies is None:
        return await _explain(ctx, "fallback.stale_button")
    return replies


async def _resumed(ctx: Context) -> Flow | None:
    """Outside a flow, the step a message of the bot left the person on (a review request's
    Approve / Reject), if a feature puts them back on it: typed text answers that step."""
    for feature in _catalog(ctx).features:
        if feature.resume is not None and await feature.resume(ctx):
            return _catalog(ctx).flow(ctx.conv.flow)
    return None


async def route(ctx: Context) -> list[Reply]:
    """Return the replies to one event."""
    event = ctx.event
    if event.group:  # in a group chat only the group commands are answered
        command = _catalog(ctx).command(event.command)
        return await command.handler(ctx) if command and command.who == Who.GROUP else []
    if event.kind == Kind.COMMAND:
        return await _command(ctx)
    if ctx.is_new:
        return await _welcome(ctx)
    if event.kind == Kind.BUTTON:
        return await _button(ctx)
    flow = _catalog(ctx).flow(ctx.conv.flow) or await _resumed(ctx)
    if flow is not None:
        return await flow.take(ctx)
    if event.kind == Kind.TEXT:
        return [main_menu(ctx, "fallback.text")]
    return [main_menu(ctx, "fallback.media" if event.kind == Kind.MEDIA else
                      "fallback.other")]
