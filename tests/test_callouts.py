"""The coordinator's side of volunteers: the list by skill, the call-out wizard with its
preview and matching, sending through the outbox, the roster with phones, cancelling, other
areas refused, the CSV, reminders across a restart, and help requests assigned end to end.

Driven through the real core and router in-process (tests/chat.py); volunteers are written
straight into their record for people who onboarded with ``Chat.register``."""

from __future__ import annotations

import csv
import io
import json
from datetime import date

from bot.app import open_services
from bot.events import reply_from_json
from bot.render import Renderer
from bot.volunteers import service as svc
from bot.volunteers.model import CONSENT_VERSION
from db.repositories.roles import Grant
from tests.chat import Chat
from tests.test_symptoms_flow import grant, rows

RT03 = "cimuncang-rw02-rt03"
RT01 = "cimuncang-rw02-rt01"
RW02 = "cimuncang-rw02"
RT01_RW01 = "cimuncang-rw01-rt01"

# Sunday 29 Nov 2026 15.00 WIB is the fake clock's start: 1 Dec is a Tuesday, 5 Dec a Saturday
TUESDAY_MORNING = "01-12-2026 08.00"
TUESDAY_EVENING = "01-12-2026 19.00"
SATURDAY_MORNING = "05-12-2026 08.00"


async def person(services, user: str, area: str = RT03) -> Chat:  # type: ignore[no-untyped-def]
    chat = Chat(services, user)
    rt = {RT03: "RT 03", RT01: "RT 01", RT01_RW01: "RT 01"}[area]
    await chat.register(rt, "RW 01" if area == RT01_RW01 else "RW 02")
    return chat


async def coordinator(services, user: str, area: str, home: str = RT01) -> Chat:  # type: ignore[no-untyped-def]
    await grant(services, f"console:{user}", "coordinator", area, name=f"Pak {user}")
    return await person(services, user, home)


async def volunteer(services, user: str, name: str, skills: tuple[str, ...],  # type: ignore[no-untyped-def]
                    availability: tuple[str, ...], helps_in: str, *, home: str = RT03,
                    phone: str = "", paused_until: date | None = None) -> Chat:
    chat = await person(services, user, home)
    found = await services.store.reads.people.get(chat.identity)
    now = services.clock.now()

    async def write(tx) -> None:  # type: ignore[no-untyped-def]
        await tx.volunteers.save(found.id, name=name, phone=phone, skills=skills,
                                 availability=availability, area_code=helps_in,
                                 consent_version=CONSENT_VERSION, now=now)
        if paused_until is not None:
            await tx.volunteers.pause(found.id, paused_until)

    await services.store.write(write)
    chat.person_id = found.id  # type: ignore[attr-defined]
    return chat


async def team(services) -> dict[str, Chat]:  # type: ignore[no-untyped-def]
    """RW 02's volunteers (and one of RW 01) with different skills, times and areas."""
    return {
        "sari": await volunteer(services, "sari", "Bu Sari", ("health",),
                                ("weekdays", "evenings"), RT03, phone="+6281200000001"),
        "budi": await volunteer(services, "budi", "Pak Budi", ("logistics",), ("weekends",),
                                RT01, home=RT01, phone="+6281200000002"),
        "andi": await volunteer(services, "andi", "Mas Andi", ("health", "transport"),
                                ("weekdays",), RW02, phone="+6281200000003"),
        "dewi": await volunteer(services, "dewi", "Mbak Dewi", ("health",), ("weekdays",),
                                RT03, paused_until=date(2026, 12, 10)),
        "eko": await volunteer(services, "eko", "Pak Eko", ("health",), ("weekdays",),
                               RT01_RW01, home=RT01_RW01),
    }


async def outbox(services, kind: str) -> list[tuple[str, int, dict]]:  # type: ignore[no-untyped-def]
    """(address, quiet, payload) of the outbox rows of ``kind``."""
    found = await rows(services, "SELECT address, quiet, payload FROM outbox WHERE kind = ? "
                                 "ORDER BY id", kind)
    return [(a, q, json.loads(p)) for a, q, p in found]


def rendered(services, payload: dict) -> str:  # type: ignore[no-untyped-def]
    """An outbox message as its reader sees it (text and button labels)."""
    reply = reply_from_json(payload)
    words = Renderer(services.content, "console", "id")
    labels = [words.render(b.label, "id") for row in reply.buttons for b in row]
    return "\n".join([words.render(reply.text, "id"), *labels])


