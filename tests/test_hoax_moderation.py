"""The moderators' desk for hoax reports (/moderasi), as moderators use it: the queue with the
local spread, holding a case (a race, expiry), writing the verdict (each refusal), publishing
(every reporter told once, also across a restart), merge, split, mute, the clarification to
the RWs through the notice approval, role checks by command and by forged button, and no
reporter's identity in anything a moderator reads.

Reports are made through the residents' /hoaks; everything else through the real core and
router in-process (tests/chat.py)."""

from __future__ import annotations

import asyncio
from pathlib import Path

from bot.broadcasting.views import Approve
from bot.channels.console import read_photo
from bot.clock import FakeClock
from bot.context import Services
from bot.events import reply_from_json
from bot.handlers.hoax_desk import Label, NoSource, PublishDraft
from bot.hoax import service as svc
from bot.hoax.callbacks import Clarify, Decide, Hold, Merge, Mute, OpenCase, Split
from bot.render import Renderer
from tests.chat import Chat
from tests.test_hoax_reports import (
    BLACKOUT,
    CHAINS,
    EXPLANATION,
    SOURCE,
    WATER,
    case_of,
    picture,
    report,
    send_photo,
    verdicts_to,
)
from tests.test_symptoms_flow import RT01, RT01_RW01, RT03, grant, outbox_to, person, rows
from tests.test_symptoms_more import services_on

RETOLD = ("Mulai hari Sabtu akan ada pemadaman listrik total di Serang selama 12 jam. "
          "Teman saya yang kerja di PLN yang cerita. Jangan lupa isi bensin.")


async def moderator(services: Services, user: str, role: str = "moderator",
                    area: str = "") -> Chat:
    await grant(services, f"console:{user}", role, area, name=f"Pak {user}")
    return await person(services, user, RT01_RW01)


def blind(chat: Chat) -> str:
    """What a moderator reads, checked for any reporter's identity."""
    text = chat.text
    assert "console:" not in text, text
    assert "console:" not in " ".join(chat.labels)
    return text


async def new_case(services: Services, user: str, text: str, area: str = RT03) -> int:
    chat = await person(services, user, area)
    await report(chat, text)
    return case_of(chat)


async def hold(mod: Chat, case: int) -> None:
    await mod.forge(OpenCase(case).pack())
    await mod.press("Ambil kasus")
    assert f"Kasus #{case} sekarang Anda pegang sampai" in blind(mod)


async def write_verdict(mod: Chat, case: int, label: str = "HOAKS") -> str:
    """Hold the case (if not yet), write the verdict up to the preview."""
    await mod.forge(OpenCase(case).pack())
    if "Ambil kasus" in " ".join(mod.labels):
        await mod.press("Ambil kasus")
    await mod.press("Tulis putusan")
    await mod.press(label)
    await mod.send(EXPLANATION)
    await mod.send(SOURCE)
    assert "Pratinjau" in mod.text, mod.text
    return blind(mod)


async def published(mod: Chat, case: int) -> str:
    await write_verdict(mod, case)
    await mod.press("Terbitkan")
    return blind(mod)


# --- the queue ---------------------------------------------------------------------------


async def test_the_queue_orders_by_reporters_then_recency_and_shows_the_spread(
        services, clock) -> None:
    blackout = await new_case(services, "ani", BLACKOUT, RT03)
    for user, area in (("budi", RT03), ("citra", RT01), ("dedi", RT01_RW01)):
        clock.advance(minutes=5)
        await report(await person(services, user, area), BLACKOUT)
    clock.advance(minutes=5)
    water = await new_case(services, "eka", WATER, RT01)
    clock.advance(minutes=5)
    chain = await new_case(services, "fajar", CHAINS[0], RT03)
    siti = await moderator(services, "siti")
    await siti.send("/moderasi")
    text = blind(siti)
    assert "3 kasus terbuka" in text
    assert text.index(f"#{blackout}") < text.index(f"#{chain}") < text.index(f"#{water}")
    assert "4 pelapor — RW 02: 3 (RT 03: 2, RT 01: 1); RW 01: 1 (RT 01: 1)" in text
    assert "1 pelapor — RW 02: 1 (RT 01: 1)" in text
    assert "pertama Minggu, 29 Nov 2026 15.00 WIB, terakhir Minggu, 29 Nov 2026 15.15 WIB" \
        in text
    assert {f"Buka #{blackout}", f"Buka #{water}", f"Buka #{chain}"} <= set(siti.labels)
    # in English too
    await siti.send("/moderate")
    assert "Buka" in " ".join(siti.labels)


