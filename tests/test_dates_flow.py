"""A coordinator schedules notices with the dates people really type, in the real /siaran flow:
the moment is confirmed back in full before anything is scheduled, a refused date says why,
and a monthly notice on day 29-31 is offered the last day of every month instead."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from bot.clock import FakeClock
from bot.context import Services
from db.repositories.notices import NoticesRepo
from db.repositories.roles import Grant, RolesRepo
from tests.broadcast_helpers import RT03
from tests.chat import Chat


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(datetime(2026, 12, 1, 3, 0, tzinfo=UTC))  # Tuesday 1 Dec, 10:00 WIB


async def _coordinator(services: Services, lang: str = "id") -> Chat:
    ahmad = Chat(services, "ahmad")
    await ahmad.register()
    now = services.clock.now()
    await services.store.db.write(lambda conn: RolesRepo(conn).grant(
        ahmad.identity, Grant("coordinator", RT03), "cli:test", now, ahmad.user))
    if lang == "en":
        await ahmad.send("/settings")
        await ahmad.press("Bahasa / Language")
        await ahmad.press("English")
    return ahmad


async def _write(ahmad: Chat, body: str) -> None:
    await ahmad.send("/siaran")
    await ahmad.press("Buat pengumuman")
    await ahmad.send(body)
    await ahmad.press("Semua warga")
    await ahmad.press("Biasa")


async def _scheduled(services: Services, ahmad: Chat) -> datetime | None:
    (notice,) = await NoticesRepo(services.store.db.conn).open_by(ahmad.identity)
    return notice.next_run_at or notice.start_at


async def test_besok_jam_7_pagi_is_confirmed_in_full_before_it_is_scheduled(
        services: Services) -> None:
    ahmad = await _coordinator(services)
    await _write(ahmad, "Pengambilan sampah besar.")
    await ahmad.press("Pada tanggal & jam tertentu")
    assert "besok jam 7 pagi" in ahmad.text  # the question's own examples
    # refusals say why, and the question comes back
    await ahmad.send("31-02-2027 07.00")
    assert "Tanggal 31 Februari 2027 tidak ada: Februari 2027 hanya sampai tanggal 28" \
        in ahmad.texts[0]
    assert "Ketik tanggal dan jam" in ahmad.texts[1]
    await ahmad.send("besok")
    assert "Jamnya belum ada: Rabu, 2 Des 2026, jam berapa?" in ahmad.texts[0]
    await ahmad.send("hari ini jam 7 pagi")  # it is 10.00 now
    assert "Selasa, 1 Des 2026 07.00 WIB sudah lewat" in ahmad.texts[0]
    assert await NoticesRepo(services.store.db.conn).open_by(ahmad.identity) == []
    # the phrase as people say it: shown in full with Send, nothing scheduled yet
    await ahmad.send("besok jam 7 pagi")
    assert "Waktu: Rabu, 2 Des 2026 07.00 WIB" in ahmad.text
    assert any("Kirim" in label or "Ajukan" in label for label in ahmad.labels)
    assert await NoticesRepo(services.store.db.conn).open_by(ahmad.identity) == []
    label = next(label for label in ahmad.labels if "Kirim" in label or "Ajukan" in label)
    await ahmad.press(label)
    assert await _scheduled(services, ahmad) == datetime(2026, 12, 2, 0, 0, tzinfo=UTC)


async def test_senin_depan_and_tgl_5(services: Services) -> None:
    ahmad = await _coordinator(services)
    await _write(ahmad, "Posyandu balita.")
    await ahmad.press("Pada tanggal & jam tertentu")
    await ahmad.send("Senin depan 08.00")
    assert "Waktu: Senin, 7 Des 2026 08.00 WIB" in ahmad.text
    await ahmad.press("Batal")
    await _write(ahmad, "Posyandu lansia.")
    await ahmad.press("Pada tanggal & jam tertentu")
    await ahmad.send("tgl 5 jam 16.00")
    assert "Waktu: Sabtu, 5 Des 2026 16.00 WIB" in ahmad.text


async def test_an_english_coordinator_reads_the_date_in_english(services: Services) -> None:
    ahmad = await _coordinator(services, "en")
    await ahmad.send("/broadcast")
    await ahmad.press("New notice")
    await ahmad.send("Community clean-up.")
    await ahmad.press("All residents")
    await ahmad.press("Regular")
    await ahmad.press("At a date and time")
    await ahmad.send("31-02-2027 07:00")
    assert "There is no 31 February 2027: February 2027 has only 28 days." in ahmad.texts[0]
    await ahmad.send("tomorrow 7am")
    assert "When: Wednesday, 2 Dec 2026 07:00 WIB" in ahmad.text


async def test_monthly_on_day_31_is_offered_the_last_day_of_the_month(
        services: Services) -> None:
    ahmad = await _coordinator(services)
    await _write(ahmad, "Bayar iuran kebersihan.")
    await ahmad.press("Berulang")
    await ahmad.press("Setiap bulan")
    await ahmad.send("31")
    assert "Tanggal 31 tidak ada di setiap bulan" in ahmad.texts[0]
    assert "Februari hanya 28 atau 29 hari" in ahmad.texts[0]
    assert "Tanggal berapa setiap bulan" in ahmad.texts[1]
    assert "📅 Hari terakhir tiap bulan" in ahmad.labels
    await ahmad.press("Hari terakhir tiap bulan")
    assert "Jam berapa" in ahmad.text
    await ahmad.send("jam 7 pagi")
    await ahmad.press("Tanpa batas")
    assert ("Waktu: setiap hari terakhir tiap bulan pukul 07.00 "
            "(pertama kali Kamis, 31 Des 2026 07.00 WIB)") in ahmad.text
    label = next(label for label in ahmad.labels if "Kirim" in label or "Ajukan" in label)
    await ahmad.press(label)
    (notice,) = await NoticesRepo(services.store.db.conn).open_by(ahmad.identity)
    assert notice.month_day == -1
    assert notice.next_run_at in (None, datetime(2026, 12, 31, 0, 0, tzinfo=UTC))


async def test_the_last_day_can_be_typed_too(services: Services) -> None:
    ahmad = await _coordinator(services)
    await _write(ahmad, "Bayar iuran kebersihan.")
    await ahmad.press("Berulang")
    await ahmad.press("Setiap bulan")
    await ahmad.send("akhir bulan")
    assert "Jam berapa" in ahmad.text
