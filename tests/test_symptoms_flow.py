"""The symptom report as residents and coordinators use it: danger signs first, one question a
message, triage from config/triage.toml, consent, alerts to the RT/RW coordinators and the
puskesmas only, the claim, the list, check-ins, withdrawal, erasure and retention.

Driven through the real core and router in-process (tests/chat.py); the database is checked
for what is and is not stored."""

from __future__ import annotations

import json

from bot.events import reply_from_json
from bot.symptoms import service as svc
from db.repositories.roles import Grant
from tests.chat import Chat

RT03 = "cimuncang-rw02-rt03"
RT01 = "cimuncang-rw02-rt01"
RW02 = "cimuncang-rw02"
RT01_RW01 = "cimuncang-rw01-rt01"
KEL = "cimuncang"

YES_TO = ("demam atau menggigil", "batuk yang baru muncul", "sakit tenggorokan")


async def grant(services, identity: str, role: str, area: str = "", name: str = "") -> None:  # type: ignore[no-untyped-def]
    now = services.clock.now()
    await services.store.write(lambda tx: tx.roles.grant(identity, Grant(role, area), "cli:t",
                                                         now, name))


async def person(services, user: str, area: str = RT03) -> Chat:  # type: ignore[no-untyped-def]
    chat = Chat(services, user)
    rt = {RT03: "RT 03", RT01: "RT 01", RT01_RW01: "RT 01"}[area]
    rw = "RW 01" if area == RT01_RW01 else "RW 02"
    await chat.register(rt, rw)
    return chat


async def staff(services) -> dict[str, Chat]:  # type: ignore[no-untyped-def]
    """RT 03's head, RW 02's head, the kelurahan's health worker, another RT's head, a
    moderator; each has opened the bot."""
    people = {}
    for user, role, area, home in (("rt03", "coordinator", RT03, RT03),
                                   ("rw02", "coordinator", RW02, RT01),
                                   ("nakes", "health_worker", KEL, RT01_RW01),
                                   ("rt01", "coordinator", RT01, RT01),
                                   ("mod", "moderator", "", RT01_RW01)):
        await grant(services, f"console:{user}", role, area, name=f"Pak {user}")
        people[user] = await person(services, user, home)
    return people


async def outbox_to(services, identity: str) -> list[dict]:  # type: ignore[no-untyped-def]
    address = identity.split(":", 1)[1]
    async with services.store.db.conn.execute(
            "SELECT kind, payload FROM outbox WHERE address = ? ORDER BY id", (address,)) as cur:
        rows = await cur.fetchall()
    return [{"kind": r[0], **json.loads(r[1])} for r in rows if r[1]]


async def rows(services, sql: str, *params: object) -> list[tuple]:  # type: ignore[no-untyped-def]
    async with services.store.db.conn.execute(sql, params) as cur:
        return [tuple(r) for r in await cur.fetchall()]


async def answer(chat: Chat, yes_to: tuple[str, ...] = (), *, age: str = "40–59",
                 contact: str = "Tidak", conditions: tuple[str, ...] = (),
                 pregnant: str | None = "Tidak hamil", subject: str = "Saya sendiri") -> str:
    """Go through the questionnaire up to the result."""
    await chat.send("/gejala")
    assert "tanda bahaya" in chat.text
    await chat.press("Tidak ada satu pun")
    await chat.press(subject)
    await chat.press(age)
    for _ in range(10):
        assert "14 hari terakhir" in chat.text
        asked = chat.text
        await chat.press("Ya" if any(s in asked for s in yes_to) else "Tidak")
    assert "kontak erat" in chat.text.lower()
    await chat.press(contact)
    for condition in conditions:
        await chat.press(condition)
    await chat.press("Selesai" if conditions else "Tidak ada")
    if pregnant is not None:
        await chat.press(pregnant)
    return chat.text


