"""Several consoles on one database work like several phones (issue 9): each shows exactly
the messages to its own person, with buttons pressed by ``#n``; ``/as`` switches person."""

from __future__ import annotations

import asyncio
import io
import re
import stat
import sys
from pathlib import Path

from bot.app import open_services
from bot.broadcasting.notices import notify
from bot.broadcasting.outbox import Sender
from bot.channels.console import ConsoleChannel, ConsoleOutbox, parse_line
from bot.context import Services
from bot.core import Core
from bot.events import Kind, button, say
from bot.render import Renderer
from db.repositories.roles import Grant
from tests.conftest import ROOT, make_settings

REGISTER = ["/start", "#1", "#1", "#1", "#2", "#3"]  # Bahasa Indonesia, agree, RT 03 / RW 02


class Phone:
    """One console (a person at a keyboard) with its own outbox sender, typed into line by
    line."""

    def __init__(self, services: Services, user: str) -> None:
        self.out = io.StringIO()
        renderer = Renderer(services.content, "console")
        self.console = ConsoleChannel(Core(services), renderer, user, stdout=self.out)
        self.sender = Sender(services, ConsoleOutbox(renderer, console=self.console),
                             worker=f"console-{user}", idle_poll=0.02)
        self.console.on_switch = self.sender.wake
        self.task: asyncio.Task[None] | None = None

    async def __aenter__(self) -> Phone:
        self.task = asyncio.create_task(self.sender.run())
        return self

    async def __aexit__(self, *exc: object) -> None:
        self.sender.stop(grace=0.1)
        await asyncio.wait_for(self.task, 5)  # type: ignore[arg-type]

    @property
    def text(self) -> str:
        return self.out.getvalue()

    async def type(self, *lines: str) -> None:
        for line in lines:
            await self.console.typed(line)

    async def shows(self, text: str) -> None:
        """Wait (up to 5 s) until ``text`` is on this phone's screen."""
        for _ in range(500):
            if text in self.text:
                return
            await asyncio.sleep(0.01)
        raise AssertionError(f"{self.console.identity} never showed {text!r}")


def incoming_for(screen: str) -> set[str]:
    """Whose messages a screen printed as they arrived."""
    return set(re.findall(r"📩 Pesan masuk untuk (console:\w+):", screen))


async def grant(services: Services, identity: str, role: str, area: str = "") -> None:
    now = services.clock.now()
    await services.store.write(lambda tx: tx.roles.grant(identity, Grant(role, area),
                                                         "cli:test", now, "Pak Tom"))


async def test_three_consoles_each_show_their_own_persons_messages_with_buttons(
        services: Services) -> None:
    async with Phone(services, "ani") as ani, Phone(services, "mod") as mod, \
            Phone(services, "tom") as tom:
        for phone in (ani, mod, tom):
            await phone.type(*REGISTER)
        await grant(services, "console:tom", "coordinator", "cimuncang-rw02-rt03")
        await grant(services, "console:mod", "moderator")
        # the coordinator writes a notice for everyone and submits it
        await tom.type("/siaran", "#1", "Kerja bakti hari Minggu.", "#1", "#1", "#1", "#1")
        assert "Pengumuman diajukan ✅" in tom.text
        # the review request reaches the moderator's console, with its buttons
        await mod.shows("✅ Setujui")
        assert "🛡 Pengumuman menunggu persetujuan (#1)" in mod.text
        approve = re.search(r"\[#(\d+)\] ✅ Setujui   \[#\d+\] ❌ Tolak", mod.text)
        assert approve is not None
        await mod.type(f"#{approve.group(1)}")  # pressed there, at the prompt
        assert "Pengumuman #1 disetujui dan akan dikirim sekarang." in mod.text
        # the notice reaches the resident's own console; the author hears of the approval
        await ani.shows("Kerja bakti hari Minggu.")
        await tom.shows("disetujui moderator")
        await mod.shows("📢 Pengumuman")  # the moderator lives in RT 03 too
        await asyncio.sleep(0.1)  # anything else would have arrived by now
    assert incoming_for(ani.text) == {"console:ani"}
    assert incoming_for(mod.text) == {"console:mod"}
    assert incoming_for(tom.text) == {"console:tom"}
    assert "menunggu persetujuan" not in tom.text + ani.text
    assert "[→" not in ani.text + mod.text + tom.text  # nobody's messages printed elsewhere


