"""Words a newcomer trips over: each checked the way a person reads it, in both languages."""

from __future__ import annotations

from bot.context import Services
from db.repositories.roles import Grant, RolesRepo
from tests.broadcast_helpers import RT03
from tests.chat import Chat


async def _coordinator(services: Services, user: str) -> Chat:
    chat = Chat(services, user)
    await chat.register()
    now = services.clock.now()
    await services.store.db.write(lambda conn: RolesRepo(conn).grant(
        chat.identity, Grant("coordinator", RT03), "cli:test", now, user))
    return chat


async def test_the_weekly_choice_says_pekan_not_minggu(services: Services) -> None:
    """"Minggu" is both week and Sunday: the weekly choice says "pekan"; "Minggu" is left to
    the day."""
    ahmad = await _coordinator(services, "ahmad")
    await ahmad.send("/siaran")
    await ahmad.press("Buat pengumuman")
    await ahmad.send("Ronda malam bergilir.")
    await ahmad.press("Semua warga")
    await ahmad.press("Biasa")
    await ahmad.press("Berulang")
    assert ahmad.labels[:3] == ["Setiap hari", "Setiap pekan (pilih hari)",
                                "Setiap bulan (pilih tanggal)"]
    assert not any("Minggu" in label for label in ahmad.labels)
    await ahmad.press("Setiap pekan")
    assert any(label.endswith("Minggu") for label in ahmad.labels)  # Sunday, the day
