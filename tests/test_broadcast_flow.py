"""Whole broadcast conversations: audience scoping, approval, urgent notices, scheduling,
managing scheduled notices, media, /pengumuman, linked RT groups and English.

Each test talks to the real bot (python-telegram-bot against the fake Bot API server) the way
coordinators, moderators and residents do, and checks what each of them would see.
"""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime
from typing import Any

from bot.broadcasting import notices as notice_svc
from db.repositories.audit import AuditEntry, AuditRepo
from db.repositories.notices import Notice, NoticesRepo
from db.repositories.people import PeopleRepo
from db.repositories.roles import Grant, RolesRepo
from tests.broadcast_helpers import RT01_RW01, RT01_RW02, RT03, RW02, grant, resident
from tests.fake_telegram import FakeBotAPI, FakeUser, command_entities, make_user
from tests.telegram_harness import RunningBot, running_bot

FAST = {"TELEGRAM_PER_CHAT_INTERVAL": "0"}  # no one-second gap between two notices to a chat
NO_APPROVAL = {"SIAGA_BROADCAST_REQUIRES_APPROVAL": "false", **FAST}
URGENT_SKIPS = {"SIAGA_BROADCAST_URGENT_SKIPS_APPROVAL": "true", **FAST}

RT02_RW02 = "cimuncang-rw02-rt02"
RT05_RW02 = "cimuncang-rw02-rt05"
RW01 = "cimuncang-rw01"
RT01_RW03 = "cimuncang-rw03-rt01"
GROUP = -1001234567
OUTSIDE = "hanya dapat mengirim pengumuman ke RT/RW yang Anda urus"


# --- helpers -------------------------------------------------------------------------------------


def texts_to(fake: FakeBotAPI, chat_id: int) -> list[str]:
    """Text (or caption) of every message the bot sent to a chat, edits included."""
    return [m.get("text", m.get("caption", "")) or "" for m in fake.messages_to(chat_id)]


def got(fake: FakeBotAPI, chat_id: int, needle: str) -> list[dict[str, Any]]:
    """Messages the bot sent (not edits) to a chat that contain ``needle``."""
    return [m for m in fake.messages_to(chat_id) if "edit_date" not in m
            and needle in (m.get("text", m.get("caption", "")) or "")]


def drain(user: FakeUser) -> None:
    """Forget the replies already received (outbox messages that arrived in between)."""
    while user._take_reply() is not None:
        pass


async def reply_with(user: FakeUser, needle: str, limit: int = 6) -> dict[str, Any]:
    """The next reply containing ``needle`` (skipping progress messages and the like)."""
    seen = []
    for _ in range(limit):
        msg = await user.next_reply()
        text = msg.get("text", msg.get("caption", "")) or ""
        if needle in text:
            return msg
        seen.append(text)
    raise AssertionError(f"no reply with {needle!r}; got {seen}")


async def notice_recipients(bot: RunningBot) -> set[str]:
    """Chats that were sent a notice from the outbox."""
    async with bot.services.store.db.conn.execute(
            "SELECT address FROM outbox WHERE kind = 'notice' AND status = 'sent'") as cur:
        return {row[0] for row in await cur.fetchall()}


async def audit(bot: RunningBot, actor: str) -> list[AuditEntry]:
    return [e for e in await AuditRepo(bot.services.store.db.conn).recent(500) if e.actor == actor]


async def start_notice(user: FakeUser, body: str, *audience: str, category: str = "Biasa",
                       segment: str = "Semua warga") -> None:
    """/siaran → new → body → (audience buttons) → segment → category: up to "Kapan"."""
    await user.send("/siaran")
    await reply_with(user, "Siaran pengumuman")
    await user.click("✏️ Buat pengumuman")
    await reply_with(user, "Tulis isi pengumuman")
    await user.send(body)
    await user.next_reply()
    for label in audience:
        await user.click(label)
        await user.next_reply()
    await user.click(segment)
    assert "Jenis pengumuman" in (await user.next_reply())["text"]
    await user.click(category)
    assert "Kapan dikirim" in (await user.next_reply())["text"]


async def preview_now(user: FakeUser) -> tuple[dict[str, Any], dict[str, Any]]:
    """Choose "Sekarang"; return the preview and its summary."""
    await user.click("Sekarang")
    preview = await user.next_reply()
    summary = await user.next_reply()
    return preview, summary


async def send_now(user: FakeUser, body: str, *audience: str, category: str = "Biasa",
                   button: str = "📨 Kirim") -> dict[str, Any]:
    """Write a notice and send (or submit) it now; return the bot's answer."""
    await start_notice(user, body, *audience, category=category)
    await preview_now(user)
    await user.click(button)
    return await user.next_reply()


async def schedule_tomorrow(bot: RunningBot, user: FakeUser, body: str,
                            button: str = "📨 Kirim") -> dict[str, Any]:
    """Write a notice for tomorrow 07.00 and send (or submit) it; return the bot's answer."""
    await start_notice(user, body)
    await user.click("📅 Pada tanggal & jam tertentu")
    await user.next_reply()
    await user.send("besok 07.00")
    await user.next_reply()
    await user.next_reply()
    await user.click(button)
    answer = await user.next_reply()
    await bot.settled()  # the notice is saved with the conversation, after the answer
    return answer


async def schedule_weekly(bot: RunningBot, user: FakeUser, body: str, *days: str,
                          at: str = "07.00") -> dict[str, Any]:
    await start_notice(user, body)
    await user.click("🔁 Berulang")
    await user.next_reply()
    await user.click("Setiap pekan (pilih hari)")
    await user.next_reply()
    for day in days:
        await user.click(day)
        await user.next_reply()
    await user.click("✔️ Selesai")
    await user.next_reply()
    await user.send(at)
    await user.next_reply()
    await user.click("Tanpa batas")
    await user.next_reply()
    await user.next_reply()
    await user.click("📨 Kirim")
    answer = await user.next_reply()
    await bot.settled()
    return answer


def group_update(fake: FakeBotAPI, user_id: int, text: str, *, chat_id: int = GROUP,
                 title: str = "Warga RT 03", first_name: str = "Warga") -> dict[str, Any]:
    """A message a person writes in a Telegram supergroup the bot is in."""
    message: dict[str, Any] = {
        "message_id": fake._next_message_id(chat_id),
        "from": make_user(user_id, first_name),
        "chat": {"id": chat_id, "type": "supergroup", "title": title},
        "date": int(time.time()),
        "text": text,
    }
    entities = command_entities(text)
    if entities:
        message["entities"] = entities
    return {"message": message}


async def handled(bot: RunningBot, update: dict[str, Any], timeout: float = 5.0) -> None:  # noqa: ASYNC109
    """Wait until the bot has received and finished handling ``update``."""
    conn = bot.services.store.db.conn
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        async with conn.execute("SELECT status FROM inbox WHERE external_id = ?",
                                (str(update["update_id"]),)) as cur:
            row = await cur.fetchone()
        if row is not None and row[0] != "pending":
            await bot.settled()
            return
        await asyncio.sleep(0.02)
    raise AssertionError(f"update {update['update_id']} was not handled")


async def in_group(fake: FakeBotAPI, bot: RunningBot, user_id: int, text: str,
                   **kw: Any) -> list[str]:
    """Say ``text`` in a group; return what the bot answered there."""
    chat_id = kw.get("chat_id", GROUP)
    before = len(fake.messages_to(chat_id))
    await handled(bot, fake.push_update(group_update(fake, user_id, text, **kw)))
    return texts_to(fake, chat_id)[before:]


