"""GET /healthz on the one web server: JSON, 200 when healthy, 503 when the database does not
answer or a channel's outbox sender stopped."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest

from bot.app import open_services
from bot.broadcasting.workers import start_workers
from bot.channels.console import ConsoleOutbox
from bot.clock import FakeClock
from bot.context import Services
from bot.core import Core
from bot.intake import Intake
from bot.render import Renderer
from bot.web import WebServer
from tests.conftest import make_settings
from tests.test_intake import ToyChannel, message


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    def __init__(self, services: Services, web: WebServer, workers, intake: Intake,
                 toy: ToyChannel) -> None:
        self.services = services
        self.web = web
        self.workers = workers
        self.intake = intake
        self.toy = toy
        self.url = f"http://127.0.0.1:{services.settings.http_port}/healthz"

    async def health(self) -> tuple[int, dict]:
        async with aiohttp.ClientSession() as http, http.get(self.url) as resp:
            return resp.status, await resp.json()


@pytest.fixture
async def server(tmp_path: Path) -> AsyncIterator[Server]:
    settings = make_settings(tmp_path, SIAGA_HTTP_HOST="127.0.0.1",
                             SIAGA_HTTP_PORT=str(free_port()))
    async with open_services(settings, FakeClock()) as services:
        toy = ToyChannel()
        intake = Intake(services, Core(services))
        intake.add(toy)
        transport = ConsoleOutbox(Renderer(services.content, "console"))
        async with start_workers(services, [transport]) as workers:
            web = WebServer(services, workers.running, lambda: intake.backlog)
            await web.start()
            try:
                yield Server(services, web, workers, intake, toy)
            finally:
                await web.stop()
                await intake.stop(grace=0)


async def test_healthy_answers_200_with_json(server: Server) -> None:
    status, body = await server.health()
    assert status == 200
    assert body == {"status": "ok", "database": True, "sender": {"console": True},
                    "inbox_backlog": 0}


async def test_the_backlog_counts_updates_not_yet_finished(server: Server) -> None:
    server.toy.gate = asyncio.Event()
    await server.intake.record("toy", [message(1, "ani", "darurat"),
                                       message(2, "ani", "info"), message(3, "budi", "menu")])
    status, body = await server.health()
    assert (status, body["inbox_backlog"]) == (200, 3)
    server.toy.gate.set()
    await server.intake.join()
    assert (await server.health())[1]["inbox_backlog"] == 0


async def test_a_stopped_sender_is_unhealthy(server: Server) -> None:
    server.workers.senders[0].stop(grace=0)
    await asyncio.wait_for(server.workers.sender_tasks["console"], 5)
    status, body = await server.health()
    assert status == 503
    assert body == {"status": "unhealthy", "database": True, "sender": {"console": False},
                    "inbox_backlog": 0}


async def test_a_closed_database_is_unhealthy(server: Server) -> None:
    await server.services.store.db.close()
    status, body = await server.health()
    assert status == 503
    assert body["status"] == "unhealthy" and body["database"] is False
    assert body["sender"] == {"console": True}