async def test_messages_wait_for_their_person_and_as_switches_to_them(
        services: Services) -> None:
    async with Phone(services, "ani") as ani, Phone(services, "mod") as mod:
        await ani.type(*REGISTER)
        await mod.type(*REGISTER)
    now = services.clock.now()

    async def queue(tx):  # type: ignore[no-untyped-def]
        await notify(tx, "console:ani", say("raw", value="Untuk Ani: air mati jam 10."), now)
        await notify(tx, "console:mod", say("raw", [[button("common.menu", "menu")]],
                                            value="Untuk Mod: rapat jam 19."), now)
    await services.store.write(queue)
    async with Phone(services, "mod") as one:  # one console plays both
        await one.type("/menu")
        await one.shows("Untuk Mod: rapat jam 19.")
        await asyncio.sleep(0.1)
        assert "Untuk Ani" not in one.text  # Ani's message waits for Ani
        assert re.search(r"\[#9\] 🏠 Menu utama", one.text)  # after the menu's eight
        await one.type("/as ani")
        await one.shows("Untuk Ani: air mati jam 10.")
        assert "Anda: console:ani." in one.text
    assert incoming_for(one.text) == {"console:mod", "console:ani"}
    assert one.text.index("Anda: console:ani") < one.text.index("Untuk Ani")


async def test_banner_names_the_identity_and_roles(services: Services) -> None:
    await grant(services, "console:tom", "coordinator", "cimuncang-rw02-rt03")
    await grant(services, "console:tom", "moderator")
    async with Phone(services, "tom") as tom:
        await tom.console.banner()
    assert "Anda: console:tom (koordinator RT 03 / RW 02, moderator)." in tom.text
    assert "Tekan tombol dengan #nomor" in tom.text


async def test_a_typed_number_answers_a_number_step_and_hash_presses(
        services: Services) -> None:
    async with Phone(services, "tom") as tom:
        await tom.type(*REGISTER)
        await grant(services, "console:tom", "coordinator", "cimuncang-rw02-rt03")
        # new notice, all residents, regular, repeating, monthly: "which day?" takes 1
        await tom.type("/siaran", "#1", "Posyandu.", "#1", "#1", "#3", "#3")
        asked = len(tom.text)
        assert "Tanggal berapa setiap bulan?" in tom.text[-200:]
        assert "[#1] 📅 Hari terakhir tiap bulan" in tom.text[-200:]  # a button numbered 1
        assert tom.text.endswith("[#2] ✖️ Batal\n")
        await tom.type("1")
        answer = tom.text[asked:]
        assert "Jam berapa (WIB)?" in answer  # day 1 taken, the draft goes on
        assert "dibatalkan" not in answer
        await tom.type(f"#{tom.text.rsplit('[#', 1)[1].split(']')[0]}")  # the last: Cancel
        assert "Pengumuman dibatalkan, tidak ada yang dikirim." in tom.text[asked:]


def test_parse_line_presses_only_with_the_marker() -> None:
    buttons = ["a", "b"]
    assert parse_line("#2", "console:x", "x", buttons, None).payload == "b"
    assert parse_line("# 1", "console:x", "x", buttons, None).payload == "a"
    typed = parse_line("2", "console:x", "x", buttons, None)
    assert typed.kind == Kind.TEXT and typed.text == "2"
    assert parse_line("#3", "console:x", "x", buttons, None).kind == Kind.TEXT  # no such


async def _console_process(env: dict[str, str], user: str, waits_for: str) -> str:
    """``python -m bot console --user <user>`` until ``waits_for`` is on its screen; its
    whole screen."""
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", "console", "--user", user, cwd=ROOT, env=env,
        stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT)
    assert proc.stdin is not None and proc.stdout is not None
    screen = b""
    try:
        async with asyncio.timeout(30):
            while waits_for.encode() not in screen:
                chunk = await proc.stdout.read(4096)
                assert chunk, screen.decode()
                screen += chunk
            await asyncio.sleep(0.3)  # anything else for anyone would have come by now
            proc.stdin.write(b"/quit\n")
            rest, _ = await proc.communicate()
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
    assert proc.returncode == 0
    return (screen + rest).decode()