async def test_a_high_risk_report_shared_alerts_the_rt_rw_and_puskesmas_only(services) -> None:
    await staff(services)
    warga = await person(services, "warga1")
    result = await answer(warga, YES_TO)
    assert "Hasil: risiko tinggi" in result and "3 dari 5 gejala utama" in result
    assert "Ditinjau" in result  # the advice page with its review line
    await warga.press("Bagikan ke RT & puskesmas")
    assert "tersimpan dan dibagikan" in warga.text
    assert "sudah diberi tahu" in warga.text
    assert "hari ke-2 dan ke-5" in warga.text
    (report,) = await rows(services, "SELECT level, symptoms, area_code, consent_id, identity "
                                     "FROM symptom_report")
    assert report[:3] == ("high", "cough,fever,sore_throat", RT03)
    (consent,) = await rows(services, "SELECT identity, version, text, channel FROM "
                                      "health_consent WHERE id = ?", report[3])
    assert consent[0] == "console:warga1" and consent[3] == "console"
    assert "Siapa yang boleh melihat" in consent[2]
    for who in ("rt03", "rw02", "nakes"):
        alerts = [m for m in await outbox_to(services, f"console:{who}")
                  if m["kind"] == "symptom_alert"]
        assert len(alerts) == 1, who
    for who in ("rt01", "mod"):
        assert not [m for m in await outbox_to(services, f"console:{who}")
                    if m["kind"] == "symptom_alert"], who
    # every alert is a read, audited
    audited = await rows(services, "SELECT actor FROM audit_log WHERE action = "
                                   "'symptoms.alert'")
    assert sorted(a[0] for a in audited) == ["console:nakes", "console:rt03", "console:rw02"]
    # two check-ins planned
    assert len(await rows(services, "SELECT id FROM symptom_checkin")) == 2


async def test_an_anonymous_report_keeps_only_a_count(services) -> None:
    await staff(services)
    warga = await person(services, "warga2")
    await answer(warga, YES_TO[:1])
    await warga.press("Simpan tanpa nama")
    assert "tanpa nama" in warga.text
    assert await rows(services, "SELECT * FROM symptom_report") == []
    assert await rows(services, "SELECT * FROM health_consent") == []
    assert await rows(services, "SELECT area_code, level, reports FROM symptom_count") == [
        (RT03, "moderate", 1)]
    assert not await outbox_to(services, "console:rt03") or not [
        m for m in await outbox_to(services, "console:rt03") if m["kind"] == "symptom_alert"]


async def test_a_danger_sign_comes_first_with_119_and_the_choice_to_tell_the_rt(
        services) -> None:
    await staff(services)
    warga = await person(services, "warga3")
    await warga.send("/gejala")
    await warga.press("Bibir/wajah kebiruan")
    assert "Segera cari pertolongan" in warga.text and "119" in warga.text
    assert "Puskesmas" in warga.text or "puskesmas" in warga.text
    assert "📣 Ya, beri tahu RT & puskesmas" in warga.labels
    await warga.press("Ya, beri tahu RT & puskesmas")
    assert "sudah diberi tahu" in warga.text
    (report,) = await rows(services, "SELECT level, red_flags FROM symptom_report")
    assert report == ("high", "bluish")
    alert = [m for m in await outbox_to(services, "console:rt03")
             if m["kind"] == "symptom_alert"]
    assert alert and alert[0]["text"]["params"]["urgent"] is True
    assert "TANDA BAHAYA" in Chat(services, "x").words.render(
        reply_from_json(alert[0]).text, "id")


async def test_the_first_coordinator_to_press_handles_it_and_the_others_are_told(
        services) -> None:
    team = await staff(services)
    warga = await person(services, "warga4")
    await answer(warga, YES_TO)
    await warga.press("Bagikan ke RT & puskesmas")
    (rid,) = (await rows(services, "SELECT id FROM symptom_report"))[0]
    rt, rw = team["rt03"], team["rw02"]
    await rt.forge(f"sx-take:{rid}")
    assert "sekarang Anda tangani" in rt.text
    await rw.forge(f"sx-take:{rid}")
    assert "sudah ditangani oleh" in rw.text and "Pak rt03" in rw.text
    told = [m for m in await outbox_to(services, "console:rw02")
            if "taken_by_other" in json.dumps(m)]
    assert told
    # another RT's head cannot take it
    await team["rt01"].forge(f"sx-take:{rid}")
    assert "hanya untuk pengurus" in team["rt01"].text
    await team["mod"].send("/laporan")
    assert "hanya untuk pengurus" in team["mod"].text


async def test_the_list_shows_only_the_area_and_is_audited(services) -> None:
    team = await staff(services)
    warga = await person(services, "warga5")
    await answer(warga, YES_TO[:1])
    await warga.press("Bagikan ke RT & puskesmas")
    await team["rt03"].send("/laporan")
    assert "#1" in team["rt03"].text and "console:warga5" in team["rt03"].text
    await team["rt01"].send("/laporan")
    assert "Tidak ada laporan gejala terbuka" in team["rt01"].text
    reads = await rows(services, "SELECT actor, target FROM audit_log WHERE action = "
                                 "'symptoms.list'")
    assert ("console:rt03", "reports:1") in reads


