"""One way to write a multi-step conversation: a flow is a set of named steps.

A step says its question (with its buttons), what it takes typed (text, and media where it
allows), and which step Back returns to. The router uses this for every flow alike: typed
input goes to the step or gets "please use the buttons" and the question again; an old
button, a sticker or an unknown command gets a short answer and the question again; Back and
Cancel behave the same everywhere::

    Flow("example", {
        "name": Step(ask=ask_name, typed=take_name),
        "size": Step(ask=ask_size, back="name"),   # its buttons are registered with
    }, cancel_key="example.cancelled")             # On(Kind, handler, flow, steps)
"""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from bot.callbacks import Callback
from bot.context import Context
from bot.events import Kind, Reply, say
from bot.menu import main_menu

Ask = Callable[[Context], Reply | Awaitable[Reply]]
Take = Callable[[Context], Awaitable[list[Reply]]]


@dataclass(frozen=True)
class Back(Callback, prefix="back"):
    """Back to the previous step of the flow the person is in (or leave its first step)."""


@dataclass(frozen=True)
class Cancel(Callback, prefix="cancel"):
    """Leave the flow the person is in, keeping nothing of it."""


@dataclass(frozen=True)
class Step:
    ask: Ask  # the question, with its buttons
    typed: Take | None = None  # takes a typed answer (``ctx.event.text``)
    media: bool = False  # ``typed`` also takes a photo or document
    back: str | None = None  # where Back goes; None: Back leaves the flow


@dataclass(frozen=True)
class Flow:
    name: str
    steps: Mapping[str, Step]
    cancel_key: str = "menu.title"  # heading of the menu shown when the flow is left
    on_cancel: Take | None = None  # instead of the menu (e.g. back to a list)
    first: str = field(default="")

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
        """Move to ``step`` (keeping the answers so far) and ask its question."""
        ctx.conv.flow, ctx.conv.step = self.name, step
        return [await self.ask(ctx)]

    async def again(self, ctx: Context, key: str, **params: Any) -> list[Reply]:
        """Say ``key``, then ask the step's question again."""
        return [say(key, **params), await self.ask(ctx)]

    async def take(self, ctx: Context) -> list[Reply]:
        """Give typed text (or media, where the step takes it) to the step."""
        step, kind = self.current(ctx), ctx.event.kind
        if step.typed is not None and (kind == Kind.TEXT or (kind == Kind.MEDIA and step.media)):
            return await step.typed(ctx)
        if kind == Kind.TEXT:
            return await self.again(ctx, "fallback.use_buttons")
        return await self.again(ctx, "fallback.media" if kind == Kind.MEDIA else
                                "fallback.other")

    async def back(self, ctx: Context) -> list[Reply]:
        step = self.current(ctx)
        if step.back is None:
            return await self.cancel(ctx)
        return await self.go(ctx, step.back)

    async def cancel(self, ctx: Context) -> list[Reply]:
        ctx.conv.clear()
        if self.on_cancel is not None:
            return await self.on_cancel(ctx)
        return [main_menu(ctx, self.cancel_key)]
