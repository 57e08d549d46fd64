"""One way to write a multi-step conversation: a flow is a set of named steps.

A step says its question (with its buttons), what it takes typed (text, and media where it
allows), and which step Back returns to. The router uses this for every flow alike: typed
input goes to the step or gets "please use the buttons" and the question again; an old
button, a sticker or an unknown command gets a short answer and the question again; Back and
Cancel behave the same everywhere::

    Flow("example", {
        "name": Step(ask=ask_name, typed=take_name, next="size"),
        "size": Step(ask=ask_size),      # its buttons are registered with
    }, cancel_key="example.cancelled")   # On(Kind, handler, flow, steps)

A step that shows a ``contact_button`` (the person's own phone number, never typed by hand)
is a ``Step(contact=True)``: the shared number (a ``Kind.CONTACT`` event, ``ctx.event.text``
"+62…", or "" when the person shared someone else's contact) goes to its ``typed``; typed
text gets "please use the buttons" and the question again (on Telegram, a tap on one of that
keyboard's other buttons arrives as its button, see ``bot/channels/telegram_replies.py``).

A step's handler stores the answer in ``ctx.conv.data`` and calls ``flow.advance(ctx)`` (to
its ``next``) or ``flow.go(ctx, step)`` where the answer decides the way on.
"""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any

from bot.callbacks import Callback
from bot.context import Context
from bot.events import Button, Kind, Reply, button, say
from bot.menu import main_menu

Ask = Callable[[Context], Reply | Awaitable[Reply]]
TRAIL = "_trail"  # the steps the person came through, for Back
Take = Callable[[Context], Awaitable[list[Reply]]]


@dataclass(frozen=True)
class Back(Callback, prefix="back"):
    """Back to the step before, pressed on ``step`` of ``flow`` (stale anywhere else)."""

    flow: str
    step: str


@dataclass(frozen=True)
class Cancel(Callback, prefix="cancel"):
    """Leave ``flow``, keeping nothing of it (stale outside that flow)."""

    flow: str


@dataclass(frozen=True)
class Step:
    ask: Ask  # the question, with its buttons (``Flow.back_row`` / ``cancel_row`` add those)
    typed: Take | None = None  # takes a typed answer (``ctx.event.text``)
    media: bool = False  # ``typed`` also takes a photo or document
    contact: bool = False  # ``typed`` takes a shared phone number (``Kind.CONTACT``), no text
    back: str | None = None  # where Back goes when the person did not come from a step
    next: str | None = None  # where an accepted answer leads (``Flow.advance``), if fixed


@dataclass(frozen=True)
class Flow:
    name: str
    steps: Mapping[str, Step]
    cancel_key: str = "menu.title"  # heading of the menu shown when the flow is left
    on_cancel: Take | None = None  # instead of the menu (e.g. back to a list)
    first: str = ""

    def current(self, ctx: Context) -> Step:
        return self.steps.get(ctx.conv.step or "") or self.steps[self.first or next(
            iter(self.steps))]

    def start(self, ctx: Context, step: str, **data: Any) -> None:
        """Enter the flow at ``step`` with fresh answers."""
        ctx.conv.go(self.name, step, **data)

    async def ask(self, ctx: Context) -> Reply:
        """The question of the step the person is on."""
        reply = self.current(ctx).ask(ctx)
        return await reply if inspect.isawaitable(reply) else reply

    async def go(self, ctx: Context, step: str) -> list[Reply]:
        """Move to ``step`` (keeping the answers so far) and ask its question; Back from
        there returns to the step the person is on now."""
        here = ctx.conv.step
        if ctx.conv.flow == self.name and here and here != step:
            ctx.conv.data.setdefault(TRAIL, []).append(here)
        ctx.conv.flow, ctx.conv.step = self.name, step
        return [await self.ask(ctx)]

    async def advance(self, ctx: Context) -> list[Reply]:
        """Go on to the current step's ``next`` step and ask its question."""
        following = self.current(ctx).next
        if following is None:
            raise ValueError(f"{self.name}/{ctx.conv.step} has no next step")
        return await self.go(ctx, following)

    def toggle(self, ctx: Context, field: str, key: str) -> list[str]:
        """A several-at-once answer: add ``key`` to the list ``field`` of the answers, or
        take it out if it is there; the list as it now is."""
        chosen: list[str] = ctx.conv.data.setdefault(field, [])
        if key in chosen:
            chosen.remove(key)
        else:
            chosen.append(key)
        return chosen

    def back_row(self, ctx: Context, key: str = "common.back") -> list[Button]:
        """A Back button for the step the person is on."""
        return [button(key, Back(self.name, ctx.conv.step or self.first).pack())]

    def cancel_row(self, key: str = "common.cancel") -> list[Button]:
        """A button that leaves this flow."""
        return [button(key, Cancel(self.name).pack())]

    async def again(self, ctx: Context, key: str, **params: Any) -> list[Reply]:
        """Say ``key``, then ask the step's question again."""
        return [say(key, **params), await self.ask(ctx)]

    async def take(self, ctx: Context) -> list[Reply]:
        """Give typed text (or media, or a shared phone number, where the step takes it) to
        the step."""
        step, kind = self.current(ctx), ctx.event.kind
        if step.typed is not None and (
                (kind == Kind.TEXT and not step.contact) or (kind == Kind.MEDIA and step.media)
                or (kind == Kind.CONTACT and step.contact)):
            return await step.typed(ctx)
        if kind == Kind.TEXT:
            return await self.again(ctx, "fallback.use_buttons")
        return await self.again(ctx, "fallback.media" if kind == Kind.MEDIA else
                                "fallback.other")

    async def back(self, ctx: Context) -> list[Reply]:
        """To the step the person came from (else the step's ``back``); from the first step,
        out of the flow."""
        trail: list[str] = ctx.conv.data.get(TRAIL, [])
        target = trail.pop() if trail else self.current(ctx).back
        if target is None or target not in self.steps:
            return await self.cancel(ctx)
        ctx.conv.step = target
        return [await self.ask(ctx)]

    async def cancel(self, ctx: Context) -> list[Reply]:
        ctx.conv.clear()
        if self.on_cancel is not None:
            return await self.on_cancel(ctx)
        return [main_menu(ctx, self.cancel_key)]
