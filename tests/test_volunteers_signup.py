"""/relawan as residents and volunteers use it: the sign-up with odd input at every step, the
stored record, edit, pause and resume, stopping, /hapusdata, asking for help (the RT
coordinator is alerted), and the answers to call-outs (accept, decline, full, given back,
exactly N places when more press Accept at the same moment).

Driven through the real core and router in-process (tests/chat.py); call-outs are created
with the service, as a coordinator's /panggilrelawan would."""

from __future__ import annotations

import asyncio
import importlib.util
from datetime import UTC, datetime, timedelta

from bot.events import Kind, reply_from_json
from bot.handlers.volunteers import Avail, HelpFor, SignUp, Skill
from bot.render import Renderer
from bot.volunteers import service as svc
from bot.volunteers.callbacks import Accept, Decline, RequestDone
from db.repositories.volunteers import NewCallout
from tests.chat import Chat
from tests.test_symptoms_flow import (
    RT01_RW01,
    RT03,
    YES_TO,
    answer,
    grant,
    outbox_to,
    person,
    rows,
)

RW02 = "cimuncang-rw02"
SATURDAY = datetime(2026, 12, 5, 2, 0, tzinfo=UTC)  # Saturday 5 Dec 2026 09:00 WIB
PHONE = "+6281234567890"


async def sign_up(chat: Chat, name: str = "Sri Wahyuni", *, phone: str = "",
                  skills: tuple[str, ...] = ("Logistik",),
                  times: tuple[str, ...] = ("Akhir pekan",), area: str = "RT saya") -> str:
    """Go through the sign-up with good answers; the confirmation."""
    await chat.send("/relawan")
    await chat.press("Daftar jadi relawan")
    await chat.send(name)
    if phone:
        await chat._event(Kind.CONTACT, text=phone)
    else:
        await chat.press("Lewati")
    for skill in skills:
        await chat.press(skill)
    await chat.press("Lanjut")
    for time in times:
        await chat.press(time)
    await chat.press("Lanjut")
    await chat.press(area)
    await chat.press("Setuju")
    return chat.text


async def volunteer_row(services, user: str) -> tuple | None:  # type: ignore[no-untyped-def]
    found = await rows(services, "SELECT v.name, v.phone, v.skills, v.availability, "
                                 "v.area_code, v.consent_version, v.paused_until FROM volunteer v "
                                 "JOIN person p ON p.id = v.person_id WHERE p.identity = ?",
                       f"console:{user}")
    return found[0] if found else None


async def callout(services, *, needed: int = 1, starts_at: datetime = SATURDAY,  # type: ignore[no-untyped-def]
                  area: str = RT03, title: str = "Kerja bakti") -> tuple[int, int]:
    now = services.clock.now()
    new = NewCallout(author="console:ketua", area_code=area, title=title,
                     starts_at=starts_at, place="Balai RW", skills=(), needed=needed,
                     note="", urgent=False, created_at=now,
                     remind_at=starts_at - timedelta(hours=2))
    return await services.store.write(lambda tx: svc.send_callout(services, tx, new, now))


def rendered(services, message: dict) -> str:  # type: ignore[no-untyped-def]
    return Renderer(services.content, "console", "id").render(
        reply_from_json(message).text, "id")


# --- sign-up ---------------------------------------------------------------------------------