async def test_the_queue_pages_by_ten(services) -> None:
    for i, chain in enumerate(CHAINS):
        await report(await person(services, f"w{i}"), chain)
    siti = await moderator(services, "siti")
    await siti.send("/moderasi")
    assert "12 kasus terbuka (menampilkan 1–10)" in blind(siti)
    assert len([x for x in siti.labels if x.startswith("Buka #")]) == 10
    await siti.press("Berikutnya")
    assert "(menampilkan 11–12)" in siti.text
    assert len([x for x in siti.labels if x.startswith("Buka #")]) == 2
    await siti.press("Sebelumnya")
    assert "(menampilkan 1–10)" in siti.text


async def test_an_empty_queue_says_so(services) -> None:
    siti = await moderator(services, "siti")
    await siti.send("/moderasi")
    assert "Tidak ada kasus hoaks yang menunggu" in siti.text


# --- one case, holding -------------------------------------------------------------------


async def test_the_case_shows_reports_without_reporters_and_similar_cases(services) -> None:
    case = await new_case(services, "ani", BLACKOUT)
    await report(await person(services, "budi", RT01), BLACKOUT)
    other = await new_case(services, "citra", RETOLD, RT01_RW01)
    assert other != case
    siti = await moderator(services, "siti")
    await siti.forge(OpenCase(case).pack())
    text = blind(siti)
    assert BLACKOUT in text and "2 pelapor" in text
    assert "RW 02: 2 (RT 01: 1, RT 03: 1)" in text
    assert "Kasus mirip" in text and f"#{other} (" in text and "% mirip" in text
    assert "1. RT 03 / RW 02 · Minggu, 29 Nov 2026 15.00 WIB" in text
    assert "2. RT 01 / RW 02" in text
    assert "Belum dipegang siapa pun" in text
    # merging, splitting, muting and the verdict only while holding it
    assert not any(x.startswith(("Gabungkan", "Pisahkan", "🔇", "✍️")) for x in siti.labels)
    await siti.press("Ambil kasus")
    text = blind(siti)
    assert "sekarang Anda pegang sampai Minggu, 29 Nov 2026 15.30 WIB" in text
    assert {f"Gabungkan ke #{other}", "Pisahkan laporan 1", "Pisahkan laporan 2",
            "🔇 Bisukan pelapor 1 (7 hari)", "✍️ Tulis putusan", "Lepas"} <= set(siti.labels)
    # the queue says who holds it: me
    await siti.send("/moderasi")
    assert "dipegang Anda sampai" in siti.text
    rina = await moderator(services, "rina")
    await rina.send("/moderasi")
    assert "dipegang moderator lain sampai Minggu, 29 Nov 2026 15.30 WIB" in blind(rina)
    await rina.forge(OpenCase(case).pack())
    assert "Dipegang moderator lain sampai" in rina.text
    assert "Ambil kasus" not in " ".join(rina.labels)
    # releasing lets another take it
    await siti.forge(OpenCase(case).pack())
    await siti.press("Lepas")
    assert f"Kasus #{case} dilepas" in siti.text
    await hold(rina, case)


