"""More of the symptom report, in-process (tests/chat.py): two coordinators pressing
"Saya tangani" at the same moment, a restart in the middle of the questionnaire and between
a report and its check-ins (held by quiet hours), the flow in English, Back / Cancel / typed
text at a button step, the export and the chart as files, the health worker's kelurahan-wide
view, and what a health worker may not do."""

from __future__ import annotations

import asyncio
import contextlib
import csv
import io
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bot.app import open_services
from bot.broadcasting.outbox import Delivery, RateLimiter, Sender
from bot.clock import FakeClock
from bot.context import Services
from bot.events import Reply, reply_from_json
from bot.symptoms import service as svc
from tests.chat import Chat
from tests.conftest import make_settings
from tests.test_symptoms_flow import (
    KEL,
    RT01_RW01,
    RT03,
    YES_TO,
    answer,
    grant,
    outbox_to,
    person,
    rows,
    staff,
)

NIGHT = datetime(2026, 11, 29, 15, 0, tzinfo=UTC)  # 22:00 WIB, inside quiet hours


@contextlib.asynccontextmanager
async def services_on(tmp_path: Path, clock: FakeClock) -> AsyncIterator[Services]:
    """The bot's services on ``tmp_path``'s database (the same file every time)."""
    async with open_services(make_settings(tmp_path), clock) as services:
        yield services


def again(chat: Chat, services: Services) -> Chat:
    """The same person after a restart: the messages on their screen are the old ones."""
    return Chat(services, chat.user, replies=chat.replies, lang=chat.lang)


async def shared(services: Services, user: str, yes_to: tuple[str, ...] = YES_TO,
                 area: str = RT03) -> Chat:
    warga = await person(services, user, area)
    await answer(warga, yes_to)
    await warga.press("Bagikan ke RT & puskesmas")
    assert "tersimpan dan dibagikan" in warga.text, warga.text
    return warga


# --- a. two presses at the same moment ---------------------------------------------------


async def test_two_coordinators_pressing_at_once_one_owns_it_and_the_other_is_told_who(
        services) -> None:
    team = await staff(services)
    await shared(services, "warga1")
    ((rid,),) = await rows(services, "SELECT id FROM symptom_report")
    rt, rw = team["rt03"], team["rw02"]
    await asyncio.gather(rt.forge(f"sx-take:{rid}"), rw.forge(f"sx-take:{rid}"))
    ((handler, status),) = await rows(services, "SELECT handler, status FROM symptom_report")
    assert status == "handling" and handler in ("console:rt03", "console:rw02")
    winner, loser = (rt, rw) if handler == "console:rt03" else (rw, rt)
    assert f"Laporan #{rid} sekarang Anda tangani" in winner.text, winner.text
    assert f"Laporan #{rid} sudah ditangani oleh" in loser.text, loser.text
    assert f"Pak {winner.user}" in loser.text
    assert "sekarang Anda tangani" not in loser.text
    # the winner pressing again is told it is already theirs
    await winner.forge(f"sx-take:{rid}")
    assert f"Laporan #{rid} sudah Anda tangani" in winner.text, winner.text
    # one claim recorded, and the others alerted are told once who has it
    assert len(await rows(services, "SELECT id FROM audit_log WHERE action = "
                                    "'symptoms.handle'")) == 1
    for other in ("rt03", "rw02", "nakes"):
        told = [m for m in await outbox_to(services, f"console:{other}")
                if m["text"]["key"] == "symptoms.desk.taken_by_other"]
        assert len(told) == (0 if other == winner.user else 1), other


async def test_three_presses_at_once_make_one_handler(services) -> None:
    team = await staff(services)
    await shared(services, "warga11")
    chats = [team["rt03"], team["rw02"], team["nakes"]]
    await asyncio.gather(*(c.forge("sx-take:1") for c in chats))
    ((handler,),) = await rows(services, "SELECT handler FROM symptom_report")
    owners = [c for c in chats if "sekarang Anda tangani" in c.text]
    assert [c.identity for c in owners] == [handler]
    for other in chats:
        if other is not owners[0]:
            assert f"sudah ditangani oleh Pak {owners[0].user}" in other.text, other.text