async def test_sign_up_with_odd_input_at_every_step(services) -> None:
    warga = await person(services, "sri")
    await warga.send("/relawan")
    assert "gotong royong" in warga.text
    assert {"🙋 Daftar jadi relawan", "🆘 Minta bantuan", "🏠 Menu utama"} <= set(warga.labels)
    await warga.press("Daftar jadi relawan")
    assert "Nama apa yang ditampilkan" in warga.text
    # the name: too short, too long, no letters; trimmed
    await warga.send(" A ")
    assert "terlalu pendek" in warga.texts[0] and "Nama apa" in warga.texts[-1]
    await warga.send("x" * 61)
    assert "terlalu panjang (61 huruf)" in warga.texts[0]
    await warga.send("12345")
    assert "harus berisi huruf" in warga.texts[0]
    await warga.send("  Sri    Wahyuni  ")
    assert "Nomor HP (2/6)" in warga.text
    # the phone: typed text, someone else's card, Back, then one's own number
    await warga.send("081234567890")
    assert "Mohon pilih" in warga.texts[0] and "Nomor HP (2/6)" in warga.texts[-1]
    await warga._event(Kind.CONTACT, text="")
    assert "kontak orang lain" in warga.texts[0] and "Nomor HP (2/6)" in warga.texts[-1]
    await warga.press("Kembali")
    assert "Nama apa" in warga.text
    await warga.send("Sri Wahyuni")
    await warga._event(Kind.CONTACT, text=PHONE)
    # skills: no "Next" until one is chosen, a forged "Next" and typed text are re-asked
    assert "Keahlian (3/6)" in warga.text and not any("Lanjut" in b for b in warga.labels)
    await warga.forge(Skill("done").pack())
    assert "minimal satu keahlian" in warga.texts[0] and "Keahlian" in warga.texts[-1]
    await warga.send("logistik")
    assert "Mohon pilih" in warga.texts[0] and "Keahlian" in warga.texts[-1]
    await warga.press("Kesehatan/medis")
    await warga.press("Logistik & sembako")
    assert "✅ Kesehatan/medis" in warga.labels and "✅ Logistik & sembako" in warga.labels
    await warga.press("Kesehatan/medis")  # off again
    assert "Kesehatan/medis" in warga.labels and "✅ Kesehatan/medis" not in warga.labels
    await warga.press("Lanjut")
    # availability: at least one
    assert "Waktu luang (4/6)" in warga.text and not any("Lanjut" in b for b in warga.labels)
    await warga.forge(Avail("done").pack())
    assert "minimal satu waktu" in warga.texts[0]
    await warga.press("Akhir pekan")
    await warga.press("Malam hari")
    await warga.press("Lanjut")
    # the area: the person's own RT, or its whole RW
    assert "RT saya (RT 03 / RW 02)" in warga.labels and "Seluruh RW 02" in warga.labels
    await warga.press("Kembali")
    assert "Waktu luang" in warga.text and "✅ Akhir pekan" in warga.labels
    await warga.press("Lanjut")
    await warga.press("Seluruh RW 02")
    consent = warga.text
    assert "Pengurus RW 02" in consent and "/hapusdata" in consent and "berhenti" in consent
    assert await volunteer_row(services, "sri") is None  # nothing before the consent
    await warga.press("Setuju")
    assert "terdaftar sebagai relawan" in warga.text
    assert "Sri Wahyuni" in warga.text and PHONE in warga.text and "Seluruh" not in warga.text
    assert "Logistik & sembako" in warga.text and "Akhir pekan, Malam hari" in warga.text
    assert await volunteer_row(services, "sri") == (
        "Sri Wahyuni", PHONE, "logistics", "weekends,evenings", RW02, "relawan-1", None)
    await warga.send("/relawan")
    assert "Anda relawan warga" in warga.text and "Membantu di: RW 02" in warga.text
    assert "▶️ Aktif lagi" not in warga.labels  # not paused: nothing to resume


async def test_cancel_and_back_from_the_first_step_keep_nothing(services) -> None:
    warga = await person(services, "batal")
    await warga.send("/relawan")
    await warga.press("Daftar jadi relawan")
    await warga.send("Budi")
    await warga.press("Batal")
    assert "tidak ada yang disimpan" in warga.text and "🤒 Lapor gejala" in warga.labels
    await warga.forge(SignUp().pack())
    await warga.press("Kembali")  # Back on the first question leaves the sign-up
    assert "tidak ada yang disimpan" in warga.text
    await warga.send("Budi")  # typed text outside the flow is not a name
    assert await volunteer_row(services, "batal") is None


