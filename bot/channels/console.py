"""The console channel: a terminal chat using the same handlers and database.

Buttons are shown numbered; type ``#1``, ``#2``… to press one (anything else is text, so a
step that asks for a number takes a typed number). Lines starting with ``/`` are commands;
``/as <id>`` switches to another person, ``/quit`` or end of input leaves.

A terminal has no phone: pressing a "share my phone number" button (``contact_button``)
shares a made-up demo number, the same for the same console person every time
(``demo_number``: "+6280000" and six digits of a hash of the identity).

Each console is a phone: its outbox transport prints only the messages to the person at its
keyboard (``ConsoleOutbox.addresses``), with their buttons, as they arrive; messages to other
people wait in the outbox for a console of theirs (another process on the same database, or
this one after ``/as``).
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import TextIO

from bot.broadcasting.outbox import Delivery, RateLimiter
from bot.channels.traits import CONSOLE
from bot.core import Core
from bot.events import CONTACT_PAYLOAD, Event, Kind, Media, Reply, t
from bot.render import Renderer

CHANNEL = "console"
PRESS = "#"  # what marks a button press: "#2"
PHOTO = "/foto"  # "/foto gambar.jpg teks": a terminal has no camera, it sends a picture file
MAX_PHOTO = 5_000_000


async def read_photo(path: str) -> bytes:
    """The bytes of a picture file sent with ``/foto`` (at most ``MAX_PHOTO``)."""
    def read() -> bytes:
        file = Path(path)
        if file.stat().st_size > MAX_PHOTO:
            raise ValueError(f"{path} is over {MAX_PHOTO} bytes")
        return file.read_bytes()

    return await asyncio.to_thread(read)


def demo_number(identity: str) -> str:
    """The made-up phone number a console person shares: the same every time, and not an
    Indonesian mobile number (those start "+6281"…"+6289")."""
    digits = int.from_bytes(hashlib.sha256(identity.encode()).digest()[:8], "big") % 10**6
    return f"+6280000{digits:06d}"


def parse_line(line: str, identity: str, address: str, buttons: list[str],
               language_hint: str | None) -> Event | None:
    """Translate one typed line into an event (None for an empty line). Pressing a contact
    button shares the console person's demo phone number (``demo_number``)."""
    text = line.strip()
    base = {"identity": identity, "channel": CHANNEL, "address": address,
            "language_hint": language_hint}
    if not text:
        return None
    number = text[len(PRESS):].strip()
    if text.startswith(PRESS) and number.isdigit() and buttons:
        index = int(number) - 1
        if 0 <= index < len(buttons) and buttons[index] == CONTACT_PAYLOAD:
            return Event(kind=Kind.CONTACT, text=demo_number(identity), **base)
        if 0 <= index < len(buttons):
            return Event(kind=Kind.BUTTON, payload=buttons[index], **base)
    if text.startswith(PHOTO + " "):  # "/foto <path> [caption]": send a picture file
        path, _, caption = text[len(PHOTO) + 1:].strip().partition(" ")
        return Event(kind=Kind.MEDIA, media_type="photo", media_ref=str(Path(path).resolve()),
                     text=caption.strip(), **base)
    if text.startswith("/") and len(text) > 1:
        command, _, args = text[1:].partition(" ")
        return Event(kind=Kind.COMMAND, command=command.lower(), args=args.strip(), **base)
    return Event(kind=Kind.TEXT, text=text, **base)


def language_from_locale(environ: dict[str, str] | None = None) -> str | None:
    env = os.environ if environ is None else environ
    value = env.get("LC_ALL") or env.get("LANG") or ""
    code = value.split("_")[0].split(".")[0].lower()
    return code if len(code) == 2 else None


def media_line(media: Media, folder: Path) -> str:
    """"[photo: name]" for a file the channel has; a file the bot made is saved into
    ``folder`` (0600) and its path shown, so it can be opened."""
    if not media.data:
        return f"[{media.kind}{': ' + media.name if media.name else ''}]"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / (Path(media.name).name or f"file.{media.kind}")
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as out:
        out.write(media.data)
    return f"[{media.kind}: {path}]"