async def sent_notice(bot: RunningBot, author: int, areas: tuple[str, ...], body: str,
                      signature: str) -> Notice:
    """A notice that already went out (seeded straight into the database)."""
    services = bot.services
    now = services.clock.now()
    notice = Notice(author=f"telegram:{author}", author_lang="id", signature=signature,
                    segment="all", category="regular", body=body, repeat="now",
                    status="draft", created_at=now, updated_at=now, areas=areas)

    async def write(tx):  # type: ignore[no-untyped-def]
        await tx.notices.create(notice)
        await notice_svc.activate(services, tx, notice, now)

    for area in areas:  # its author coordinates the audience (checked when it goes out)
        await grant(services, author, "coordinator", area)
    await services.store.write(write)
    services.signals.outbox()
    return notice


# --- 1. audience scoping -------------------------------------------------------------------------


async def test_rw_coordinator_picks_two_rts_and_only_they_get_it(fake, tmp_path) -> None:
    async with running_bot(fake, tmp_path, **NO_APPROVAL) as bot:
        svc = bot.services
        await resident(svc, 800, RT05_RW02)
        await grant(svc, 800, "coordinator", RW02, "Bu Neneng")
        for uid, area in ((801, RT01_RW02), (802, RT02_RW02), (803, RT03), (804, RT01_RW01)):
            await resident(svc, uid, area)
        neneng = fake.user(800, first_name="Neneng")
        await neneng.send("/siaran")
        await neneng.next_reply()
        await neneng.click("✏️ Buat pengumuman")
        await neneng.next_reply()
        await neneng.send("Posyandu balita Selasa jam 09.00 di pos RW.")
        audience = await neneng.next_reply()
        assert "Untuk siapa pengumuman ini?" in audience["text"]
        assert neneng.buttons(audience)[:2] == ["👥 Seluruh RW 02", "☑️ Pilih RT"]
        await neneng.click("☑️ Pilih RT")
        pick = await neneng.next_reply()
        assert "Pilih RT penerima" in pick["text"]
        assert "RT 01 / RW 02" in neneng.buttons(pick)
        assert not any("RW 01" in label for label in neneng.buttons(pick))
        await neneng.click("RT 01 / RW 02")
        assert "✅ RT 01 / RW 02" in neneng.buttons(await neneng.next_reply())
        await neneng.click("RT 02 / RW 02")
        await neneng.next_reply()
        await neneng.click("✔️ Selesai")
        assert "Siapa penerimanya" in (await neneng.next_reply())["text"]
        await neneng.click("Semua warga")
        await neneng.next_reply()
        await neneng.click("Biasa")
        await neneng.next_reply()
        preview, summary = await preview_now(neneng)
        assert "Ketua RW 02 — Bu Neneng" in preview["text"]
        assert "Penerima: RT 01 / RW 02, RT 02 / RW 02" in summary["text"]
        assert "Menjangkau: 2 orang" in summary["text"]
        await neneng.click("📨 Kirim")
        assert "sedang dikirim" in (await neneng.next_reply())["text"]
        await bot.settled()
        await bot.outbox_idle()
        for uid in (801, 802):
            assert len(got(fake, uid, "Posyandu balita")) == 1, texts_to(fake, uid)
        for uid in (803, 804):
            assert got(fake, uid, "Posyandu balita") == [], texts_to(fake, uid)
        assert await notice_recipients(bot) == {"801", "802"}


async def test_forged_audience_outside_the_rw_is_refused_and_audited(fake, tmp_path) -> None:
    async with running_bot(fake, tmp_path, **NO_APPROVAL) as bot:
        svc = bot.services
        await resident(svc, 800, RT05_RW02)
        await grant(svc, 800, "coordinator", RW02, "Bu Neneng")
        await resident(svc, 801, RT01_RW02)
        await resident(svc, 804, RT01_RW01)
        neneng = fake.user(800, first_name="Neneng")
        await neneng.send("/siaran")
        await neneng.next_reply()
        await neneng.click("✏️ Buat pengumuman")
        await neneng.next_reply()
        await neneng.send("Ronda malam mulai pukul 22.00.")
        await neneng.next_reply()
        await neneng.click_data(f"bc:aud:{RW01}")  # a forged button for another RW
        refused = await neneng.next_reply()
        assert OUTSIDE in refused["text"]
        again = await neneng.next_reply()
        assert "Untuk siapa pengumuman ini?" in again["text"]
        await neneng.click("☑️ Pilih RT")
        await neneng.next_reply()
        await neneng.click_data(f"bc:rt:{RT01_RW01}")  # an RT of another RW
        assert OUTSIDE in (await neneng.next_reply())["text"]
        pick = await neneng.next_reply()
        assert "Pilih RT penerima" in pick["text"]
        assert not any("RW 01" in label for label in neneng.buttons(pick))
        await neneng.click("RT 01 / RW 02")
        await neneng.next_reply()
        await neneng.click("✔️ Selesai")
        await neneng.next_reply()
        await neneng.click("Semua warga")
        await neneng.next_reply()
        await neneng.click("Biasa")
        await neneng.next_reply()
        _, summary = await preview_now(neneng)
        assert "Penerima: RT 01 / RW 02," in summary["text"]
        assert "RW 01" not in summary["text"]
        await neneng.click("📨 Kirim")
        await neneng.next_reply()
        await bot.settled()
        await bot.outbox_idle()
        assert len(got(fake, 801, "Ronda malam")) == 1
        assert got(fake, 804, "Ronda malam") == []
        denied = [(e.action, e.target) for e in await audit(bot, "telegram:800")
                  if e.outcome == "denied"]
        assert ("broadcast.send", RW01) in denied
        assert ("broadcast.send", RT01_RW01) in denied
        stored = (await NoticesRepo(svc.store.db.conn).latest_for(
            [RT01_RW02], datetime.min.replace(tzinfo=UTC)))[0][0]
        assert stored.areas == (RT01_RW02,)


async def test_rt_coordinator_is_not_asked_for_an_audience(fake, tmp_path) -> None:
    async with running_bot(fake, tmp_path, **NO_APPROVAL) as bot:
        await resident(bot.services, 700, RT03)
        await grant(bot.services, 700, "coordinator", RT03, "Pak Ahmad")
        ahmad = fake.user(700, first_name="Ahmad")
        await ahmad.send("/siaran")
        await ahmad.next_reply()
        await ahmad.click("✏️ Buat pengumuman")
        await ahmad.next_reply()
        await ahmad.send("Air PAM mati besok pagi.")
        segment = await ahmad.next_reply()
        assert "Siapa penerimanya" in segment["text"]
        assert "Untuk siapa" not in segment["text"]
        assert ahmad.buttons(segment) == ["Semua warga", "Relawan saja", "✖️ Batal"]


async def test_resident_cannot_use_siaran_and_the_refusal_is_audited(fake, tmp_path) -> None:
    async with running_bot(fake, tmp_path, **NO_APPROVAL) as bot:
        await resident(bot.services, 701, RT03)
        await resident(bot.services, 702, RT03)
        budi = fake.user(701, first_name="Budi")
        await budi.send("/siaran")
        refused = await budi.next_reply()
        assert "hanya untuk ketua/pengurus RT/RW" in refused["text"]
        assert "✏️ Buat pengumuman" not in budi.buttons(refused)
        await budi.click_data("bc:new")  # a forged "new notice" button
        again = await budi.next_reply()
        assert "hanya untuk ketua/pengurus RT/RW" in again["text"]
        await budi.send("Pengumuman palsu")  # not in a broadcast flow: nothing is sent
        await budi.next_reply()
        await bot.settled()
        await bot.outbox_idle()
        assert got(fake, 702, "palsu") == []
        denied = [e for e in await audit(bot, "telegram:701") if e.outcome == "denied"]
        assert [(e.action, e.target) for e in denied][:1] == [("broadcast.send", RT03)]
        assert await NoticesRepo(bot.services.store.db.conn).open_all() == []