# --- b. a restart in the middle of the questionnaire ----------------------------------------


async def test_a_restart_in_the_middle_keeps_the_answers(tmp_path) -> None:
    clock = FakeClock()
    async with services_on(tmp_path, clock) as first:
        await staff(first)
        warga = await person(first, "warga2")
        await warga.send("/gejala")
        await warga.press("Tidak ada satu pun")
        await warga.press("Anggota keluarga serumah")
        await warga.press("60 tahun ke atas")
        for number in range(1, 6):  # fever yes, cough no, sore throat yes, no, no
            assert f"({number}/10)" in warga.text, warga.text
            await warga.press("Ya" if number in (1, 3) else "Tidak")
        assert "(6/10)" in warga.text and "diare" in warga.text
    # the bot stops and starts again on the same database
    async with services_on(tmp_path, clock) as second:
        warga = again(warga, second)
        await warga.send("mungkin")  # typed: the question it was on, asked again
        assert "(6/10)" in warga.text and "diare" in warga.text, warga.text
        assert "Ya" in warga.labels and "Tidak" in warga.labels
        await warga.press("Kembali")  # the way back survived too
        assert "(5/10)" in warga.text, warga.text
        await warga.press("Tidak")
        assert "(6/10)" in warga.text, warga.text
        await warga.press("Ya")  # diarrhoea
        for number in range(7, 11):
            assert f"({number}/10)" in warga.text, warga.text
            await warga.press("Ya" if number == 10 else "Tidak")  # headache
        assert "kontak erat" in warga.text.lower()
        await warga.press("Tidak yakin")
        await warga.press("Diabetes")
        await warga.press("Selesai")  # 60+: no pregnancy question
        assert "Hasil: risiko" in warga.text
        await warga.press("Bagikan ke RT & puskesmas")
        assert "tersimpan dan dibagikan" in warga.text
        (report,) = await rows(second, "SELECT subject, age_group, symptoms, close_contact, "
                                       "conditions, pregnant, red_flags FROM symptom_report")
        assert report == ("household", "60plus", "diarrhoea,fever,headache,sore_throat",
                          "unsure", "diabetes", None, "")


# --- c. check-ins across a restart, and quiet hours ----------------------------------------


class Recorder:
    """A console transport that keeps what it is given."""

    channel = "console"

    def __init__(self) -> None:
        self.limiter = RateLimiter(1000.0)
        self.sent: list[tuple[str, Reply]] = []

    def interval(self, address: str) -> float:
        return 0.0

    async def send(self, address: str, lang: str, reply: Reply) -> Delivery:
        self.sent.append((address, reply))
        return Delivery("sent", external_id=str(len(self.sent)))

    async def edit(self, address: str, message_id: str, lang: str, reply: Any) -> Delivery:
        return Delivery("sent", external_id=message_id)


async def eventually(check, what: str, timeout: float = 5.0) -> None:  # type: ignore[no-untyped-def]  # noqa: ASYNC109
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not await check():
        if loop.time() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.02)


