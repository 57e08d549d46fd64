"""Every configured channel in one process, with one intake, one set of outbox workers and
one web server (only when some channel receives by webhook).

A channel taking part is a ``LiveChannel``: what the intake needs (``bot/intake.py``) plus
how it connects, receives (a polling loop, or routes on the web server) and stops, and the
transport its outbox sender uses.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from typing import Protocol

from bot.broadcasting.outbox import Transport
from bot.broadcasting.workers import Workers, start_workers
from bot.channels.traits import ChannelTraits
from bot.context import Services
from bot.intake import Channel, Intake
from bot.web import Route, WebServer


class LiveChannel(Channel, Protocol):
    traits: ChannelTraits

    def routes(self) -> list[Route]:
        """Its webhook routes on the web server; none when it polls."""

    def outbox(self) -> AbstractAsyncContextManager[Transport]:
        """The transport its outbox sender uses, open while the context lasts."""

    async def start(self) -> None:
        """Connect and register (a problem with its settings raises ConfigError)."""

    async def run(self) -> None:
        """Receive updates (polling) or keep the webhook registered, until cancelled."""

    async def stop(self) -> None:
        """Disconnect (also after a failed start)."""


@dataclass
class Live:
    intake: Intake
    channels: list[LiveChannel]
    workers: Workers
    web: WebServer | None
    tasks: dict[str, asyncio.Task[None]]  # each channel's ``run``

    async def wait(self) -> None:
        """Until a channel stops receiving on its own; its error (e.g. ConfigError) is raised."""
        done, _ = await asyncio.wait(self.tasks.values(), return_when=asyncio.FIRST_COMPLETED)
        for task in done:
            task.result()


async def _cancel(tasks: dict[str, asyncio.Task[None]]) -> None:
    for task in tasks.values():
        task.cancel()
    await asyncio.gather(*tasks.values(), return_exceptions=True)


@contextlib.asynccontextmanager
async def running(services: Services, intake: Intake, channels: list[LiveChannel],
                  grace: float = 10.0) -> AsyncIterator[Live]:
    """Start the outbox workers, connect every channel, resume the inbox, listen for
    webhooks, then receive. On exit: stop receiving, let the updates in hand finish (up to
    ``grace`` s), disconnect, stop the workers."""
    async with contextlib.AsyncExitStack() as stack:
        transports = [await stack.enter_async_context(c.outbox()) for c in channels]
        workers = await stack.enter_async_context(start_workers(services, transports))
        for channel in channels:
            stack.push_async_callback(channel.stop)
            await channel.start()
        stack.push_async_callback(intake.stop, grace)
        await intake.resume()
        routes = [route for channel in channels for route in channel.routes()]
        web = None
        if routes:
            web = WebServer(services, workers.running, lambda: intake.backlog)
            for route in routes:
                web.add(route)
            stack.push_async_callback(web.stop)
            await web.start()
        tasks = {c.name: asyncio.create_task(c.run(), name=f"{c.name}-receive")
                 for c in channels}
        stack.push_async_callback(_cancel, tasks)
        yield Live(intake, channels, workers, web, tasks)
