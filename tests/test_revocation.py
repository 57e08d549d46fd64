"""Revoking a coordinator: their groups are unlinked, what they queued and has not gone out is
cancelled, they are told once, the operator sees what was done, and every step is audited.
A notice going out re-checks whoever linked a group before posting there.

The revocations go through the CLI's own code (``bot.__main__.admin``) on the running bot's
services; the bot talks to the fake Bot API, so what people receive is what they would see.
"""

from __future__ import annotations

import getpass
from datetime import UTC, datetime, timedelta

from bot.__main__ import _parser, admin
from bot.clock import FakeClock
from bot.roles import revoke_role
from db.repositories.notices import GroupLink, Notice, NoticesRepo
from db.repositories.roles import Grant, RolesRepo
from tests.broadcast_helpers import RT03, RW02, create_notice, fire_notice, grant, resident
from tests.telegram_harness import RunningBot, running_bot
from tests.test_broadcast_flow import FAST, GROUP, audit, got, in_group, reply_with, texts_to

OPERATOR = f"cli:{getpass.getuser()}"
TOLD = "Peran Anda sebagai pengurus RT 03 / RW 02 telah dicabut"
NIGHT = datetime(2026, 11, 29, 15, 0, tzinfo=UTC)  # 22.00 WIB: quiet hours
MORNING = datetime(2026, 11, 30, 0, 0, tzinfo=UTC)  # 07.00 WIB the next day


async def _pending(bot: RunningBot, author: int, body: str) -> Notice:
    """A notice of ``author`` to RT 03 waiting for a moderator."""
    now = bot.services.clock.now()
    notice = Notice(author=f"telegram:{author}", author_lang="id",
                    signature="Ketua RT 03 / RW 02 — Pak Ahmad", segment="all",
                    category="regular", body=body, repeat="now", status="pending",
                    created_at=now, updated_at=now, areas=(RT03,))
    return await bot.services.store.db.write(lambda conn: NoticesRepo(conn).create(notice))


async def _outbox(bot: RunningBot, run_id: int) -> dict[str, tuple[str, str | None]]:
    """address -> (status, reason) of a run's messages."""
    async with bot.services.store.db.conn.execute(
            "SELECT address, status, reason FROM outbox WHERE kind = 'notice' AND ref_id = ?",
            (run_id,)) as cur:
        return {r[0]: (r[1], r[2]) for r in await cur.fetchall()}


async def _revoke(bot: RunningBot, capsys, *argv: str) -> list[str]:  # type: ignore[no-untyped-def]
    """``python -m bot admin revoke ...`` on the running bot's database; its output lines."""
    capsys.readouterr()
    assert await admin(bot.services, _parser().parse_args(["admin", "revoke", *argv])) == 0
    return capsys.readouterr().out.splitlines()


