"""The console channel: a terminal chat using the same handlers and database.

Buttons are shown as numbered choices; type the number to press one. Lines starting with
``/`` are commands. ``/quit`` or end of input leaves.
"""

from __future__ import annotations

import asyncio
import os
import sys
from typing import TextIO

from bot.broadcasting.outbox import Delivery, RateLimiter
from bot.channels.traits import CONSOLE
from bot.core import Core
from bot.events import Event, Kind, Reply
from bot.render import Renderer

CHANNEL = "console"


def parse_line(line: str, identity: str, address: str, buttons: list[str],
               language_hint: str | None) -> Event | None:
    """Translate one typed line into an event (None for an empty line)."""
    text = line.strip()
    base = {"identity": identity, "channel": CHANNEL, "address": address,
            "language_hint": language_hint}
    if not text:
        return None
    if text.isdigit() and buttons:
        index = int(text) - 1
        if 0 <= index < len(buttons):
            return Event(kind=Kind.BUTTON, payload=buttons[index], **base)
    if text.startswith("/") and len(text) > 1:
        command, _, args = text[1:].partition(" ")
        return Event(kind=Kind.COMMAND, command=command.lower(), args=args.strip(), **base)
    return Event(kind=Kind.TEXT, text=text, **base)


def language_from_locale(environ: dict[str, str] | None = None) -> str | None:
    env = os.environ if environ is None else environ
    value = env.get("LC_ALL") or env.get("LANG") or ""
    code = value.split("_")[0].split(".")[0].lower()
    return code if len(code) == 2 else None


class ConsoleChannel:
    """One person chatting in this terminal; not an intake channel (nothing to re-deliver)."""

    name = CHANNEL
    traits = CONSOLE

    def __init__(self, core: Core, renderer: Renderer, user: str = "demo",
                 stdin: TextIO | None = None, stdout: TextIO | None = None,
                 language_hint: str | None = None) -> None:
        self.core = core
        self.renderer = renderer
        self.identity = f"{CHANNEL}:{user}"
        self.user = user
        self.stdin = stdin or sys.stdin
        self.stdout = stdout or sys.stdout
        self.language_hint = language_hint
        self.buttons: list[str] = []

    def _print(self, text: str = "") -> None:
        self.stdout.write(text + "\n")
        self.stdout.flush()

    async def deliver(self, event: Event, lang: str, replies: list[Reply]) -> None:
        """Print each reply; number the buttons of all of them, so every one can be pressed."""
        if any(reply.buttons for reply in replies):
            self.buttons = []
        n = 0
        for reply in replies:
            self._print()
            self._print(self.renderer.render(reply.text, lang))
            if reply.buttons:
                self.buttons += reply.payloads
                for row in reply.buttons:
                    labels = []
                    for b in row:
                        n += 1
                        labels.append(f"[{n}] {self.renderer.render(b.label, lang)}")
                    self._print("   ".join(labels))

    async def send(self, line: str) -> None:
        event = parse_line(line, self.identity, self.user, self.buttons, self.language_hint)
        if event is not None:
            await self.core.handle(event, self.deliver)

    async def run(self) -> None:
        """Chat until /quit or end of input; starts with /start like opening a new chat."""
        self._print(f"Siaga Warga — console ({self.identity}). Type a number to press a "
                    "button, /menu for the menu, /quit to leave.")
        await self.send("/start")
        loop = asyncio.get_running_loop()
        while True:
            self.stdout.write("\n> ")
            self.stdout.flush()
            line = await loop.run_in_executor(None, self.stdin.readline)
            if not line or line.strip() in {"/quit", "/exit"}:
                self._print()
                break
            await self.send(line)


class ConsoleOutbox:
    """The console's side of the outbox: print notices and reports as they go out."""

    channel = CHANNEL

    def __init__(self, renderer: Renderer, stdout: TextIO | None = None) -> None:
        self.limiter = RateLimiter(1000.0)
        self.renderer = renderer
        self.stdout = stdout or sys.stdout
        self._ids = 0

    def interval(self, address: str) -> float:
        return 0.0

    def _print(self, address: str, text: str) -> None:
        self.stdout.write(f"\n[→ {CHANNEL}:{address}]\n{text}\n")
        self.stdout.flush()

    async def send(self, address: str, lang: str, reply: Reply) -> Delivery:
        text = self.renderer.render(reply.text, lang)
        if reply.media is not None:
            text = f"[{reply.media.kind}{': ' + reply.media.name if reply.media.name else ''}]" \
                   f"\n{text}"
        self._print(address, text)
        self._ids += 1
        return Delivery("sent", external_id=str(self._ids))

    async def edit(self, address: str, message_id: str, lang: str, reply: Reply) -> Delivery:
        self._print(address, self.renderer.render(reply.text, lang))
        return Delivery("sent", external_id=message_id)
