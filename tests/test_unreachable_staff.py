"""People who cannot be reached: a moderator granted the role before opening the bot gets
the review requests that were sent meanwhile as soon as they open it (with their buttons);
an author whose notice no moderator can receive yet is told so; ``admin list`` shows who
has not started the bot.

Driven through the real bot and the fake Bot API, like the other broadcast tests."""

from __future__ import annotations

import argparse

from bot.__main__ import admin
from db.repositories.notices import NoticesRepo
from tests.broadcast_helpers import RT03, grant, resident
from tests.telegram_harness import running_bot
from tests.test_broadcast_flow import (
    FAST,
    got,
    preview_now,
    reply_with,
    start_notice,
    texts_to,
)

NOBODY = "belum ada moderator yang dapat dihubungi bot"


async def _list(bot, capsys) -> str:  # type: ignore[no-untyped-def]
    capsys.readouterr()
    assert await admin(bot.services, argparse.Namespace(admin_command="list")) == 0
    return capsys.readouterr().out


async def _submit(bot, ahmad, body: str) -> int:  # type: ignore[no-untyped-def]
    await start_notice(ahmad, body)
    await preview_now(ahmad)
    await ahmad.click("📨 Ajukan untuk disetujui")
    assert "Pengumuman diajukan" in (await ahmad.next_reply())["text"]
    await bot.settled()
    await bot.outbox_idle()
    (notice,) = await NoticesRepo(bot.services.store.db.conn).open_by("telegram:700")
    assert notice.id is not None
    return notice.id


async def test_moderator_who_starts_the_bot_later_gets_the_review_and_approves(
        fake, tmp_path, capsys) -> None:
    async with running_bot(fake, tmp_path, **FAST) as bot:
        svc = bot.services
        await resident(svc, 700, RT03)
        await grant(svc, 700, "coordinator", RT03, "Pak Ahmad")
        await resident(svc, 701, RT03)
        await grant(svc, 900, "moderator", "", "Mod Sari")  # never opened the bot
        ahmad, sari = fake.user(700, first_name="Ahmad"), fake.user(900, first_name="Sari")

        listed = await _list(bot, capsys)
        assert "telegram:900  moderator" in listed
        assert "not reachable yet: has not started the bot]" in listed
        assert "telegram:700  coordinator" in listed
        assert "not reachable" not in listed.split("telegram:700", 1)[1].split("\n")[0]

        nid = await _submit(bot, ahmad, "Kerja bakti Minggu pagi jam 07.00.")
        # the author is told plainly that no moderator can receive it yet
        told = got(fake, 700, NOBODY)
        assert len(told) == 1, texts_to(fake, 700)
        assert f"Pengumuman #{nid} belum dapat diperiksa" in told[0]["text"]
        assert texts_to(fake, 900) == []
        assert "1 waiting message]" in await _list(bot, capsys)

        # Sari opens the bot: the greeting, and the review request with its buttons
        await sari.send("/start")
        review = await reply_with(sari, "Pengumuman menunggu persetujuan")
        assert "Kerja bakti Minggu pagi" in review["text"]
        assert "Dari: Ketua RT 03 / RW 02 — Pak Ahmad" in review["text"]
        assert sari.buttons(review) == ["✅ Setujui", "❌ Tolak"]
        assert "not reachable" not in await _list(bot, capsys)

        await sari.click("✅ Setujui", message_id=review["message_id"])
        assert f"Pengumuman #{nid} disetujui" in (await reply_with(sari, "disetujui"))["text"]
        await bot.settled()
        await bot.outbox_idle()
        assert len(got(fake, 701, "Kerja bakti Minggu pagi")) == 1, texts_to(fake, 701)
        assert got(fake, 700, "disetujui moderator"), texts_to(fake, 700)
        # delivered once: a second /start does not bring it again
        await sari.send("/start")
        await bot.settled()
        await bot.outbox_idle()
        assert len(got(fake, 900, "Pengumuman menunggu persetujuan")) == 1


async def test_author_is_not_warned_when_a_moderator_can_be_reached(fake, tmp_path) -> None:
    async with running_bot(fake, tmp_path, **FAST) as bot:
        svc = bot.services
        await resident(svc, 700, RT03)
        await grant(svc, 700, "coordinator", RT03, "Pak Ahmad")
        await grant(svc, 900, "moderator", "", "Mod Sari")  # not started
        await resident(svc, 901, RT03)
        await grant(svc, 901, "moderator", "", "Mod Dodi")  # started
        ahmad = fake.user(700, first_name="Ahmad")
        await _submit(bot, ahmad, "Posyandu hari Sabtu.")
        assert got(fake, 700, NOBODY) == []
        assert len(got(fake, 901, "Pengumuman menunggu persetujuan")) == 1


async def test_revoked_moderator_who_starts_later_gets_nothing(fake, tmp_path) -> None:
    """A review request shows the notice: it is not kept for someone who lost the role."""
    from bot.roles import revoke_role
    from db.repositories.roles import Grant

    async with running_bot(fake, tmp_path, **FAST) as bot:
        svc = bot.services
        await resident(svc, 700, RT03)
        await grant(svc, 700, "coordinator", RT03, "Pak Ahmad")
        await grant(svc, 900, "moderator", "", "Mod Sari")
        await grant(svc, 901, "moderator", "", "Mod Dodi")  # neither opened the bot
        await _submit(bot, fake.user(700, first_name="Ahmad"), "Ronda malam mulai Senin.")
        assert got(fake, 700, NOBODY)
        await revoke_role(svc, "telegram:900", Grant("moderator"), "cli:test")
        sari, dodi = fake.user(900, first_name="Sari"), fake.user(901, first_name="Dodi")
        await sari.send("/start")
        await dodi.send("/start")
        assert await reply_with(dodi, "Pengumuman menunggu persetujuan")
        await bot.settled()
        await bot.outbox_idle()
        assert got(fake, 900, "Ronda malam") == [], texts_to(fake, 900)
        async with svc.store.db.conn.execute("SELECT COUNT(*) FROM waiting_message") as cur:
            assert (await cur.fetchone())[0] == 0


async def test_english_author_is_told_in_english_and_list_shows_blocked(
        fake, tmp_path, capsys) -> None:
    from bot.broadcasting import notices as notice_svc
    from db.repositories.notices import Notice

    async with running_bot(fake, tmp_path, **FAST) as bot:
        svc = bot.services
        await resident(svc, 700, RT03, language="en")
        await grant(svc, 700, "coordinator", RT03, "Pak Ahmad")
        await resident(svc, 901, RT03)
        await grant(svc, 901, "moderator", "", "Mod Dodi")
        await svc.store.write(lambda tx: tx.people.set_active("telegram:901", False))
        assert "telegram:901  moderator  (by cli:test" in await _list(bot, capsys)
        assert "[not reachable: blocked the bot]" in await _list(bot, capsys)

        now = svc.clock.now()
        notice = Notice(author="telegram:700", author_lang="en", signature="Pak Ahmad",
                        segment="all", category="regular", body="Clean-up on Sunday.",
                        repeat="now", status="pending", created_at=now, updated_at=now,
                        areas=(RT03,))

        async def submit(tx):  # type: ignore[no-untyped-def]
            await tx.notices.create(notice)
            return await notice_svc.request_review(svc, tx, notice, "broadcast.review", now)

        assert await svc.store.write(submit) == []
        svc.signals.outbox()
        await bot.outbox_idle()
        told = got(fake, 700, f"Notice #{notice.id} cannot be checked yet")
        assert len(told) == 1, texts_to(fake, 700)
        assert texts_to(fake, 901) == []
