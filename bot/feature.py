"""What a feature declares about itself, and the catalog the router walks.

A feature module in ``bot/handlers/`` ends with one ``FEATURE = Feature(...)``: its commands
(Indonesian name, English alias, who may use them, whether residents see them in the
channel's command list), the button kinds it answers (typed callback data, optionally only on
some steps of one flow), its flows, and its main-menu item. ``bot/registry.py`` lists the
features, one line each; the router and the menu only ever read the catalog.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from bot.callbacks import Callback
from bot.context import Context
from bot.events import Reply
from bot.flow import Flow

Handler = Callable[[Context], Awaitable[list[Reply]]]
# a button handler gets the decoded data; None means "not for this state" (a stale button)
Press = Callable[[Context, Any], Awaitable[list[Reply] | None]]
# puts a person who is in no flow back on the step a message of the bot asked them (e.g. a
# review request with its buttons); True if it did
Resume = Callable[[Context], Awaitable[bool]]


class Who(StrEnum):
    EVERYONE = "everyone"  # also before onboarding (/start, /bantuan, /darurat, /hapusdata)
    RESIDENT = "resident"  # a newcomer is welcomed (onboarding) first
    STAFF = "staff"  # coordinators, moderators: the handler checks (and audits) the role
    GROUP = "group"  # only inside a group chat


@dataclass(frozen=True)
class Command:
    name: str  # Indonesian: /pengaturan
    handler: Handler
    alias: str = ""  # English: /settings
    who: Who = Who.RESIDENT
    public: bool = False  # listed in the channel's command menu for residents

    @property
    def description(self) -> str:
        """The content key of its one-line description in the command menu."""
        return f"commands.{self.name}"


@dataclass(frozen=True)
class On:
    """A button kind and what answers it; with ``flow``, only inside that flow (and, with
    ``steps``, only on those steps)."""

    kind: type[Callback]
    press: Press
    flow: str | None = None
    steps: tuple[str, ...] = ()

    def fits(self, ctx: Context) -> bool:
        if self.flow is None:
            return True
        return ctx.conv.flow == self.flow and (not self.steps or ctx.conv.step in self.steps)


@dataclass(frozen=True)
class MenuItem:
    order: int  # place on the main menu, two a row
    label: str  # content key
    command: str  # the command the item runs


@dataclass(frozen=True)
class Feature:
    name: str
    commands: tuple[Command, ...] = ()
    buttons: tuple[On, ...] = ()
    flows: tuple[Flow, ...] = ()
    menu: MenuItem | None = None
    resume: Resume | None = None  # typed text outside a flow: a question still waiting?


class CatalogError(Exception):
    """Two features claim the same command or flow, or a button names a flow or step that
    does not exist."""


class Catalog:
    """Every registered feature, indexed for the router."""

    def __init__(self, features: Iterable[Feature]) -> None:
        self.features = tuple(features)
        self._commands: dict[str, Command] = {}
        self._buttons: dict[type[Callback], list[On]] = {}
        self._flows: dict[str, Flow] = {}
        for feature in self.features:
            for command in feature.commands:
                for name in filter(None, (command.name, command.alias)):
                    if name in self._commands:
                        raise CatalogError(f"/{name} is registered twice")
                    self._commands[name] = command
            for on in feature.buttons:
                self._buttons.setdefault(on.kind, []).append(on)
            for flow in feature.flows:
                if flow.name in self._flows:
                    raise CatalogError(f"flow {flow.name!r} is registered twice")
                for name, step in flow.steps.items():
                    for target in (step.next, step.back):
                        if target is not None and target not in flow.steps:
                            raise CatalogError(f"{flow.name}/{name} leads to unknown {target!r}")
                self._flows[flow.name] = flow
        for ons in self._buttons.values():
            for on in ons:
                flow = self._flows.get(on.flow or "")
                if on.flow is not None and (flow is None or not set(on.steps) <= set(flow.steps)):
                    raise CatalogError(f"{on.kind.prefix} answers on {on.flow}/{on.steps}, "
                                       "which no registered flow has")
        items = [f.menu for f in self.features if f.menu is not None]
        self.menu_items = tuple(sorted(items, key=lambda item: item.order))
        for item in self.menu_items:
            if item.command not in self._commands:
                raise CatalogError(f"menu item {item.label} runs unknown /{item.command}")

    def command(self, name: str) -> Command | None:
        return self._commands.get(name)

    def flow(self, name: str | None) -> Flow | None:
        return self._flows.get(name or "")

    def handler_for(self, data: Callback, ctx: Context) -> On | None:
        """What answers this button in the person's current state, if anything."""
        ons = self._buttons.get(type(data), [])
        scoped = [on for on in ons if on.flow is not None and on.fits(ctx)]
        return (scoped or [on for on in ons if on.flow is None] or [None])[0]

    def public_commands(self) -> list[Command]:
        """The commands residents see in the channel's command menu, in menu order."""
        seen: list[Command] = []
        for command in self._commands.values():
            if command.public and command not in seen:
                seen.append(command)
        return seen

    def group_commands(self) -> frozenset[str]:
        """Every name (and alias) of the commands answered inside group chats."""
        return frozenset(n for c in self._commands.values() if c.who == Who.GROUP
                         for n in (c.name, c.alias) if n)

    @property
    def button_kinds(self) -> set[type[Callback]]:
        return set(self._buttons)