async def test_two_moderators_holding_at_once_one_holds_and_the_hold_expires(
        services, clock: FakeClock) -> None:
    case = await new_case(services, "ani", BLACKOUT)
    siti, rina = await moderator(services, "siti"), await moderator(services, "rina")
    await asyncio.gather(siti.forge(Hold(case).pack()), rina.forge(Hold(case).pack()))
    texts = [siti.text, rina.text]
    assert sum("sekarang Anda pegang" in x for x in texts) == 1
    assert sum("sedang dipegang moderator lain sampai" in x for x in texts) == 1
    holder, other = (siti, rina) if "sekarang Anda pegang" in siti.text else (rina, siti)
    assert "berakhir sendiri setelah 30 menit" in other.text
    assert await rows(services, "SELECT count(*) FROM audit_log WHERE action = 'hoax.claim'") \
        == [(1,)]
    # the loser cannot write the verdict of the case
    await other.forge(Decide(case).pack())
    assert "Ambil dulu kasus" in other.text
    clock.advance(minutes=31)
    await other.forge(Hold(case).pack())
    assert "sekarang Anda pegang" in other.text
    await holder.forge(Hold(case).pack())
    assert "sedang dipegang moderator lain" in holder.text


# --- the verdict -------------------------------------------------------------------------


async def test_each_refusal_of_a_verdict_says_why_and_asks_again(services) -> None:
    case = await new_case(services, "ani", BLACKOUT)
    siti = await moderator(services, "siti")
    await hold(siti, case)
    await siti.press("Tulis putusan")
    assert "Pilih labelnya" in siti.text
    assert {"HOAKS / HOAX", "DISINFORMASI / DISINFORMATION", "SALAH KONTEKS / FALSE CONTEXT",
            "BENAR / TRUE", "BELUM TERVERIFIKASI / NOT YET VERIFIED"} <= set(siti.labels)
    await siti.forge(Label("palsu").pack())  # a label that does not exist
    assert "Label putusan itu tidak dikenal" in siti.text and "Pilih labelnya" in siti.text
    await siti.press("HOAKS")
    assert "Ketik penjelasannya" in siti.text
    await siti.send("Ini bohong")  # not a sentence
    assert "Penjelasannya belum cukup" in siti.text and "Ketik penjelasannya" in siti.text
    await siti.send("x " * 800 + ".")
    assert "terlalu panjang" in siti.text
    await siti.send(EXPLANATION)
    assert "Ketik sumbernya" in siti.text and "Tanpa sumber" not in " ".join(siti.labels)
    await siti.send("kata PLN di grup")
    assert "bukan tautan" in siti.text and "Ketik sumbernya" in siti.text
    await siti.forge(NoSource().pack())  # no source for HOAKS: refused
    assert "wajib disertai paling sedikit satu tautan sumber" in siti.text
    await siti.send(SOURCE)
    text = blind(siti)
    assert "Pratinjau" in text and "HOAKS / HOAX" in text and EXPLANATION in text
    assert SOURCE in text and "Tim moderasi Siaga Warga" in text and "1 pelapor" in text
    # back to the sources, the explanation, the label: the draft is kept as it is answered
    await siti.press("Kembali")
    assert "Ketik sumbernya" in siti.text
    await siti.press("Kembali")
    assert "Ketik penjelasannya" in siti.text
    await siti.press("Kembali")
    assert "Pilih labelnya" in siti.text
    await siti.press("BELUM TERVERIFIKASI")
    await siti.send(EXPLANATION)
    assert "Tanpa sumber" in " ".join(siti.labels)
    await siti.press("Tanpa sumber")
    assert "BELUM TERVERIFIKASI" in siti.text and SOURCE not in siti.text
    await siti.press("Batal")
    assert "Draf putusan dibatalkan" in siti.text
    assert (await ctx_case(services, case)).status == "open"
    assert await verdicts_to(services, "console:ani") == []


async def ctx_case(services: Services, case: int):  # type: ignore[no-untyped-def]
    return await services.store.reads.hoax.case(case)


