"""Residents on Telegram: the real python-telegram-bot against the fake Bot API server."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from db.repositories.audit import AuditRepo
from db.repositories.inbox import InboxRepo
from db.repositories.people import PeopleRepo
from db.repositories.roles import Grant, RolesRepo
from tests.telegram_harness import running_bot

INVITE_RW02_RT03 = next(
    line.split('"')[1] for line in Path("config/areas.demo.toml").read_text().splitlines()
    if line.startswith('invite = "cmc23-')
)


async def test_newcomer_joins_by_invite_link_and_reads_a_topic(fake, tmp_path) -> None:
    async with running_bot(fake, tmp_path) as bot:
        ani = fake.user(501, first_name="Ani", language_code="id")
        await ani.send(f"/start {INVITE_RW02_RT03}")
        welcome = await ani.next_reply()  # one message: greeting and the language question
        assert "Anda diundang bergabung dengan RT 03 / RW 02, Cimuncang" in welcome["text"]
        assert "Pilih bahasa / Choose your language" in welcome["text"]
        assert ani.buttons(welcome) == ["✅ Bahasa Indonesia", "English"]

        await ani.click("✅ Bahasa Indonesia")
        consent = await ani.next_reply()
        assert "UU No. 27 Tahun 2022" in consent["text"]
        assert "/hapusdata" in consent["text"]
        await ani.click("✅ Setuju")
        done = await ani.next_reply()
        assert "Anda terdaftar di RT 03 / RW 02, Cimuncang" in done["text"]

        await ani.click("📋 Info protokol kesehatan")
        topics = await ani.next_reply()
        assert "5M — Protokol Kesehatan" in ani.buttons(topics)
        await ani.click("Isolasi Mandiri (Isoman) di Rumah")
        page = await ani.next_reply()
        assert "3–5 hari" in page["text"] or "3-5 hari" in page["text"]
        assert "Ditinjau 1 Desember 2026" in page["text"]
        assert ani.buttons(page) == ["⬅️ Kembali", "🏠 Menu utama"]
        await ani.click("⬅️ Kembali")
        assert "Pilih topik" in (await ani.next_reply())["text"]

        # every button press was answered, and the database says what the resident chose
        await bot.settled()
        assert len(ani.answered_callbacks) == 5
        person = await PeopleRepo(bot.services.store.db.conn).get("telegram:501")
        assert person.area_code == "cimuncang-rw02-rt03" and person.language == "id"
        assert person.consent_version is not None


async def test_newcomer_picks_kelurahan_rw_rt_by_buttons(fake, tmp_path) -> None:
    async with running_bot(fake, tmp_path) as bot:
        budi = fake.user(502, first_name="Budi", language_code="en")
        await budi.send("/start")
        language = await budi.next_reply()
        assert "This is Siaga Warga" in language["text"]
        assert budi.buttons(language) == ["Bahasa Indonesia", "✅ English"]  # from language_code
        await budi.click("✅ English")
        await budi.next_reply()
        await budi.click("✅ I agree")
        assert "Which kelurahan" in (await budi.next_reply())["text"]
        await budi.click("Cimuncang (Serang, Kota Serang)")
        rws = await budi.next_reply()
        assert budi.buttons(rws) == ["RW 01", "RW 02", "RW 03", "⬅️ Back"]
        await budi.click("RW 03")
        await budi.next_reply()
        await budi.click("⬅️ Back")  # changes mind: back to the RW list
        await budi.next_reply()
        await budi.click("RW 01")
        rts = await budi.next_reply()
        assert budi.buttons(rts) == ["RT 01", "RT 02", "RT 03", "RT 04", "⬅️ Back"]
        await budi.click("RT 04")
        done = await budi.next_reply()
        assert "You are registered with RT 04 / RW 01, Cimuncang" in done["text"]
        await bot.settled()
        person = await PeopleRepo(bot.services.store.db.conn).get("telegram:502")
        assert person.area_code == "cimuncang-rw01-rt04" and person.language == "en"

        await budi.click("🚑 Emergency contacts")
        contacts = (await budi.next_reply())["text"]
        assert "119" in contacts and "112" in contacts and "1500-567" in contacts
        assert "RT head 04" in contacts and "RW head 01" in contacts  # in English


async def register(user, invite: str = INVITE_RW02_RT03, agree: str = "✅ Setuju") -> None:
    await user.send(f"/start {invite}")
    await user.next_reply()
    await user.click(user.buttons()[0])
    await user.next_reply()
    await user.click(agree)
    await user.next_reply()


async def test_changing_language_in_settings(fake, tmp_path) -> None:
    async with running_bot(fake, tmp_path) as bot:
        citra = fake.user(503, language_code="id")
        await register(citra)
        await citra.send("/pengaturan")
        settings = await citra.next_reply()
        assert "Bahasa: Bahasa Indonesia" in settings["text"]
        await citra.click("🌐 Bahasa / Language")
        await citra.next_reply()
        await citra.click("English")
        changed = await citra.next_reply()
        assert "Language changed to English" in changed["text"]
        assert "🔕 Turn regular notices off" in citra.buttons(changed)
        await citra.send("/menu")
        assert "Main menu" in (await citra.next_reply())["text"]
        await bot.settled()
        person = await PeopleRepo(bot.services.store.db.conn).get("telegram:503")
        assert person.language == "en"

        await citra.send("/settings")
        await citra.next_reply()
        await citra.click("🔕 Turn regular notices off")
        assert "Regular notices are off" in (await citra.next_reply())["text"]
        await bot.settled()
        person = await PeopleRepo(bot.services.store.db.conn).get("telegram:503")
        assert person.notices_regular is False


async def test_hapusdata_erases_after_confirmation(fake, tmp_path) -> None:
    async with running_bot(fake, tmp_path) as bot:
        dodi = fake.user(504)
        await register(dodi)
        await dodi.send("/hapusdata")
        confirm = await dodi.next_reply()
        assert "tidak bisa dibatalkan" in confirm["text"]
        await dodi.click("Batal")
        assert "Data Anda tetap tersimpan" in (await dodi.next_reply())["text"]
        assert await PeopleRepo(bot.services.store.db.conn).get("telegram:504") is not None

        await dodi.send("/deletemydata")  # the English alias, same flow
        await dodi.next_reply()
        await dodi.click("🗑️ Ya, hapus")
        done = (await dodi.next_reply())["text"]
        assert "Data Anda sudah dihapus" in done and "RT tempat tinggal" in done
        await bot.settled()
        assert await PeopleRepo(bot.services.store.db.conn).get("telegram:504") is None
        async with bot.services.store.db.conn.execute(
            "SELECT COUNT(*) FROM inbox WHERE sender = 'telegram:504' OR payload LIKE '%504%'"
        ) as cur:
            assert (await cur.fetchone())[0] == 0

        # the old confirmation button cannot erase again or crash; the person starts afresh
        await dodi.click_data("del:yes:00000000")
        assert "Pilih bahasa" in (await dodi.replies_until_quiet())[-1]["text"]


@pytest.mark.parametrize(
    ("action", "expected"),
    [
        ("text", "belum mengerti pesan itu"),
        ("sticker", "hanya bisa membaca teks dan tombol"),
        ("photo", "hanya bisa membaca teks dan tombol"),
        ("forged", "Tombol itu sudah tidak berlaku"),
        ("old_button", "Tombol itu sudah tidak berlaku"),
        ("unknown_command", "Perintah /foo tidak dikenal"),
        ("location", "belum bisa memproses itu"),
    ],
)
async def test_garbage_gets_a_helpful_answer_and_the_menu(fake, tmp_path, action, expected
                                                          ) -> None:
    async with running_bot(fake, tmp_path):
        eka = fake.user(505)
        await register(eka)
        if action == "text":
            await eka.send("asdfgh 🤷")
        elif action == "sticker":
            await eka.send_sticker()
        elif action == "photo":
            await eka.send_photo(caption="lihat ini")
        elif action == "forged":
            await eka.click_data("rt:cimuncang-rw01-rt01'; DROP TABLE person;--")
        elif action == "old_button":
            await eka.click_data("consent:yes", message_id=1)  # consent was given long ago
        elif action == "unknown_command":
            await eka.send("/foo bar")
        else:
            await eka.send_location()
        reply = await eka.next_reply()
        assert expected in reply["text"]
        assert "📋 Info protokol kesehatan" in eka.buttons(reply)  # the menu comes with it
        if action in {"forged", "old_button"}:
            assert eka.answered_callbacks  # the spinner on the button is stopped too


async def test_forged_area_button_cannot_place_a_person(fake, tmp_path) -> None:
    async with running_bot(fake, tmp_path) as bot:
        fani = fake.user(506)
        await fani.send("/start")
        await fani.next_reply()
        await fani.click_data("rt:cimuncang-rw01-rt01")  # skips consent and the RW step
        reply = await fani.replies_until_quiet()
        assert "Tombol itu sudah tidak berlaku" in reply[0]["text"]
        assert "Pilih bahasa" in reply[-1]["text"]  # asked the current question again
        await bot.settled()
        person = await PeopleRepo(bot.services.store.db.conn).get("telegram:506")
        assert person.area_code is None and person.consent_version is None


async def test_features_not_built_say_so_and_return_to_menu(fake, tmp_path) -> None:
    async with running_bot(fake, tmp_path):
        gita = fake.user(507)
        await register(gita)
        await gita.click("🤒 Lapor gejala")  # built: danger signs come first
        reply = await gita.next_reply()
        assert "tanda bahaya" in reply["text"]
        assert "✅ Tidak ada satu pun" in gita.buttons(reply)


async def test_restart_in_the_middle_of_onboarding_continues(fake, tmp_path) -> None:
    hadi = fake.user(508)
    async with running_bot(fake, tmp_path):
        await hadi.send("/start")
        await hadi.next_reply()
        await hadi.click("✅ Bahasa Indonesia")
        assert "Setuju?" in (await hadi.next_reply())["text"]
    # the process is gone; the resident presses the consent button meanwhile
    await hadi.click("✅ Setuju")
    async with running_bot(fake, tmp_path) as bot:
        reply = await hadi.next_reply()
        assert "Di kelurahan/desa mana Anda tinggal?" in reply["text"]
        await bot.settled()
        person = await PeopleRepo(bot.services.store.db.conn).get("telegram:508")
        assert person.consent_version is not None and person.language == "id"


async def test_updates_recorded_but_not_handled_are_answered_after_a_crash(fake, tmp_path
                                                                          ) -> None:
    users = [fake.user(600 + i) for i in range(20)]
    async with running_bot(fake, tmp_path) as bot:
        bot.task.cancel()  # stop polling; record updates as the poller would, then "crash"
        await asyncio.sleep(0.1)
        updates = [await u.send("/darurat") for u in users]
        fresh = await bot.intake.store("telegram", updates)  # committed, not yet handed on
        assert len(fresh) == 20
        again = await bot.intake.record("telegram", updates)  # a re-delivery is skipped
        assert again == []
        assert bot.intake.backlog == 0
    # Telegram still holds the unconfirmed updates and will re-deliver them too
    async with running_bot(fake, tmp_path) as bot:
        for u in users:
            assert "Ambulans" in (await u.next_reply())["text"]
        await bot.settled()
        await asyncio.sleep(0.3)  # time for any duplicate to show up
        for u in users:
            assert len(fake.messages_to(u.id)) == 1  # answered, exactly once
        assert await InboxRepo(bot.services.store.db.conn).count("telegram", "pending") == 0


async def test_one_persons_updates_are_handled_in_order(fake, tmp_path) -> None:
    async with running_bot(fake, tmp_path):
        ika = fake.user(509)
        await register(ika)
        for command in ["/info", "/darurat", "/bantuan", "/pengaturan", "/menu"]:
            await ika.send(command)
        replies = [await ika.next_reply() for _ in range(5)]
        firsts = [r["text"].splitlines()[0] for r in replies]
        assert firsts == ["Info protokol kesehatan", "🚑 Kontak darurat",
                          replies[2]["text"].splitlines()[0], "Pengaturan", "Menu utama — "
                          "RT 03 / RW 02, Cimuncang"]
        assert "membantu warga RT/RW" in replies[2]["text"]


async def test_commands_are_registered_in_both_languages(fake, tmp_path) -> None:
    async with running_bot(fake, tmp_path):
        await fake.wait_for_call("setMyCommands")
        await fake.wait_for_call("setMyCommands")
        ids = [c["command"] for c in fake.commands[("default", None)]]
        ens = [c["command"] for c in fake.commands[("default", "en")]]
    assert ids == ["start", "menu", "info", "gejala", "relawan", "hoaks", "cekfakta",
                   "pengumuman", "darurat", "pengaturan", "bantuan", "hapusdata"]
    assert ens == ["start", "menu", "info", "symptoms", "volunteer", "hoax", "factcheck",
                   "notices", "emergency", "settings", "help", "deletemydata"]


async def test_coordinator_gets_invite_links_only_for_own_rt(fake, tmp_path) -> None:
    async with running_bot(fake, tmp_path) as bot:
        joko = fake.user(510)
        await register(joko)
        await joko.send("/undangan")
        assert "hanya untuk pengurus RT/RW" in (await joko.next_reply())["text"]

        await bot.services.store.db.write(lambda conn: RolesRepo(conn).grant(
            "telegram:510", Grant("coordinator", "cimuncang-rw02-rt03"), "test",
            bot.services.clock.now()))
        await joko.send("/invite")
        text = (await joko.next_reply())["text"]
        assert f"https://t.me/{fake.bot_username}?start={INVITE_RW02_RT03}" in text
        assert text.count("https://t.me/") == 1  # not RT 01, 02, 04, 05 of the same RW
        entries = await AuditRepo(bot.services.store.db.conn).recent(5)
        assert [(e.action, e.outcome) for e in entries][:2] == [
            ("invite.view", "allowed"), ("invite.view", "denied")]


async def test_blocked_user_is_marked_inactive(fake, tmp_path) -> None:
    async with running_bot(fake, tmp_path) as bot:
        lina = fake.user(511)
        await register(lina)
        await lina.block_bot()
        await asyncio.sleep(0.5)
        await bot.settled()
        person = await PeopleRepo(bot.services.store.db.conn).get("telegram:511")
        assert person.active is False


async def test_rate_limits_and_server_errors_are_retried(fake, tmp_path) -> None:
    async with running_bot(fake, tmp_path):
        mia = fake.user(512)
        await register(mia)
        fake.fail("sendMessage", 429, "Too Many Requests: retry after 1", retry_after=1,
                  chat_id=512)
        fake.fail("sendMessage", 500, "Internal Server Error", chat_id=512)
        await mia.send("/darurat")
        reply = await mia.next_reply(timeout=10)
        assert "Kontak darurat" in reply["text"]
        assert len([c for c in fake.failed_calls if c[0] == "sendMessage"]) == 2


async def test_erase_confirmation_survives_odd_input_and_forgets_the_audit_trail(
        fake, tmp_path) -> None:
    async with running_bot(fake, tmp_path) as bot:
        nina = fake.user(513)
        await register(nina)
        await nina.send("/undangan")  # a refused privileged attempt is audited...
        await nina.next_reply()
        await nina.send("/hapusdata")
        await nina.next_reply()
        await nina.send("ya")  # typed instead of pressing the button: asked again
        again = await nina.replies_until_quiet()
        assert "Mohon pilih salah satu tombol" in again[0]["text"]
        assert nina.buttons(again[-1]) == ["🗑️ Ya, hapus", "Batal"]
        await nina.click("🗑️ Ya, hapus")
        done = (await nina.next_reply())["text"]
        assert "• ID akun chat dan pilihan bahasa\n• catatan persetujuan\n" in done
        await bot.settled()
        async with bot.services.store.db.conn.execute(
            "SELECT COUNT(*) FROM audit_log WHERE actor = 'telegram:513'"
        ) as cur:
            assert (await cur.fetchone())[0] == 0  # ...and forgotten with the person


INVITE_RW01_RT01 = "cmc11-PESr9sme"


async def test_change_rt_in_settings_and_move_by_another_invite(fake, tmp_path) -> None:
    async with running_bot(fake, tmp_path) as bot:
        oki = fake.user(514)
        await register(oki)
        await oki.send("/pengaturan")
        await oki.next_reply()
        await oki.click("🏘️ Ganti RT")
        await oki.next_reply()
        await oki.click("Cimuncang (Serang, Kota Serang)")
        await oki.next_reply()
        await oki.click("RW 03")
        await oki.next_reply()
        await oki.click("RT 02")
        changed = await oki.next_reply()
        assert "RT Anda sekarang RT 02 / RW 03, Cimuncang" in changed["text"]
        assert "🗑️ Hapus data saya" in oki.buttons(changed)  # back in Settings

        await oki.send(f"/start {INVITE_RW01_RT01}")  # a link shared in another RT's group
        ask = await oki.next_reply()
        assert "Tautan ini untuk RT 01 / RW 01, Cimuncang" in ask["text"]
        await oki.click("Tidak")
        assert "Anda tetap di RT 02 / RW 03" in (await oki.next_reply())["text"]
        await oki.send(f"/start {INVITE_RW01_RT01}")
        await oki.next_reply()
        await oki.click("Ya, pindah")
        assert "Sekarang Anda terdaftar di RT 01 / RW 01" in (await oki.next_reply())["text"]
        await bot.settled()
        person = await PeopleRepo(bot.services.store.db.conn).get("telegram:514")
        assert person.area_code == "cimuncang-rw01-rt01"


async def test_not_now_then_join_later_from_the_menu(fake, tmp_path) -> None:
    async with running_bot(fake, tmp_path) as bot:
        put = fake.user(515)
        await put.send("/start")
        await put.next_reply()
        await put.click("✅ Bahasa Indonesia")
        await put.next_reply()
        await put.click("Nanti saja")
        declined = await put.next_reply()
        assert "Anda tetap bisa membaca info kesehatan" in declined["text"]
        await bot.settled()
        person = await PeopleRepo(bot.services.store.db.conn).get("telegram:515")
        assert person.consent_version is None and person.area_code is None

        await put.click("📋 Info protokol kesehatan")  # still allowed without consent
        assert "Pilih topik" in (await put.next_reply())["text"]
        await put.send("/darurat")
        assert "Daftar ke RT Anda untuk melihat" in (await put.next_reply())["text"]
        await put.click("🏘️ Daftar ke RT saya")
        assert "Setuju?" in (await put.next_reply())["text"]
        await put.click("✅ Setuju")
        assert "Di kelurahan/desa mana" in (await put.next_reply())["text"]


async def test_an_outage_longer_than_the_retries_loses_nothing(fake, tmp_path) -> None:
    async with running_bot(fake, tmp_path) as bot:
        quin = fake.user(516)
        fake.fail("sendMessage", 502, "Bad Gateway", times=15, chat_id=516)
        await quin.send("/start")
        reply = await quin.next_reply(timeout=20)
        assert "Pilih bahasa" in reply["text"]
        await bot.settled()
        assert await InboxRepo(bot.services.store.db.conn).count("telegram", "done") == 1
        assert await InboxRepo(bot.services.store.db.conn).count("telegram", "failed") == 0


async def test_a_refused_reply_does_not_block_the_conversation(fake, tmp_path) -> None:
    async with running_bot(fake, tmp_path) as bot:
        rudi = fake.user(517)
        fake.fail("sendMessage", 400, "Bad Request: message is too long", chat_id=517)
        await rudi.send("/start")
        await bot.settled()
        person = await PeopleRepo(bot.services.store.db.conn).get("telegram:517")
        assert person is not None  # the state moved on although the reply was refused
        await rudi.send("/start")
        assert "Pilih bahasa" in (await rudi.next_reply())["text"]


async def test_beyond_the_allowance_one_slow_down_and_button_presses_count(fake, tmp_path
                                                                         ) -> None:
    """An allowance of 3 at once: /start and two presses are answered; the third press gets
    the one "slow down" (and its button stops spinning); the rest are recorded, not handled."""
    async with running_bot(fake, tmp_path, SIAGA_PER_PERSON_BURST="3") as bot:
        tia = fake.user(530)
        await tia.send("/start")
        assert "Pilih bahasa" in (await tia.next_reply())["text"]
        label = tia.buttons()[0]
        for _ in range(6):  # pressing again and again, as fast as a thumb can
            await tia.click(label)
        await bot.settled()
        await asyncio.sleep(0.3)
        texts = [m["text"] for m in fake.messages_to(530)]
        assert sum("terlalu cepat" in text for text in texts) == 1
        assert "terlalu cepat" in texts[-1]  # after the answers to what was allowed
        async with bot.services.store.db.conn.execute(
                "SELECT status, error, COUNT(*) FROM inbox GROUP BY status, error "
                "ORDER BY error") as cur:
            assert [tuple(r) for r in await cur.fetchall()] == [
                ("done", None, 3), ("done", "rate limited", 4)]
        assert len(fake.calls_of("answerCallbackQuery")) == 3  # two answered, one slowed


async def test_chats_waiting_out_their_own_429_do_not_hold_up_others(fake, tmp_path) -> None:
    """Two slots. Four people's chats are rate-limited (429, retry after 1 s); a fifth person,
    who wrote after them, is answered while they still wait."""
    async with running_bot(fake, tmp_path, TELEGRAM_MAX_CONCURRENT="2"):
        slowed = [fake.user(540 + i) for i in range(4)]
        for user in slowed:
            fake.fail("sendMessage", 429, "Too Many Requests: retry after 1", retry_after=1,
                      chat_id=user.id)
            await user.send("/darurat")
        other = fake.user(549)
        await other.send("/darurat")
        assert "Kontak darurat" in (await other.next_reply(timeout=5))["text"]
        assert all(fake.messages_to(user.id) == [] for user in slowed)  # still waiting
        for user in slowed:
            assert "Kontak darurat" in (await user.next_reply(timeout=10))["text"]