async def call(chat: Chat, *, area: str | None, title: str = "Bagi sembako",
               at: str = TUESDAY_MORNING, place: str = "Balai RW 02",
               skills: tuple[str, ...] = ("health",), needed: str = "2",
               urgent: bool = False) -> str:
    """Go through the wizard up to the preview; the preview's text."""
    await chat.send("/panggilrelawan")
    if area is not None:
        await chat.press(area)
    await chat.send(title)
    await chat.send(at)
    await chat.send(place)
    for skill in skills:
        await chat.forge(f"cx-skill:{skill}")
    await chat.press("Lanjut" if skills else "Siapa saja")
    await chat.send(needed)
    await chat.press("Lewati")
    await chat.press("Mendesak" if urgent else "Biasa")
    return chat.text


# --- the list --------------------------------------------------------------------------


async def test_the_coordinator_sees_volunteers_by_skill_without_phones(services) -> None:
    await team(services)
    rw = await coordinator(services, "rw02", RW02)
    await rw.send("/relawan")
    text = rw.text
    assert "4 relawan terdaftar, 1 sedang dijeda" in text
    assert "Kesehatan/medis (3): Bu Sari — hari kerja, malam; Mas Andi — hari kerja; " \
           "Mbak Dewi — hari kerja (dijeda s.d. 10 Des 2026)" in text
    assert "Logistik & sembako (1): Pak Budi — akhir pekan" in text
    assert "Pak Eko" not in text  # RW 01
    assert "+62812" not in text
    for label in ("Panggil relawan", "Permintaan bantuan", "Ekspor CSV", "Panggilan saya",
                  "Daftar sebagai relawan", "Menu utama"):
        assert any(label in b for b in rw.labels), label
    # a coordinator with no volunteers yet is told so and can still call
    rt = await coordinator(services, "rt0101", RT01_RW01, home=RT01_RW01)
    await rt.send("/relawan")
    assert "Pak Eko" in rt.text


async def test_an_empty_area_says_so_and_still_offers_the_call_out(services) -> None:
    rt = await coordinator(services, "rt03", RT03, home=RT03)
    await rt.send("/relawan")
    assert "Belum ada relawan terdaftar" in rt.text
    await rt.press("Panggil relawan")
    assert "Apa tugasnya?" in rt.text


async def test_a_resident_is_refused_the_coordinator_pages(services) -> None:
    warga = await person(services, "warga")
    for command in ("/panggilrelawan", "/ekspor relawan"):
        await warga.send(command)
        assert "untuk pengurus RT/RW" in warga.text, command
    for payload in ("cx-new", "cx-req", "cx-csv", "cx-home"):
        await warga.forge(payload)
        assert "untuk pengurus RT/RW" in warga.text, payload
    denied = await rows(services, "SELECT action FROM audit_log WHERE actor = 'console:warga' "
                                  "AND outcome = 'denied'")
    assert {"volunteers.view", "volunteers.call"} <= {a for (a,) in denied}


# --- the wizard -----------------------------------------------------------------------