async def test_revoking_a_coordinator_unlinks_cancels_and_tells_them_once(fake, tmp_path,
                                                                          capsys) -> None:
    clock = FakeClock(NIGHT)
    async with running_bot(fake, tmp_path, clock, **FAST) as bot:
        svc = bot.services
        await resident(svc, 700, RT03)
        await grant(svc, 700, "coordinator", RT03, "Pak Ahmad")
        for uid in (701, 702):
            await resident(svc, uid, RT03)
        await resident(svc, 800, "cimuncang-rw02-rt05")
        await grant(svc, 800, "coordinator", RW02, "Bu Neneng")  # keeps her role throughout
        ahmad = fake.user(700)
        fake.chat_admins[GROUP] = {700}
        assert "terhubung dengan RT 03 / RW 02" in (await in_group(fake, bot, 700,
                                                                  "/hubungkan"))[0]
        # what Ahmad queued: waiting for approval, scheduled, recurring, and a run whose
        # regular messages wait out the quiet hours (the group's post included)
        pending = await _pending(bot, 700, "Lomba tujuhbelasan, daftar ke Pak RT.")
        once = await create_notice(svc, 700, "Kerja bakti besok pagi.", repeat="once",
                                   start_at=MORNING, next_run_at=MORNING)
        daily = await create_notice(svc, 700, "Jangan lupa ronda malam.", repeat="daily",
                                    at_time="07:00", next_run_at=MORNING)
        going = await create_notice(svc, 700, "Iuran sampah naik bulan depan.")
        going_run = await fire_notice(svc, going)
        # and Bu Neneng's notice to the whole RW, also posted in the group Ahmad linked
        hers = await create_notice(svc, 800, "Posyandu RW 02 hari Kamis.", area=RW02)
        her_run = await fire_notice(svc, hers)
        await bot.outbox_idle()
        assert (await _outbox(bot, going_run.id))[str(GROUP)] == ("queued", None)
        assert (await _outbox(bot, her_run.id))[str(GROUP)] == ("queued", None)

        out = await _revoke(bot, capsys, "coordinator", "telegram:700", "--area", RT03)

        assert out[0] == f"revoked: telegram:700 coordinator {RT03}"
        assert f'unlinked group "Warga RT 03" (telegram {GROUP}) from {RT03}; 1 queued ' \
               "post stopped" in out
        assert f"cancelled notice #{pending.id} (waiting for approval): Lomba tujuhbelasan, " \
               "daftar ke Pak RT." in out
        assert f"cancelled notice #{once.id} (scheduled): Kerja bakti besok pagi." in out
        assert f"cancelled notice #{daily.id} (scheduled): Jangan lupa ronda malam." in out
        assert f"cancelled notice #{going.id} (going out; 4 queued messages stopped): Iuran " \
               "sampah naik bulan depan." in out
        assert out[-1] == "told telegram:700 in one message"
        # the database: no link, nothing of Ahmad's left to send, the group's post skipped
        repo = NoticesRepo(svc.store.db.conn)
        assert await repo.linked_to("telegram", str(GROUP)) == []
        assert await RolesRepo(svc.store.db.conn).grants_of("telegram:700") == []
        for notice in (pending, once, daily, going):
            saved = await repo.get(notice.id or 0)
            assert saved is not None and saved.status == "cancelled", notice.body
            assert saved.next_run_at is None
        assert set((await _outbox(bot, going_run.id)).values()) == {("cancelled", None)}
        assert await _outbox(bot, her_run.id) == {
            "700": ("queued", None), "701": ("queued", None), "702": ("queued", None),
            "800": ("queued", None), str(GROUP): ("skipped", "group unlinked")}
        # the audit trail names the operator and says what was undone
        rows = await audit(bot, OPERATOR)
        (summary,) = [e for e in rows if e.action == "roles.revoke"]
        assert summary.target == "telegram:700" and summary.outcome == "done"
        assert f"coordinator {RT03}" in summary.detail
        assert f"unlinked {RT03} from group telegram:{GROUP} (1 post stopped)" in summary.detail
        assert f"notice #{going.id} (done, 4 messages stopped)" in summary.detail
        assert "told" in summary.detail
        assert sorted(e.target for e in rows if e.action == "notice.cancel") == sorted(
            f"notice:{n.id}" for n in (pending, once, daily, going))
        (unlink,) = [e for e in rows if e.action == "group.unlink"]
        assert unlink.target == f"group:telegram:{GROUP}" and RT03 in unlink.detail
        assert ("roles.manage", "allowed") in [(e.action, e.outcome) for e in rows]
        # Ahmad is told once, in Indonesian, what was cancelled and which group stops
        told = await reply_with(ahmad, "telah dicabut", limit=10)
        assert TOLD in told["text"]
        for notice in (pending, once, daily, going):
            assert f"#{notice.id}" in told["text"]
        assert "Warga RT 03" in told["text"]

        # morning: nothing of Ahmad's goes out, and nothing more is posted in the group
        clock.advance(hours=9, minutes=5)
        assert await bot.workers.scheduler.run_due() == []
        await bot.outbox_idle(final=True)
        for uid in (701, 702):
            assert len(got(fake, uid, "Posyandu RW 02")) == 1, texts_to(fake, uid)
            for body in ("Lomba tujuhbelasan", "Kerja bakti", "ronda malam", "Iuran sampah"):
                assert got(fake, uid, body) == [], texts_to(fake, uid)
        assert texts_to(fake, GROUP)[1:] == [], "posted in the group after the revocation"
        later = await create_notice(svc, 800, "Air PAM mati siang ini.", area=RW02)
        await fire_notice(svc, later)
        await bot.outbox_idle()
        assert len(got(fake, 701, "Air PAM mati")) == 1
        assert got(fake, GROUP, "Air PAM mati") == []
        assert len(got(fake, 700, "telah dicabut")) == 1
        assert got(fake, 700, "tidak lagi terdaftar sebagai pengurus") == []


