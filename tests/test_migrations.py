"""Every migration applies to an empty database, in order, exactly once."""

from __future__ import annotations

from pathlib import Path

from db.database import Database
from db.migrate import available, current_version, migrate


async def test_all_migrations_apply_to_an_empty_database(tmp_path: Path) -> None:
    db = await Database.open(tmp_path / "empty.db")
    try:
        applied = await migrate(db)
        assert applied == [name for _, name, _ in available()]
        assert await current_version(db.conn) == available()[-1][0]
        async with db.conn.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name"
        ) as cur:
            tables = {row[0] for row in await cur.fetchall()}
        assert {"person", "conversation", "inbox", "role_grant", "audit_log",
                "schema_version"} <= tables
        async with db.conn.execute("PRAGMA journal_mode") as cur:
            assert (await cur.fetchone())[0] == "wal"
        # a second run applies nothing
        assert await migrate(db) == []
    finally:
        await db.close()


def test_migrate_command_reports_what_it_did(tmp_path: Path, capsys, monkeypatch) -> None:
    from bot.__main__ import main

    monkeypatch.setenv("SIAGA_DB", str(tmp_path / "cli.db"))
    assert main(["migrate"]) == 0
    assert "applied: 0001_initial.sql" in capsys.readouterr().out
    assert main(["migrate"]) == 0
    assert "up to date" in capsys.readouterr().out
