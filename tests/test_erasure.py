"""Erasure that really erases: after /hapusdata, and after the purge of people who never
agreed, a person's chat ID is nowhere in the database file or its write-ahead log, byte for
byte; what stays for accountability is named by a keyed pseudonym; the answer to /hapusdata
is true; logs name people by pseudonym only.

The conversations run on the real Telegram channel against the fake Bot API server.
"""

from __future__ import annotations

import asyncio
import io
import logging
import os
import stat
from datetime import timedelta
from pathlib import Path

import pytest

from bot.__main__ import _parser, admin
from bot.app import open_services, purge_expired
from bot.clock import FakeClock
from bot.config import ConfigError
from bot.events import reply_to_json, say
from bot.logs import PseudonymFilter
from bot.pseudonyms import Pseudonyms
from db.repositories.people import PeopleRepo
from tests.broadcast_helpers import RT03, resident
from tests.conftest import make_settings
from tests.fake_telegram import FakeBotAPI, FakeUser
from tests.telegram_harness import RunningBot, running_bot
from tests.test_broadcast_flow import (
    GROUP,
    NO_APPROVAL,
    drain,
    in_group,
    preview_now,
    reply_with,
    start_notice,
)

AHMAD = 987654321012  # consents, coordinates RT 03, writes a notice, links the group, leaves
NEIGHBOUR = 555000111222  # a resident of RT 03 who stays: the search must find them
WAVERING = 876543210987  # starts, never agrees
STRANGER = 765432109876  # only ever types /hubungkan in a group


def traces(path: Path, user_id: int) -> list[str]:
    """The files of the database (``path``, its WAL and shared memory) that hold ``user_id``:
    as text (identities, addresses, JSON) or as a stored integer."""
    needles = [str(user_id).encode(), user_id.to_bytes(6, "big"), user_id.to_bytes(8, "big")]
    found = []
    for name in (path, Path(f"{path}-wal"), Path(f"{path}-shm")):
        if name.exists() and any(n in name.read_bytes() for n in needles):
            found.append(name.name)
    return found


async def gone_from_disk(path: Path, user_id: int, timeout: float = 5.0) -> None:  # noqa: ASYNC109
    """Wait until ``user_id`` is in none of the files (the WAL is emptied after the commit)."""
    deadline = asyncio.get_running_loop().time() + timeout
    while traces(path, user_id):
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"{user_id} is still in {traces(path, user_id)}")
        await asyncio.sleep(0.05)


async def press(user: FakeUser, part: str) -> dict:
    """Press the button whose label contains ``part``; return the answer."""
    [label] = [b for b in user.buttons() if part in b]
    await user.click(label)
    return await user.next_reply()


async def onboard(user: FakeUser) -> None:
    """/start, Bahasa Indonesia, agree, Cimuncang, RW 02, RT 03."""
    await user.send("/start")
    await user.next_reply()
    for part in ("Bahasa Indonesia", "Setuju", "Cimuncang", "RW 02"):
        await press(user, part)
    assert "RT 03 / RW 02" in (await press(user, "RT 03"))["text"]


async def rows(bot: RunningBot, sql: str, *args: object) -> list[tuple]:
    async with bot.services.store.db.conn.execute(sql, args) as cur:
        return [tuple(r) for r in await cur.fetchall()]


