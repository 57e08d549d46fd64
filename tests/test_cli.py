"""The operator's CLI: areas with invite links, and role management with an audit trail."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.__main__ import main
from db.database import Database
from db.repositories.audit import AuditRepo
from db.repositories.notices import GroupLink, Notice, NoticesRepo
from tests.conftest import ROOT


@pytest.fixture
def cli_env(tmp_path: Path, monkeypatch) -> Path:
    db = tmp_path / "cli.db"
    monkeypatch.setenv("SIAGA_CONFIG", str(ROOT / "config" / "settings.example.toml"))
    monkeypatch.setenv("SIAGA_DB", str(db))
    monkeypatch.setenv("SIAGA_AREAS_FILE", str(ROOT / "config" / "areas.demo.toml"))
    return db


def audit_rows(db: Path) -> list:
    async def read() -> list:
        database = await Database.open(db)
        try:
            return await AuditRepo(database.conn).recent(20)
        finally:
            await database.close()

    return asyncio.run(read())


def test_areas_lists_every_rt_with_its_invite_link(cli_env, capsys, monkeypatch) -> None:
    monkeypatch.setenv("TELEGRAM_BOT_USERNAME", "SiagaWargaBot")
    assert main(["areas"]) == 0
    out = capsys.readouterr().out
    assert "cimuncang-rw02-rt03  RT 03  https://t.me/SiagaWargaBot?start=cmc23-" in out
    assert out.count("https://t.me/SiagaWargaBot?start=") == 12


def test_grant_list_revoke_are_audited(cli_env, capsys) -> None:
    assert main(["admin", "grant", "coordinator", "telegram:12345",
                 "--area", "cimuncang-rw02-rt03"]) == 0
    assert "granted: telegram:12345 coordinator cimuncang-rw02-rt03" in capsys.readouterr().out
    assert main(["admin", "grant", "moderator", "telegram:777"]) == 0
    assert main(["admin", "list"]) == 0
    listed = capsys.readouterr().out
    assert "telegram:12345  coordinator cimuncang-rw02-rt03" in listed
    assert "telegram:777  moderator" in listed
    assert main(["admin", "revoke", "coordinator", "telegram:12345",
                 "--area", "cimuncang-rw02-rt03"]) == 0
    assert "revoked" in capsys.readouterr().out
    actions = [(e.action, e.target, e.outcome) for e in audit_rows(cli_env)]
    assert actions[0] == ("roles.revoke", "telegram:12345", "done")  # what the revoke did
    assert actions[1] == ("roles.manage", "telegram:12345", "allowed")
    assert len(actions) == 5 and all(a[0] == "roles.manage" for a in actions[1:])
    assert all(e.actor.startswith("cli:") for e in audit_rows(cli_env))


def test_revoke_unlinks_groups_cancels_notices_and_says_so(cli_env, capsys) -> None:
    rt03 = "cimuncang-rw02-rt03"
    assert main(["admin", "grant", "coordinator", "telegram:12345", "--area", rt03]) == 0
    when = datetime(2026, 11, 29, 8, 0, tzinfo=UTC)
    notice = Notice(author="telegram:12345", author_lang="id", signature="Ketua RT 03 / RW 02",
                    segment="all", category="regular", body="Kerja bakti hari Minggu pagi.",
                    repeat="now", status="pending", created_at=when, updated_at=when,
                    areas=(rt03,))

    async def seed() -> None:
        database = await Database.open(cli_env)
        try:
            async def write(conn):  # type: ignore[no-untyped-def]
                repo = NoticesRepo(conn)
                await repo.create(notice)
                await repo.link_group(GroupLink(rt03, "telegram", "-100777", "Warga RT 03",
                                                "telegram:12345", when))
            await database.write(write)
        finally:
            await database.close()

    async def state() -> tuple[list[str], str]:
        database = await Database.open(cli_env)
        try:
            repo = NoticesRepo(database.conn)
            saved = await repo.get(notice.id or 0)
            return await repo.linked_to("telegram", "-100777"), saved.status if saved else ""
        finally:
            await database.close()

    asyncio.run(seed())
    capsys.readouterr()
    assert main(["admin", "revoke", "coordinator", "telegram:12345", "--area", rt03]) == 0
    assert capsys.readouterr().out.splitlines() == [
        f"revoked: telegram:12345 coordinator {rt03}",
        f'unlinked group "Warga RT 03" (telegram -100777) from {rt03}',
        f"cancelled notice #{notice.id} (waiting for approval): Kerja bakti hari Minggu pagi.",
        "not told: telegram:12345 cannot be reached by the bot",
    ]
    assert asyncio.run(state()) == ([], "cancelled")
    done = {(e.action, e.target): e for e in audit_rows(cli_env)}
    assert done[("roles.revoke", "telegram:12345")].detail == (
        f"coordinator {rt03}; unlinked {rt03} from group telegram:-100777; cancelled notice "
        f"#{notice.id} (pending, 0 messages stopped); not told")
    assert done[("group.unlink", "group:telegram:-100777")].actor.startswith("cli:")
    assert done[("notice.cancel", f"notice:{notice.id}")].actor.startswith("cli:")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["coordinator", "telegram:1"], "needs --area"),
        (["coordinator", "telegram:1", "--area", "nowhere-rw09"], "is not an RT or RW code"),
        (["moderator", "telegram:1", "--area", "cimuncang-rw01"],
         "coordinators and health workers only"),
        (["admin", "12345"], "identity must look like telegram:12345"),
    ],
)
def test_bad_grants_are_refused_with_a_reason(cli_env, capsys, args, message) -> None:
    assert main(["admin", "grant", *args]) == 2
    assert message in capsys.readouterr().err