class ConsoleChannel:
    """One person at a time chatting in this terminal; not an intake channel (nothing to
    re-deliver). ``log_file``: where the logs go, said in the banner."""

    name = CHANNEL
    traits = CONSOLE

    def __init__(self, core: Core, renderer: Renderer, user: str = "demo",
                 stdin: TextIO | None = None, stdout: TextIO | None = None,
                 language_hint: str | None = None, log_file: str | None = None) -> None:
        self.core = core
        self.renderer = renderer
        self.user = user
        self.stdin = stdin or sys.stdin
        self.stdout = stdout or sys.stdout
        self.language_hint = language_hint
        self.log_file = log_file
        self.buttons: list[str] = []
        self.at_prompt = False
        self.on_switch: Callable[[], None] = core.services.signals.outbox  # wake the sender
        core.services.downloads[CHANNEL] = read_photo  # pictures sent with /foto

    @property
    def identity(self) -> str:
        return f"{CHANNEL}:{self.user}"

    def files_dir(self) -> Path:
        """Where files the bot sends (a chart, a CSV) are saved: beside the log file."""
        base = Path(self.log_file).parent if self.log_file else Path(tempfile.gettempdir())
        return base / "console-files"

    def _print(self, text: str = "") -> None:
        self.stdout.write(text + "\n")
        self.stdout.flush()

    def _prompt(self) -> None:
        self.stdout.write("\n> ")
        self.stdout.flush()

    def _show(self, reply: Reply, lang: str, first: int | None) -> None:
        """Print one reply with its buttons numbered from ``first`` (None: not pressable
        here)."""
        if reply.media is not None:
            self._print(media_line(reply.media, self.files_dir()))
        self._print(self.renderer.render(reply.text, lang))
        n = first
        for row in reply.buttons:
            labels = []
            for b in row:
                mark = f"{PRESS}{n}" if n is not None else " "
                labels.append(f"[{mark}] {self.renderer.render(b.label, lang)}")
                n = n + 1 if n is not None else None
            self._print("   ".join(labels))

    async def deliver(self, event: Event, lang: str, replies: list[Reply]) -> None:
        """Print each reply; number the buttons of all of them, so every one can be pressed."""
        if any(reply.buttons for reply in replies):
            self.buttons = []
        for reply in replies:
            self._print()
            self._show(reply, lang, len(self.buttons) + 1)
            self.buttons += reply.payloads

    def incoming(self, address: str, lang: str, reply: Reply) -> None:
        """A message from the outbox (a notice, a review request…): printed under a header,
        its buttons numbered after the ones already shown, so every one can be pressed."""
        if self.at_prompt:
            self._print()  # leave the "> " line
        self._print()
        self._print(self.renderer.render(t("console.incoming",
                                           identity=f"{CHANNEL}:{address}"), lang))
        mine = address == self.user  # else claimed just before a switch: shown, not pressable
        self._show(reply, lang, len(self.buttons) + 1 if mine else None)
        if mine:
            self.buttons += reply.payloads
        if self.at_prompt:
            self._prompt()

    async def send(self, line: str) -> None:
        event = parse_line(line, self.identity, self.user, self.buttons, self.language_hint)
        if event is not None:
            await self.core.handle(event, self.deliver)

    async def banner(self) -> None:
        """Who is at the keyboard (identity and roles), how to press buttons, where logs go."""
        reads = self.core.services.store.reads
        person = await reads.people.get(self.identity)
        lang = (person.language if person else None) or self.language_hint
        roles = []
        for grant in await reads.roles.grants_of(self.identity):
            area = self.core.services.areas.label(grant.area_code) if grant.area_code else ""
            roles.append(t(f"console.role_{grant.role}", area=area or ""))
        self._print(self.renderer.render(t("console.banner", identity=self.identity,
                                           roles=roles, log=self.log_file or ""), lang))

    async def switch(self, user: str) -> None:
        """``/as <id>``: become another person; their unseen messages come next."""
        self.user = user
        self.buttons = []
        self._print()
        await self.banner()
        if await self.core.services.store.reads.people.get(self.identity) is None:
            await self.send("/start")
        self.on_switch()

    async def run(self) -> None:
        """Chat until /quit or end of input; starts with /start like opening a new chat."""
        await self.banner()
        await self.send("/start")
        loop = asyncio.get_running_loop()
        while True:
            self._prompt()
            self.at_prompt = True
            try:
                line = await loop.run_in_executor(None, self.stdin.readline)
            finally:
                self.at_prompt = False
            if not await self.typed(line):
                self._print()
                break

    async def typed(self, line: str) -> bool:
        """Act on one typed line; False when it ends the chat (/quit, end of input)."""
        if not line or line.strip() in {"/quit", "/exit"}:
            return False
        command, _, who = line.strip().partition(" ")
        if command == "/as":
            if who.strip():
                await self.switch(who.strip().removeprefix(f"{CHANNEL}:"))
            else:
                await self.banner()
            return True
        await self.send(line)
        return True


class ConsoleOutbox:
    """The console's side of the outbox. With a ``console``: only the messages to its
    current person are claimed, and printed there with their buttons. Without one, every
    console message is printed under its address."""

    channel = CHANNEL

    def __init__(self, renderer: Renderer, stdout: TextIO | None = None,
                 console: ConsoleChannel | None = None) -> None:
        self.limiter = RateLimiter(1000.0)
        self.renderer = renderer
        self.stdout = stdout or sys.stdout
        self.console = console
        self._ids = 0

    def addresses(self) -> list[str] | None:
        """The addresses this console serves (the outbox sender claims only theirs)."""
        return [self.console.user] if self.console is not None else None

    def interval(self, address: str) -> float:
        return 0.0

    def _print(self, address: str, text: str) -> None:
        self.stdout.write(f"\n[→ {CHANNEL}:{address}]\n{text}\n")
        self.stdout.flush()

    async def send(self, address: str, lang: str, reply: Reply) -> Delivery:
        if reply.media is not None and self.console is None:
            caption = self.renderer.render(reply.text, lang)
            label = media_line(reply.media, Path(tempfile.gettempdir()) / "console-files")
            reply = Reply(t("raw", value=f"{label}\n{caption}"), reply.buttons)
        if self.console is not None:
            self.console.incoming(address, lang, reply)
        else:
            self._print(address, self.renderer.render(reply.text, lang))
        self._ids += 1
        return Delivery("sent", external_id=str(self._ids))

    async def edit(self, address: str, message_id: str, lang: str, reply: Reply) -> Delivery:
        if self.console is not None:
            self.console.incoming(address, lang, reply)
        else:
            self._print(address, self.renderer.render(reply.text, lang))
        return Delivery("sent", external_id=message_id)
