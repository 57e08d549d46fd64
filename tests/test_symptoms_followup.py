"""Following a symptom report up after it was filed: a resident who gets worse, one who is
well again, a questionnaire left half-way, a coordinator who is erased or loses the role,
who the resident is told was alerted, and what reaches a coordinator on Telegram."""

from __future__ import annotations

from bot.config import ConfigError, load_settings
from bot.events import reply_from_json
from bot.render import Renderer
from bot.symptoms import service as svc
from tests.chat import Chat
from tests.conftest import ROOT
from tests.test_symptoms_flow import (
    YES_TO,
    answer,
    grant,
    outbox_to,
    person,
    rows,
    staff,
)
from tests.test_symptoms_more import shared


def _payload(message: dict, ending: str) -> str:
    return next(b["payload"] for row in message["buttons"] for b in row
                if b["payload"].endswith(ending))


async def _checkin(services, warga: Chat) -> dict:  # type: ignore[no-untyped-def]
    await svc.run_due(services)
    return [m for m in await outbox_to(services, warga.identity) if m["kind"] == "checkin"][-1]


async def test_worse_on_a_report_someone_handles_tells_that_coordinator_only(
        services, clock) -> None:
    team = await staff(services)
    warga = await shared(services, "w1", YES_TO[:1])  # moderate: no alert yet
    (rid,) = (await rows(services, "SELECT id FROM symptom_report"))[0]
    await team["rt03"].forge(f"sx-take:{rid}")
    before = {who: len(await outbox_to(services, f"console:{who}")) for who in team}
    clock.advance(days=2, minutes=1)
    checkin = await _checkin(services, warga)
    shown = Chat(services, "x").words.render(reply_from_json(checkin).text, "id")
    assert "laporan gejala 29 Nov 2026" in shown, shown  # the report's day, in words
    await warga.forge(_payload(checkin, ":worse"))
    assert "Pengurus yang menangani laporan Anda sudah diberi tahu" in warga.text
    after = {who: len(await outbox_to(services, f"console:{who}")) for who in team}
    assert after["rt03"] == before["rt03"] + 1
    assert after["rw02"] == before["rw02"] and after["nakes"] == before["nakes"]
    alert = (await outbox_to(services, "console:rt03"))[-1]
    assert alert["text"]["params"]["worsened"] is True
    (status, level, handler) = (await rows(
        services, "SELECT status, level, handler FROM symptom_report"))[0]
    assert (status, level, handler) == ("handling", "moderate", "console:rt03")


async def test_well_again_stops_check_ins_and_escalation(services, clock) -> None:
    await staff(services)
    warga = await shared(services, "w2")  # high: alerted, escalates after an hour
    await warga.send("/menu")
    clock.advance(days=2, minutes=1)  # escalation is due as well by now
    (report,) = await rows(services, "SELECT id, escalate_at FROM symptom_report")
    assert report[1] is not None
    # the resident answers the check-in before the follow-up worker runs again
    await svc.run_due(services)
    checkin = [m for m in await outbox_to(services, warga.identity)
               if m["kind"] == "checkin"][-1]
    await warga.forge(_payload(checkin, ":well"))
    assert "Pertanyaan lanjutan dihentikan" in warga.text
    assert await rows(services, "SELECT escalate_at FROM symptom_report") == [(None,)]
    assert await rows(services, "SELECT COUNT(*) FROM symptom_checkin WHERE sent_at IS NULL"
                      ) == [(0,)]
    clock.advance(days=5)
    assert await svc.run_due(services) == svc.Due(0, 0)


async def test_sending_gejala_again_half_way_offers_to_go_on(services) -> None:
    warga = await person(services, "w3")
    await warga.send("/gejala")
    await warga.press("Tidak ada satu pun")
    await warga.press("Saya sendiri")
    await warga.press("40–59")
    await warga.press("Ya")  # fever
    assert "(2/10)" in warga.text
    await warga.send("/gejala")
    assert "belum menyelesaikan laporan gejala" in warga.text
    await warga.press("Lanjutkan")
    assert "(2/10)" in warga.text
    await warga.press("Kembali")
    assert "(1/10)" in warga.text  # the way back is kept too
    await warga.send("/gejala")
    await warga.press("Mulai lagi")
    assert "tanda bahaya" in warga.text


async def test_a_questionnaire_left_half_way_loses_its_answers_after_a_day(
        services, clock) -> None:
    from bot.app import purge_expired

    warga = await person(services, "w4")
    await answer(warga, YES_TO)  # stops at the consent question
    (data,) = (await rows(services, "SELECT data FROM conversation c JOIN person p ON "
                                    "p.id = c.person_id WHERE p.identity = 'console:w4'"))[0]
    assert "fever" in data
    clock.advance(hours=25)
    await purge_expired(services)
    assert await rows(services, "SELECT flow, data FROM conversation c JOIN person p ON "
                                "p.id = c.person_id WHERE p.identity = 'console:w4'") == [
        (None, "{}")]


