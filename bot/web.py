"""One aiohttp web server for every channel: each channel's webhook path, and GET /healthz.

A channel registers its routes (Telegram's POST at its webhook path, with its own secret
check); the server listens on SIAGA_HTTP_HOST:SIAGA_HTTP_PORT. ``/healthz`` answers JSON:

    {"status": "ok", "database": true, "sender": {"telegram": true}, "inbox_backlog": 0}

with HTTP 200, or ``"status": "unhealthy"`` with 503 when the database does not answer or a
channel's outbox sender is not running.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from aiohttp import web

from bot.config import ConfigError
from bot.context import Services

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
MAX_BODY = 1024 * 1024  # bytes of one request
MAX_DEPTH = 64  # nesting of a JSON body; a Telegram update nests about ten levels


@dataclass(frozen=True)
class Route:
    method: str
    path: str
    handler: Handler


async def read_json(request: web.Request) -> Any:
    """The request's JSON body; ValueError when it is not JSON we can read (answer 400):
    malformed, not UTF-8, or nested deeper than ``MAX_DEPTH`` (too deep for the parser, or
    deep enough to break whatever stores or reads it later)."""
    try:
        value = json.loads(await request.text())
    except (ValueError, UnicodeDecodeError, RecursionError) as exc:  # incl. JSONDecodeError
        raise ValueError(f"bad json: {type(exc).__name__}") from None
    if nesting(value, MAX_DEPTH) > MAX_DEPTH:
        raise ValueError("bad json: nested too deeply")
    return value


def nesting(value: Any, stop_above: int | None = None) -> int:
    """How deeply lists and objects nest in a parsed JSON value (0 for a scalar), or the
    first depth found beyond ``stop_above``; measured without recursion, so any depth the
    parser accepted can be measured."""
    deepest = 0
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        node, depth = stack.pop()
        if isinstance(node, dict):
            children: Any = node.values()
        elif isinstance(node, list):
            children = node
        else:
            continue
        deepest = max(deepest, depth)
        if stop_above is not None and deepest > stop_above:
            return deepest
        stack.extend((child, depth + 1) for child in children)
    return deepest


class WebServer:
    def __init__(self, services: Services, senders: Callable[[], dict[str, bool]],
                 backlog: Callable[[], int]) -> None:
        """``senders``: whether each channel's outbox sender runs; ``backlog``: updates in
        the inbox not yet finished."""
        self.services = services
        self.senders = senders
        self.backlog = backlog
        self.app = web.Application(client_max_size=MAX_BODY)
        self.app.router.add_get("/healthz", self._health)
        self._runner: web.AppRunner | None = None

    def add(self, route: Route) -> None:
        """Serve a channel's route (before ``start``)."""
        self.app.router.add_route(route.method, route.path, route.handler)

    async def health(self) -> dict[str, Any]:
        database = await self.services.store.healthy()
        senders = self.senders()
        ok = database and all(senders.values())
        return {"status": "ok" if ok else "unhealthy", "database": database,
                "sender": senders, "inbox_backlog": self.backlog()}

    async def _health(self, _: web.Request) -> web.Response:
        found = await self.health()
        return web.json_response(found, status=200 if found["status"] == "ok" else 503)

    async def start(self) -> None:
        s = self.services.settings
        self._runner = web.AppRunner(self.app, access_log=None)
        await self._runner.setup()
        try:
            await web.TCPSite(self._runner, s.http_host, s.http_port).start()
        except OSError as exc:
            raise ConfigError(f"SIAGA_HTTP_PORT: cannot listen on {s.http_host}:"
                              f"{s.http_port} ({exc.strerror})") from None

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
