"""A conversation as a short script, driven through the real core and router in-process:
send text or a command, press a button by its label (or forge its data), read the replies
as a person would (rendered as plain text)."""

from __future__ import annotations

from dataclasses import dataclass, field

from bot.context import Services
from bot.core import Core
from bot.events import Event, Kind, Reply
from bot.render import Renderer


@dataclass
class Chat:
    services: Services
    user: str
    channel: str = "console"
    replies: list[Reply] = field(default_factory=list)
    lang: str = "id"

    def __post_init__(self) -> None:
        self.core = Core(self.services)
        self.words = Renderer(self.services.content, "console", "id")

    @property
    def identity(self) -> str:
        return f"{self.channel}:{self.user}"

    async def _deliver(self, event: Event, lang: str, replies: list[Reply]) -> bool:
        self.lang, self.replies = lang, replies
        return True

    async def _event(self, kind: Kind, **fields: str) -> list[str]:
        event = Event(identity=self.identity, channel=self.channel, address=self.user,
                      kind=kind, **fields)
        await self.core.handle(event, self._deliver)
        return self.texts

    async def send(self, text: str) -> list[str]:
        """Type a line: a /command or plain text."""
        if text.startswith("/"):
            command, _, args = text[1:].partition(" ")
            return await self._event(Kind.COMMAND, command=command, args=args)
        return await self._event(Kind.TEXT, text=text)

    async def press(self, label: str) -> list[str]:
        """Press the button whose label contains ``label`` among the last replies."""
        for reply in reversed(self.replies):
            for row in reply.buttons:
                for b in row:
                    if label in self.words.render(b.label, self.lang):
                        return await self._event(Kind.BUTTON, payload=b.payload)
        raise AssertionError(f"no button {label!r} in {self.labels}")

    async def forge(self, payload: str) -> list[str]:
        """Press a button with data of one's own making."""
        return await self._event(Kind.BUTTON, payload=payload)

    @property
    def texts(self) -> list[str]:
        return [self.words.render(r.text, self.lang) for r in self.replies]

    @property
    def text(self) -> str:
        return "\n".join(self.texts)

    @property
    def labels(self) -> list[str]:
        return [self.words.render(b.label, self.lang)
                for r in self.replies for row in r.buttons for b in row]

    async def register(self, rt_label: str = "RT 03", rw_label: str = "RW 02") -> None:
        """Onboard in Bahasa Indonesia into an RT of the demo kelurahan."""
        await self.send("/start")
        await self.press("Bahasa Indonesia")
        await self.press("Setuju")
        await self.press("Cimuncang")
        await self.press(rw_label)
        await self.press(rt_label)