async def test_without_a_phone_the_profile_says_not_shared(services) -> None:
    warga = await person(services, "tanpahp")
    text = await sign_up(warga, "Budi")
    assert "Nomor HP: tidak dibagikan" in text
    assert (await volunteer_row(services, "tanpahp"))[1] == ""


async def test_a_resident_without_an_rt_is_told_to_register_first(services) -> None:
    chat = Chat(services, "baru")
    await chat.send("/start")
    await chat.press("Bahasa Indonesia")
    await chat.press("Setuju")
    await chat.forge(SignUp().pack())
    assert "daftarkan dulu RT Anda" in chat.text
    await chat.forge(HelpFor(0).pack())
    assert "daftarkan dulu RT Anda" in chat.text


# --- edit, pause, resume, stop ---------------------------------------------------------------


async def test_pause_until_a_typed_date_edit_keeps_it_and_resume(services) -> None:
    warga = await person(services, "jeda")
    await sign_up(warga, "Sri", phone=PHONE)
    await warga.send("/relawan")
    await warga.press("Jeda dulu")
    assert {"1 minggu", "2 minggu", "Sampai saya lanjutkan"} <= set(warga.labels)
    await warga.press("Sampai tanggal")
    await warga.send("1 Nov 2026")
    assert "sudah lewat" in warga.texts[0] and "Sampai tanggal berapa" in warga.texts[-1]
    await warga.send("20-12-2027")
    assert "lebih dari setahun" in warga.texts[0]
    await warga.send("31 Februari 2027")
    assert "hanya sampai tanggal 28" in warga.texts[0]
    await warga.send("20 Des")
    assert warga.texts[0].startswith("⏸️ Dijeda sampai Minggu, 20 Des 2026")
    assert (await volunteer_row(services, "jeda"))[6] == "2026-12-20"
    await warga.send("/relawan")
    assert "Dijeda sampai Minggu, 20 Des 2026" in warga.text and "▶️ Aktif lagi" in warga.labels
    # edit: the current answers are chosen; the pause stays
    await warga.press("Ubah data")
    assert "Sekarang: Sri" in warga.text
    await warga.press("Tetap nama ini")
    assert f"Sekarang: {PHONE}" in warga.text
    await warga.press("Tetap nomor ini")
    assert "✅ Logistik & sembako" in warga.labels
    await warga.press("Edukasi")
    await warga.press("Lanjut")
    assert "✅ Akhir pekan" in warga.labels
    await warga.press("Lanjut")
    assert "✅ RT saya (RT 03 / RW 02)" in warga.labels
    await warga.press("RT saya")
    await warga.press("Setuju")
    assert "diperbarui" in warga.text and "Dijeda sampai Minggu, 20 Des 2026" in warga.text
    assert await volunteer_row(services, "jeda") == (
        "Sri", PHONE, "logistics,education", "weekends", RT03, "relawan-1", "2026-12-20")
    # resume
    await warga.send("/relawan")
    await warga.press("Aktif lagi")
    assert "aktif lagi sebagai relawan" in warga.text
    assert (await volunteer_row(services, "jeda"))[6] is None
    # a week; and "until I resume"
    await warga.send("/relawan")
    await warga.press("Jeda dulu")
    await warga.press("1 minggu")
    assert "Dijeda sampai Minggu, 6 Des 2026" in warga.text
    await warga.send("/relawan")
    await warga.press("Jeda dulu")
    await warga.press("Sampai saya lanjutkan")
    assert "Dijeda sampai Anda aktif lagi" in warga.text
    assert (await volunteer_row(services, "jeda"))[6] == "9999-12-31"