async def test_publishing_tells_every_reporter_once_even_across_a_restart(
        tmp_path: Path) -> None:
    clock = FakeClock()
    async with services_on(tmp_path, clock) as services:
        case = await new_case(services, "ani", BLACKOUT)
        await report(await person(services, "budi", RT01), BLACKOUT)
        siti = await moderator(services, "siti")
        text = await published(siti, case)
        assert f"Putusan kasus #{case} terbit" in text and "2 pelapor diberi tahu" in text
        assert "Kirim klarifikasi ke RW" in " ".join(siti.labels)
        for who in ("console:ani", "console:budi"):
            told = await verdicts_to(services, who)
            assert len(told) == 1 and "HOAKS / HOAX" in told[0] and EXPLANATION in told[0]
        # pressing publish again (an old button) publishes nothing more
        await siti.forge(PublishDraft().pack())
        assert "Tombol itu sudah tidak berlaku" in siti.text
    async with services_on(tmp_path, clock) as services:
        siti = Chat(services, "siti")
        await siti.forge(Decide(case).pack())
        assert "tidak sedang menunggu putusan" in siti.text
        await siti.forge(OpenCase(case).pack())
        assert "putusan terbit: HOAKS / HOAX" in blind(siti)
        for who in ("console:ani", "console:budi"):
            assert len(await verdicts_to(services, who)) == 1
        assert await rows(services, "SELECT count(*) FROM outbox WHERE kind = 'hoax_verdict'"
                          ) == [(2,)]


async def test_a_hold_lost_while_writing_keeps_the_draft(services, clock) -> None:
    case = await new_case(services, "ani", BLACKOUT)
    siti, rina = await moderator(services, "siti"), await moderator(services, "rina")
    await write_verdict(siti, case)
    clock.advance(minutes=31)
    await hold(rina, case)
    await siti.press("Terbitkan")
    assert "Putusan belum terbit" in siti.text and "Tidak ada yang hilang" in siti.text
    assert EXPLANATION in siti.text  # the draft, still on the preview
    assert "dipegang moderator lain sampai" in siti.text
    await siti.press("Ambil lagi")
    assert "sedang dipegang moderator lain" in siti.text and EXPLANATION in siti.text
    await rina.forge(OpenCase(case).pack())
    await rina.press("Lepas")
    await siti.press("Ambil lagi")
    assert "Anda memegang kasus ini sampai" in siti.text
    await siti.press("Terbitkan")
    assert "1 pelapor diberi tahu" in siti.text
    assert len(await verdicts_to(services, "console:ani")) == 1


async def test_a_verdict_published_by_another_is_not_published_twice(services, clock) -> None:
    case = await new_case(services, "ani", BLACKOUT)
    siti, rina = await moderator(services, "siti"), await moderator(services, "rina")
    await write_verdict(siti, case)
    clock.advance(minutes=31)
    await published(rina, case)
    await siti.press("Terbitkan")
    assert "moderator lain sudah menerbitkan putusannya" in siti.text
    assert len(await verdicts_to(services, "console:ani")) == 1


# --- merge, split, mute ------------------------------------------------------------------


async def test_merge_then_publish_reaches_the_merged_cases_reporters(services) -> None:
    target = await new_case(services, "ani", BLACKOUT)
    source = await new_case(services, "budi", RETOLD, RT01)
    siti = await moderator(services, "siti")
    # a merge needs the hold
    await siti.forge(Merge(source, target).pack())
    assert f"Ambil dulu kasus #{source}" in siti.text
    await hold(siti, source)
    await siti.press(f"Gabungkan ke #{target}")
    assert f"Kasus #{source} digabung ke kasus #{target}" in siti.text
    assert "akan menerima putusan" in siti.text
    await siti.forge(OpenCase(source).pack())
    assert f"Kasus #{source} sudah digabung ke kasus #{target}" in blind(siti)
    assert "2 pelapor" in siti.text
    await published(siti, target)
    assert "2 pelapor diberi tahu" in siti.text
    for who in ("console:ani", "console:budi"):
        assert len(await verdicts_to(services, who)) == 1


async def test_merging_into_a_published_case_tells_its_reporters_at_once(services) -> None:
    target = await new_case(services, "ani", BLACKOUT)
    source = await new_case(services, "budi", RETOLD, RT01)
    siti = await moderator(services, "siti")
    await published(siti, target)
    await hold(siti, source)
    await siti.forge(Merge(source, target).pack())
    assert "langsung menerima putusan" in siti.text
    assert len(await verdicts_to(services, "console:budi")) == 1