async def test_the_wizard_takes_odd_input_at_every_step(services) -> None:
    people = await team(services)
    rw = await coordinator(services, "rw02", RW02)
    await rw.send("/panggilrelawan")
    assert "wilayah mana" in rw.text
    assert {"Seluruh RW 02", "RT 01 / RW 02", "RT 03 / RW 02"} <= set(rw.labels)
    await rw.send("RT 03")
    assert "pilih salah satu tombol" in rw.text and "wilayah mana" in rw.text
    await rw.forge(f"cx-area:{RT01_RW01}")  # another RW's RT: forged
    assert "bukan wilayah Anda" in rw.text and "wilayah mana" in rw.text
    await rw.press("RT 03 / RW 02")
    # title
    await rw.send("ab")
    assert "terlalu pendek" in rw.text
    await rw.send("x" * 81)
    assert "terlalu panjang" in rw.text and "1 huruf lebih" in rw.text
    await rw.send("  Bagi   sembako  ")
    # date and time
    await rw.send("kapan-kapan")
    assert "tidak terbaca" in rw.text
    await rw.send("28-11-2026 08.00")
    assert "sudah lewat" in rw.text
    await rw.send("31-02-2027 08.00")
    assert "tidak ada" in rw.text and "28" in rw.text
    await rw.send("15-03-2027 08.00")
    assert "terlalu jauh" in rw.text and "60 hari" in rw.text
    await rw.send("besok")
    assert "Jamnya belum ada" in rw.text
    await rw.send(TUESDAY_MORNING)
    assert "Selasa, 1 Des 2026 08.00 WIB" in rw.text and "Di mana?" in rw.text
    # place
    await rw.send("x")
    assert "belum ada" in rw.text
    await rw.send("y" * 121)
    assert "terlalu panjang" in rw.text
    await rw.press("Kembali")  # back to the time, and on again
    assert "Kapan mulai?" in rw.text
    await rw.send(TUESDAY_MORNING)
    await rw.send("Balai RW 02")
    # skills
    await rw.send("kesehatan")
    assert "pilih salah satu tombol" in rw.text
    assert "Lanjut" not in " ".join(rw.labels)
    await rw.forge("cx-skill:cooking")  # no such skill: a stale button
    await rw.press("Kesehatan/medis")
    assert "✅ Kesehatan/medis" in rw.labels
    await rw.press("Transportasi")
    await rw.press("Transportasi")  # off again
    assert "Transportasi" in rw.labels and "✅ Transportasi" not in rw.labels
    await rw.press("Lanjut")
    # how many
    for typed, reason in (("lima", "angkanya saja"), ("0", "Paling sedikit 1"),
                          ("51", "Paling banyak 50"), ("-3", "angkanya saja")):
        await rw.send(typed)
        assert reason in rw.text, typed
    await rw.send("3 orang")
    # note
    await rw.send("n" * 301)
    assert "terlalu panjang" in rw.text
    await rw.send("Bawa masker dan sarung tangan")
    # urgency
    await rw.send("biasa")
    assert "pilih salah satu tombol" in rw.text
    await rw.press("Biasa")
    preview = rw.text
    assert "Bagi sembako\n🕒 Selasa, 1 Des 2026 08.00 WIB\n📍 Balai RW 02" in preview
    assert "Keahlian: Kesehatan/medis" in preview and "Dibutuhkan 3 orang" in preview
    assert "Bawa masker dan sarung tangan" in preview
    assert "Akan dikirim ke 2 relawan yang cocok" in preview  # Bu Sari, Mas Andi
    await rw.press("Kembali")
    assert "Seberapa mendesak?" in rw.text
    await rw.press("Biasa")
    await rw.send("kirim")
    assert "pilih salah satu tombol" in rw.text and "Akan dikirim ke 2" in rw.text
    await rw.press("Kirim")
    assert "Panggilan #1 dikirim ke 2 relawan" in rw.text
    assert {"👥 Lihat daftar", "✖️ Batalkan panggilan"} <= set(rw.labels)
    # one offer per matching volunteer, none for the others; regular: waits out quiet hours
    offers = await outbox(services, "callout")
    assert sorted(a for a, _, _ in offers) == ["andi", "sari"]
    assert all(q == 1 for _, q, _ in offers)
    shown = rendered(services, offers[0][2])
    assert "Bagi sembako" in shown and "Saya ikut" in shown and "Tidak bisa" in shown
    assert people["dewi"].identity not in [a for a, _, _ in offers]
    # the old buttons of the wizard are stale now
    await rw.forge("cx-send")
    assert len(await outbox(services, "callout")) == 2


async def test_cancel_keeps_nothing(services) -> None:
    await team(services)
    rt = await coordinator(services, "rt03", RT03, home=RT03)
    await rt.send("/panggilrelawan")
    assert "RT 03 / RW 02" in rt.text and "Apa tugasnya?" in rt.text  # no area question
    await rt.send("Kerja bakti")
    await rt.press("Batal")
    assert "tidak ada yang dikirim" in rt.text
    assert not await rows(services, "SELECT id FROM callout")


