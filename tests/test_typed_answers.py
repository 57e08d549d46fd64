"""Typed text where a button is expected: the step's question comes back with its buttons,
also at a step the person reached through a message the bot sent them (a review request)."""

from __future__ import annotations

from bot.clock import FakeClock
from bot.context import Services
from db.repositories.notices import NoticesRepo
from db.repositories.roles import Grant, RolesRepo
from tests.broadcast_helpers import RT03
from tests.chat import Chat


async def _grant(services: Services, chat: Chat, role: str, area: str = "") -> None:
    now = services.clock.now()
    await services.store.db.write(lambda conn: RolesRepo(conn).grant(
        chat.identity, Grant(role, area), "cli:test", now, chat.user))


async def _submit(ahmad: Chat, body: str) -> None:
    await ahmad.send("/siaran")
    await ahmad.press("Buat pengumuman")
    await ahmad.send(body)
    await ahmad.press("Semua warga")
    await ahmad.press("Biasa")
    await ahmad.press("Sekarang")
    await ahmad.press("Ajukan untuk disetujui")
    assert "Pengumuman diajukan" in ahmad.text


async def test_a_moderator_typing_at_the_approve_step_is_asked_again(
        services: Services, clock: FakeClock) -> None:
    ahmad, sari = Chat(services, "ahmad"), Chat(services, "sari")
    await ahmad.register()
    await sari.register()
    await _grant(services, ahmad, "coordinator", RT03)
    await _grant(services, sari, "moderator")
    clock.advance(minutes=5)
    await _submit(ahmad, "Kerja bakti Minggu pagi di balai RT.")
    clock.advance(minutes=1)  # the review request has reached Sari; she types instead
    texts = await sari.send("ok setuju")
    assert "pilih salah satu tombol" in texts[0]
    assert "Kerja bakti Minggu pagi" in sari.text  # the notice she is asked about
    assert "✅ Setujui" in sari.labels and "❌ Tolak" in sari.labels
    assert not any("Info protokol" in label for label in sari.labels)  # not the main menu
    await sari.send("setuju")  # again: still the same question
    assert "✅ Setujui" in sari.labels
    await sari.press("Setujui")
    assert "disetujui" in sari.text
    (notice,) = await NoticesRepo(services.store.db.conn).open_by(ahmad.identity)
    assert notice.status != "pending"
    await sari.send("halo")  # the step is over: typed text gets the menu again
    assert "✅ Setujui" not in sari.labels


async def test_typed_text_after_the_moderator_moved_on_gets_the_menu(
        services: Services, clock: FakeClock) -> None:
    ahmad, sari = Chat(services, "ahmad"), Chat(services, "sari")
    await ahmad.register()
    await sari.register()
    await _grant(services, ahmad, "coordinator", RT03)
    await _grant(services, sari, "moderator")
    clock.advance(minutes=5)
    await _submit(ahmad, "Posyandu hari Rabu.")
    clock.advance(minutes=1)
    await sari.send("/menu")  # she has written since the request arrived
    clock.advance(minutes=1)
    await sari.send("halo")
    assert "✅ Setujui" not in sari.labels


async def test_reject_from_the_repeated_question_asks_the_reason(
        services: Services, clock: FakeClock) -> None:
    ahmad, sari = Chat(services, "ahmad"), Chat(services, "sari")
    await ahmad.register()
    await sari.register()
    await _grant(services, ahmad, "coordinator", RT03)
    await _grant(services, sari, "moderator")
    clock.advance(minutes=5)
    await _submit(ahmad, "Iuran sampah naik.")
    clock.advance(minutes=1)
    await sari.send("tolak saja")
    (notice,) = await NoticesRepo(services.store.db.conn).awaiting_approval()
    await sari.press("Tolak")
    assert "Tulis alasan penolakan" in sari.text
    await sari.send("Belum dibahas di rapat RT.")
    assert "ditolak" in sari.text
    rejected = await NoticesRepo(services.store.db.conn).get(notice.id or 0)
    assert rejected is not None and rejected.status == "rejected"
    assert rejected.reason == "Belum dibahas di rapat RT."