async def test_a_check_in_survives_a_restart_is_queued_once_and_waits_for_the_morning(
        tmp_path) -> None:
    clock = FakeClock(NIGHT)
    async with services_on(tmp_path, clock) as first:
        await staff(first)
        warga = await shared(first, "warga3", YES_TO[:1])  # moderate: check-ins, no alert
        assert "hari ke-2 dan ke-5" in warga.text
    async with services_on(tmp_path, clock) as second:
        clock.advance(days=2, minutes=1)  # 22:01 WIB, two days later
        assert (await svc.run_due(second)).checkins == 1
        assert (await svc.run_due(second)).checkins == 0  # once only
        (checkin,) = [m for m in await outbox_to(second, "console:warga3")
                      if m["kind"] == "checkin"]
        text = Chat(second, "x").words.render(reply_from_json(checkin).text, "id")
        assert "Bagaimana kabar Anda sekarang?" in text
        ((quiet, status),) = await rows(second, "SELECT quiet, status FROM outbox WHERE "
                                                "kind = 'checkin'")
        assert (quiet, status) == (1, "queued")

        transport = Recorder()
        sender = Sender(second, transport, idle_poll=0.05)
        second.signals.outbox_listeners.append(sender.wake)
        task = asyncio.create_task(sender.run())
        try:
            morning = datetime(2026, 12, 1, 23, 0, tzinfo=UTC).isoformat()  # 06:00 WIB

            async def held() -> bool:
                found = await rows(second, "SELECT deferred, not_before FROM outbox WHERE "
                                           "kind = 'checkin'")
                return found == [(1, morning)]

            await eventually(held, "the check-in to be held until 06:00")
            await asyncio.sleep(0.2)
            assert [a for a, _ in transport.sent if a == "warga3"] == []
            clock.advance(hours=8)  # 06:01 WIB
            sender.wake()

            async def sent() -> bool:
                return [a for a, _ in transport.sent] == ["warga3"]

            await eventually(sent, "the check-in in the morning")
            (_, reply) = transport.sent[0]
            assert "💪 Sudah sehat" in Chat(second, "x").words.render(
                reply.buttons[-1][0].label, "id")
        finally:
            sender.stop(grace=1.0)
            await asyncio.wait_for(task, 5)
            second.signals.outbox_listeners.remove(sender.wake)
        # the second check-in (day 5) is still planned, the first is not sent again
        assert (await svc.run_due(second)).checkins == 0
        assert len(await rows(second, "SELECT id FROM symptom_checkin WHERE sent_at IS NULL")
                   ) == 1


async def test_a_check_in_in_the_afternoon_is_not_held(tmp_path) -> None:
    clock = FakeClock()  # 15:00 WIB
    async with services_on(tmp_path, clock) as services:
        await shared(services, "warga4", YES_TO[:1])
        clock.advance(days=2, minutes=1)
        assert (await svc.run_due(services)).checkins == 1
        transport = Recorder()
        sender = Sender(services, transport, idle_poll=0.05)
        task = asyncio.create_task(sender.run())
        try:
            async def sent() -> bool:
                return [a for a, _ in transport.sent] == ["warga4"]

            await eventually(sent, "the check-in")
        finally:
            sender.stop(grace=1.0)
            await asyncio.wait_for(task, 5)


# --- d. in English ------------------------------------------------------------------------


async def english(services: Services, user: str) -> Chat:
    chat = Chat(services, user)
    await chat.send("/start")
    await chat.press("English")
    await chat.press("I agree")
    await chat.press("Cimuncang")
    await chat.press("RW 02")
    await chat.press("RT 03")
    assert "You are registered with RT 03 / RW 02" in chat.text, chat.text
    return chat


async def test_the_questionnaire_and_the_alert_in_english(services) -> None:
    await staff(services)  # Indonesian RT/RW heads and health worker
    await grant(services, "console:head", "coordinator", RT03, name="Mr Ahmad")
    head = await english(services, "head")
    warga = await english(services, "warga5")
    await warga.send("/symptoms")
    assert "danger signs" in warga.text
    await warga.press("None of these")
    assert "Whom is this report about?" in warga.text
    await warga.press("Myself")
    assert "How old are you?" in warga.text
    await warga.press("40–59")
    english_yes = ("fever or chills", "new cough", "sore throat")
    for number in range(1, 11):
        assert f"({number}/10)" in warga.text and "last 14 days" in warga.text, warga.text
        await warga.press("Yes" if any(s in warga.text for s in english_yes) else "No")
    assert "close contact" in warga.text
    await warga.press("No")
    await warga.press("None")
    await warga.press("Not pregnant")
    assert "Result: high risk" in warga.text, warga.text
    assert "📣 Share with RT & puskesmas" in warga.labels
    await warga.press("Share with RT & puskesmas")
    assert "your report is saved and shared" in warga.text, warga.text
    assert "day 2 and 5" in warga.text
    for word in ("Hasil", "Bagikan", "tersimpan"):
        assert word not in warga.text

    (alert,) = [m for m in await outbox_to(services, "console:head")
                if m["kind"] == "symptom_alert"]
    langs = await rows(services, "SELECT address, lang FROM outbox WHERE kind = "
                                 "'symptom_alert' ORDER BY address")
    assert langs == [("head", "en"), ("nakes", "id"), ("rt03", "id"), ("rw02", "id")]
    (indonesian,) = [m for m in await outbox_to(services, "console:rt03")
                     if m["kind"] == "symptom_alert"]
    assert "Laporan gejala risiko tinggi" in head.words.render(
        reply_from_json(indonesian).text, "id")
    reply = reply_from_json(alert)
    text = head.words.render(reply.text, "en")
    assert "High-risk symptom report" in text and "Risk: high" in text, text
    assert "Symptoms: cough, fever, sore throat" in text, text
    assert "Gejala" not in text and "Risiko" not in text
    assert "Reporter's contact: console:warga5" in text
    assert head.words.render(reply.buttons[0][0].label, "en") == "🙋 I'll handle it"
    await head.forge(reply.buttons[0][0].payload)
    assert "You are now handling report #1" in head.text, head.text