async def test_the_preview_counts_by_skill_availability_area_and_pause(services) -> None:
    await team(services)
    rw = await coordinator(services, "rw02", RW02)
    # RT 03, health, Tuesday morning: Bu Sari (RT 03), Mas Andi (all of RW 02); Mbak Dewi
    # is paused, Pak Eko is in RW 01
    assert "Akan dikirim ke 2 relawan" in await call(rw, area="RT 03 / RW 02")
    # the whole RW, anyone, Saturday morning: only Pak Budi is free on weekends
    assert "Akan dikirim ke 1 relawan" in await call(rw, area="Seluruh RW 02", skills=(),
                                                      at=SATURDAY_MORNING)
    # the whole RW, anyone, Tuesday evening: Bu Sari (evenings); "weekdays" is daytime
    assert "Akan dikirim ke 1 relawan" in await call(rw, area="Seluruh RW 02", skills=(),
                                                      at=TUESDAY_EVENING)
    # after Mbak Dewi's pause (10 Dec) she is asked too
    assert "Akan dikirim ke 3 relawan" in await call(rw, area="RT 03 / RW 02",
                                                      at="15-12-2026 08.00")
    # RT 01, logistics, Tuesday: Pak Budi only does weekends; nobody: no Send, what to change
    text = await call(rw, area="RT 01 / RW 02", skills=("logistics",))
    assert "Belum ada relawan yang cocok" in text
    assert "📣 Kirim" not in rw.labels and "🧰 Ubah keahlian" in rw.labels
    await rw.press("Ubah waktu")
    await rw.send(SATURDAY_MORNING)
    assert "Akan dikirim ke 1 relawan" in rw.text and "📣 Kirim" in rw.labels
    await rw.press("Ubah keahlian")
    await rw.press("Kesehatan/medis")
    await rw.press("Lanjut")  # logistics or health, Saturday: still Pak Budi only
    assert "Akan dikirim ke 1 relawan" in rw.text
    assert not await rows(services, "SELECT id FROM callout")  # nothing sent by a preview


async def test_an_rt_coordinator_cannot_call_the_whole_rw(services) -> None:
    await team(services)
    rt = await coordinator(services, "rt03", RT03, home=RT03)
    await rt.send("/panggilrelawan")
    await rt.forge(f"cx-area:{RW02}")
    assert "bukan wilayah Anda" in rt.text and "Apa tugasnya?" in rt.text
    await rt.send("Kerja bakti")
    await rt.forge(f"cx-area:{RW02}")
    assert "bukan wilayah Anda" in rt.text and "Kapan mulai?" in rt.text
    text = await call(rt, area=None)
    assert "RT 03 / RW 02" in text and "Akan dikirim ke 2 relawan" in text
    await rt.press("Kirim")
    assert await rows(services, "SELECT area_code FROM callout") == [(RT03,)]
    denied = await rows(services, "SELECT target FROM audit_log WHERE actor = 'console:rt03' "
                                  "AND action = 'volunteers.call' AND outcome = 'denied'")
    assert (RW02,) in denied


async def test_a_coordinator_who_loses_the_role_mid_way_sends_nothing(services) -> None:
    await team(services)
    rt = await coordinator(services, "rt03", RT03, home=RT03)
    await rt.send("/panggilrelawan")
    await rt.send("Kerja bakti")
    await services.store.write(lambda tx: tx.roles.revoke("console:rt03",
                                                          Grant("coordinator", RT03)))
    await rt.send(TUESDAY_MORNING)
    assert "tidak (lagi) menjadi koordinator" in rt.text
    assert not await rows(services, "SELECT id FROM callout")


# --- roster, cancel, other areas ---------------------------------------------------------


async def sent_callout(services, people, *, needed: str = "2", urgent: bool = False,  # type: ignore[no-untyped-def]
                       at: str = TUESDAY_MORNING) -> Chat:
    rt = await coordinator(services, "rt03", RT03, home=RT03)
    await call(rt, area=None, needed=needed, urgent=urgent, at=at)
    await rt.press("Kirim")
    assert "dikirim ke 2 relawan" in rt.text
    return rt


async def test_the_roster_shows_who_accepted_with_their_phone(services) -> None:
    people = await team(services)
    rt = await sent_callout(services, people, needed="2")
    await rt.press("Lihat daftar")
    assert "0/2 terisi" in rt.text and "Belum menjawab (2): Bu Sari, Mas Andi" in rt.text
    assert "terbuka" in rt.text
    await people["sari"].forge("vo-yes:1")
    await people["andi"].forge("vo-no:1")
    await rt.press("Perbarui")
    text = rt.text
    assert "1/2 terisi" in text and "Bu Sari — +6281200000001" in text
    assert "Tidak bisa (1): Mas Andi" in text and "+6281200000003" not in text
    assert "Belum menjawab (0)" in text
    assert "Pesan terkirim: 0" in text  # the outbox has not sent them yet (quiet=1 rows)
    # my call-outs
    await rt.send("/relawan")
    await rt.press("Panggilan saya")
    assert "#1 Bagi sembako" in rt.text and "1/2 terisi" in rt.text
    assert {"👥 Daftar #1", "✖️ Batalkan #1"} <= set(rt.labels)


