"""Coordinators broadcast notices through the real router and the fake Bot API server."""

from __future__ import annotations

import asyncio

from db.repositories.notices import GroupLink, NoticesRepo
from tests.broadcast_helpers import RT03, grant, resident
from tests.telegram_harness import running_bot

NO_APPROVAL = {"SIAGA_BROADCAST_REQUIRES_APPROVAL": "false"}


async def test_rt_coordinator_sends_a_notice_now(fake, tmp_path) -> None:
    async with running_bot(fake, tmp_path, **NO_APPROVAL) as bot:
        svc = bot.services
        await resident(svc, 700, RT03)
        for uid in (701, 702):
            await resident(svc, uid, RT03)
        await grant(svc, 700, "coordinator", RT03, "Pak Ahmad")
        ahmad = fake.user(700, first_name="Ahmad", language_code="id")
        await ahmad.send("/siaran")
        home = await ahmad.next_reply()
        assert "Siaran pengumuman" in home["text"]
        await ahmad.click("✏️ Buat pengumuman")
        await ahmad.next_reply()
        await ahmad.send("Kerja bakti Minggu pagi jam 07.00 di balai RT.")
        segment = await ahmad.next_reply()  # an RT coordinator's audience is their RT
        assert "Siapa penerimanya" in segment["text"]
        await ahmad.click("Semua warga")
        await ahmad.next_reply()
        await ahmad.click("Biasa")
        await ahmad.next_reply()
        await ahmad.click("Sekarang")
        preview = await ahmad.next_reply()
        assert "Kerja bakti Minggu pagi" in preview["text"]
        assert "Ketua RT 03 / RW 02 — Pak Ahmad" in preview["text"]
        summary = await ahmad.next_reply()
        assert "Menjangkau: 3 orang" in summary["text"]
        await ahmad.send("oke kirim")  # typed instead of pressing: asked again, nothing lost
        assert "pilih salah satu tombol" in (await ahmad.next_reply())["text"]
        again = await ahmad.next_reply()
        assert ahmad.buttons(again) == ["📨 Kirim", "👥 Ubah penerima", "✖️ Batal"]
        await ahmad.click("📨 Kirim")
        await ahmad.next_reply()
        await bot.settled()
        await bot.outbox_idle()
        for uid in (701, 702):
            got = [m for m in fake.messages_to(uid) if "Kerja bakti" in m.get("text", "")]
            assert len(got) == 1, fake.messages_to(uid)
            assert "Ketua RT 03 / RW 02 — Pak Ahmad" in got[0]["text"]
        texts = [m.get("text", "") for m in fake.current_messages(700)]
        assert any("selesai: terkirim 3 / 3" in t for t in texts), texts
        assert any("Laporan pengumuman" in t and "Terkirim: 3 dari 3" in t for t in texts)
        report = next(i for i, t in enumerate(texts) if "Laporan pengumuman" in t)
        assert "Salinan untuk grup WhatsApp RT ada di pesan berikut" in texts[report]
        copy = texts[report + 1]  # WhatsApp markup, ready to paste: *bold*, no HTML
        assert copy.startswith("📢 *Pengumuman*")
        assert "Kerja bakti Minggu pagi" in copy and "Pak Ahmad" in copy and "<b>" not in copy
        notices = await NoticesRepo(svc.store.db.conn).open_by("telegram:700")
        assert notices == []


async def test_removing_the_bot_from_a_linked_group_unlinks_it(fake, tmp_path) -> None:
    group = -1009876543
    async with running_bot(fake, tmp_path) as bot:
        svc = bot.services
        now = svc.clock.now()
        await svc.store.db.write(lambda conn: NoticesRepo(conn).link_group(GroupLink(
            RT03, "telegram", str(group), "Warga RT 03", "telegram:700", now)))
        admin = {"id": 700, "is_bot": False, "first_name": "Ahmad"}
        fake.push_update({"my_chat_member": {
            "chat": {"id": group, "type": "supergroup", "title": "Warga RT 03"},
            "from": admin, "date": 0,
            "old_chat_member": {"user": fake.bot_user, "status": "member"},
            "new_chat_member": {"user": fake.bot_user, "status": "kicked",
                                "until_date": 0}}})
        await bot.settled()
        for _ in range(50):
            if not await NoticesRepo(svc.store.db.conn).linked_to("telegram", str(group)):
                break
            await asyncio.sleep(0.05)
        assert await NoticesRepo(svc.store.db.conn).linked_to("telegram", str(group)) == []
        assert fake.messages_to(group) == []  # nothing is said to a group that removed us
