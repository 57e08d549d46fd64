"""Shared fixtures: settings on a temporary database, services with a movable clock."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.app import open_services
from bot.clock import FakeClock
from bot.config import Settings, load_settings
from bot.context import Services
from tests.fake_telegram import FakeBotAPI

ROOT = Path(__file__).resolve().parent.parent


def make_settings(tmp_path: Path, **env: str) -> Settings:
    base = {
        "SIAGA_CONFIG": str(ROOT / "config" / "settings.example.toml"),
        "SIAGA_DB": str(tmp_path / "siaga.db"),
        "SIAGA_AREAS_FILE": str(ROOT / "config" / "areas.demo.toml"),
    }
    return load_settings({**base, **env})


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return make_settings(tmp_path)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
async def fake() -> AsyncIterator[FakeBotAPI]:
    """A fake Telegram Bot API server on 127.0.0.1 for the real python-telegram-bot."""
    server = FakeBotAPI()
    await server.start()
    try:
        yield server
    finally:
        await server.stop()


@pytest.fixture
async def services(settings: Settings, clock: FakeClock) -> AsyncIterator[Services]:
    async with open_services(settings, clock) as svc:
        yield svc