async def test_cancelling_tells_the_accepted_and_skips_the_rest(services) -> None:
    people = await team(services)
    rt = await sent_callout(services, people)
    await people["sari"].forge("vo-yes:1")
    await rt.press("Lihat daftar")
    await rt.press("Batalkan panggilan")
    assert "1 relawan yang sudah menerima akan diberi tahu" in rt.text
    await rt.press("Tidak")
    assert "1/2 terisi" in rt.text and await rows(services, "SELECT status FROM callout") == \
        [("open",)]
    await rt.press("Batalkan panggilan")
    await rt.press("Ya, batalkan")
    assert "Panggilan #1 (Bagi sembako) dibatalkan; 1 relawan yang sudah menerima diberi " \
           "tahu" in rt.text
    told = [p for a, _, p in await outbox(services, "callout_report") if a == "sari"]
    assert len(told) == 1 and "Panggilan dibatalkan" in rendered(services, told[0])
    assert not [a for a, _, _ in await outbox(services, "callout_report") if a == "andi"]
    skipped = await rows(services, "SELECT status FROM outbox WHERE kind = 'callout' AND "
                                   "address = 'andi'")
    assert skipped == [("skipped",)]
    await rt.forge("cx-cancel:1")
    assert "sudah dibatalkan sebelumnya" in rt.text
    await rt.forge("vo-cancel:1")
    assert "sudah dibatalkan sebelumnya" in rt.text
    await rt.forge("vo-roster:1")
    assert "Status: dibatalkan" in rt.text and "Batalkan panggilan" not in rt.labels


async def test_another_areas_coordinator_is_refused(services) -> None:
    people = await team(services)
    await sent_callout(services, people)
    await people["sari"].forge("vo-yes:1")
    other = await coordinator(services, "rt01", RT01)
    for payload in ("vo-roster:1", "vo-cancel:1", "cx-cancel:1"):
        await other.forge(payload)
        assert "bukan dari wilayah Anda" in other.text, payload
        assert "+6281200000001" not in other.text
    await other.forge("vo-roster:99")
    assert "#99 tidak ditemukan" in other.text
    assert await rows(services, "SELECT status FROM callout") == [("open",)]
    denied = await rows(services, "SELECT target FROM audit_log WHERE actor = 'console:rt01' "
                                  "AND outcome = 'denied'")
    assert (RT03,) in denied
    # the RW above may see and cancel it
    rw = await coordinator(services, "rw02", RW02)
    await rw.forge("vo-roster:1")
    assert "Bu Sari — +6281200000001" in rw.text
    # a resident cannot either
    await people["andi"].forge("vo-roster:1")
    assert "bukan dari wilayah Anda" in people["andi"].text


# --- the CSV ---------------------------------------------------------------------------


async def test_the_volunteer_csv(services) -> None:
    await team(services)
    rw = await coordinator(services, "rw02", RW02)
    await rw.send("/ekspor relawan")
    (reply,) = rw.replies
    assert reply.media is not None and reply.media.kind == "document"
    assert reply.media.name == "relawan-20261129.csv"
    assert "4 orang" in rw.text
    data = reply.media.data
    assert data.startswith("\ufeff".encode())
    table = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    assert table[0] == list(svc.COLUMNS)
    by_name = {r[0]: dict(zip(table[0], r, strict=True)) for r in table[1:]}
    assert set(by_name) == {"Bu Sari", "Pak Budi", "Mas Andi", "Mbak Dewi"}
    assert "phone" not in table[0] and "+6281200000001" not in data.decode("utf-8-sig")
    assert by_name["Bu Sari"]["skills"] == "health"
    assert by_name["Bu Sari"]["availability"] == "weekdays;evenings"
    assert by_name["Mas Andi"]["helps_in"] == "RW 02"
    assert by_name["Mbak Dewi"]["paused_until"] == "2026-12-10"
    # the button on the volunteer page sends the same file; English alias too
    await rw.send("/relawan")
    await rw.press("Ekspor CSV")
    assert rw.replies[0].media is not None and rw.replies[0].media.data == data
    await rw.send("/export volunteers")
    assert rw.replies[0].media is not None
    # an RT coordinator gets only theirs (RW-wide volunteers help there too)
    rt = await coordinator(services, "rt01", RT01)
    await rt.send("/ekspor relawan")
    names = {r[0] for r in csv.reader(io.StringIO(
        rt.replies[0].media.data.decode("utf-8-sig")))}  # type: ignore[union-attr]
    assert names == {"name", "Pak Budi", "Mas Andi"}
    # the other words still ask what to export
    await rw.send("/ekspor apa")
    assert "/ekspor relawan" in rw.text and "/ekspor laporan" in rw.text
    audited = await rows(services, "SELECT actor FROM audit_log WHERE action = "
                                   "'volunteers.export'")
    assert ("console:rw02",) in audited


