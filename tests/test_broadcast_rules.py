"""The broadcast rules tightened by the review: who may skip approval, who may stop a notice,
what happens to notices whose author lost their role or whose time passed, notices going out
slowly, queued notices to people who opted out or moved, erasure of an author, /hubungkan
between RTs with the same number, forged callback data and message length.

Each test talks to the real bot through the fake Bot API and checks what people see, plus
the database where that is the point of the rule.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from bot.broadcasting import notices as notice_svc
from bot.channels.traits import notice_limits, utf16_length
from db.repositories.notices import Notice, NoticesRepo
from db.repositories.roles import Grant, RolesRepo
from tests.broadcast_helpers import (
    RT01_RW01,
    RT03,
    RW02,
    create_notice,
    fire_notice,
    grant,
    resident,
)
from tests.broadcast_helpers import drain as drain_outbox
from tests.fake_telegram import FakeUser
from tests.telegram_harness import RunningBot, running_bot
from tests.test_broadcast_flow import (
    FAST,
    GROUP,
    NO_APPROVAL,
    RT05_RW02,
    RW01,
    URGENT_SKIPS,
    audit,
    drain,
    got,
    in_group,
    preview_now,
    reply_with,
    schedule_tomorrow,
    sent_notice,
    start_notice,
    texts_to,
)

NOT_YOURS = "tidak ditemukan di daftar Anda"
ERROR = "terjadi kesalahan di pihak kami"
SLOW = {"TELEGRAM_SEND_RATE": "2", **FAST}  # one message every 0.5 s


async def _moderator(bot: RunningBot, uid: int = 900, name: str = "Mod Sari") -> None:
    await resident(bot.services, uid, "cimuncang-rw03-rt01")
    await grant(bot.services, uid, "moderator", "", name)


async def _ahmad(bot: RunningBot, fake, residents=(701, 702)) -> FakeUser:  # type: ignore[no-untyped-def]
    """Pak Ahmad coordinates RT 03 (and lives there); ``residents`` live in RT 03 too."""
    await resident(bot.services, 700, RT03)
    await grant(bot.services, 700, "coordinator", RT03, "Pak Ahmad")
    for uid in residents:
        await resident(bot.services, uid, RT03)
    return fake.user(700, first_name="Ahmad")


async def _rows(bot: RunningBot, run_id: int) -> dict[str, tuple[str, str | None]]:
    async with bot.services.store.db.conn.execute(
            "SELECT address, status, reason FROM outbox WHERE kind = 'notice' AND ref_id = ?",
            (run_id,)) as cur:
        return {r[0]: (r[1], r[2]) for r in await cur.fetchall()}


# --- 1. only an urgent notice sent now skips approval ------------------------------------


async def test_urgent_skips_approval_only_when_sent_now(fake, tmp_path, clock) -> None:
    async with running_bot(fake, tmp_path, clock, **URGENT_SKIPS) as bot:
        svc = bot.services
        await resident(svc, 800, RT05_RW02)
        await grant(svc, 800, "coordinator", RW02, "Bu Neneng")
        await resident(svc, 801, RT03)
        await _moderator(bot)
        neneng, sari = fake.user(800), fake.user(900)
        await start_notice(neneng, "Banjir! Segera mengungsi ke masjid.", "👥 Seluruh RW 02",
                           category="🚨 Mendesak")
        _, summary = await preview_now(neneng)
        assert "📨 Kirim" in neneng.buttons(summary)
        await neneng.click("📨 Kirim")
        assert "tanpa menunggu persetujuan" in (await neneng.next_reply())["text"]
        await bot.settled()
        await bot.outbox_idle()
        assert len(got(fake, 801, "Banjir!")) == 1
        drain(neneng)

        await start_notice(neneng, "Tanggul rawan jebol, bersiap mengungsi.",
                           "👥 Seluruh RW 02", category="🚨 Mendesak")
        await neneng.click("📅 Pada tanggal & jam tertentu")
        await neneng.next_reply()
        await neneng.send("besok 07.00")
        await neneng.next_reply()
        summary = await neneng.next_reply()
        assert neneng.buttons(summary)[0] == "📨 Ajukan untuk disetujui", summary
        assert "📨 Kirim" not in neneng.buttons(summary)
        await neneng.click("📨 Ajukan untuk disetujui")
        assert "Pengumuman diajukan" in (await neneng.next_reply())["text"]
        await bot.settled()
        await bot.outbox_idle()
        (scheduled,) = [n for n in await NoticesRepo(svc.store.db.conn).open_by("telegram:800")
                        if n.repeat == "once"]
        assert scheduled.status == "pending" and not scheduled.needs_review
        review = await reply_with(sari, "Pengumuman menunggu persetujuan")
        assert sari.buttons(review) == ["✅ Setujui", "❌ Tolak"]
        clock.advance(hours=16, minutes=1)  # Monday 07.01 WIB: not approved, so not sent
        assert await bot.workers.scheduler.run_due() == []
        await bot.outbox_idle()
        assert got(fake, 801, "Tanggul rawan") == []


# --- 2. a moderator stops an urgent notice that went out without approval ----------------


async def test_moderator_stops_an_unapproved_urgent_notice_going_out(fake, tmp_path) -> None:
    residents = list(range(801, 809))
    async with running_bot(fake, tmp_path, **{**URGENT_SKIPS, **SLOW}) as bot:
        svc = bot.services
        await resident(svc, 800, RT05_RW02)
        await grant(svc, 800, "coordinator", RW02, "Bu Neneng")
        for uid in residents:
            await resident(svc, uid, RT03)
        await _moderator(bot)
        neneng, sari, budi = fake.user(800), fake.user(900), fake.user(801)
        body = "Banjir! Semua warga bantaran kali mengungsi."
        await start_notice(neneng, body, "👥 Seluruh RW 02", category="🚨 Mendesak")
        await preview_now(neneng)
        await neneng.click("📨 Kirim")
        await neneng.next_reply()
        await bot.settled()
        review = await reply_with(sari, "dikirim tanpa persetujuan")
        assert sari.buttons(review) == ["✅ Tandai sudah ditinjau", "🛑 Hentikan & batalkan"]
        (notice,) = await NoticesRepo(svc.store.db.conn).open_by("telegram:800")  # going out
        await budi.click_data(f"bc:cancel!:{notice.id}")  # a resident's forged cancel
        assert NOT_YOURS in (await reply_with(budi, NOT_YOURS))["text"]
        await sari.click("🛑 Hentikan & batalkan", message_id=review["message_id"])
        confirm = await reply_with(sari, f"Batalkan pengumuman #{notice.id}")
        await sari.click("Ya, batalkan", message_id=confirm["message_id"])
        done = await reply_with(sari, f"Pengumuman #{notice.id} dibatalkan")
        await drain_outbox(bot, 15)
        reached = [u for u in residents if got(fake, u, "Banjir!")]
        assert len(reached) < len(residents), f"still reached everyone: {done['text']}"
        assert "Pesan yang belum terkirim dihentikan" in done["text"], done["text"]
        assert ("notice.cancel", f"notice:{notice.id}") in [
            (e.action, e.target) for e in await audit(bot, "telegram:900")]


# --- 3. a revoked author's scheduled notice is cancelled when due -------------------------


async def test_scheduled_notice_of_a_revoked_author_is_cancelled(fake, tmp_path, clock
                                                                 ) -> None:
    async with running_bot(fake, tmp_path, clock, **FAST) as bot:
        svc = bot.services
        await _ahmad(bot, fake)
        at = clock.now() + timedelta(hours=1)
        notice = await create_notice(svc, 700, "Kerja bakti sore ini.", repeat="once",
                                     start_at=at, next_run_at=at)
        await svc.store.db.write(lambda conn: RolesRepo(conn).revoke(
            "telegram:700", Grant("coordinator", RT03)))
        clock.advance(hours=1, minutes=1)
        assert await bot.workers.scheduler.run_due() == []
        await drain_outbox(bot)
        for uid in (701, 702):
            assert got(fake, uid, "Kerja bakti sore") == [], texts_to(fake, uid)
        told = got(fake, 700, "dibatalkan karena Anda tidak lagi terdaftar")
        assert len(told) == 1, texts_to(fake, 700)
        saved = await NoticesRepo(svc.store.db.conn).get(notice.id or 0)
        assert saved is not None and saved.status == "cancelled"
        assert await NoticesRepo(svc.store.db.conn).runs_of(notice.id or 0) == []
        assert [(e.action, e.target) for e in await audit(bot, "system")] == [
            ("notice.cancel", f"notice:{notice.id}")]


# --- 4. approved too late: missed; a few seconds late with no grace: still sent -----------


async def test_notice_approved_after_its_time_and_grace_is_missed(fake, tmp_path, clock
                                                                  ) -> None:
    async with running_bot(fake, tmp_path, clock, **FAST) as bot:
        ahmad = await _ahmad(bot, fake)
        await _moderator(bot)
        sari = fake.user(900)
        await schedule_tomorrow(bot, ahmad, "Fogging nyamuk besok pagi.",
                                "📨 Ajukan untuk disetujui")
        review = await reply_with(sari, "Pengumuman menunggu persetujuan")
        clock.advance(hours=17, minutes=2)  # Monday 08.02 WIB: 62 minutes late (grace 60)
        await sari.click("✅ Setujui", message_id=review["message_id"])
        answer = await sari.next_reply()
        assert "waktunya sudah lewat" in answer["text"], answer["text"]
        await bot.settled()
        assert await bot.workers.scheduler.run_due() == []
        await bot.outbox_idle()
        assert got(fake, 700, "disetujui moderator setelah waktunya lewat"), texts_to(fake, 700)
        for uid in (701, 702):
            assert got(fake, uid, "Fogging nyamuk") == [], texts_to(fake, uid)
        assert await NoticesRepo(bot.services.store.db.conn).open_all() == []
        async with bot.services.store.db.conn.execute("SELECT status FROM notice") as cur:
            assert [r[0] for r in await cur.fetchall()] == ["missed"]


async def test_with_no_grace_a_job_a_few_seconds_late_still_sends(fake, tmp_path, clock
                                                                  ) -> None:
    async with running_bot(fake, tmp_path, clock, SIAGA_MISSED_GRACE_MINUTES="0",
                           **FAST) as bot:
        await _ahmad(bot, fake)
        at = clock.now() + timedelta(hours=1)
        notice = await create_notice(bot.services, 700, "Posyandu jam 16.00.", repeat="once",
                                     start_at=at, next_run_at=at)
        clock.advance(hours=1, seconds=5)  # the job woke five seconds after the notice's time
        assert len(await bot.workers.scheduler.run_due()) == 1
        await drain_outbox(bot)
        for uid in (701, 702):
            assert len(got(fake, uid, "Posyandu jam 16.00")) == 1, texts_to(fake, uid)
        saved = await NoticesRepo(bot.services.store.db.conn).get(notice.id or 0)
        assert saved is not None and saved.status == "done"


# --- 5. four eyes -------------------------------------------------------------------------


async def test_moderator_cannot_approve_their_own_notice(fake, tmp_path) -> None:
    async with running_bot(fake, tmp_path, **FAST) as bot:
        ahmad = await _ahmad(bot, fake)
        await grant(bot.services, 700, "moderator", "", "Pak Ahmad")
        await _moderator(bot)
        sari = fake.user(900)
        await start_notice(ahmad, "Lomba kebersihan antar-gang Sabtu.")
        await preview_now(ahmad)
        await ahmad.click("📨 Ajukan untuk disetujui")
        await ahmad.next_reply()
        await bot.settled()
        own = await reply_with(ahmad, "Pengumuman menunggu persetujuan")
        await ahmad.click("✅ Setujui", message_id=own["message_id"])
        refused = await reply_with(ahmad, "moderator lain")
        assert "moderator lain yang perlu menyetujuinya" in refused["text"]
        await bot.settled()
        await bot.outbox_idle()
        assert got(fake, 701, "Lomba kebersihan") == []
        (notice,) = await NoticesRepo(bot.services.store.db.conn).open_by("telegram:700")
        assert notice.status == "pending"
        review = await reply_with(sari, "Pengumuman menunggu persetujuan")
        await sari.click("✅ Setujui", message_id=review["message_id"])
        assert f"Pengumuman #{notice.id} disetujui" in (await sari.next_reply())["text"]
        await bot.settled()
        await bot.outbox_idle()
        for uid in (701, 702):
            assert len(got(fake, uid, "Lomba kebersihan")) == 1, texts_to(fake, uid)
        approved = await NoticesRepo(bot.services.store.db.conn).get(notice.id or 0)
        assert approved is not None and approved.decided_by == "telegram:900"
        assert ("notice.approve", f"notice:{notice.id}", "denied") in [
            (e.action, e.target, e.outcome) for e in await audit(bot, "telegram:700")]


async def test_author_cannot_mark_their_own_urgent_notice_reviewed(fake, tmp_path) -> None:
    """Four eyes hold for urgent notices that went out before review: the author, even a
    moderator, is refused (audited); another moderator marks it reviewed."""
    async with running_bot(fake, tmp_path, **URGENT_SKIPS) as bot:
        svc = bot.services
        await resident(svc, 800, RT05_RW02)
        await grant(svc, 800, "coordinator", RW02, "Bu Neneng")
        await grant(svc, 800, "moderator")
        await resident(svc, 801, RT03)
        await _moderator(bot)
        neneng, sari = fake.user(800), fake.user(900)
        await start_notice(neneng, "Banjir! Warga bantaran kali segera mengungsi.",
                           "👥 Seluruh RW 02", category="🚨 Mendesak")
        await preview_now(neneng)
        await neneng.click("📨 Kirim")
        assert "tanpa menunggu persetujuan" in (await neneng.next_reply())["text"]
        await bot.settled()
        own = await reply_with(neneng, "dikirim tanpa persetujuan")
        assert neneng.buttons(own) == ["✅ Tandai sudah ditinjau", "🛑 Hentikan & batalkan"]
        await neneng.click("✅ Tandai sudah ditinjau", message_id=own["message_id"])
        refused = await reply_with(neneng, "moderator lain")
        assert "Anda kirim sendiri: moderator lain yang perlu meninjaunya" in refused["text"]
        repo = NoticesRepo(svc.store.db.conn)
        (notice,) = await repo.awaiting_review()
        await neneng.click_data(f"mod:seen:{notice.id}")  # the same, forged
        await reply_with(neneng, "moderator lain yang perlu meninjaunya")
        await bot.settled()
        assert [n.id for n in await repo.awaiting_review()] == [notice.id]
        denied = {(e.action, e.target) for e in await audit(bot, "telegram:800")
                  if e.outcome == "denied"}
        assert denied == {("notice.review", f"notice:{notice.id}")}
        review = await reply_with(sari, "dikirim tanpa persetujuan")
        await sari.click("✅ Tandai sudah ditinjau", message_id=review["message_id"])
        assert f"Pengumuman #{notice.id} ditandai sudah ditinjau" in \
            (await reply_with(sari, "ditinjau"))["text"]
        await bot.settled()
        assert await repo.awaiting_review() == []
        reviewed = await repo.get(notice.id or 0)
        assert reviewed is not None and reviewed.decided_by == "telegram:900"
        assert ("notice.review", "done") in [(e.action, e.outcome)
                                             for e in await audit(bot, "telegram:900")]


# --- 6. a notice going out is listed and can be cancelled --------------------------------


async def test_notice_going_out_is_listed_and_cancelling_stops_the_rest(fake, tmp_path
                                                                         ) -> None:
    residents = list(range(701, 709))
    body = "Pembagian sembako di balai RT."
    async with running_bot(fake, tmp_path, **SLOW) as bot:
        svc = bot.services
        await resident(svc, 700, RT01_RW01)  # the author is not in the audience
        await grant(svc, 700, "coordinator", RT03, "Pak Ahmad")
        for uid in residents:
            await resident(svc, uid, RT03)
        notice = await create_notice(svc, 700, body)
        run = await fire_notice(svc, notice)
        ahmad = fake.user(700)
        await ahmad.send("/siaran")
        home = await reply_with(ahmad, "Siaran pengumuman")
        assert "📋 Pengumuman saya (1)" in ahmad.buttons(home)
        await ahmad.click("📋 Pengumuman saya (1)", message_id=home["message_id"])
        item = await reply_with(ahmad, "Sedang dikirim")
        assert ahmad.buttons(item) == ["🗑 Batalkan"]
        await ahmad.click("🗑 Batalkan", message_id=item["message_id"])
        confirm = await reply_with(ahmad, f"Batalkan pengumuman #{notice.id}")
        await ahmad.click("Ya, batalkan", message_id=confirm["message_id"])
        done = await reply_with(ahmad, f"Pengumuman #{notice.id} dibatalkan")
        await drain_outbox(bot, 15)
        reached = [u for u in residents if got(fake, u, body)]
        stopped = len(residents) - len(reached)
        assert stopped > 0, f"cancelling stopped nothing: {done['text']}"
        # the exact figures are in the report: a message already on its way still arrives
        assert "Pesan yang belum terkirim dihentikan; laporannya menyusul" in done["text"]
        statuses = [s for s, _ in (await _rows(bot, run.id)).values()]
        assert statuses.count("cancelled") == stopped, statuses
        (report,) = [t for t in texts_to(fake, 700) if t.startswith("Laporan pengumuman")]
        assert f"Dihentikan karena dibatalkan: {stopped}" in report, report


# --- 7. queued regular notices to people who opted out or moved --------------------------


async def test_queued_notice_is_dropped_for_who_opts_out_or_moves(fake, tmp_path) -> None:
    from bot.clock import FakeClock
    from tests.test_outbox import NIGHT

    clock = FakeClock(NIGHT)  # 22:00 WIB: a regular notice waits until 06:00
    body = "Kerja bakti Minggu pagi."
    async with running_bot(fake, tmp_path, clock=clock, **FAST) as bot:
        await _ahmad(bot, fake, residents=(701, 702, 703))
        run = await fire_notice(bot.services, await create_notice(bot.services, 700, body))
        await drain_outbox(bot)
        assert {s for s, _ in (await _rows(bot, run.id)).values()} == {"queued"}

        dewi = fake.user(701)  # turns regular notices off
        await dewi.send("/pengaturan")
        await reply_with(dewi, "Pengaturan")
        await dewi.click("🔕 Matikan pengumuman biasa")
        assert "dimatikan" in (await dewi.next_reply())["text"]
        eko = fake.user(702)  # moves to RT 01 / RW 01
        await eko.send("/pengaturan")
        await reply_with(eko, "Pengaturan")
        for label in ("🏘️ Ganti RT", "Cimuncang (Serang, Kota Serang)", "RW 01", "RT 01"):
            await eko.click(label)
            reply = await eko.next_reply()
        assert "RT Anda sekarang RT 01 / RW 01" in reply["text"], reply["text"]
        await bot.settled()

        clock.advance(hours=8, minutes=1)  # 06:01 WIB
        await drain_outbox(bot, final=True)
        assert len(got(fake, 703, body)) == 1, texts_to(fake, 703)
        assert got(fake, 701, body) == [], texts_to(fake, 701)
        assert got(fake, 702, body) == [], texts_to(fake, 702)
        rows = await _rows(bot, run.id)
        assert rows["701"] == ("skipped", "opted_out")
        assert rows["702"] == ("skipped", "moved")
        assert rows["703"][0] == "sent"


# --- 8. erasing an author -----------------------------------------------------------------


async def test_erased_author_is_signed_by_role_only_and_forgotten(fake, tmp_path) -> None:
    async with running_bot(fake, tmp_path, **NO_APPROVAL) as bot:
        svc = bot.services
        ahmad = await _ahmad(bot, fake, residents=(701,))
        fake.chat_admins[GROUP] = {700}
        assert any("terhubung" in t for t in await in_group(fake, bot, 700, "/hubungkan"))
        await sent_notice(bot, 700, (RT03,), "Kerja bakti bersih got hari Minggu.",
                          "Ketua RT 03 / RW 02 — Pak Ahmad")
        now = svc.clock.now()
        decided = Notice(author="telegram:710", author_lang="id", signature="Ketua RT 01",
                         segment="all", category="regular", body="Arisan.", repeat="now",
                         status="rejected", created_at=now, updated_at=now, areas=(RT03,),
                         decided_by="telegram:700", decided_at=now, reason="Belum pasti.")
        await svc.store.db.write(lambda conn: NoticesRepo(conn).create(decided))
        await bot.outbox_idle()
        drain(ahmad)

        await ahmad.send("/hapusdata")
        await reply_with(ahmad, "Hapus data saya")
        await ahmad.click("🗑️ Ya, hapus")
        assert "sudah dihapus" in (await ahmad.next_reply())["text"]
        await bot.settled()

        citra = fake.user(701)
        drain(citra)
        await citra.send("/pengumuman")
        assert "(1, 30 hari terakhir)" in (await citra.next_reply())["text"]
        shown = (await citra.next_reply())["text"]
        assert "Kerja bakti bersih got" in shown
        assert "Ketua RT 03 / RW 02" in shown and "Pak Ahmad" not in shown, shown
        conn, old = svc.store.db.conn, "telegram:700"
        async with conn.execute("SELECT COUNT(*) FROM notice WHERE author = ? OR decided_by = ? "
                                "OR signature LIKE '%Pak Ahmad%'", (old, old)) as cur:
            assert (await cur.fetchone())[0] == 0
        async with conn.execute("SELECT COUNT(*) FROM group_link WHERE linked_by = ?",
                                (old,)) as cur:
            assert (await cur.fetchone())[0] == 0
        async with conn.execute("SELECT COUNT(*) FROM group_link") as cur:
            assert (await cur.fetchone())[0] == 1  # the group stays linked
        async with conn.execute("SELECT * FROM notice_run") as cur:  # no chat id kept there
            assert [r for r in await cur.fetchall() if "700" in map(str, tuple(r))] == []


# --- 9. /hubungkan never guesses between RTs with the same number -------------------------


async def test_link_asks_which_rt_when_the_number_repeats_across_rws(fake, tmp_path) -> None:
    async with running_bot(fake, tmp_path, **NO_APPROVAL) as bot:
        svc = bot.services
        await resident(svc, 800, RT05_RW02)
        await grant(svc, 800, "coordinator", RW01, "Bu Neneng")
        await grant(svc, 800, "coordinator", RW02, "Bu Neneng")
        fake.chat_admins[GROUP] = {800}
        answer = await in_group(fake, bot, 800, "/hubungkan 03")
        assert len(answer) == 1 and "Anda mengurus beberapa RT" in answer[0], answer
        assert "cimuncang-rw01-rt03" in answer[0] and "cimuncang-rw02-rt03" in answer[0]
        assert await NoticesRepo(svc.store.db.conn).linked_to("telegram", str(GROUP)) == []
        answer = await in_group(fake, bot, 800, "/hubungkan cimuncang-rw02-rt03")
        assert len(answer) == 1 and "terhubung dengan RT 03 / RW 02" in answer[0], answer
        assert await NoticesRepo(svc.store.db.conn).linked_to("telegram", str(GROUP)) == [RT03]


# --- 10. forged callback data -------------------------------------------------------------


async def test_forged_ids_in_buttons_are_answered_and_the_draft_survives(fake, tmp_path
                                                                         ) -> None:
    async with running_bot(fake, tmp_path, **NO_APPROVAL) as bot:
        ahmad = await _ahmad(bot, fake, residents=(701,))
        await ahmad.send("/siaran")
        await ahmad.next_reply()
        await ahmad.click("✏️ Buat pengumuman")
        await ahmad.next_reply()
        await ahmad.send("Air PAM mati besok pagi.")
        segment = await ahmad.next_reply()
        assert "Siapa penerimanya" in segment["text"]
        answered = len(ahmad.answered_callbacks)
        # malformed ids are refused before any handler runs (typed button data); a well-formed
        # id of no notice of theirs reaches the handler, which says so
        for data, expected in (("bc:pause:99999999999999999999", "sudah tidak berlaku"),
                               ("mod:ok:99999999999999999999", "sudah tidak berlaku"),
                               ("bc:pause:²", "sudah tidak berlaku"),
                               ("bc:pause:99999", NOT_YOURS)):
            await ahmad.click_data(data, message_id=segment["message_id"])
            answer = await ahmad.next_reply()
            assert expected in answer["text"], (data, answer["text"])
            if expected != NOT_YOURS:  # a stale button: the step's question again
                assert "Siapa penerimanya" in (await ahmad.next_reply())["text"]
        await bot.settled()
        assert len(ahmad.answered_callbacks) == answered + 4  # no spinner left turning
        assert not any(ERROR in t for t in texts_to(fake, 700))
        await ahmad.click("Semua warga", message_id=segment["message_id"])
        assert "Jenis pengumuman" in (await ahmad.next_reply())["text"]
        await ahmad.click("Biasa")
        assert "Kapan dikirim" in (await ahmad.next_reply())["text"]
        await preview_now(ahmad)
        await ahmad.click("📨 Kirim")
        assert "sedang dikirim" in (await ahmad.next_reply())["text"]
        await bot.settled()
        await bot.outbox_idle()
        assert len(got(fake, 701, "Air PAM mati")) == 1


# --- 11. length as Telegram counts it -----------------------------------------------------


async def test_body_is_measured_in_utf16_units(fake, tmp_path) -> None:
    async with running_bot(fake, tmp_path, **NO_APPROVAL) as bot:
        ahmad = await _ahmad(bot, fake, residents=())
        await ahmad.send("/siaran")
        await ahmad.next_reply()
        await ahmad.click("✏️ Buat pengumuman")
        await ahmad.next_reply()
        await ahmad.send("🚨" * 1800)  # 1,800 characters, 3,600 UTF-16 units
        refused = await ahmad.next_reply()
        assert "terlalu panjang sekitar 100 karakter (emoji dihitung dua); maksimal 3.500" \
            in refused["text"], refused["text"]
        assert "Tulis isi pengumuman" in (await ahmad.next_reply())["text"]
        await ahmad.send("Air PAM mati besok pagi.")
        assert "Siapa penerimanya" in (await ahmad.next_reply())["text"]


# --- 12. the moderator's review message always fits -------------------------------------


KELURAHAN = ("Sukamaju", "Sukamulya", "Sukasari", "Sukaraja", "Sukajadi", "Sukaluyu")


def _big_areas(path: Path, kelurahan: int, rts: int) -> list[str]:
    """``kelurahan`` kelurahan of 20 RWs with ``rts`` RTs each; their RT codes."""
    lines, codes = [], []
    for k, name in enumerate(KELURAHAN[:kelurahan]):
        code = name.lower()
        lines += ["[[kelurahan]]", f'code = "{code}"', f'name = "{name}"',
                  'kecamatan = "Serang"', 'kota = "Kota Serang"']
        for rw in range(1, 21):
            lines += ["[[kelurahan.rw]]", f'number = "{rw:02d}"']
            for rt in range(1, rts + 1):
                lines += ["[[kelurahan.rw.rt]]", f'number = "{rt:02d}"',
                          f'invite = "k{k}w{rw:02d}t{rt:02d}-x"']
                codes.append(f"{code}-rw{rw:02d}-rt{rt:02d}")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return codes


def _longest_body(units: int) -> str:
    """A body of exactly ``units`` UTF-16 units, with emoji and characters HTML escapes."""
    piece = "🚨 Air naik <1 m> & arus deras, warga bantaran kali mengungsi ke masjid. "
    body = ""
    while utf16_length(body + piece) <= units:
        body += piece
    return body + "x" * (units - utf16_length(body))


async def test_review_of_the_longest_notice_to_every_rt_fits_one_message(fake, tmp_path
                                                                        ) -> None:
    areas_file = tmp_path / "areas.toml"
    codes = _big_areas(areas_file, kelurahan=6, rts=10)  # 1,200 RTs
    async with running_bot(fake, tmp_path, SIAGA_AREAS_FILE=str(areas_file), **FAST) as bot:
        svc = bot.services
        limit, _, length = notice_limits(svc.channels.values())
        assert length is utf16_length
        body = _longest_body(limit)
        await resident(svc, 900, codes[0])
        await grant(svc, 900, "moderator", "", "Mod Sari")
        await resident(svc, 701, codes[-1])
        await grant(svc, 700, "admin", "", "Pak Lurah")
        now = svc.clock.now()
        notice = Notice(author="telegram:700", author_lang="id", signature="Pengelola — "
                        "Pak Lurah", segment="all", category="urgent", body=body,
                        repeat="now", status="pending", created_at=now, updated_at=now,
                        areas=tuple(codes))
        await svc.store.db.write(lambda conn: NoticesRepo(conn).create(notice))
        # the request each moderator gets when a notice is submitted (through the outbox)
        await svc.store.write(lambda tx: notice_svc.request_review(
            svc, tx, notice, "broadcast.review", now))
        svc.signals.outbox()
        sari = fake.user(900)
        requested = await reply_with(sari, "Pengumuman menunggu persetujuan")
        # and the same notice in the review list a moderator opens (a reply)
        await sari.send("/siaran")
        await reply_with(sari, "Siaran pengumuman")
        await sari.click("🛡 Perlu ditinjau (1)")
        listed = await reply_with(sari, "Pengumuman menunggu persetujuan")
        for review in (requested, listed):
            text = review["text"]
            assert utf16_length(text) <= 4096, utf16_length(text)
            # RWs listed per kelurahan would not fit: RTs counted per kelurahan
            audience = text.split("• Penerima: ", 1)[1].split(" · ", 1)[0]
            assert sorted(audience.split("; ")) == sorted(f"200 RT di Kel. {name}"
                                                          for name in KELURAHAN), text[:400]
            assert text.endswith(body)  # the moderator reads all that residents will
            assert "Isi dipendekkan" not in text
            assert sari.buttons(review) == ["✅ Setujui", "❌ Tolak"]
        # what is sent once approved is the whole body
        await sari.click("✅ Setujui", message_id=listed["message_id"])
        await reply_with(sari, "disetujui")
        await bot.outbox_idle()
        (sent,) = got(fake, 701, body[:40])
        assert body in sent["text"]


async def test_review_with_a_long_audience_summarises_it_and_keeps_the_body(fake, tmp_path
                                                                            ) -> None:
    areas_file = tmp_path / "areas.toml"
    codes = _big_areas(areas_file, kelurahan=1, rts=25)
    async with running_bot(fake, tmp_path, SIAGA_AREAS_FILE=str(areas_file), **FAST) as bot:
        svc = bot.services
        await resident(svc, 900, codes[0], language="en")
        await grant(svc, 900, "moderator", "", "Mod Sari")
        now = svc.clock.now()
        body = "Kerja bakti serentak hari Minggu pukul 07.00."
        notice = Notice(author="telegram:700", author_lang="id", signature="Pengelola",
                        segment="all", category="regular", body=body, repeat="now",
                        status="pending", created_at=now, updated_at=now,
                        areas=tuple(codes[:300]))
        await svc.store.db.write(lambda conn: NoticesRepo(conn).create(notice))
        await svc.store.write(lambda tx: notice_svc.request_review(
            svc, tx, notice, "broadcast.review", now))
        svc.signals.outbox()
        text = (await reply_with(fake.user(900), "Notice waiting for approval"))["text"]
        assert "To: 300 RTs in RW 01, 02, 03, 04, 05, 06, 07, 08, 09, 10, 11, 12 · " in text
        assert text.endswith(body)


async def test_review_of_a_body_too_long_for_one_message_is_cut_with_a_note(fake, tmp_path
                                                                          ) -> None:
    """A body longer than a notice may be (one saved before a limit changed, say) is cut in
    the review message, which says so, instead of the whole request being dropped."""
    async with running_bot(fake, tmp_path, **FAST) as bot:
        svc = bot.services
        await _moderator(bot)
        now = svc.clock.now()
        body = _longest_body(4090)
        notice = Notice(author="telegram:700", author_lang="id", signature="Pengelola",
                        segment="all", category="regular", body=body, repeat="now",
                        status="pending", created_at=now, updated_at=now, areas=(RW02,))
        await svc.store.db.write(lambda conn: NoticesRepo(conn).create(notice))
        await svc.store.write(lambda tx: notice_svc.request_review(
            svc, tx, notice, "broadcast.review", now))
        svc.signals.outbox()
        text = (await reply_with(fake.user(900), "Pengumuman menunggu persetujuan"))["text"]
        assert 4000 < utf16_length(text) <= 4096, utf16_length(text)
        assert "• Penerima: 5 RT · 0 orang" in text
        start = text.index(body[:100])
        cut = text[start:text.index("…\n\n✂️ Isi dipendekkan di pesan ini; warga menerima "
                                    "teks lengkapnya.")]
        assert body.startswith(cut) and utf16_length(cut) > 3500
        assert text.endswith("warga menerima teks lengkapnya.")