async def test_stopping_gives_places_back_and_deletes_the_record(services) -> None:
    warga = await person(services, "stop")
    other = await person(services, "other")
    await sign_up(warga, "Sri")
    await sign_up(other, "Ani")
    callout_id, asked = await callout(services, needed=1)
    assert asked == 2
    await warga.forge(Accept(callout_id).pack())
    assert "Anda tercatat" in warga.text
    await warga.send("/relawan")
    await warga.press("Berhenti jadi relawan")
    assert "Anda sudah terima 1 kegiatan" in warga.text
    await warga.press("Ya, berhenti")
    assert "tidak lagi terdaftar" in warga.text and "1 tempat kegiatan dikembalikan" in warga.text
    assert await volunteer_row(services, "stop") is None
    offers = [m for m in await outbox_to(services, "console:other") if m["kind"] == "callout"]
    assert len(offers) == 2  # the offer, then "a place is free again"
    await warga.send("/relawan")
    assert "gotong royong" in warga.text  # a resident again


async def test_hapusdata_deletes_the_volunteer_record(services) -> None:
    warga = await person(services, "hapus")
    await sign_up(warga, "Sri", phone=PHONE)
    assert await volunteer_row(services, "hapus") is not None
    await warga.send("/hapusdata")
    await warga.press("Ya, hapus")
    assert await rows(services, "SELECT * FROM volunteer") == []


# --- help requests ---------------------------------------------------------------------------


async def test_a_help_request_reaches_the_rt_coordinator_and_can_be_closed(services) -> None:
    await grant(services, "console:rt03", "coordinator", RT03, name="Pak RT")
    await person(services, "rt03")
    warga = await person(services, "isoman")
    await warga.send("/relawan")
    await warga.press("Minta bantuan")
    assert {"🛒 Belanja kebutuhan", "💊 Ambil obat", "🚗 Antar ke puskesmas"} <= set(
        warga.labels)
    await warga.send("tolong")
    assert "Mohon pilih" in warga.texts[0]
    await warga.press("Ambil obat")
    await warga.send("x" * 301)
    assert "terlalu panjang (301 huruf)" in warga.texts[0]
    await warga.press("Kembali")
    assert "Bantuan apa" in warga.text
    await warga.press("Ambil obat")
    await warga.send("Rumah pagar hijau, resep di puskesmas")
    assert "akun chat Anda" in warga.text
    await warga.press("Tidak")
    assert "Kontak untuk relawan: tidak dibagikan" in warga.text
    await warga.press("Kirim permintaan")
    assert "Pengurus RT Anda sudah diberi tahu" in warga.text and "119" in warga.text
    (request,) = await rows(services, "SELECT id, identity, area_code, kind, note, "
                                      "share_contact, status FROM help_request")
    assert request[1:] == ("console:isoman", RT03, "medicine",
                           "Rumah pagar hijau, resep di puskesmas", 0, "new")
    alerts = [m for m in await outbox_to(services, "console:rt03") if m["kind"] == "help_alert"]
    assert len(alerts) == 1 and alerts[0]["text"]["params"]["contact"] == ""
    # my requests: cancel it
    await warga.send("/relawan")
    await warga.press("Permintaan saya")
    assert "Ambil obat — menunggu relawan" in warga.text
    await warga.press("Batalkan")
    assert f"Permintaan #{request[0]} dibatalkan" in warga.text
    assert await rows(services, "SELECT status FROM help_request") == [("cancelled",)]
    await warga.forge(RequestDone(request[0]).pack())
    assert "sudah ditutup" in warga.text
    await warga.send("/relawan")
    await warga.press("Permintaan saya")
    assert "Tidak ada permintaan bantuan yang masih berjalan" in warga.text
    assert "dibatalkan" in warga.text