async def test_an_empty_csv_is_not_sent(services) -> None:
    rt = await coordinator(services, "rt03", RT03, home=RT03)
    await rt.send("/ekspor relawan")
    assert rt.replies[0].media is None and "Belum ada relawan" in rt.text


# --- reminders across a restart -------------------------------------------------------------


async def test_reminders_across_a_restart(settings, clock) -> None:
    # Tuesday 07.00 WIB: reminded 2 hours before, at 05.00 WIB (quiet hours)
    async with open_services(settings, clock) as services:
        people = await team(services)
        rt = await coordinator(services, "rt03", RT03, home=RT03)
        await call(rt, area=None, at="01-12-2026 07.00", title="Antar sembako")
        await rt.press("Kirim")
        await call(rt, area=None, at="01-12-2026 07.30", title="Antar obat", urgent=True)
        await rt.press("Kirim")
        await people["sari"].forge("vo-yes:1")
        await people["andi"].forge("vo-yes:1")
        await people["sari"].forge("vo-yes:2")
        assert await svc.run_due(services) == 0  # not yet
    clock.advance(days=1, hours=13, minutes=59)  # Mon 30 Nov 21.59 UTC = Tue 04.59 WIB
    async with open_services(settings, clock) as services:
        assert await svc.run_due(services) == 0
        clock.advance(minutes=1)
        assert await svc.run_due(services) == 2  # the regular call-out: Bu Sari, Mas Andi
        assert await svc.run_due(services) == 0  # once
        clock.advance(minutes=30)
        assert await svc.run_due(services) == 1  # the urgent one: Bu Sari
        assert await svc.run_due(services) == 0
        reminders = await outbox(services, "callout_reminder")
        assert sorted((a, q) for a, q, _ in reminders) == [("andi", 1), ("sari", 0),
                                                          ("sari", 1)]
        shown = rendered(services, reminders[0][2])
        assert "Pengingat" in shown and "Antar sembako" in shown and "Saya mundur" in shown
        clock.advance(hours=3)
        assert await svc.run_due(services) == 0


# --- help requests -----------------------------------------------------------------------


async def ask_for_help(services, chat: Chat, kind: str, note: str, share: bool) -> int:  # type: ignore[no-untyped-def]
    now = services.clock.now()
    return await services.store.write(lambda tx: svc.request_help(
        services, tx, chat.identity, RT03, kind, note, share, None, now))