# --- e. Back, Cancel, typed text ---------------------------------------------------------


async def test_back_cancel_and_typed_text(services) -> None:
    await staff(services)
    warga = await person(services, "warga6")
    await warga.send("/gejala")
    await warga.press("Tidak ada satu pun")
    await warga.press("Saya sendiri")
    assert "Berapa umur Anda?" in warga.text
    await warga.press("Kembali")
    assert "Laporan ini untuk siapa?" in warga.text
    assert "🙋 Saya sendiri" in warga.labels
    await warga.press("Kembali")
    assert "tanda bahaya" in warga.text  # and Back again: the danger signs
    await warga.press("Tidak ada satu pun")
    await warga.press("Anggota keluarga serumah")
    assert "Berapa umur orang yang Anda laporkan?" in warga.text
    await warga.press("18–39")
    assert "(1/10)" in warga.text
    # typed text where a button is expected: the same question again, with its buttons
    await warga.send("saya kurang enak badan")
    assert "Mohon pilih salah satu tombol" in warga.text
    assert "(1/10)" in warga.text and "demam atau menggigil" in warga.text
    assert {"Ya", "Tidak"} <= set(warga.labels) and "✖️ Batal" in warga.labels
    await warga.press("Ya")
    assert "(2/10)" in warga.text
    await warga.press("Batal")
    assert "Laporan gejala dibatalkan; tidak ada yang disimpan." in warga.text
    for table in ("symptom_report", "symptom_count", "health_consent", "symptom_checkin"):
        assert await rows(services, f"SELECT * FROM {table}") == [], table
    assert not [m for m in await outbox_to(services, "console:rt03")
                if m["kind"] == "symptom_alert"]
    # an old button of the cancelled questionnaire does nothing harmful
    await warga.send("/menu")
    assert await rows(services, "SELECT * FROM symptom_report") == []


# --- f. the export and the chart as files; who sees what ------------------------------------


async def test_export_is_a_csv_document_and_is_audited(services) -> None:
    team = await staff(services)
    await shared(services, "warga7")
    rt = team["rt03"]
    await rt.send("/ekspor")
    (reply,) = rt.replies
    assert reply.media is not None and reply.media.kind == "document"
    assert reply.media.name.startswith("laporan-gejala-") and reply.media.name.endswith(".csv")
    assert "1 laporan gejala (dengan izin pelapor)" in rt.text
    data = reply.media.data
    assert data.startswith(b"\xef\xbb\xbf")  # the BOM
    table = list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline="")))
    header, *body = table
    assert header == ["id", "created", "rt", "rw", "kelurahan", "contact", "subject",
                      "age_group", "red_flags", "symptoms", "close_contact", "conditions",
                      "pregnant", "level", "rules_version", "status", "handler",
                      "handled_at", "closed_at", "note"]
    (row,) = [dict(zip(header, r, strict=True)) for r in body]
    assert row["id"] == "1" and row["contact"] == "console:warga7"
    assert (row["rt"], row["rw"], row["kelurahan"]) == ("03", "02", "Cimuncang")
    assert row["symptoms"] == "cough;fever;sore_throat" and row["level"] == "high"
    assert row["pregnant"] == "no" and row["age_group"] == "40_59"
    assert row["created"] == "2026-11-29 15:00:00"
    assert b"\r\n" in data
    audited = await rows(services, "SELECT actor, target FROM audit_log WHERE action = "
                                   "'symptoms.export'")
    assert audited == [("console:rt03", "reports:1")]
    details = await rows(services, "SELECT detail FROM audit_log WHERE action = "
                                   "'symptoms.export'")
    assert details == [("reports 1",)]