async def test_coordinator_whose_role_is_revoked_while_writing_cannot_send(fake, tmp_path
                                                                           ) -> None:
    async with running_bot(fake, tmp_path, **NO_APPROVAL) as bot:
        ahmad = await _coordinator_with_resident(bot, fake)
        await start_notice(ahmad, "Pengumuman terakhir saya sebagai ketua RT.")
        await preview_now(ahmad)
        await bot.services.store.db.write(lambda conn: RolesRepo(conn).revoke(
            "telegram:700", Grant("coordinator", RT03)))
        await ahmad.click("📨 Kirim")
        assert OUTSIDE in (await ahmad.next_reply())["text"]
        await bot.settled()
        await bot.outbox_idle()
        assert got(fake, 701, "sebagai ketua RT") == []
        assert await NoticesRepo(bot.services.store.db.conn).open_all() == []
        (last,) = (await audit(bot, "telegram:700"))[:1]
        assert (last.action, last.target, last.outcome) == ("broadcast.send", RT03, "denied")


# --- 2. approval ---------------------------------------------------------------------------------


async def _approval_setup(bot: RunningBot, fake: FakeBotAPI) -> tuple[FakeUser, FakeUser]:
    svc = bot.services
    await resident(svc, 700, RT03)
    await grant(svc, 700, "coordinator", RT03, "Pak Ahmad")
    for uid in (701, 702):
        await resident(svc, uid, RT03)
    await resident(svc, 900, RT01_RW03)
    await grant(svc, 900, "moderator", "", "Mod Sari")
    return fake.user(700, first_name="Ahmad"), fake.user(900, first_name="Sari")


async def _submit(bot: RunningBot, ahmad: FakeUser, body: str) -> int:
    await start_notice(ahmad, body)
    _, summary = await preview_now(ahmad)
    assert "akan diperiksa moderator" in summary["text"]
    assert "📨 Ajukan untuk disetujui" in ahmad.buttons(summary)
    assert "📨 Kirim" not in ahmad.buttons(summary)
    await ahmad.click("📨 Ajukan untuk disetujui")
    assert "Pengumuman diajukan" in (await ahmad.next_reply())["text"]
    await bot.settled()
    await bot.outbox_idle()
    (notice,) = await NoticesRepo(bot.services.store.db.conn).open_by("telegram:700")
    assert notice.status == "pending"
    assert notice.id is not None
    return notice.id


async def test_moderator_approves_and_residents_get_the_notice(fake, tmp_path) -> None:
    async with running_bot(fake, tmp_path, **FAST) as bot:
        ahmad, sari = await _approval_setup(bot, fake)
        await resident(bot.services, 901, RT01_RW03)
        await grant(bot.services, 901, "moderator", "", "Mod Dodi")
        dodi = fake.user(901, first_name="Dodi")
        nid = await _submit(bot, ahmad, "Kerja bakti Minggu pagi jam 07.00.")
        for uid in (701, 702):
            assert got(fake, uid, "Kerja bakti") == []
        review = await reply_with(sari, "Pengumuman menunggu persetujuan")
        assert "Dari: Ketua RT 03 / RW 02 — Pak Ahmad" in review["text"]
        assert "Penerima: RT 03 / RW 02 · 3 orang" in review["text"]
        assert "Kerja bakti Minggu pagi" in review["text"]
        assert sari.buttons(review) == ["✅ Setujui", "❌ Tolak"]
        await sari.click("✅ Setujui", message_id=review["message_id"])
        approved = await sari.next_reply()
        assert f"Pengumuman #{nid} disetujui" in approved["text"]
        await bot.settled()
        await bot.outbox_idle()
        for uid in (701, 702):
            assert len(got(fake, uid, "Kerja bakti Minggu pagi")) == 1, texts_to(fake, uid)
        assert got(fake, 700, "disetujui moderator"), texts_to(fake, 700)
        assert got(fake, 700, "Kerja bakti Minggu pagi")  # the author is in RT 03 too
        # the author hears of the approval before the progress of its sending
        sent = [m.get("text", "") for m in fake.messages_to(700) if "edit_date" not in m]
        approval = next(i for i, text in enumerate(sent) if "disetujui moderator" in text)
        progress = next(i for i, text in enumerate(sent) if text.startswith("📤 Pengumuman"))
        assert approval < progress, sent
        # a second moderator presses Approve on their copy after the decision
        late = await reply_with(dodi, "Pengumuman menunggu persetujuan")
        await dodi.click("✅ Setujui", message_id=late["message_id"])
        assert "sudah diputuskan" in (await dodi.next_reply())["text"]
        await bot.settled()
        await bot.outbox_idle()
        for uid in (701, 702):
            assert len(got(fake, uid, "Kerja bakti Minggu pagi")) == 1
        decisions = [e for e in await audit(bot, "telegram:900")
                     if e.action == "content.approve"]
        assert [e.outcome for e in decisions] == ["allowed"]
        assert f"approve notice {nid}" in decisions[0].detail
        notice = await NoticesRepo(bot.services.store.db.conn).get(nid)
        assert notice is not None and notice.decided_by == "telegram:900"


async def test_moderator_rejects_with_a_reason(fake, tmp_path) -> None:
    async with running_bot(fake, tmp_path, **FAST) as bot:
        ahmad, sari = await _approval_setup(bot, fake)
        nid = await _submit(bot, ahmad, "Iuran sampah naik jadi Rp 50.000.")
        review = await reply_with(sari, "Pengumuman menunggu persetujuan")
        await sari.click("❌ Tolak", message_id=review["message_id"])
        ask = await sari.next_reply()
        assert f"alasan penolakan pengumuman #{nid}" in ask["text"]
        await sari.send("ok")  # too short
        assert "alasan singkat" in (await sari.next_reply())["text"]
        await sari.next_reply()
        await sari.send("Besaran iuran belum disepakati dalam rapat warga.")
        assert f"Pengumuman #{nid} ditolak" in (await sari.next_reply())["text"]
        await bot.settled()
        await bot.outbox_idle()
        told = got(fake, 700, "tidak disetujui moderator")
        assert len(told) == 1, texts_to(fake, 700)
        assert "Alasan: Besaran iuran belum disepakati dalam rapat warga." in told[0]["text"]
        for uid in (701, 702):
            assert got(fake, uid, "Iuran sampah naik") == [], texts_to(fake, uid)
        assert await notice_recipients(bot) == set()
        notice = await NoticesRepo(bot.services.store.db.conn).get(nid)
        assert notice is not None and notice.status == "rejected"
        decisions = [e for e in await audit(bot, "telegram:900")
                     if e.action == "content.approve"]
        assert decisions and all(e.outcome == "allowed" for e in decisions)
        assert any(f"reject notice {nid}" in e.detail for e in decisions)


async def test_resident_forging_approve_is_refused(fake, tmp_path) -> None:
    async with running_bot(fake, tmp_path, **FAST) as bot:
        ahmad, _ = await _approval_setup(bot, fake)
        nid = await _submit(bot, ahmad, "Vaksinasi gratis di balai warga.")
        budi = fake.user(701, first_name="Budi")
        await budi.click_data(f"mod:ok:{nid}")
        assert "Hanya moderator" in (await budi.next_reply())["text"]
        await ahmad.click_data(f"mod:ok:{nid}")  # nor can the author approve their own
        assert "Hanya moderator" in (await reply_with(ahmad, "moderator"))["text"]
        await bot.settled()
        await bot.outbox_idle()
        for uid in (701, 702):
            assert got(fake, uid, "Vaksinasi gratis") == []
        notice = await NoticesRepo(bot.services.store.db.conn).get(nid)
        assert notice is not None and notice.status == "pending"
        denied = [e for e in await audit(bot, "telegram:701") if e.outcome == "denied"]
        assert [e.action for e in denied] == ["content.approve"]