async def test_split_takes_a_report_into_a_new_case(services) -> None:
    case = await new_case(services, "ani", BLACKOUT)
    await report(await person(services, "budi", RT01), BLACKOUT)
    siti = await moderator(services, "siti")
    await hold(siti, case)
    await siti.press("Pisahkan laporan 2")
    text = blind(siti)
    assert f"dipindah dari kasus #{case} ke kasus baru #" in text
    new = int(text.split("kasus baru #", 1)[1].split(".", 1)[0])
    await siti.forge(OpenCase(new).pack())
    assert "1 pelapor" in siti.text and "RT 01 / RW 02" in siti.text
    await siti.forge(OpenCase(case).pack())
    assert "1 pelapor" in siti.text and "RT 03 / RW 02" in siti.text
    # a split needs the hold
    rina = await moderator(services, "rina")
    await rina.forge(Split(new, 1).pack())
    assert "Ambil dulu kasus" in rina.text


async def test_a_muted_reporter_cannot_report_and_the_moderator_never_learns_who(
        services) -> None:
    case = await new_case(services, "ani", BLACKOUT)
    siti = await moderator(services, "siti")
    await hold(siti, case)
    await siti.press("Bisukan pelapor 1")
    text = blind(siti)
    assert "dibisukan 7 hari, sampai Minggu, 6 Des 2026 15.00 WIB" in text
    assert "ani" not in text
    ani = Chat(services, "ani")
    await ani.send("/hoaks")
    assert "tidak dapat mengirim laporan hoaks" in ani.text
    assert await rows(services, "SELECT actor, target LIKE 'console:%' FROM audit_log "
                      "WHERE action = 'hoax.mute'") == [("console:siti", 0)]


# --- clarification -----------------------------------------------------------------------


async def test_a_clarification_goes_to_the_rws_after_another_moderator_approves(
        services) -> None:
    case = await new_case(services, "ani", BLACKOUT, RT03)
    await report(await person(services, "dedi", RT01_RW01), BLACKOUT)
    bystander = await person(services, "eka", RT01)  # RW 02, did not report
    siti, rina = await moderator(services, "siti"), await moderator(services, "rina")
    await siti.forge(Clarify(case).pack())
    assert "hanya untuk kasus yang putusannya sudah terbit" in siti.text
    await published(siti, case)
    await siti.press("Kirim klarifikasi ke RW")
    assert "dikirim untuk disetujui moderator lain (RW 01, RW 02)" in siti.text
    [(notice, status, purpose)] = await rows(
        services, "SELECT id, status, purpose FROM notice")
    assert (status, purpose) == ("pending", "clarification")
    assert sorted(r[0] for r in await rows(
        services, "SELECT area_code FROM notice_area WHERE notice_id = ?", notice)) == [
        "cimuncang-rw01", "cimuncang-rw02"]
    await siti.forge(Approve(notice).pack())  # not one's own
    assert [r[0] for r in await rows(services, "SELECT status FROM notice")] == ["pending"]
    await rina.forge(Approve(notice).pack())
    assert [r[0] for r in await rows(services, "SELECT status FROM notice")] != ["pending"]
    notices = await rows(services, "SELECT address FROM outbox WHERE kind = 'notice' AND "
                         "ref_id = ?", notice)
    assert {bystander.user, "ani", "dedi"} <= {r[0] for r in notices}
    [(body, signature)] = await rows(services, "SELECT body, signature FROM notice")
    assert "Klarifikasi dari tim moderasi" in body and EXPLANATION in body and SOURCE in body
    assert signature == "Tim moderasi Siaga Warga"


async def test_a_clarification_without_a_known_area_says_why(services) -> None:
    now = services.clock.now()
    received = await services.store.write(lambda tx: svc.receive(
        services, tx, services.claims, "console:nobody", "", BLACKOUT, "", None, now))
    siti = await moderator(services, "siti")
    await published(siti, received.case.id)
    await siti.press("Kirim klarifikasi ke RW")
    assert "tidak ada pelapor dari RT/RW yang diketahui" in siti.text
    assert await rows(services, "SELECT count(*) FROM notice") == [(0,)]


# --- roles -------------------------------------------------------------------------------