async def test_statistics_is_a_png_chart_with_a_summary(services) -> None:
    team = await staff(services)
    await shared(services, "warga8")
    rt = team["rt03"]
    await rt.send("/statistik")  # one report: too few to show without pointing to someone
    assert rt.replies[0].media is None and "Kurang dari 3 laporan" in rt.text
    await shared(services, "warga8b")
    await shared(services, "warga8c")
    await rt.send("/statistik")
    (reply,) = rt.replies
    assert reply.media is not None and reply.media.kind == "photo"
    assert reply.media.data.startswith(b"\x89PNG\r\n\x1a\n")
    assert "Total 3" in rt.text and "risiko tinggi 3" in rt.text, rt.text
    # the chart reads counts only: no identified report is read, nothing audited as a read
    assert await rows(services, "SELECT * FROM audit_log WHERE action IN "
                                "('symptoms.list', 'symptoms.export')") == []


async def test_a_health_worker_sees_the_whole_kelurahan_and_a_coordinator_only_their_area(
        services) -> None:
    team = await staff(services)
    assert await rows(services, "SELECT area_code FROM role_grant WHERE identity = "
                                "'console:nakes'") == [(KEL,)]
    await shared(services, "warga9")  # RT 03 / RW 02
    await shared(services, "warga10", area=RT01_RW01)  # RT 01 / RW 01
    nakes = team["nakes"]
    await nakes.send("/laporan")
    assert "console:warga9" in nakes.text and "console:warga10" in nakes.text, nakes.text
    assert "RT 03 / RW 02" in nakes.text and "RT 01 / RW 01" in nakes.text
    await nakes.send("/ekspor")
    data = nakes.replies[0].media.data  # type: ignore[union-attr]
    contacts = {r["contact"] for r in csv.DictReader(io.StringIO(data.decode("utf-8-sig")))}
    assert contacts == {"console:warga9", "console:warga10"}
    await nakes.send("/statistik")
    assert "Kurang dari 3 laporan" in nakes.text  # two reports: no chart
    await shared(services, "warga11", area=RT01_RW01)
    await nakes.send("/statistik")
    assert "Total 3" in nakes.text

    rt01 = team["rt01"]  # RT 01 / RW 02
    await rt01.send("/laporan")
    assert "Tidak ada laporan gejala terbuka" in rt01.text and "warga9" not in rt01.text
    await rt01.send("/ekspor")
    assert rt01.replies[0].media is None
    assert "Belum ada laporan gejala dengan izin pelapor" in rt01.text
    await rt01.forge("sx-take:1")
    assert "hanya untuk pengurus" in rt01.text
    await rt01.forge("sx-note:1")
    assert "hanya untuk pengurus" in rt01.text
    ((handler,),) = await rows(services, "SELECT handler FROM symptom_report WHERE id = 1")
    assert handler is None
    # the RW 02 head sees RT 03's report but not RW 01's
    rw = team["rw02"]
    await rw.send("/laporan")
    assert "console:warga9" in rw.text and "console:warga10" not in rw.text
    # the health worker of the kelurahan can take any of them
    await nakes.forge("sx-take:2")
    assert "Laporan #2 sekarang Anda tangani" in nakes.text


# --- g. a health worker is not a coordinator ----------------------------------------------


async def test_a_health_worker_cannot_send_notices_or_get_invite_links(services) -> None:
    team = await staff(services)
    nakes = team["nakes"]
    await nakes.send("/siaran")
    assert "/siaran hanya untuk ketua/pengurus RT/RW" in nakes.text, nakes.text
    assert not [label for label in nakes.labels if "Pengumuman baru" in label]
    await nakes.send("/undangan")
    assert "hanya untuk pengurus RT/RW yang terdaftar" in nakes.text, nakes.text
    assert "cmc" not in nakes.text  # no invite code
    refused = await rows(services, "SELECT action, outcome FROM audit_log WHERE actor = "
                                   "'console:nakes' AND action IN ('broadcast.send', "
                                   "'invite.view')")
    assert {a for a, _ in refused} == {"broadcast.send", "invite.view"}
    assert all(outcome != "allowed" for _, outcome in refused), refused