async def test_approved_scheduled_notice_waits_for_its_time(fake, tmp_path, clock) -> None:
    async with running_bot(fake, tmp_path, clock, **FAST) as bot:
        ahmad, sari = await _approval_setup(bot, fake)
        await schedule_tomorrow(bot, ahmad, "Fogging nyamuk DBD Senin pagi.",
                                "📨 Ajukan untuk disetujui")
        await bot.outbox_idle()
        review = await reply_with(sari, "Pengumuman menunggu persetujuan")
        assert "Waktu: Senin, 30 Nov 2026 07.00 WIB" in review["text"]
        await sari.click("✅ Setujui", message_id=review["message_id"])
        approved = await sari.next_reply()
        assert "akan dikirim Senin, 30 Nov 2026 07.00 WIB" in approved["text"]
        await bot.settled()
        await bot.outbox_idle()
        assert got(fake, 700, "disetujui moderator dan akan dikirim Senin, 30 Nov 2026")
        assert got(fake, 701, "Fogging nyamuk") == []
        assert await bot.workers.scheduler.run_due() == []
        clock.advance(hours=16, minutes=1)
        assert len(await bot.workers.scheduler.run_due()) == 1
        await bot.outbox_idle()
        assert len(got(fake, 701, "Fogging nyamuk")) == 1


async def test_notice_cancelled_while_pending_cannot_be_approved(fake, tmp_path) -> None:
    async with running_bot(fake, tmp_path, **FAST) as bot:
        ahmad, sari = await _approval_setup(bot, fake)
        nid = await _submit(bot, ahmad, "Lomba 17-an dibatalkan.")
        drain(ahmad)
        await ahmad.send("/siaran")
        await ahmad.next_reply()
        await ahmad.click("📋 Pengumuman saya (1)")
        item = await ahmad.next_reply()
        assert "Menunggu persetujuan" in item["text"]
        assert ahmad.buttons(item) == ["🗑 Batalkan"]
        await ahmad.next_reply()
        await ahmad.click("🗑 Batalkan", message_id=item["message_id"])
        await ahmad.next_reply()
        await ahmad.click("Ya, batalkan")
        assert f"Pengumuman #{nid} dibatalkan" in (await ahmad.next_reply())["text"]
        await bot.settled()
        review = await reply_with(sari, "Pengumuman menunggu persetujuan")
        await sari.click("✅ Setujui", message_id=review["message_id"])
        assert "sudah diputuskan (Dibatalkan)" in (await sari.next_reply())["text"]
        await bot.settled()
        await bot.outbox_idle()
        assert await notice_recipients(bot) == set()


async def test_rejecting_after_another_moderator_approved_says_what_was_decided(
        fake, tmp_path) -> None:
    async with running_bot(fake, tmp_path, **FAST) as bot:
        ahmad, sari = await _approval_setup(bot, fake)
        await resident(bot.services, 901, RT01_RW03)
        await grant(bot.services, 901, "moderator", "", "Mod Dodi")
        dodi = fake.user(901)
        nid = await _submit(bot, ahmad, "Pembagian sembako Sabtu di balai RW.")
        mine = await reply_with(sari, "Pengumuman menunggu persetujuan")
        theirs = await reply_with(dodi, "Pengumuman menunggu persetujuan")
        await sari.click("❌ Tolak", message_id=mine["message_id"])
        await sari.next_reply()
        await dodi.click("✅ Setujui", message_id=theirs["message_id"])
        assert f"Pengumuman #{nid} disetujui" in (await dodi.next_reply())["text"]
        await bot.settled()
        await sari.send("Lokasinya belum pasti.")
        late = await sari.next_reply()
        # the same answer as pressing a button of a decided notice: its status, not "-"
        assert f"Pengumuman #{nid} sudah diputuskan (Selesai)" in late["text"], late["text"]
        await bot.settled()
        await bot.outbox_idle()
        assert got(fake, 700, "tidak disetujui") == []
        assert len(got(fake, 701, "Pembagian sembako")) == 1


# --- 3. urgent notices ---------------------------------------------------------------------------


async def test_urgent_from_rw_coordinator_skips_approval_then_is_reviewed(fake, tmp_path
                                                                          ) -> None:
    async with running_bot(fake, tmp_path, **URGENT_SKIPS) as bot:
        svc = bot.services
        await resident(svc, 800, RT05_RW02)
        await grant(svc, 800, "coordinator", RW02, "Bu Neneng")
        await resident(svc, 801, RT01_RW02)
        await resident(svc, 803, RT03)
        await resident(svc, 900, RT01_RW03)
        await grant(svc, 900, "moderator", "", "Mod Sari")
        neneng, sari = fake.user(800), fake.user(900)
        await start_notice(neneng, "Banjir! Warga bantaran kali segera mengungsi ke masjid.",
                           "👥 Seluruh RW 02", category="🚨 Mendesak")
        _, summary = await preview_now(neneng)
        assert "📨 Kirim" in neneng.buttons(summary)
        await neneng.click("📨 Kirim")
        answer = await neneng.next_reply()
        assert "tanpa menunggu persetujuan" in answer["text"]
        await bot.settled()
        await bot.outbox_idle()
        for uid in (801, 803):
            (msg,) = got(fake, uid, "Banjir!")
            assert "PENGUMUMAN MENDESAK" in msg["text"]
        (notice,) = [n for n, _ in await NoticesRepo(svc.store.db.conn).latest_for(
            [RW02], datetime.min.replace(tzinfo=UTC))]
        assert notice.needs_review
        review = await reply_with(sari, "dikirim tanpa persetujuan")
        assert "Dari: Ketua RW 02 — Bu Neneng" in review["text"]
        assert sari.buttons(review) == ["✅ Tandai sudah ditinjau", "🛑 Hentikan & batalkan"]
        budi = fake.user(801)
        drain(budi)  # the notice itself
        await budi.click_data(f"mod:seen:{notice.id}")  # a resident cannot mark it reviewed
        assert "Hanya moderator" in (await budi.next_reply())["text"]
        await bot.settled()
        unreviewed = await NoticesRepo(svc.store.db.conn).get(notice.id or 0)
        assert unreviewed is not None and unreviewed.needs_review
        await sari.click("✅ Tandai sudah ditinjau", message_id=review["message_id"])
        assert "ditandai sudah ditinjau" in (await sari.next_reply())["text"]
        await bot.settled()
        fresh = await NoticesRepo(svc.store.db.conn).get(notice.id or 0)
        assert fresh is not None and not fresh.needs_review
        assert await NoticesRepo(svc.store.db.conn).awaiting_review() == []


async def test_urgent_from_rt_coordinator_still_needs_approval(fake, tmp_path) -> None:
    async with running_bot(fake, tmp_path, **URGENT_SKIPS) as bot:
        ahmad, sari = await _approval_setup(bot, fake)
        await start_notice(ahmad, "Kebakaran di gang 3, jauhi lokasi!", category="🚨 Mendesak")
        _, summary = await preview_now(ahmad)
        assert "📨 Ajukan untuk disetujui" in ahmad.buttons(summary)
        await ahmad.click("📨 Ajukan untuk disetujui")
        assert "Pengumuman diajukan" in (await ahmad.next_reply())["text"]
        await bot.settled()
        await bot.outbox_idle()
        for uid in (701, 702):
            assert got(fake, uid, "Kebakaran") == []
        review = await reply_with(sari, "Pengumuman menunggu persetujuan")
        assert "Jenis: 🚨 Mendesak" in review["text"]
        (notice,) = await NoticesRepo(bot.services.store.db.conn).open_by("telegram:700")
        assert notice.status == "pending" and not notice.needs_review


# --- 4. scheduling through the chat --------------------------------------------------------------