async def test_residents_and_coordinators_cannot_moderate_by_command_or_forged_button(
        services) -> None:
    case = await new_case(services, "ani", BLACKOUT)
    warga = await person(services, "budi", RT01)
    await grant(services, "console:rt03", "coordinator", RT03)
    ketua = await person(services, "rt03", RT03)
    for chat in (warga, ketua):
        for line in ("/moderasi", "/moderate"):
            await chat.send(line)
            assert "hanya untuk moderator dan admin" in chat.text
        for payload in (OpenCase(case).pack(), Hold(case).pack(), Decide(case).pack(),
                        Mute(1, "7").pack(), Clarify(case).pack(), Merge(case, 9).pack(),
                        Split(case, 1).pack()):
            await chat.forge(payload)
            assert "hanya untuk moderator dan admin" in chat.text, payload
            assert BLACKOUT not in chat.text
    found = await ctx_case(services, case)
    assert found.claimed_by is None and found.status == "open"
    assert await rows(services, "SELECT count(*) FROM hoax_mute") == [(0,)]
    denied = await rows(services, "SELECT actor, SUM(times) FROM audit_log WHERE action = "
                        "'hoax.review' AND outcome = 'denied' GROUP BY actor ORDER BY actor")
    assert denied == [("console:budi", 9), ("console:rt03", 9)]
    # an admin may
    admin = await moderator(services, "admin", "admin")
    await admin.send("/moderasi")
    assert f"Buka #{case}" in admin.labels


async def test_a_reopened_verdict_tells_moderators_and_shows_the_note(services) -> None:
    case = await new_case(services, "ani", BLACKOUT)
    siti = await moderator(services, "siti")
    await published(siti, case)
    ani = Chat(services, "ani")
    ani.replies = [reply_from_json(r) for r in await outbox_to(services, ani.identity)
                   if r["kind"] == "hoax_verdict"]
    await ani.press("Saya punya info tambahan")
    await ani.send("Di grup RW 02 ada yang bilang pemadaman hanya di dua gardu.")
    words = Renderer(services.content, "console", "id")
    told = [words.render(reply_from_json(r).text, "id")
            for r in await outbox_to(services, siti.identity) if r["kind"] == "hoax_mod"]
    assert len(told) == 1 and f"Kasus #{case} dibuka lagi" in told[0]
    assert "console:" not in told[0]
    await siti.send("/moderasi")
    assert "↩️ dibuka lagi" in blind(siti)
    await siti.forge(OpenCase(case).pack())
    text = blind(siti)
    assert "Info tambahan dari warga" in text and "hanya di dua gardu" in text


async def test_a_photo_case_shows_its_thumbnail_and_the_desk_speaks_english(
        services, tmp_path: Path) -> None:
    services.downloads["console"] = read_photo
    path = tmp_path / "banjir.jpg"
    picture().save(path, "JPEG", quality=90)
    ani = await person(services, "ani")
    await ani.send("/hoaks")
    await send_photo(ani, path, "Banjir besar di Serang hari ini, jalan utama ditutup total.")
    case = case_of(ani)
    siti = await moderator(services, "siti")
    await siti.forge(OpenCase(case).pack())
    photo = siti.replies[0].media
    assert photo is not None and photo.kind == "photo" and photo.data[:2] == b"\xff\xd8"
    assert f"Foto pada kasus #{case}" in siti.texts[0]
    assert "📷" in siti.texts[1] and "Banjir besar" in siti.texts[1]
    await siti.send("/pengaturan")
    await siti.press("Bahasa")
    await siti.press("English")
    await siti.send("/moderate")
    assert "Hoax case queue" in blind(siti) and "1 reporter — RW 02: 1 (RT 03: 1)" in siti.text
    await siti.forge(OpenCase(case).pack())
    await siti.press("Take the case")
    assert f"You now hold case #{case} until" in siti.text
    await siti.press("Write the verdict")
    await siti.press("SALAH KONTEKS")
    await siti.send("The photo is real but it shows a flood in another town in 2020.")
    await siti.send(SOURCE)
    assert "Preview" in siti.text and "You hold this case until" in siti.text
    await siti.press("Publish")
    assert "1 reporter told" in blind(siti)