# --- more of the desk: notes, closing, a withdrawn report, toggles kept ------------------


async def test_a_note_and_closing_show_in_the_export_and_leave_the_list(services) -> None:
    team = await staff(services)
    await shared(services, "warga12")
    rt = team["rt03"]
    await rt.send("/laporan")
    assert "🙋 Tangani #1" in rt.labels
    await rt.press("Tangani #1")
    assert "Laporan #1 sekarang Anda tangani" in rt.text
    await rt.send("/laporan")
    assert "sedang ditangani" in rt.text and "ditangani Pak rt03" in rt.text, rt.text
    assert "🙋 Tangani #1" not in rt.labels
    await rt.press("Catatan #1")
    assert "Tulis catatan untuk laporan #1" in rt.text
    await rt.send("x" * 501)
    assert "Catatan terlalu panjang (501 karakter)" in rt.text
    await rt.send("=HYPERLINK(\"http://x\") sudah ditelepon, isoman")
    assert "Catatan untuk laporan #1 disimpan" in rt.text
    await rt.send("/laporan")
    assert "Pak rt03: =HYPERLINK" in rt.text
    await rt.press("Selesai #1")
    assert "Laporan #1 ditandai selesai" in rt.text
    await rt.send("/laporan")
    assert "Tidak ada laporan gejala terbuka" in rt.text
    await rt.forge("sx-done:1")
    assert "Laporan #1 sudah selesai" in rt.text
    await rt.send("/ekspor")
    row = next(csv.DictReader(io.StringIO(rt.replies[0].media.data.decode(  # type: ignore[union-attr]
        "utf-8-sig"))))
    assert row["status"] == "done" and row["handler"] == "console:rt03"
    assert "=HYPERLINK" in row["note"] and not row["note"].startswith(("=", "+", "-", "@"))
    assert row["handled_at"] == row["closed_at"] == "2026-11-29 15:00:00"
    actions = {a for (a,) in await rows(services, "SELECT action FROM audit_log")}
    assert {"symptoms.handle", "symptoms.note", "symptoms.close"} <= actions


async def test_an_alert_pressed_after_the_resident_withdrew_says_it_is_gone(services) -> None:
    team = await staff(services)
    warga = await shared(services, "warga13")
    await warga.send("/pengaturan")
    await warga.press("Data kesehatan saya")
    await warga.press("Tarik izin data kesehatan")
    await warga.press("Ya, tarik izin")
    await team["rt03"].forge("sx-take:1")
    assert "sudah tidak ada" in team["rt03"].text
    await team["rt03"].forge("sx-note:1")
    assert "sudah tidak ada" in team["rt03"].text
    assert await rows(services, "SELECT * FROM symptom_report") == []


async def test_typed_text_at_the_conditions_keeps_what_was_ticked(services) -> None:
    warga = await person(services, "warga14")
    await warga.send("/gejala")
    await warga.press("Tidak ada satu pun")
    await warga.press("Saya sendiri")
    await warga.press("18–39")
    for _ in range(10):
        await warga.press("Tidak")
    await warga.press("Tidak")  # close contact
    await warga.press("Hipertensi")
    assert "✅ Hipertensi" in warga.labels and "➡️ Selesai" in warga.labels
    await warga.send("hipertensi dan asma")
    assert "Mohon pilih salah satu tombol" in warga.text
    assert "✅ Hipertensi" in warga.labels and "Penyakit paru/asma" in warga.labels
    await warga.press("Penyakit paru/asma")
    await warga.press("Selesai")
    assert "sedang hamil" in warga.text
    await warga.press("Kembali")
    assert "✅ Hipertensi" in warga.labels and "✅ Penyakit paru/asma" in warga.labels
    await warga.press("Selesai")
    await warga.press("Tidak hamil")
    await warga.press("Bagikan ke RT & puskesmas")
    ((conditions, symptoms, level),) = await rows(
        services, "SELECT conditions, symptoms, level FROM symptom_report")
    assert conditions == "hypertension,lung" and symptoms == "" and level in ("low", "moderate")
