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


async def test_a_long_notice_is_told_by_how_much_in_characters(services: Services) -> None:
    ahmad = await _coordinator(services, "ahmad")
    await ahmad.send("/siaran")
    await ahmad.press("Buat pengumuman")
    await ahmad.send("a" * 3502)  # the console counts characters: no note about emoji
    assert "terlalu panjang sekitar 2 karakter; maksimal 3.500 karakter" in ahmad.texts[0]
    assert "Tulis isi pengumuman" in ahmad.texts[1]
    await ahmad.send("/pengaturan")
    await ahmad.press("Bahasa")
    await ahmad.press("English")
    await ahmad.send("/broadcast")
    await ahmad.press("New notice")
    await ahmad.send("a" * 3501)
    assert "too long by about 1 character; at most 3,500" in ahmad.texts[0]


async def test_the_settings_page_is_whole_after_every_change(services: Services) -> None:
    gita = Chat(services, "gita")
    await gita.register()
    await gita.send("/pengaturan")
    page = gita.text
    assert "• Bahasa: Bahasa Indonesia" in page and "• RT: RT 03" in page
    await gita.press("Bahasa")
    await gita.press("English")
    assert gita.text.startswith("✅ Language changed to English.")
    for line in ("• Language: English", "• RT: RT 03", "• Regular notices: on"):
        assert line in gita.text, gita.text
    await gita.press("Turn regular notices off")
    assert gita.text.startswith("🔕 Regular notices are off.")
    assert "• Language: English" in gita.text and "• Regular notices: off" in gita.text
    await gita.press("Bahasa")
    await gita.press("Bahasa Indonesia")
    assert gita.text.startswith("✅ Bahasa sudah diganti menjadi Bahasa Indonesia.")
    assert "• Bahasa: Bahasa Indonesia" in gita.text and "• Pengumuman biasa: nonaktif" \
        in gita.text


async def test_emergency_contacts_name_their_roles_in_the_readers_language(
        services: Services) -> None:
    """The areas file writes roles in Indonesian; an English reader sees them in English, and a
    role the bot does not know is shown as the file writes it."""
    gita = Chat(services, "gita")
    await gita.register()
    await gita.send("/darurat")
    for line in ("• Puskesmas: Puskesmas Serang Kota", "• Rumah sakit: RSUD",
                 "• Kelurahan: Kantor Kelurahan Cimuncang", "• Ketua RW 02: Bu Neneng",
                 "• Ketua RT 03: Pak Asep"):
        assert line in gita.text, gita.text
    await gita.send("/pengaturan")
    await gita.press("Bahasa")
    await gita.press("English")
    await gita.send("/emergency")
    for line in ("• Puskesmas: Puskesmas Serang Kota", "• Hospital: RSUD",
                 "• Village office: Kantor Kelurahan Cimuncang", "• RW head 02: Bu Neneng",
                 "• RT head 03: Pak Asep"):
        assert line in gita.text, gita.text
    assert "Rumah sakit" not in gita.text and "Ketua" not in gita.text


def test_a_role_the_bot_does_not_know_is_shown_as_written() -> None:
    from bot.areas import Contact
    from bot.events import t
    assert Contact("Bu Ani", "0812", "Bidan desa").role_label() == t("raw", value="Bidan desa")
    assert Contact("Pak Ali", "0812", "ketua  rt 7").role_label() == t("area.role_rt_head",
                                                                      number="7")
    assert Contact("Bu Ida", "0812", "Rumah Sakit").role_label() == t("area.role_hospital")


async def test_the_moderators_broadcast_page_and_review_read_like_the_authors(
        services: Services) -> None:
    """/siaran for a moderator: one heading line, then the count (no blank lines between);
    the review says "🚨 Mendesak" as the author's summary did; once approved, a weekly notice
    is listed as "Berulang", not "Terjadwal"."""
    ahmad = await _coordinator(services, "ahmad")
    sari = Chat(services, "sari")
    await sari.register()
    now = services.clock.now()
    await services.store.db.write(lambda conn: RolesRepo(conn).grant(
        sari.identity, Grant("moderator", ""), "cli:test", now, "sari"))
    await ahmad.send("/siaran")
    await ahmad.press("Buat pengumuman")
    await ahmad.send("Ronda malam bergilir.")
    await ahmad.press("Semua warga")
    await ahmad.press("Mendesak")
    await ahmad.press("Berulang")
    await ahmad.press("Setiap pekan")
    await ahmad.press("Senin")
    await ahmad.press("Selesai")
    await ahmad.send("07.00")
    await ahmad.press("Tanpa batas")
    assert "• Jenis: 🚨 Mendesak" in ahmad.text
    await ahmad.press("Ajukan untuk disetujui")
    await sari.send("/siaran")
    assert sari.texts[0] == "📢 Siaran pengumuman\nMenunggu persetujuan: 1"
    await sari.press("Perlu ditinjau")
    assert "• Jenis: 🚨 Mendesak" in sari.text, sari.text
    await sari.press("Setujui")
    assert "disetujui" in sari.text
    await ahmad.send("/siaran")
    assert ahmad.texts[0].startswith("📢 Siaran pengumuman\nKirim pengumuman ke warga")
    await ahmad.press("Pengumuman saya")
    assert "· Berulang" in ahmad.texts[0] and "Terjadwal" not in ahmad.text, ahmad.text
    await ahmad.send("/pengaturan")
    await ahmad.press("Bahasa")
    await ahmad.press("English")
    await ahmad.send("/broadcast")
    await ahmad.press("My notices")
    assert "· Repeating" in ahmad.texts[0], ahmad.text
    await sari.send("/pengaturan")
    await sari.press("Bahasa")
    await sari.press("English")
    await sari.send("/broadcast")
    assert sari.texts[0] == "📢 Broadcast notices\nWaiting for approval: 0"
    await services.store.db.write(lambda conn: RolesRepo(conn).grant(
        ahmad.identity, Grant("moderator", ""), "cli:test", now, "ahmad"))
    await ahmad.send("/broadcast")
    assert ahmad.texts[0] == ("📢 Broadcast notices\nSend a notice to the residents of your RT/RW:"
                              " now, at a set time, or on a schedule. A moderator checks each"
                              " notice before it goes out.\n\nWaiting for approval: 0")