async def test_escalation_goes_to_the_rw_then_the_admins(services, clock) -> None:
    await staff(services)
    await grant(services, "console:admin", "admin")
    await person(services, "admin", RT01_RW01)
    warga = await person(services, "warga6")
    await answer(warga, YES_TO)
    await warga.press("Bagikan ke RT & puskesmas")
    clock.advance(minutes=59)
    assert (await svc.run_due(services)).escalations == 0
    clock.advance(minutes=2)
    assert (await svc.run_due(services)).escalations == 1
    rw_alerts = [m for m in await outbox_to(services, "console:rw02")
                 if m["kind"] == "symptom_alert"]
    assert len(rw_alerts) == 2
    assert not [m for m in await outbox_to(services, "console:admin")
                if m["kind"] == "symptom_alert"]
    clock.advance(minutes=61)
    assert (await svc.run_due(services)).escalations == 1
    assert [m for m in await outbox_to(services, "console:admin")
            if m["kind"] == "symptom_alert"]


async def test_check_ins_ask_and_worse_alerts_again(services, clock) -> None:
    await staff(services)
    warga = await person(services, "warga7")
    await answer(warga, YES_TO[:1])  # moderate: no alert, check-ins
    await warga.press("Bagikan ke RT & puskesmas")
    clock.advance(days=2, minutes=1)
    assert (await svc.run_due(services)).checkins == 1
    (checkin,) = [m for m in await outbox_to(services, "console:warga7")
                  if m["kind"] == "checkin"]
    worse = next(b["payload"] for row in checkin["buttons"] for b in row
             if b["payload"].endswith(":worse"))
    await warga.forge(worse)
    assert "Hasil: risiko tinggi" in warga.text and "sudah diberi tahu" in warga.text
    assert [m for m in await outbox_to(services, "console:rt03")
            if m["kind"] == "symptom_alert"]
    # the same answer again is old
    await warga.forge(worse)
    assert "sudah dijawab" in warga.text


async def test_withdrawal_and_erasure_leave_only_counts(services) -> None:
    await staff(services)
    warga = await person(services, "warga8")
    await answer(warga, YES_TO[:2])
    await warga.press("Bagikan ke RT & puskesmas")
    await warga.send("/pengaturan")
    await warga.press("Data kesehatan saya")
    assert "Tersimpan 1 laporan" in warga.text
    await warga.press("Tarik izin data kesehatan")
    await warga.press("Ya, tarik izin")
    assert "Izin ditarik" in warga.text
    assert await rows(services, "SELECT * FROM symptom_report") == []
    assert await rows(services, "SELECT * FROM symptom_checkin") == []
    assert await rows(services, "SELECT reports FROM symptom_count") == [(1,)]
    assert await rows(services, "SELECT withdrawn_at IS NOT NULL FROM health_consent") == [
        (1,)]


async def test_retention_turns_old_reports_into_counts(services, clock) -> None:
    from bot.app import purge_expired

    await staff(services)
    warga = await person(services, "warga9")
    await answer(warga, YES_TO)
    await warga.press("Bagikan ke RT & puskesmas")
    clock.advance(days=29)
    assert (await purge_expired(services)).reports == 0
    clock.advance(days=2)
    assert (await purge_expired(services)).reports == 1
    assert await rows(services, "SELECT * FROM symptom_report") == []
    assert await rows(services, "SELECT level, reports FROM symptom_count") == [("high", 1)]


async def test_erasure_makes_reports_counts_and_keeps_the_consent_under_a_pseudonym(
        services) -> None:
    await staff(services)
    warga = await person(services, "warga10")
    await answer(warga, YES_TO)
    await warga.press("Bagikan ke RT & puskesmas")
    await warga.send("/hapusdata")
    assert "1 laporan gejala" in warga.text
    await warga.press("Ya, hapus")
    assert "kini hanya hitungan tanpa nama" in warga.text
    assert await rows(services, "SELECT * FROM symptom_report") == []
    assert await rows(services, "SELECT * FROM symptom_checkin") == []
    assert await rows(services, "SELECT level, reports FROM symptom_count") == [("high", 1)]
    (consent,) = await rows(services, "SELECT identity, withdrawn_at FROM health_consent")
    assert consent[0].startswith("p:") and consent[1] is not None
    for table in ("health_consent", "symptom_count", "audit_log", "outbox"):
        for row in await rows(services, f"SELECT * FROM {table}"):
            assert "warga10" not in repr(row), table