async def test_once_at_a_typed_time_goes_out_only_when_due(fake, tmp_path, clock) -> None:
    async with running_bot(fake, tmp_path, clock, **NO_APPROVAL) as bot:
        svc = bot.services
        await resident(svc, 700, RT03)
        await grant(svc, 700, "coordinator", RT03, "Pak Ahmad")
        await resident(svc, 701, RT03)
        ahmad = fake.user(700)
        await start_notice(ahmad, "Pengambilan sampah besar besok pagi.")
        await ahmad.click("📅 Pada tanggal & jam tertentu")
        ask = await ahmad.next_reply()
        assert "Ketik tanggal dan jam (WIB)" in ask["text"]
        assert "30-11-2026 07.00" in ask["text"]
        await ahmad.send("kapan-kapan")
        assert "tidak terbaca" in (await ahmad.next_reply())["text"]
        assert "Ketik tanggal dan jam" in (await ahmad.next_reply())["text"]
        await ahmad.send("hari ini 14.00")  # it is 15.00 WIB now
        assert "sudah lewat" in (await ahmad.next_reply())["text"]
        assert "Ketik tanggal dan jam" in (await ahmad.next_reply())["text"]
        await ahmad.send("besok 07.00")
        await ahmad.next_reply()
        summary = await ahmad.next_reply()
        assert "Waktu: Senin, 30 Nov 2026 07.00 WIB" in summary["text"]
        await ahmad.click("📨 Kirim")
        answer = await ahmad.next_reply()
        assert "Pengumuman dijadwalkan" in answer["text"]
        assert "Senin, 30 Nov 2026 07.00 WIB" in answer["text"]
        await bot.settled()
        (notice,) = await NoticesRepo(svc.store.db.conn).open_by("telegram:700")
        assert notice.next_run_at == datetime(2026, 11, 30, 0, 0, tzinfo=UTC)
        assert await bot.workers.scheduler.run_due() == []
        clock.advance(hours=15, minutes=59)  # 06.59 WIB: not yet
        assert await bot.workers.scheduler.run_due() == []
        await bot.outbox_idle()
        assert got(fake, 701, "sampah besar") == []
        clock.advance(minutes=2)
        assert len(await bot.workers.scheduler.run_due()) == 1
        await bot.outbox_idle()
        assert len(got(fake, 701, "sampah besar")) == 1
        assert await NoticesRepo(svc.store.db.conn).open_by("telegram:700") == []


async def _coordinator_with_resident(bot: RunningBot, fake: FakeBotAPI) -> FakeUser:
    await resident(bot.services, 700, RT03)
    await grant(bot.services, 700, "coordinator", RT03, "Pak Ahmad")
    await resident(bot.services, 701, RT03)
    return fake.user(700)


async def test_weekly_on_chosen_days(fake, tmp_path, clock) -> None:
    async with running_bot(fake, tmp_path, clock, **NO_APPROVAL) as bot:
        ahmad = await _coordinator_with_resident(bot, fake)
        await start_notice(ahmad, "Jadwal ronda malam pekan ini.")
        await ahmad.click("🔁 Berulang")
        assert "Seberapa sering diulang?" in (await ahmad.next_reply())["text"]
        await ahmad.click("Setiap pekan (pilih hari)")
        days = await ahmad.next_reply()
        assert "Pilih harinya" in days["text"]
        await ahmad.click("✔️ Selesai")  # no day chosen yet
        assert "paling sedikit satu hari" in (await ahmad.next_reply())["text"]
        await ahmad.next_reply()
        await ahmad.click("Senin")
        assert "✅ Senin" in ahmad.buttons(await ahmad.next_reply())
        await ahmad.click("Kamis")
        await ahmad.next_reply()
        await ahmad.click("✔️ Selesai")
        assert "Jam berapa (WIB)" in (await ahmad.next_reply())["text"]
        await ahmad.send("jam tujuh")
        assert "Jam itu tidak terbaca" in (await ahmad.next_reply())["text"]
        await ahmad.next_reply()
        await ahmad.send("07.00")
        assert "Sampai tanggal berapa" in (await ahmad.next_reply())["text"]
        await ahmad.click("Tanpa batas")
        await ahmad.next_reply()
        summary = await ahmad.next_reply()
        assert "Waktu: setiap Senin, Kamis pukul 07.00" in summary["text"]
        await ahmad.click("📨 Kirim")
        assert "Pengumuman dijadwalkan" in (await ahmad.next_reply())["text"]
        await bot.settled()
        assert await bot.workers.scheduler.run_due() == []
        clock.advance(hours=16, minutes=1)  # Monday 30 Nov, 07.01 WIB
        assert len(await bot.workers.scheduler.run_due()) == 1
        await bot.outbox_idle()
        assert len(got(fake, 701, "ronda malam")) == 1
        (notice,) = await NoticesRepo(bot.services.store.db.conn).open_by("telegram:700")
        assert notice.status == "active"
        assert notice.next_run_at == datetime(2026, 12, 3, 0, 0, tzinfo=UTC)  # Thursday
        clock.advance(days=3)  # Thursday 07.01 WIB
        assert len(await bot.workers.scheduler.run_due()) == 1
        await bot.outbox_idle()
        assert len(got(fake, 701, "ronda malam")) == 2


async def test_monthly_on_a_typed_day(fake, tmp_path, clock) -> None:
    async with running_bot(fake, tmp_path, clock, **NO_APPROVAL) as bot:
        ahmad = await _coordinator_with_resident(bot, fake)
        await start_notice(ahmad, "Bayar iuran kebersihan bulan ini.")
        await ahmad.click("🔁 Berulang")
        await ahmad.next_reply()
        await ahmad.click("Setiap bulan (pilih tanggal)")
        assert "Ketik angka 1–28" in (await ahmad.next_reply())["text"]
        await ahmad.send("31")  # not in every month: the reason, and the last day instead
        assert "Tanggal 31 tidak ada di setiap bulan" in (await ahmad.next_reply())["text"]
        again = await ahmad.next_reply()
        assert "Tanggal berapa setiap bulan" in again["text"]
        assert "📅 Hari terakhir tiap bulan" in ahmad.buttons(again)
        await ahmad.send("1")
        assert "Jam berapa" in (await ahmad.next_reply())["text"]
        await ahmad.send("19.30")
        await ahmad.next_reply()
        await ahmad.click("Tanpa batas")
        await ahmad.next_reply()
        summary = await ahmad.next_reply()
        assert "Waktu: setiap tanggal 1 pukul 19.30 (pertama kali Selasa, 1 Des 2026 19.30 WIB)" \
            in summary["text"], summary["text"]
        await ahmad.click("📨 Kirim")
        assert "Pengumuman dijadwalkan" in (await ahmad.next_reply())["text"]
        await bot.settled()
        (notice,) = await NoticesRepo(bot.services.store.db.conn).open_by("telegram:700")
        assert notice.next_run_at == datetime(2026, 12, 1, 12, 30, tzinfo=UTC)
        clock.advance(days=2, hours=4, minutes=31)  # 1 Dec, 19.31 WIB
        assert len(await bot.workers.scheduler.run_due()) == 1
        await bot.outbox_idle()
        assert len(got(fake, 701, "iuran kebersihan")) == 1


async def test_recurring_end_date_is_shown_as_a_date_people_read(fake, tmp_path) -> None:
    async with running_bot(fake, tmp_path, **NO_APPROVAL) as bot:
        ahmad = await _coordinator_with_resident(bot, fake)
        await start_notice(ahmad, "Bayar iuran kebersihan bulan ini.")
        await ahmad.click("🔁 Berulang")
        await ahmad.next_reply()
        await ahmad.click("Setiap bulan (pilih tanggal)")
        await ahmad.next_reply()
        await ahmad.send("1")
        await ahmad.next_reply()
        await ahmad.send("19.30")
        await ahmad.next_reply()
        await ahmad.send("31-12-2026")  # typed day-month-year, as the question suggests
        await ahmad.next_reply()
        summary = await ahmad.next_reply()
        assert "sampai " in summary["text"]
        # every other date the bot shows reads "31 Des 2026" (the list's own format_date)
        assert "sampai 31 Des 2026" in summary["text"], summary["text"]