async def test_hapusdata_leaves_the_chat_id_nowhere_in_the_files(
        fake: FakeBotAPI, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    async with running_bot(fake, tmp_path, **NO_APPROVAL) as bot:
        svc = bot.services
        db_path = svc.settings.db_path
        identity = f"telegram:{AHMAD}"
        await resident(svc, NEIGHBOUR, RT03)
        ahmad = fake.user(AHMAD, first_name="Ahmad")
        await onboard(ahmad)
        # refused before he is a coordinator: audited under his ID
        assert "Hanya ketua/pengurus RT" in (await in_group(fake, bot, AHMAD, "/hubungkan"))[0]
        # the operator makes him coordinator from the command line
        args = _parser().parse_args(["admin", "grant", "coordinator", identity, "--area", RT03,
                                     "--name", "Pak Ahmad"])
        assert await admin(svc, args) == 0
        assert "granted" in capsys.readouterr().out
        fake.chat_admins[GROUP] = {AHMAD}
        assert "terhubung" in (await in_group(fake, bot, AHMAD, "/hubungkan"))[0]
        drain(ahmad)
        await start_notice(ahmad, "Kerja bakti bersih got hari Minggu.")
        await preview_now(ahmad)
        await ahmad.click("📨 Kirim")
        await ahmad.next_reply()
        await bot.settled()
        await bot.outbox_idle()
        # and a message waits for him in the outbox (due tomorrow)
        now = svc.clock.now()
        [(person_id,)] = await rows(bot, "SELECT id FROM person WHERE identity = ?", identity)
        await svc.store.write(lambda tx: tx.outbox.enqueue(
            channel="telegram", address=str(AHMAD), person_id=person_id, lang="id",
            kind="text", payload=reply_to_json(say("erase.nothing")), now=now,
            not_before=now + timedelta(days=1)))
        await svc.store.checkpoint()
        assert traces(db_path, AHMAD) == ["siaga.db"]  # everywhere before (the search works)

        drain(ahmad)
        await ahmad.send("/hapusdata")
        confirm = await reply_with(ahmad, "Hapus data saya")
        assert "peran pengurus" in confirm["text"]
        await ahmad.click("🗑️ Ya, hapus")
        done = (await ahmad.next_reply())["text"]
        assert "Data Anda sudah dihapus" in done and "1 peran pengurus" in done
        assert "tetap disimpan demi akuntabilitas, dengan kode samaran" in done
        await bot.settled()

        await gone_from_disk(db_path, AHMAD)
        assert traces(db_path, NEIGHBOUR)  # who stays is still found
        # what he did stays, under his keyed pseudonym
        alias = svc.pseudonyms(identity)
        assert alias.startswith("p:") and len(alias) == 26
        assert await rows(bot, "SELECT outcome FROM audit_log WHERE actor = ? AND action = ?",
                          alias, "broadcast.send")
        assert await rows(bot, "SELECT 1 FROM audit_log WHERE actor = ? AND outcome = "
                               "'denied'", alias) == []  # his refusal is gone
        [(detail,)] = await rows(bot, "SELECT detail FROM audit_log WHERE actor LIKE 'cli:%' "
                                      "AND target = ?", alias)
        assert detail == f"grant coordinator {RT03} to {alias}"
        [(author, signature)] = await rows(bot, "SELECT author, signature FROM notice")
        assert (author, signature) == (alias, "Ketua RT 03 / RW 02")
        assert await rows(bot, "SELECT linked_by FROM group_link") == [(alias,)]
        assert await rows(bot, "SELECT 1 FROM role_grant") == []


async def test_purge_of_people_who_never_agreed_leaves_no_trace(
        fake: FakeBotAPI, tmp_path: Path) -> None:
    clock = FakeClock()
    async with running_bot(fake, tmp_path, clock, **NO_APPROVAL) as bot:
        svc = bot.services
        db_path = svc.settings.db_path
        await resident(svc, NEIGHBOUR, RT03)
        wavering = fake.user(WAVERING)
        await wavering.send("/start")
        await wavering.next_reply()
        assert "Setuju" in " ".join(wavering.buttons(await press(wavering, "Bahasa Indonesia")))
        await in_group(fake, bot, WAVERING, "/hubungkan")
        await in_group(fake, bot, STRANGER, "/hubungkan")
        await in_group(fake, bot, STRANGER, "/hubungkan")
        await svc.store.checkpoint()
        assert traces(db_path, WAVERING) and traces(db_path, STRANGER)

        clock.advance(days=29)
        assert (await purge_expired(svc)).people == 0
        clock.advance(days=2)
        purged = await purge_expired(svc)
        assert purged.people == 2

        await gone_from_disk(db_path, WAVERING)
        await gone_from_disk(db_path, STRANGER)
        assert traces(db_path, NEIGHBOUR)
        assert await rows(bot, "SELECT actor FROM audit_log") == []


async def test_a_stranger_refused_in_a_group_is_told_the_truth_and_erased(
        fake: FakeBotAPI, tmp_path: Path) -> None:
    async with running_bot(fake, tmp_path) as bot:
        db_path = bot.services.settings.db_path
        for _ in range(3):
            answer = await in_group(fake, bot, STRANGER, "/hubungkan")
            assert "Hanya ketua/pengurus RT" in answer[0]
        assert await rows(bot, "SELECT times FROM audit_log WHERE actor = ?",
                          f"telegram:{STRANGER}") == [(3,)]

        stranger = fake.user(STRANGER)
        await stranger.send("/hapusdata")
        answer = (await stranger.next_reply())["text"]
        assert "Kami tidak menyimpan data apa pun" not in answer
        assert "catatan 3 percobaan perintah Anda yang ditolak" in answer
        assert "Catatan itu sudah dihapus" in answer
        assert "Kami tidak menyimpan apa pun lagi tentang Anda" in answer
        await bot.settled()
        await gone_from_disk(db_path, STRANGER)
        assert await PeopleRepo(bot.services.store.db.conn).get(f"telegram:{STRANGER}") is None

        await stranger.send("/hapusdata")  # now it is true that nothing is kept
        again = (await stranger.next_reply())["text"]
        assert again == "Kami tidak menyimpan data apa pun tentang Anda."


# --- the keyed pseudonym --------------------------------------------------------------------


def test_pseudonym_is_stable_under_one_key_and_differs_under_another() -> None:
    one, same, other = (Pseudonyms("k" * 32), Pseudonyms("k" * 32), Pseudonyms("x" * 32))
    name = one("telegram:987654321012")
    assert name == same("telegram:987654321012")
    assert name != other("telegram:987654321012")
    assert name != one("telegram:987654321013")
    assert name.startswith("p:") and len(name) == 26 and int(name[2:], 16) >= 0
    assert "987654321012" not in name and "k" * 32 not in repr(one)
    with pytest.raises(ValueError):
        Pseudonyms("short")


def test_key_file_is_private_generated_once_and_kept(tmp_path: Path, caplog) -> None:
    caplog.set_level(logging.INFO)
    settings = make_settings(tmp_path, SIAGA_DB=str(tmp_path / "data" / "siaga.db"))
    key_file = tmp_path / "data" / "siaga.key"
    first = Pseudonyms.from_settings(settings)
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert stat.S_IMODE(key_file.parent.stat().st_mode) == 0o700
    key = key_file.read_text().strip()
    assert len(key) >= 32
    assert key not in caplog.text
    again = Pseudonyms.from_settings(settings)  # the next start reads the same key
    assert key_file.read_text().strip() == key
    assert again("telegram:1") == first("telegram:1")
    assert [p.name for p in key_file.parent.iterdir()] == ["siaga.key"]  # no temporary left

    os.chmod(key_file, 0o644)  # loosened by hand: made private again
    Pseudonyms.from_settings(settings)
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600

    given = make_settings(tmp_path / "g", SIAGA_PSEUDONYM_KEY="g" * 40)
    assert Pseudonyms.from_settings(given)("telegram:1") == Pseudonyms("g" * 40)("telegram:1")
    assert not given.secret_file.exists()

    key_file.write_text("too short\n")
    with pytest.raises(ConfigError, match="shorter than 32"):
        Pseudonyms.from_settings(settings)


async def test_unkeyed_pseudonyms_of_an_older_version_are_keyed_at_start(tmp_path: Path
                                                                        ) -> None:
    settings = make_settings(tmp_path)
    legacy = "erased:0a1b2c3d4e5f"  # sha256("telegram:<id>")[:12]: found by trying every ID
    async with open_services(settings, FakeClock()) as svc:
        async def seed(conn):  # type: ignore[no-untyped-def]
            await conn.execute(
                "INSERT INTO audit_log (at, actor, action, target, outcome, detail) VALUES "
                "('2026-01-01T00:00:00+00:00', ?, 'broadcast.send', 'x', 'allowed', '')",
                (legacy,))
            await conn.execute(
                "INSERT INTO group_link (area_code, channel, address, title, linked_by, "
                "linked_at) VALUES (?, 'telegram', '-100', '', ?, '2026-01-01')", (RT03, legacy))

        await svc.store.db.write(seed)
    async with open_services(settings, FakeClock()) as svc:
        keyed = svc.pseudonyms(legacy)
        conn = svc.store.db.conn
        async with conn.execute("SELECT actor FROM audit_log") as cur:
            assert [r[0] for r in await cur.fetchall()] == [keyed]
        async with conn.execute("SELECT linked_by FROM group_link") as cur:
            assert [r[0] for r in await cur.fetchall()] == [keyed]
    assert b"erased:0a1b2c3d4e5f" not in settings.db_path.read_bytes()


# --- logs -----------------------------------------------------------------------------------


def test_log_filter_names_people_by_pseudonym_in_lines_and_tracebacks() -> None:
    names = Pseudonyms("k" * 32)
    out = io.StringIO()
    handler = logging.StreamHandler(out)
    handler.setFormatter(logging.Formatter("%(levelname)s %(message)s"))
    handler.addFilter(PseudonymFilter(names))
    logger = logging.getLogger("test.erasure.filter")
    logger.addHandler(handler)
    logger.propagate = False
    try:
        try:
            raise RuntimeError("no chat for telegram:987654321012")
        except RuntimeError:
            logger.exception("handler failed for %s (%s)", "telegram:987654321012", "command")
        logger.warning("sendMessage chat_id=555000111222 refused; group -1001234567 fine; "
                       "update 123456789 done; console:demo left")
    finally:
        logger.removeHandler(handler)
    text = out.getvalue()
    assert "987654321012" not in text and "555000111222" not in text
    assert f"handler failed for {names('telegram:987654321012')} (command)" in text
    assert f"RuntimeError: no chat for {names('telegram:987654321012')}" in text
    assert f"chat_id={names('telegram:555000111222')}" in text
    assert "group -1001234567 fine; update 123456789 done" in text  # groups, update numbers
    assert names("console:demo") in text


async def test_logs_of_the_running_bot_name_people_by_pseudonym(
        fake: FakeBotAPI, tmp_path: Path, caplog) -> None:
    caplog.set_level(logging.INFO)
    async with running_bot(fake, tmp_path) as bot:
        user = fake.user(AHMAD)
        fake.block(AHMAD)  # the reply fails: the channel logs who blocked the bot
        await user.send("/start")
        await bot.settled()
        alias = bot.services.pseudonyms(f"telegram:{AHMAD}")
    assert f"{alias} blocked the bot" in caplog.text
    assert str(AHMAD) not in caplog.text
    logging.getLogger("bot").info("after: telegram:%d", AHMAD)  # the filter left with them
    assert f"after: telegram:{AHMAD}" in caplog.text
