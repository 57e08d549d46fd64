"""The console channel driven by a script: same handlers, same database."""

from __future__ import annotations

import dataclasses
import io
import subprocess
import sys
from pathlib import Path

from bot.channels.console import ConsoleChannel
from bot.context import Services
from bot.core import Core
from bot.feature import Catalog, Feature
from bot.registry import FEATURES
from bot.render import Renderer
from db.repositories.people import PeopleRepo
from tests.conftest import ROOT


async def chat(services: Services, script: list[str], user: str = "ani") -> str:
    out = io.StringIO()
    console = ConsoleChannel(Core(services), Renderer(services.content, "console"), user,
                             stdin=io.StringIO("".join(f"{line}\n" for line in script)),
                             stdout=out)
    await console.run()
    return out.getvalue()


async def test_console_onboarding_by_numbers(services: Services) -> None:
    # language 1 (Bahasa Indonesia), agree, kelurahan 1, RW 02, RT 03, then the first topic
    out = await chat(services, ["#1", "#1", "#1", "#2", "#3", "#1", "#1"])
    assert "[#1] ✅ Bahasa Indonesia" in out
    assert "Anda terdaftar di RT 03 / RW 02, Cimuncang" in out
    assert "5M — Protokol Kesehatan" in out
    assert "Ditinjau 1 Desember 2026" in out
    assert "<b>" not in out and "**" not in out  # console text is plain
    person = await PeopleRepo(services.store.db.conn).get("console:ani")
    assert person is not None and person.area_code == "cimuncang-rw02-rt03"
    assert person.consent_version is not None


async def test_console_english_and_odd_input(services: Services) -> None:
    out = await chat(services, ["#2", "#9", "hello?", "/nonsense", "#2"], user="bob")
    assert "Before we start: your data" in out
    assert "Please choose one of the buttons below." in out  # "#9" and "hello?" re-ask
    assert "I don't know the command /nonsense." in out
    assert "That's fine. You can still read health information" in out  # "Not now"


def test_console_command_runs_as_a_program(tmp_path: Path) -> None:
    env = {"SIAGA_DB": str(tmp_path / "c.db"), "PATH": "/usr/bin:/bin", "LANG": "C.UTF-8",
           "SIAGA_CONFIG": str(ROOT / "config" / "settings.example.toml")}
    done = subprocess.run(
        [sys.executable, "-m", "bot", "console", "--user", "7"], input="#2\n/darurat\n/quit\n",
        capture_output=True, text=True, cwd=ROOT, env=env, timeout=60, check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "console:7" in done.stdout
    assert "Ambulance & medical emergencies: 119" in done.stdout


async def test_a_failing_handler_answers_with_the_menu_and_commits_nothing_half_done(
        services: Services) -> None:
    async def broken(ctx):
        ctx.person.area_code = "cimuncang-rw01-rt01"
        raise RuntimeError("bug")

    def with_broken_darurat(feature: Feature) -> Feature:
        commands = tuple(dataclasses.replace(c, handler=broken) if c.name == "darurat" else c
                         for c in feature.commands)
        return dataclasses.replace(feature, commands=commands)

    await chat(services, ["#1", "#1", "#1", "#2", "#3"], user="eve")  # registered in RW 02 RT 03
    patched = dataclasses.replace(services, features=Catalog(
        with_broken_darurat(f) for f in FEATURES))
    out = await chat(patched, ["/darurat"], user="eve")
    assert "terjadi kesalahan di pihak kami" in out
    assert "[#1] 📋 Info protokol kesehatan" in out
    person = await PeopleRepo(services.store.db.conn).get("console:eve")
    assert person.area_code == "cimuncang-rw02-rt03"


async def test_console_coordinator_reaches_every_button_of_a_list(services: Services) -> None:
    """A list of notices is several messages with buttons: each one can be pressed by number,
    in English too."""
    from db.repositories.roles import Grant, RolesRepo

    await chat(services, ["#2", "#1", "#1", "#2", "#3"], user="tom")  # English, RT 03 / RW 02
    now = services.clock.now()
    await services.store.db.write(lambda conn: RolesRepo(conn).grant(
        "console:tom", Grant("coordinator", "cimuncang-rw02-rt03"), "cli:test", now, "Tom"))
    # /broadcast, New notice, body, All residents, Regular, At a date and time, a time,
    # Submit; then My notices: the notice's own Cancel button is [#1], before the footer's
    out = await chat(services, ["/broadcast", "#1", "Clean-up on Sunday.", "#1", "#1", "#2",
                                "tomorrow 07:00", "#1", "/broadcast", "#2", "#1", "#1"],
                     user="tom")
    assert "Who should receive it?" in out
    assert "[#1] 📨 Submit for approval" in out
    assert "[#2] ✏️ New notice" in out  # the footer's buttons are numbered after it
    assert "Cancel notice #1?" in out
    assert "Notice #1 cancelled." in out