# --- 5. managing scheduled notices ---------------------------------------------------------------


async def test_pause_resume_and_cancel_from_my_notices(fake, tmp_path, clock) -> None:
    async with running_bot(fake, tmp_path, clock, **NO_APPROVAL) as bot:
        svc = bot.services
        ahmad = await _coordinator_with_resident(bot, fake)
        answer = await schedule_weekly(bot, ahmad, "Senam pagi bersama.", "Senin", "Kamis")
        assert "dijadwalkan" in answer["text"]
        answer = await schedule_tomorrow(bot, ahmad, "Pemadaman listrik.")
        assert "dijadwalkan" in answer["text"]
        weekly, once = await NoticesRepo(svc.store.db.conn).open_by("telegram:700")
        await ahmad.send("/siaran")
        home = await ahmad.next_reply()
        assert "📋 Pengumuman saya (2)" in ahmad.buttons(home)
        await ahmad.click("📋 Pengumuman saya (2)")
        first, second, footer = [await ahmad.next_reply() for _ in range(3)]
        assert f"#{weekly.id} · Berulang" in first["text"]
        assert "setiap Senin, Kamis pukul 07.00" in first["text"]
        assert f"#{once.id} · Terjadwal" in second["text"]
        assert "2 pengumuman aktif" in footer["text"]
        assert ahmad.buttons(first) == ["⏸ Jeda", "🗑 Batalkan"]
        await ahmad.click("⏸ Jeda", message_id=first["message_id"])
        assert f"#{weekly.id} dijeda" in (await ahmad.next_reply())["text"]
        await ahmad.click("🗑 Batalkan", message_id=second["message_id"])
        confirm = await ahmad.next_reply()
        assert f"Batalkan pengumuman #{once.id}?" in confirm["text"]
        await ahmad.click("Ya, batalkan")
        assert f"Pengumuman #{once.id} dibatalkan" in (await ahmad.next_reply())["text"]
        await bot.settled()
        clock.advance(hours=16, minutes=1)  # Monday 07.01 WIB: both would have been due
        assert await bot.workers.scheduler.run_due() == []
        await bot.outbox_idle()
        assert got(fake, 701, "Senam pagi") == []
        assert got(fake, 701, "Pemadaman listrik") == []
        await ahmad.send("/siaran")
        await ahmad.next_reply()
        await ahmad.click("📋 Pengumuman saya (1)")
        item = await ahmad.next_reply()
        assert "Dijeda" in item["text"]
        await ahmad.next_reply()
        await ahmad.click("▶️ Lanjutkan", message_id=item["message_id"])
        resumed = await ahmad.next_reply()
        assert f"#{weekly.id} dilanjutkan" in resumed["text"]
        assert "Kamis, 3 Des 2026 07.00 WIB" in resumed["text"]
        await bot.settled()
        assert await bot.workers.scheduler.run_due() == []  # Monday's is not sent late
        clock.advance(days=3)  # Thursday 07.01 WIB
        assert len(await bot.workers.scheduler.run_due()) == 1
        await bot.outbox_idle()
        assert len(got(fake, 701, "Senam pagi")) == 1
        assert got(fake, 701, "Pemadaman listrik") == []
        cancelled = await NoticesRepo(svc.store.db.conn).get(once.id or 0)
        assert cancelled is not None and cancelled.status == "cancelled"


async def test_forged_cancel_of_someone_elses_notice_is_refused(fake, tmp_path, clock
                                                                ) -> None:
    async with running_bot(fake, tmp_path, clock, **NO_APPROVAL) as bot:
        svc = bot.services
        ahmad = await _coordinator_with_resident(bot, fake)
        await resident(svc, 710, RT01_RW02)
        await grant(svc, 710, "coordinator", RT01_RW02, "Pak Ujang")
        await schedule_tomorrow(bot, ahmad, "Pemadaman listrik.")
        (notice,) = await NoticesRepo(svc.store.db.conn).open_by("telegram:700")
        ujang = fake.user(710)
        for data in (f"bc:cancel!:{notice.id}", f"bc:pause:{notice.id}"):
            await ujang.click_data(data)
            assert "tidak ditemukan di daftar Anda" in (await ujang.next_reply())["text"]
        await bot.settled()
        fresh = await NoticesRepo(svc.store.db.conn).get(notice.id or 0)
        assert fresh is not None and fresh.status == "active"
        clock.advance(hours=16, minutes=1)
        assert len(await bot.workers.scheduler.run_due()) == 1
        await bot.outbox_idle()
        assert len(got(fake, 701, "Pemadaman listrik")) == 1


# --- 6. media ------------------------------------------------------------------------------------


async def test_photo_with_caption_reaches_residents_as_a_photo(fake, tmp_path) -> None:
    async with running_bot(fake, tmp_path, **NO_APPROVAL) as bot:
        ahmad = await _coordinator_with_resident(bot, fake)
        await ahmad.send("/siaran")
        await ahmad.next_reply()
        await ahmad.click("✏️ Buat pengumuman")
        await ahmad.next_reply()
        await ahmad.send_sticker()
        assert "hanya satu foto atau satu file PDF" in (await ahmad.next_reply())["text"]
        assert "Tulis isi pengumuman" in (await ahmad.next_reply())["text"]
        await ahmad.send_photo()  # no caption
        assert "perlu keterangan" in (await ahmad.next_reply())["text"]
        assert "Tulis isi pengumuman" in (await ahmad.next_reply())["text"]
        await ahmad.send_photo(caption="Jadwal posyandu bulan Desember, lihat poster.")
        assert "Siapa penerimanya" in (await ahmad.next_reply())["text"]
        await ahmad.click("Semua warga")
        await ahmad.next_reply()
        await ahmad.click("Biasa")
        await ahmad.next_reply()
        preview, _ = await preview_now(ahmad)
        assert "photo" in preview
        assert "Jadwal posyandu bulan Desember" in preview["caption"]
        await ahmad.click("📨 Kirim")
        await ahmad.next_reply()
        await bot.settled()
        await bot.outbox_idle()
        (msg,) = got(fake, 701, "Jadwal posyandu")
        assert "photo" in msg
        assert "Ketua RT 03 / RW 02 — Pak Ahmad" in msg["caption"]


async def test_pdf_with_caption_reaches_residents_as_a_document(fake, tmp_path) -> None:
    async with running_bot(fake, tmp_path, **NO_APPROVAL) as bot:
        ahmad = await _coordinator_with_resident(bot, fake)
        await ahmad.send("/siaran")
        await ahmad.next_reply()
        await ahmad.click("✏️ Buat pengumuman")
        await ahmad.next_reply()
        await ahmad.send_document("daftar.xlsx", b"PK fake", caption="Daftar penerima bansos")
        assert "hanya satu foto atau satu file PDF" in (await ahmad.next_reply())["text"]
        await ahmad.next_reply()
        await ahmad.send_document("jadwal-posyandu.pdf", caption="Jadwal posyandu terlampir.")
        assert "Siapa penerimanya" in (await ahmad.next_reply())["text"]
        await ahmad.click("Semua warga")
        await ahmad.next_reply()
        await ahmad.click("Biasa")
        await ahmad.next_reply()
        await preview_now(ahmad)
        await ahmad.click("📨 Kirim")
        await ahmad.next_reply()
        await bot.settled()
        await bot.outbox_idle()
        (msg,) = got(fake, 701, "Jadwal posyandu terlampir")
        assert "document" in msg