async def test_help_requests_are_assigned_end_to_end(services) -> None:
    people = await team(services)
    fajar = await volunteer(services, "fajar", "Fajar", ("logistics", "kitchen"),
                            ("weekends",), RT03, phone="+6281200000009")
    rt = await coordinator(services, "rt03", RT03, home=RT03)
    warga = await person(services, "warga")
    tetangga = await person(services, "tetangga")
    first = await ask_for_help(services, warga, "groceries", "Beras 5 kg dan telur", True)
    second = await ask_for_help(services, tetangga, "medicine", "Obat dari puskesmas", False)
    alerts = await outbox(services, "help_alert")
    assert [a for a, _, _ in alerts] == ["rt03", "rt03"]
    alert = rendered(services, alerts[0][2])
    assert "Permintaan bantuan #1" in alert and "Belanja kebutuhan" in alert
    assert "console:warga" not in alert and "Pilih relawan" in alert
    # the list
    await rt.send("/relawan")
    await rt.press("Permintaan bantuan")
    assert "#1 Belanja kebutuhan" in rt.text and "#2 Ambil obat" in rt.text
    assert "Beras 5 kg dan telur" in rt.text and "belum ada relawan" in rt.text
    # groceries: logistics or kitchen
    await rt.press(f"Pilih relawan #{first}")
    assert "1 cocok" in rt.text and "Fajar · Logistik & sembako, Dapur umum" in rt.labels
    await rt.press("Fajar")
    assert "diserahkan ke Fajar" in rt.text
    (task,) = [p for a, _, p in await outbox(services, "help_task") if a == "fajar"]
    shown = rendered(services, task)
    assert "Beras 5 kg dan telur" in shown and "console:warga" in shown and "Selesai" in shown
    told = [p for a, _, p in await outbox(services, "help_task") if a == "warga"]
    assert len(told) == 1
    await rt.press("Permintaan bantuan")
    assert "ditangani Fajar" in rt.text
    # medicine: health, logistics or transport; contact not shared
    await rt.forge(f"vo-pick:{second}")
    labels = rt.labels
    assert any(label.startswith("Bu Sari") for label in labels)
    assert any(label.startswith("Mas Andi") for label in labels)
    assert any(label.startswith("Fajar") for label in labels)
    assert not any(label.startswith("Mbak Dewi") for label in labels)  # paused
    await rt.press("Mas Andi")
    (task,) = [p for a, _, p in await outbox(services, "help_task") if a == "andi"]
    shown = rendered(services, task)
    assert "console:tetangga" not in shown and "tidak membagikan kontaknya" in shown
    # forged: someone who cannot take it, another area's coordinator, a closed request
    await rt.forge(f"vo-assign:{second}:{people['eko'].person_id}")  # type: ignore[attr-defined]
    assert "Tidak ada yang diubah" in rt.text
    other = await coordinator(services, "rt0101", RT01_RW01, home=RT01_RW01)
    await other.forge(f"vo-pick:{first}")
    assert "bukan dari wilayah Anda" in other.text
    await other.forge(f"vo-assign:{first}:{people['eko'].person_id}")  # type: ignore[attr-defined]
    assert "bukan dari wilayah Anda" in other.text
    await other.forge("vo-pick:77")
    assert "#77 tidak ditemukan" in other.text
    assert await rows(services, "SELECT volunteer_id FROM help_request ORDER BY id") == [
        (fajar.person_id,), (people["andi"].person_id,)]  # type: ignore[attr-defined]
    await services.store.write(lambda tx: tx.volunteers.finish_request(
        first, "done", services.clock.now()))
    await rt.forge(f"vo-assign:{first}:{people['sari'].person_id}")  # type: ignore[attr-defined]
    assert "sudah selesai" in rt.text


async def test_no_helper_says_so(services) -> None:
    rt = await coordinator(services, "rt03", RT03, home=RT03)
    warga = await person(services, "warga")
    request = await ask_for_help(services, warga, "transport", "", False)
    await rt.forge(f"vo-pick:{request}")
    assert "Belum ada relawan yang cocok" in rt.text


async def test_english(services) -> None:
    people = await team(services)
    await grant(services, "console:rw02", "coordinator", RW02, name="Pak RW")
    rw = Chat(services, "rw02")
    await rw.send("/start")
    await rw.press("English")
    await rw.press("I agree")
    await rw.press("Cimuncang")
    await rw.press("RW 02")
    await rw.press("RT 01")
    await rw.send("/callvolunteers")
    await rw.press("RT 03 / RW 02")
    await rw.send("Food parcels")
    await rw.send("Tuesday 8am")
    assert "Tuesday, 1 Dec 2026 08:00 WIB" in rw.text
    await rw.send("RW hall")
    await rw.press("Anyone")
    await rw.send("2")
    await rw.press("Skip")
    await rw.press("Regular")
    assert "Will be sent to 2 matching volunteers" in rw.text
    await rw.press("Send")
    assert "Call-out #1 sent to 2 volunteers" in rw.text
    await people["sari"].forge("vo-yes:1")
    await rw.press("See roster")
    assert "1/2 filled" in rw.text and "Bu Sari — +6281200000001" in rw.text
    await rw.send("/volunteer")
    assert "By skill" in rw.text and "weekdays, evenings" in rw.text


def test_datetime_note() -> None:
    """The fake clock starts on a Sunday (the dates above rely on it)."""
    assert date(2026, 11, 29).weekday() == 6