async def test_an_assigned_volunteer_sees_the_contact_only_if_shared_and_both_can_finish(
        services) -> None:
    await grant(services, "console:rt03", "coordinator", RT03, name="Pak RT")
    await person(services, "rt03")
    helper = await person(services, "helper")
    await sign_up(helper, "Ani", phone=PHONE)
    warga = await person(services, "keluarga")
    for share in ("Ya, boleh", "Tidak"):
        await warga.send("/relawan")
        await warga.press("Minta bantuan")
        await warga.press("Belanja kebutuhan")
        await warga.press("Lewati")
        await warga.press(share)
        await warga.press("Kirim permintaan")
    (shared, hidden) = [r[0] for r in await rows(services, "SELECT id FROM help_request "
                                                           "ORDER BY id")]
    helper_id = (await services.store.reads.people.get("console:helper")).id
    now = services.clock.now()
    for request_id in (shared, hidden):
        assert await services.store.write(lambda tx, r=request_id: svc.assign(
            services, tx, r, helper_id, "console:rt03", now)) == "assigned"
    told = [m for m in await outbox_to(services, "console:keluarga") if m["kind"] == "help_task"]
    assert len(told) == 2 and "Ani" in rendered(services, told[0])
    assert PHONE in rendered(services, told[0]) and "depan pintu" in rendered(services, told[0])
    await helper.send("/relawan")
    await helper.press("Tugas saya")
    tasks = helper.texts
    assert len(tasks) == 3
    shown = {t.split("#")[1].split(":")[0]: t for t in tasks[:2]}
    assert "console:keluarga" in shown[str(shared)]
    assert "console:keluarga" not in shown[str(hidden)]
    assert "tidak membagikan kontaknya" in shown[str(hidden)]
    await helper.press("Sudah selesai")  # the last one listed
    assert "ditandai selesai" in helper.text
    closed = [m for m in await outbox_to(services, "console:keluarga")
              if m["kind"] == "help_task"]
    assert len(closed) == 3 and "ditandai selesai" in rendered(services, closed[-1])
    ((still_open,),) = await rows(services, "SELECT id FROM help_request WHERE status = "
                                            "'assigned'")
    await warga.forge(RequestDone(still_open).pack())
    assert "ditandai selesai" in warga.text
    assert await rows(services, "SELECT status FROM help_request ORDER BY id") == [
        ("done",), ("done",)]
    outsider = await person(services, "outsider")
    await outsider.forge(RequestDone(shared).pack())
    assert "sudah ditutup" in outsider.text or "bukan milik Anda" in outsider.text


async def test_without_a_coordinator_the_resident_is_told_to_call(services) -> None:
    warga = await person(services, "jauh", RT01_RW01)
    await answer(warga, YES_TO[:2])
    await warga.press("Bagikan ke RT & puskesmas")
    ((report_id,),) = await rows(services, "SELECT id FROM symptom_report")
    await warga.forge(HelpFor(report_id).pack())  # as the symptom result's button would
    assert "Selama isolasi" in warga.text
    await warga.press("Antar ke puskesmas")
    await warga.press("Lewati")
    await warga.press("Ya, boleh")
    await warga.press("Kirim permintaan")
    assert "belum ada pengurus RT/RW" in warga.text and "119" in warga.text
    assert await rows(services, "SELECT report_id, share_contact FROM help_request") == [
        (report_id, 1)]
    # someone else's report number links nothing
    other = await person(services, "lain", RT01_RW01)
    await other.forge(HelpFor(report_id).pack())
    assert "Selama isolasi" not in other.text and "Bantuan apa" in other.text
    await other.press("Bantuan lain")
    await other.press("Lewati")
    await other.press("Tidak")
    await other.press("Kirim permintaan")
    assert await rows(services, "SELECT report_id FROM help_request WHERE identity = "
                                "'console:lain'") == [(None,)]


# --- call-outs -------------------------------------------------------------------------------