async def test_moderator_sees_the_photo_they_are_asked_to_approve(fake, tmp_path) -> None:
    async with running_bot(fake, tmp_path, **FAST) as bot:
        ahmad, sari = await _approval_setup(bot, fake)
        await ahmad.send("/siaran")
        await ahmad.next_reply()
        await ahmad.click("✏️ Buat pengumuman")
        await ahmad.next_reply()
        await ahmad.send_photo(caption="Poster lomba kebersihan antar-RT.")
        await ahmad.next_reply()
        await ahmad.click("Semua warga")
        await ahmad.next_reply()
        await ahmad.click("Biasa")
        await ahmad.next_reply()
        await preview_now(ahmad)
        await ahmad.click("📨 Ajukan untuk disetujui")
        await ahmad.next_reply()
        await bot.settled()
        await bot.outbox_idle()
        review = await reply_with(sari, "Pengumuman menunggu persetujuan")
        assert "dengan foto" in (review.get("text") or review.get("caption") or "")
        assert sari.buttons(review) == ["✅ Setujui", "❌ Tolak"]
        # a moderator cannot judge a poster they are not shown: it comes first, as residents
        # will see it
        before = [m for m in fake.messages_to(900) if m["message_id"] < review["message_id"]]
        poster = before[-1]
        assert "photo" in poster
        assert "Poster lomba kebersihan antar-RT." in poster["caption"]


# --- 7. /pengumuman ------------------------------------------------------------------------------


async def test_pengumuman_lists_rt_and_rw_notices_of_ones_own_area(fake, tmp_path) -> None:
    async with running_bot(fake, tmp_path, **NO_APPROVAL) as bot:
        svc = bot.services
        await resident(svc, 703, RT03)
        await resident(svc, 704, RT01_RW01)
        await sent_notice(bot, 700, (RT03,), "Kerja bakti RT 03 hari Minggu.",
                          "Ketua RT 03 / RW 02 — Pak Ahmad")
        await sent_notice(bot, 800, (RW02,), "Posyandu RW 02 hari Selasa.",
                          "Ketua RW 02 — Bu Neneng")
        await sent_notice(bot, 810, (RW01,), "Ronda RW 01 dimulai.", "Ketua RW 01 — Pak Asep")
        await bot.outbox_idle()
        citra = fake.user(703)
        drain(citra)  # the two notices she was sent
        await citra.send("/pengumuman")
        header = await citra.next_reply()
        assert "Pengumuman terbaru untuk RT/RW Anda" in header["text"]
        assert "(2, 30 hari terakhir)" in header["text"]
        shown = [(await citra.next_reply())["text"] for _ in range(3)]
        assert "Kerja bakti RT 03" in shown[0]
        assert "Posyandu RW 02" in shown[1]
        assert "Itu pengumuman terbaru" in shown[2]
        assert not any("Ronda RW 01" in text for text in shown)
        other = fake.user(704)
        drain(other)
        await other.send("/pengumuman")
        header = await other.next_reply()
        assert "(1, 30 hari terakhir)" in header["text"]
        assert "Ronda RW 01" in (await other.next_reply())["text"]


async def test_pengumuman_for_someone_not_registered_offers_registering(fake, tmp_path
                                                                        ) -> None:
    async with running_bot(fake, tmp_path, **NO_APPROVAL) as bot:
        await sent_notice(bot, 700, (RT03,), "Kerja bakti RT 03.", "Ketua RT 03 / RW 02")
        eka = fake.user(950, first_name="Eka")
        await eka.send("/pengumuman")  # the first word of a newcomer starts registering
        welcome = await eka.next_reply()
        assert "selamat datang" in welcome["text"]
        label = next(b for b in eka.buttons(welcome) if "Indonesia" in b)
        await eka.click(label)
        await eka.next_reply()
        await eka.click("Nanti saja")  # no consent (yet): no RT
        await eka.next_reply()
        await eka.send("/pengumuman")
        answer = await eka.next_reply()
        assert "Daftar dulu ke RT Anda" in answer["text"]
        assert "🏘️ Daftar ke RT saya" in eka.buttons(answer)
        assert "Kerja bakti" not in answer["text"]


async def test_volunteer_only_notice_is_not_listed_for_other_residents(fake, tmp_path
                                                                      ) -> None:
    async with running_bot(fake, tmp_path, **NO_APPROVAL) as bot:
        ahmad = await _coordinator_with_resident(bot, fake)
        await resident(bot.services, 705, RT03, volunteer=True)
        await start_notice(ahmad, "Relawan kumpul jam 19.00 di posko untuk piket.",
                           segment="Relawan saja")
        _, summary = await preview_now(ahmad)
        assert "Menjangkau: 1 orang" in summary["text"]
        await ahmad.click("📨 Kirim")
        await ahmad.next_reply()
        await bot.settled()
        await bot.outbox_idle()
        assert len(got(fake, 705, "Relawan kumpul")) == 1
        assert got(fake, 701, "Relawan kumpul") == []
        volunteer = fake.user(705)
        drain(volunteer)
        await volunteer.send("/pengumuman")
        assert "(1, 30 hari terakhir)" in (await volunteer.next_reply())["text"]
        other = fake.user(701)
        await other.send("/pengumuman")
        answer = await other.next_reply()
        assert "Belum ada pengumuman untuk RT/RW Anda" in answer["text"], answer["text"]
        assert got(fake, 701, "Relawan kumpul") == []


# --- 8. linked RT groups -------------------------------------------------------------------------


async def test_linked_group_gets_the_rt_notices_until_unlinked(fake, tmp_path) -> None:
    async with running_bot(fake, tmp_path, **NO_APPROVAL) as bot:
        svc = bot.services
        ahmad = await _coordinator_with_resident(bot, fake)
        fake.chat_admins[GROUP] = {700}
        answer = await in_group(fake, bot, 700, "/hubungkan")
        assert len(answer) == 1
        assert "Grup Warga RT 03 terhubung dengan RT 03 / RW 02" in answer[0]
        assert await NoticesRepo(svc.store.db.conn).linked_to("telegram", str(GROUP)) == [RT03]
        # ordinary chatter in the group: no answer, no record of the stranger
        assert await in_group(fake, bot, 701, "Siap Pak RT, terima kasih") == []
        assert await in_group(fake, bot, 999, "halo semua, ada yang jual gas?") == []
        assert await in_group(fake, bot, 999, "/siaran") == []
        assert await PeopleRepo(svc.store.db.conn).get("telegram:999") is None
        await start_notice(ahmad, "Kerja bakti bersih got hari Minggu.")
        _, summary = await preview_now(ahmad)
        assert "Menjangkau: 2 orang + 1 grup RT" in summary["text"]
        await ahmad.click("📨 Kirim")
        await ahmad.next_reply()
        await bot.settled()
        await bot.outbox_idle()
        (posted,) = got(fake, GROUP, "Kerja bakti bersih got")
        assert "Ketua RT 03 / RW 02 — Pak Ahmad" in posted["text"]
        assert len(got(fake, 701, "Kerja bakti bersih got")) == 1
        answer = await in_group(fake, bot, 700, "/putuskan")
        assert any("tidak lagi terhubung dengan RT 03 / RW 02" in t for t in answer), answer
        assert await NoticesRepo(svc.store.db.conn).linked_to("telegram", str(GROUP)) == []
        drain(ahmad)
        await send_now(ahmad, "Arisan ditunda minggu depan.")
        await bot.settled()
        await bot.outbox_idle()
        assert len(got(fake, 701, "Arisan ditunda")) == 1
        assert got(fake, GROUP, "Arisan ditunda") == []


