"""Symptom reports over the real Telegram channel (python-telegram-bot against the fake Bot
API): a resident's high-risk report reaches the RT and RW coordinators through the outbox,
the first to press "Saya tangani" owns it and the other is told who; /ekspor arrives as an
uploaded CSV document and /statistik as an uploaded PNG photo; a moderator sees no health
data. The questionnaire itself is covered in-process (tests/test_symptoms_flow.py)."""

from __future__ import annotations

import csv
import io
from typing import Any

from tests.broadcast_helpers import RT01_RW02, RT03, RW02, grant, resident
from tests.fake_telegram import FakeBotAPI, FakeUser
from tests.telegram_harness import RunningBot, running_bot
from tests.test_broadcast_flow import FAST, drain, got, reply_with, texts_to

RESIDENT, RT_HEAD, RW_HEAD, MODERATOR = 801, 700, 710, 900
YES_TO = ("demam atau menggigil", "batuk yang baru muncul", "sakit tenggorokan")


def text_of(message: dict[str, Any]) -> str:
    return message.get("text", message.get("caption", "")) or ""


async def team(bot: RunningBot) -> None:
    """RT 03's head (lives in RT 03), RW 02's head (lives in RT 01), a moderator; all have
    opened the bot."""
    svc = bot.services
    await resident(svc, RT_HEAD, RT03)
    await grant(svc, RT_HEAD, "coordinator", RT03, "Pak Ahmad")
    await resident(svc, RW_HEAD, RT01_RW02)
    await grant(svc, RW_HEAD, "coordinator", RW02, "Bu Rina")
    await resident(svc, MODERATOR, RT01_RW02)
    await grant(svc, MODERATOR, "moderator", "", "Mod Sari")
    await resident(svc, RESIDENT, RT03)


async def report_high_risk(warga: FakeUser) -> str:
    """Go through /gejala on Telegram answering yes to three core symptoms; share it.
    Returns the text the resident reads at the end."""
    await warga.send("/gejala")
    assert "tanda bahaya" in text_of(await warga.next_reply())
    await warga.click("✅ Tidak ada satu pun")
    assert "Laporan ini untuk siapa?" in text_of(await warga.next_reply())
    await warga.click("🙋 Saya sendiri")
    assert "Berapa umur Anda?" in text_of(await warga.next_reply())
    await warga.click("40–59 tahun")
    for number in range(1, 11):
        asked = text_of(await warga.next_reply())
        assert f"({number}/10)" in asked and "14 hari terakhir" in asked, asked
        await warga.click("Ya" if any(s in asked for s in YES_TO) else "Tidak")
    assert "kontak erat" in text_of(await warga.next_reply())
    await warga.click("Tidak")
    assert "penyakit jangka panjang" in text_of(await warga.next_reply())
    await warga.click("Tidak ada")
    assert "sedang hamil" in text_of(await warga.next_reply())
    await warga.click("Tidak hamil")
    result = text_of(await warga.next_reply())
    assert "Hasil: risiko tinggi" in result and "3 dari 5 gejala utama" in result, result
    assert "Siapa yang boleh melihat laporan ini?" in text_of(await warga.next_reply())
    await warga.click("📣 Bagikan ke RT & puskesmas")
    return text_of(await warga.next_reply())


async def shared_report(fake: FakeBotAPI, bot: RunningBot) -> FakeUser:
    await team(bot)
    warga = fake.user(RESIDENT, first_name="Wati")
    told = await report_high_risk(warga)
    assert "tersimpan dan dibagikan" in told and "sudah diberi tahu" in told, told
    await bot.settled()
    await bot.outbox_idle()
    return warga