async def test_accept_decline_full_and_the_place_given_back(services) -> None:
    chats = {u: await person(services, u) for u in ("a", "b", "c", "d")}
    for user, chat in chats.items():
        await sign_up(chat, f"Relawan {user}")
    outsider = await person(services, "luar")
    callout_id, asked = await callout(services, needed=1)
    assert asked == 4
    await chats["a"].forge(Accept(callout_id).pack())
    assert "✅ Anda tercatat untuk Kerja bakti, Sabtu, 5 Des 2026 09.00 WIB" in chats["a"].text
    assert "Pengingat dikirim 2 jam sebelumnya" in chats["a"].text
    await chats["a"].forge(Accept(callout_id).pack())
    assert "sudah tercatat" in chats["a"].text
    await chats["b"].forge(Accept(callout_id).pack())
    assert "sudah penuh, terima kasih" in chats["b"].text
    await chats["c"].forge(Decline(callout_id).pack())
    assert "terima kasih sudah menjawab" in chats["c"].text
    await chats["a"].forge(Decline(callout_id).pack())  # accepted already: not a decline
    assert "Anda sudah menerima" in chats["a"].text
    await outsider.forge(Accept(callout_id).pack())
    assert "bukan untuk Anda" in outsider.text
    await outsider.forge(Decline(callout_id).pack())
    assert "bukan untuk Anda" in outsider.text
    assert sorted(await rows(services, "SELECT status FROM callout_answer")) == [
        ("accepted",), ("asked",), ("asked",), ("declined",)]
    # a's tasks: give the place back; b and d (not c, who declined) hear it is free
    await chats["a"].send("/relawan")
    await chats["a"].press("Tugas saya")
    assert "Kerja bakti" in chats["a"].texts[0] and "Balai RW" in chats["a"].texts[0]
    await chats["a"].press("Batal ikut")
    assert "dikembalikan" in chats["a"].text
    await chats["a"].press("Menu utama")
    for user, offers in (("a", 1), ("b", 2), ("c", 1), ("d", 2)):
        got = [m for m in await outbox_to(services, f"console:{user}") if m["kind"] == "callout"]
        assert len(got) == offers, user
    from bot.volunteers.callbacks import GiveBack
    await chats["a"].forge(GiveBack(callout_id).pack())
    assert "tidak tercatat" in chats["a"].text
    await chats["b"].forge(Accept(callout_id).pack())
    assert "Anda tercatat" in chats["b"].text
    # cancelled, then started
    now = services.clock.now()
    assert await services.store.write(lambda tx: svc.cancel_callout(
        services, tx, callout_id, "console:ketua", now))
    await chats["d"].forge(Accept(callout_id).pack())
    assert "dibatalkan oleh pengurus" in chats["d"].text
    later_id, _ = await callout(services, title="Dapur umum")
    services.clock.advance(days=7)
    await chats["d"].forge(Accept(later_id).pack())
    assert "sudah dimulai" in chats["d"].text


async def test_exactly_n_confirmed_when_more_accept_at_the_same_moment(services) -> None:
    chats = [await person(services, f"v{i}") for i in range(3)]
    for i, chat in enumerate(chats):
        await sign_up(chat, f"Relawan {i}")
    callout_id, asked = await callout(services, needed=2)
    assert asked == 3
    await asyncio.gather(*(chat.forge(Accept(callout_id).pack()) for chat in chats))
    answers = sorted("tercatat" if "Anda tercatat" in c.text else
                     "penuh" if "sudah penuh" in c.text else c.text for c in chats)
    assert answers == ["penuh", "tercatat", "tercatat"]
    assert await rows(services, "SELECT COUNT(*) FROM callout_answer WHERE status = "
                                "'accepted'") == [(2,)]
    assert await rows(services, "SELECT status FROM callout") == [("full",)]


# --- a coordinator ---------------------------------------------------------------------------


async def test_a_coordinator_can_sign_up_with_the_button(services) -> None:
    await grant(services, "console:ketua", "coordinator", RT03, name="Pak RT")
    ketua = await person(services, "ketua")
    await ketua.send("/relawan")
    if importlib.util.find_spec("bot.handlers.callouts") is not None:
        assert "gotong royong" not in ketua.text  # the coordinators' volunteer home
    else:
        assert "gotong royong" in ketua.text
    await ketua.forge(SignUp().pack())
    assert "Nama apa yang ditampilkan" in ketua.text