async def test_an_erased_coordinator_is_a_pseudonym_on_the_reports_they_handled(
        services) -> None:
    team = await staff(services)
    await shared(services, "w5")
    await team["rt03"].forge("sx-take:1")
    await team["rt03"].send("/hapusdata")
    await team["rt03"].press("Ya, hapus")
    (handler,) = (await rows(services, "SELECT handler FROM symptom_report"))[0]
    assert handler.startswith("p:")


async def test_a_revoked_coordinator_who_never_opened_the_bot_gets_no_alert(services) -> None:
    from bot.roles import revoke_role
    from db.repositories.roles import Grant

    await staff(services)
    await grant(services, "console:later", "coordinator", "cimuncang-rw02-rt03")
    await shared(services, "w6")
    assert await rows(services, "SELECT COUNT(*) FROM waiting_message WHERE identity = "
                                "'console:later' AND kind = 'symptom_alert'") == [(1,)]
    await revoke_role(services, "console:later", Grant("coordinator", "cimuncang-rw02-rt03"),
                      "cli:test")
    assert await rows(services, "SELECT COUNT(*) FROM waiting_message WHERE identity = "
                                "'console:later' AND kind = 'symptom_alert'") == [(0,)]


async def test_only_admins_alerted_is_what_the_resident_is_told(services) -> None:
    await grant(services, "console:admin", "admin")
    await person(services, "admin")
    warga = await person(services, "w7")
    await answer(warga, YES_TO)
    await warga.press("Bagikan ke RT & puskesmas")
    assert "Pengelola layanan sudah diberi tahu" in warga.text
    assert "Ketua RT/RW Anda dan puskesmas sudah diberi tahu" not in warga.text


async def test_closing_someone_elses_report_tells_them(services) -> None:
    team = await staff(services)
    await shared(services, "w8")
    await team["rt03"].forge("sx-take:1")
    await team["rw02"].forge("sx-done:1")
    assert "ditandai selesai" in team["rw02"].text
    told = [m for m in await outbox_to(services, "console:rt03")
            if m["text"]["key"] == "symptoms.desk.closed_by_other"]
    assert told
    await team["rw02"].forge("sx-take:1")
    assert "sudah selesai" in team["rw02"].text


def test_the_alert_links_to_the_reporter_on_telegram(services) -> None:
    from bot.events import t

    telegram = Renderer(services.content, "telegram")
    text = telegram.render(t("symptoms.desk.list", scope="RT 03", more=0, reports=[dict(
        id=1, status="baru", level="tinggi", urgent=False, area="RT 03", subject="",
        age="", at="", flags=[], symptoms=[], contact="telegram:801", handler="",
        note="")]), "id")
    assert '<a href="tg://user?id=801">telegram:801</a>' in text
    console = Renderer(services.content, "console").render(t(
        "symptoms.desk.list", scope="RT 03", more=0, reports=[dict(
            id=1, status="baru", level="tinggi", urgent=False, area="RT 03", subject="",
            age="", at="", flags=[], symptoms=[], contact="console:w", handler="",
            note="")]), "id")
    assert "Kontak: console:w" in console


def test_check_ins_after_the_retention_are_refused_at_start(tmp_path) -> None:
    env = {"SIAGA_CONFIG": str(ROOT / "config" / "settings.example.toml"),
           "SIAGA_DB": str(tmp_path / "x.db"),
           "SIAGA_SYMPTOMS_CHECKIN_DAYS": "2,40"}
    try:
        load_settings(env)
    except ConfigError as exc:
        assert "SIAGA_SYMPTOMS_CHECKIN_DAYS" in str(exc) and "retention" in str(exc)
    else:
        raise AssertionError("a check-in after the retention was accepted")


async def test_after_a_moderate_report_the_household_can_ask_volunteers_for_help(
        services) -> None:
    await staff(services)
    warga = await shared(services, "w9", YES_TO[:1])  # moderate
    assert "🆘 Minta bantuan relawan" in warga.labels
    await warga.press("Minta bantuan relawan")
    assert "Selama isolasi" in warga.text  # the help request, linked to the report
    (rid,) = (await rows(services, "SELECT id FROM symptom_report"))[0]
    await warga.press(warga.labels[0])  # the first kind of help
    await warga.press("Lewati")
    await warga.press(warga.labels[0])
    if any("Kirim" in label for label in warga.labels):
        await warga.press("Kirim")
    assert await rows(services, "SELECT report_id FROM help_request") == [(rid,)]