async def test_linking_a_group_is_refused_to_the_wrong_people(fake, tmp_path) -> None:
    async with running_bot(fake, tmp_path, **NO_APPROVAL) as bot:
        svc = bot.services
        await _coordinator_with_resident(bot, fake)
        await resident(svc, 800, RT05_RW02)
        await grant(svc, 800, "coordinator", RW02, "Bu Neneng")
        fake.chat_admins[GROUP] = {701, 800}  # Ahmad (700) is only a member
        answer = await in_group(fake, bot, 701, "/hubungkan")  # admin, but not a coordinator
        assert len(answer) == 1 and "Hanya ketua/pengurus RT" in answer[0]
        answer = await in_group(fake, bot, 998, "/hubungkan")  # a stranger
        assert len(answer) == 1 and "Hanya ketua/pengurus RT" in answer[0]
        assert await PeopleRepo(svc.store.db.conn).get("telegram:998") is None
        answer = await in_group(fake, bot, 700, "/hubungkan")  # coordinator, not an admin
        assert len(answer) == 1 and "Hanya admin grup" in answer[0]
        answer = await in_group(fake, bot, 800, "/hubungkan")  # an RW: which RT?
        assert len(answer) == 1 and "Anda mengurus beberapa RT" in answer[0]
        assert "/hubungkan 01" in answer[0]
        assert await NoticesRepo(svc.store.db.conn).linked_to("telegram", str(GROUP)) == []
        answer = await in_group(fake, bot, 800, "/hubungkan 03")
        assert len(answer) == 1 and "terhubung dengan RT 03 / RW 02" in answer[0]
        assert await NoticesRepo(svc.store.db.conn).linked_to("telegram", str(GROUP)) == [RT03]
        answer = await in_group(fake, bot, 701, "/putuskan")  # not a coordinator
        assert len(answer) == 1 and "Hanya ketua/pengurus RT" in answer[0]
        assert await NoticesRepo(svc.store.db.conn).linked_to("telegram", str(GROUP)) == [RT03]
        denied = [e for e in await audit(bot, "telegram:701") if e.outcome == "denied"]
        assert len(denied) == 2
        # in a private chat the group commands only explain where to use them
        neneng = fake.user(800)
        await neneng.send("/hubungkan")
        assert "di dalam grup Telegram RT" in (await neneng.next_reply())["text"]


async def test_volunteer_only_notice_is_not_posted_in_the_rt_group(fake, tmp_path) -> None:
    async with running_bot(fake, tmp_path, **NO_APPROVAL) as bot:
        ahmad = await _coordinator_with_resident(bot, fake)
        await resident(bot.services, 705, RT03, volunteer=True)
        fake.chat_admins[GROUP] = {700}
        await in_group(fake, bot, 700, "/hubungkan")
        await start_notice(ahmad, "Relawan kumpul jam 19.00 di posko untuk piket.",
                           segment="Relawan saja")
        _, summary = await preview_now(ahmad)
        assert "Menjangkau: 1 orang" in summary["text"]
        await ahmad.click("📨 Kirim")
        await ahmad.next_reply()
        await bot.settled()
        await bot.outbox_idle()
        assert len(got(fake, 705, "Relawan kumpul")) == 1
        assert got(fake, GROUP, "Relawan kumpul") == [], "a volunteers-only notice was posted " \
            "in the whole RT's group"
        assert "grup RT" not in summary["text"], summary["text"]  # nor counted in the reach


# --- 9. English ----------------------------------------------------------------------------------


async def test_english_coordinator_broadcasts_in_english(fake, tmp_path) -> None:
    async with running_bot(fake, tmp_path, **FAST) as bot:
        svc = bot.services
        await resident(svc, 720, RT03, language="en")
        await grant(svc, 720, "coordinator", RT03, "Mr Tom")
        await resident(svc, 701, RT03)
        await resident(svc, 900, RT01_RW03)
        await grant(svc, 900, "moderator", "", "Mod Sari")
        tom = fake.user(720, first_name="Tom", language_code="en")
        await tom.send("/broadcast")
        home = await tom.next_reply()
        assert "Broadcast notices" in home["text"]
        assert "A moderator checks each notice" in home["text"]
        await tom.click("✏️ New notice")
        assert "Write the notice." in (await tom.next_reply())["text"]
        await tom.send("Community clean-up on Sunday at 7 am.")
        assert "Who should receive it?" in (await tom.next_reply())["text"]
        await tom.click("All residents")
        assert "What kind of notice?" in (await tom.next_reply())["text"]
        await tom.click("Regular")
        assert "When should it go out?" in (await tom.next_reply())["text"]
        await tom.click("Now")
        preview = await tom.next_reply()
        assert "Community clean-up" in preview["text"]
        summary = await tom.next_reply()
        assert "Reaches: 2 people" in summary["text"]
        assert "A moderator checks the notice" in summary["text"]
        # the preview says whom it shows: residents who read Indonesian get another heading
        assert "how residents who chose English will see" in summary["text"]
        assert 'heading and date in Bahasa Indonesia ("📢 Pengumuman")' in summary["text"]
        await tom.click("📨 Submit for approval")
        assert "Notice submitted" in (await tom.next_reply())["text"]
        await bot.settled()
        await bot.outbox_idle()
        sari = fake.user(900)
        review = await reply_with(sari, "Pengumuman menunggu persetujuan")  # Sari reads id
        await sari.click("✅ Setujui", message_id=review["message_id"])
        await sari.next_reply()
        await bot.settled()
        await bot.outbox_idle()
        assert got(fake, 720, "was approved and goes out now"), texts_to(fake, 720)
        assert any("Report for notice" in t for t in texts_to(fake, 720)), texts_to(fake, 720)
        (resident_copy,) = got(fake, 701, "Community clean-up")
        assert "📢 Pengumuman" in resident_copy["text"]  # each resident in their language


async def test_indonesian_moderator_reads_an_english_notices_time_in_indonesian(
        fake, tmp_path) -> None:
    async with running_bot(fake, tmp_path, **FAST) as bot:
        svc = bot.services
        await resident(svc, 720, RT03, language="en")
        await grant(svc, 720, "coordinator", RT03, "Mr Tom")
        await resident(svc, 701, RT03)
        await resident(svc, 900, RT01_RW03)
        await grant(svc, 900, "moderator", "", "Mod Sari")
        tom = fake.user(720, language_code="en")
        await tom.send("/broadcast")
        await tom.next_reply()
        await tom.click("✏️ New notice")
        await tom.next_reply()
        await tom.send("Community clean-up on Monday.")
        await tom.next_reply()
        await tom.click("All residents")
        await tom.next_reply()
        await tom.click("Regular")
        await tom.next_reply()
        await tom.click("📅 At a date and time")
        assert "e.g. 30-11-2026 07:00, tomorrow 7am" in (await tom.next_reply())["text"]
        await tom.send("tomorrow 07:00")
        await tom.next_reply()
        summary = await tom.next_reply()
        assert "When: Monday, 30 Nov 2026 07:00 WIB" in summary["text"]
        await tom.click("📨 Submit for approval")
        await tom.next_reply()
        await bot.settled()
        await bot.outbox_idle()
        sari = fake.user(900)
        review = await reply_with(sari, "Pengumuman menunggu persetujuan")
        assert "Waktu: Senin, 30 Nov 2026 07.00 WIB" in review["text"], review["text"]
        await sari.click("✅ Setujui", message_id=review["message_id"])
        approved = await sari.next_reply()
        assert "akan dikirim Senin, 30 Nov 2026 07.00 WIB" in approved["text"], approved["text"]
        await bot.settled()
        await bot.outbox_idle()
        assert got(fake, 720, "was approved and goes out Monday, 30 Nov 2026 07:00 WIB")