async def test_the_rt_head_takes_the_alert_and_the_rw_head_is_told_who(fake, tmp_path
                                                                       ) -> None:
    async with running_bot(fake, tmp_path, **FAST) as bot:
        await shared_report(fake, bot)
        rt, rw = fake.user(RT_HEAD, first_name="Ahmad"), fake.user(RW_HEAD, first_name="Rina")
        for head in (RT_HEAD, RW_HEAD):
            (alert,) = got(fake, head, "Laporan gejala risiko tinggi")
            body = text_of(alert)
            assert "RT 03 / RW 02" in body and "Risiko: tinggi" in body, body
            assert "demam" in body and "batuk" in body and "sakit tenggorokan" in body
            assert f"telegram:{RESIDENT}" in body
            assert rt.buttons(alert) == ["🙋 Saya tangani"]
        # nobody else hears of it: not the moderator, not the resident's neighbours
        assert got(fake, MODERATOR, "Laporan gejala") == []

        (alert,) = got(fake, RT_HEAD, "Laporan gejala risiko tinggi")
        await rt.click("🙋 Saya tangani", message_id=alert["message_id"])
        taken = await reply_with(rt, "sekarang Anda tangani")
        assert "Laporan #1 sekarang Anda tangani" in text_of(taken)
        await bot.settled()
        await bot.outbox_idle()
        told = got(fake, RW_HEAD, "sudah ditangani oleh")
        assert len(told) == 1, texts_to(fake, RW_HEAD)
        assert "Laporan gejala #1 sudah ditangani oleh Pak Ahmad" in text_of(told[0])
        # the RW head presses on the old alert anyway: told who has it
        (rw_alert,) = got(fake, RW_HEAD, "Laporan gejala risiko tinggi")
        drain(rw)  # what the outbox brought before
        await rw.click("🙋 Saya tangani", message_id=rw_alert["message_id"])
        late = await reply_with(rw, "sudah ditangani oleh")
        assert "Laporan #1 sudah ditangani oleh Pak Ahmad" in text_of(late)
        await bot.settled()
        async with bot.services.store.db.conn.execute(
                "SELECT handler, status FROM symptom_report") as cur:
            assert [tuple(r) for r in await cur.fetchall()] == [
                (f"telegram:{RT_HEAD}", "handling")]
        # every press was answered (no spinning button)
        assert len(rt.answered_callbacks) == 1 and len(rw.answered_callbacks) == 1


async def test_export_is_an_uploaded_csv_and_statistics_an_uploaded_png(fake, tmp_path
                                                                        ) -> None:
    async with running_bot(fake, tmp_path, **FAST) as bot:
        await shared_report(fake, bot)
        rt = fake.user(RT_HEAD, first_name="Ahmad")

        await rt.send("/ekspor")
        sent = await reply_with(rt, "laporan gejala")
        assert "1 laporan gejala (dengan izin pelapor)" in text_of(sent)
        assert "jangan diteruskan" in text_of(sent)
        document = sent["document"]
        assert document["file_name"].startswith("laporan-gejala-")
        assert document["file_name"].endswith(".csv")
        (call,) = fake.calls_of("sendDocument")
        upload = call["document"]
        assert upload["filename"] == document["file_name"]
        data: bytes = upload["_upload"]
        assert data == fake.files[document["file_id"]]["_data"]
        assert data.startswith("\ufeff".encode())  # UTF-8 with BOM, for Excel
        table = list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline="")))
        header, *body = table
        assert header[:6] == ["id", "created", "rt", "rw", "kelurahan", "contact"]
        assert len(body) == 1
        row = dict(zip(header, body[0], strict=True))
        assert row["id"] == "1" and row["rt"] == "03" and row["rw"] == "02"
        assert row["kelurahan"] == "Cimuncang" and row["contact"] == f"telegram:{RESIDENT}"
        assert row["symptoms"] == "cough;fever;sore_throat" and row["level"] == "high"
        assert row["status"] == "new" and row["subject"] == "self"
        assert row["created"] == "2026-11-29 15:00:00"  # local time (WIB)

        # two anonymous reports of the same day: three in all, enough to show a chart
        svc = bot.services
        day = svc.clock.now().astimezone(svc.settings.timezone).date().isoformat()
        await svc.store.write(lambda tx: tx.symptoms.count(day, RT03, "moderate", reports=2))
        await rt.send("/statistik")
        photo = await reply_with(rt, "Laporan gejala 30 hari terakhir")
        assert "Total 3" in text_of(photo) and "risiko tinggi 1" in text_of(photo)
        (call,) = fake.calls_of("sendPhoto")
        png: bytes = call["photo"]["_upload"]
        assert png.startswith(b"\x89PNG\r\n\x1a\n")
        assert call["photo"]["filename"].startswith("statistik-")
        largest = photo["photo"][-1]
        assert fake.files[largest["file_id"]]["_data"] == png


async def test_a_moderator_is_refused_the_health_desk(fake, tmp_path) -> None:
    async with running_bot(fake, tmp_path, **FAST) as bot:
        await shared_report(fake, bot)
        mod = fake.user(MODERATOR, first_name="Sari")
        for command in ("/laporan", "/ekspor", "/statistik"):
            await mod.send(command)
            refused = await reply_with(mod, "hanya untuk pengurus")
            assert "petugas puskesmas" in text_of(refused), command
            assert "#1" not in text_of(refused)
        await bot.settled()
        assert fake.calls_of("sendDocument") == [] and fake.calls_of("sendPhoto") == []