async def test_a_run_rechecks_the_linker_before_posting_to_the_group(fake, tmp_path) -> None:
    async with running_bot(fake, tmp_path, **FAST) as bot:
        svc = bot.services
        await resident(svc, 700, RT03)
        await grant(svc, 700, "coordinator", RT03, "Pak Ahmad")
        await resident(svc, 701, RT03)
        fake.chat_admins[GROUP] = {700}
        await in_group(fake, bot, 700, "/hubungkan")
        first = await create_notice(svc, 800, "Posyandu RW 02 hari Kamis.", area=RW02)
        await fire_notice(svc, first)
        await bot.outbox_idle()
        assert len(got(fake, GROUP, "Posyandu RW 02")) == 1  # linked: posted
        # Ahmad loses the role some other way than the CLI's revocation (here straight in
        # the database, as an erasure or an older version of the bot would leave it)
        await svc.store.db.write(lambda conn: RolesRepo(conn).revoke(
            "telegram:700", Grant("coordinator", RT03)))
        second = await create_notice(svc, 800, "Air PAM mati siang ini.", area=RW02)
        run = await fire_notice(svc, second)
        await bot.outbox_idle()
        assert len(got(fake, 701, "Air PAM mati")) == 1
        assert got(fake, GROUP, "Air PAM mati") == [], "posted in a group whose linker " \
            "no longer coordinates the RT"
        assert str(GROUP) not in await _outbox(bot, run.id)
        assert await NoticesRepo(svc.store.db.conn).linked_to("telegram", str(GROUP)) == []
        (unlink,) = [e for e in await audit(bot, "system") if e.action == "group.unlink"]
        assert unlink.target == f"group:telegram:{GROUP}" and RT03 in unlink.detail


async def test_what_another_grant_still_covers_is_kept(services) -> None:
    """Revoking RT 03 from someone who still coordinates RW 02 leaves their RT 03 group and
    notices alone; revoking a role someone does not hold changes nothing."""
    now = services.clock.now()
    await grant(services, 700, "coordinator", RT03, "Pak Ahmad")
    await grant(services, 700, "coordinator", RW02)
    notice = await create_notice(services, 700, "Kerja bakti Minggu.", repeat="once",
                                 start_at=now + timedelta(days=1),
                                 next_run_at=now + timedelta(days=1))
    link = GroupLink(RT03, "telegram", str(GROUP), "Warga RT 03", "telegram:700", now)
    await services.store.write(lambda tx: tx.notices.link_group(link))

    done = await revoke_role(services, "telegram:700", Grant("coordinator", RT03), "cli:op")

    assert done.revoked and not done.unlinked and not done.cancelled
    assert done.lines() == [f"revoked: telegram:700 coordinator {RT03}",
                            "not told: telegram:700 cannot be reached by the bot"]
    reads = services.store.reads
    assert await reads.notices.linked_to("telegram", str(GROUP)) == [RT03]
    kept = await reads.notices.get(notice.id or 0)
    assert kept is not None and kept.status == "active"
    again = await revoke_role(services, "telegram:700", Grant("coordinator", RT03), "cli:op")
    assert again.lines() == [f"had no such role: telegram:700 coordinator {RT03}"]
    assert [e.action for e in await reads.audit.recent(10)] == ["roles.revoke"]