async def test_two_console_processes_on_one_database_and_logs_in_a_file(
        tmp_path: Path) -> None:
    settings = make_settings(tmp_path)
    async with open_services(settings) as services:
        for user in ("ani", "budi"):
            async with Phone(services, user) as phone:
                await phone.type(*REGISTER)
        now = services.clock.now()

        async def queue(tx):  # type: ignore[no-untyped-def]
            await notify(tx, "console:ani", say("raw", value="Untuk Ani: air mati."), now)
            await notify(tx, "console:budi", say("raw", [[button("common.menu", "menu")]],
                                                 value="Untuk Budi: rapat."), now)
            await notify(tx, "console:budi", say("raw", value="Untuk Budi: kedua."), now)
            # one left "sending" by a console that died: logged when it is sent again
            await tx.outbox.claim("console", "console-gone", now, 1, False, ["ani"])
        await services.store.write(queue)
    env = {"SIAGA_DB": str(settings.db_path), "PATH": "/usr/bin:/bin", "LANG": "C.UTF-8",
           "SIAGA_CONFIG": str(ROOT / "config" / "settings.example.toml"),
           "SIAGA_AREAS_FILE": str(ROOT / "config" / "areas.demo.toml")}
    ani, budi = await asyncio.gather(_console_process(env, "ani", "Untuk Ani: air mati."),
                                     _console_process(env, "budi", "Untuk Budi: kedua."))
    assert "Untuk Budi" not in ani and "Untuk Ani" not in budi
    assert incoming_for(ani) == {"console:ani"} and incoming_for(budi) == {"console:budi"}
    assert re.search(r"Untuk Budi: rapat\.\n\[#\d+\] 🏠 Menu utama", budi)
    log = tmp_path / "console.log"
    assert f"/quit keluar.\nLog: {log}\n" in ani
    assert "INFO" not in ani + budi  # the log lines are in the file, not in the chat
    assert "messages were in flight at the last stop" in log.read_text()
    assert stat.S_IMODE(log.stat().st_mode) == 0o600  # private, like the database


async def test_a_first_console_start_creates_private_files(tmp_path: Path) -> None:
    """The console's log file comes first, but the new var/ is still 0700 and all in it 0600."""
    var = tmp_path / "var"
    env = {"SIAGA_DB": str(var / "siaga.db"), "PATH": "/usr/bin:/bin", "LANG": "C.UTF-8",
           "SIAGA_CONFIG": str(ROOT / "config" / "settings.example.toml"),
           "SIAGA_AREAS_FILE": str(ROOT / "config" / "areas.demo.toml")}
    await _console_process(env, "ani", "Bahasa Indonesia")
    assert stat.S_IMODE(var.stat().st_mode) == 0o700
    assert {p.name: stat.S_IMODE(p.stat().st_mode) for p in var.iterdir()
            if not p.name.endswith("-shm") and not p.name.endswith("-wal")} == {
        "console.log": 0o600, "siaga.db": 0o600, "siaga.key": 0o600}


async def test_a_message_arriving_at_the_prompt_is_printed_with_a_new_prompt(
        services: Services) -> None:
    async with Phone(services, "ani") as ani:
        await ani.type(*REGISTER)  # the menu: buttons #1 to #8
        ani.console.at_prompt = True  # waiting for a line, as in ``run``
        ani.out.write("\n> ")
        await services.store.write(lambda tx: notify(
            tx, "console:ani", say("raw", [[button("common.menu", "menu")]],
                                   value="Untuk Ani."), services.clock.now()))
        await ani.shows("Untuk Ani.")
        await asyncio.sleep(0.05)
        assert ani.text.endswith("\n> \n\n📩 Pesan masuk untuk console:ani:\nUntuk Ani.\n"
                                 "[#9] 🏠 Menu utama\n\n> ")
        ani.console.at_prompt = False
        pressed = len(ani.text)
        await ani.type("#9")  # pressed: the menu again
        assert ani.text[pressed:].startswith("\nMenu utama — RT 03 / RW 02, Cimuncang")
