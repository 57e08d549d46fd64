"""Command line: ``python -m bot run|console|migrate|areas|admin``."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import getpass
import logging
import signal
import sys
from collections.abc import Sequence
from pathlib import Path

from bot.app import maintenance_loop, open_services
from bot.areas import RT, RW, Areas, Kelurahan, load_areas
from bot.authz import Action, Role
from bot.broadcasting.workers import start_workers
from bot.channels.console import ConsoleChannel, ConsoleOutbox, language_from_locale
from bot.channels.running import LiveChannel, running
from bot.channels.telegram import TelegramChannel
from bot.channels.traits import telegram_traits
from bot.config import ConfigError, Settings, load_settings
from bot.content import ContentError
from bot.context import Services
from bot.core import Core
from bot.intake import Intake
from bot.render import Renderer
from bot.roles import revoke_role
from db.database import Database, private_file
from db.migrate import migrate
from db.repositories.roles import Grant

log = logging.getLogger("bot")

NO_CHANNEL = ("No channel configured: set TELEGRAM_BOT_TOKEN (see README, 'Connect a real "
              "Telegram bot'). Starting the console on the demo data.")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m bot", description="Siaga Warga chatbot")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("run", help="run every configured channel (console if none)")
    console = sub.add_parser("console", help="chat with the bot in this terminal")
    console.add_argument("--user", default="demo",
                         help="console user id (default: demo); the person is "
                              "console:<id>, e.g. --user 12345 is console:12345")
    console.add_argument("--verbose", action="store_true",
                         help="print log lines in the chat (default: to var/console.log)")
    sub.add_parser("migrate", help="apply database migrations")
    sub.add_parser("areas", help="list RW/RT units with their invite links")
    examples = sub.add_parser("examples", help="the example verdicts of the fact-check "
                              "library (from the seed): list them, or --delete them")
    examples.add_argument("--delete", action="store_true",
                          help="delete the examples nobody has reported to (the others stay)")
    admin = sub.add_parser("admin", help="manage roles")
    admin_sub = admin.add_subparsers(dest="admin_command", required=True)
    for verb in ("grant", "revoke"):
        p = admin_sub.add_parser(verb, help=f"{verb} a role")
        p.add_argument("role", choices=[r.value for r in Role if r != Role.RESIDENT])
        p.add_argument("identity", help="channel identity: telegram:<user id> for Telegram "
                       "(e.g. telegram:12345), console:<id> for the console started with "
                       "--user <id> (e.g. console:12345)")
        p.add_argument("--area", default="", help="RT or RW code for a coordinator, "
                       "kelurahan code for a health worker (see python -m bot areas)")
        if verb == "grant":
            p.add_argument("--name", default="",
                           help='name that signs their notices, e.g. "Pak Ahmad"')
    admin_sub.add_parser("list", help="list every role grant")
    return parser


def live_channels(services: Services, intake: Intake) -> list[LiveChannel]:
    """Every channel configured to receive updates, run together by ``run`` (a WhatsApp
    channel will be one more entry)."""
    found: list[LiveChannel] = []
    if services.settings.telegram.enabled:
        found.append(TelegramChannel.build(services, intake.core, intake))
    return found


async def _run(settings: Settings) -> int:
    log_file = None
    if not settings.telegram.enabled:  # the console will be the terminal: logs to a file
        log_file = console_log_file(settings)
        _log_to_file(log_file)
    async with open_services(settings) as services:
        core = Core(services)
        housekeeping = asyncio.create_task(maintenance_loop(services))
        try:
            intake = Intake(services, core)
            channels = live_channels(services, intake)
            if not channels:
                print(NO_CHANNEL, file=sys.stderr)
                if log_file is None:
                    log_file = console_log_file(settings)
                    _log_to_file(log_file)  # from now on: the chat is the terminal
                return await _console(services, core, "demo", str(log_file))
            loop = asyncio.get_running_loop()
            main = asyncio.current_task()
            stopping = False

            def stop() -> None:
                """First signal: stop and finish the updates in hand; later ones: ignored."""
                nonlocal stopping
                if not stopping:
                    stopping = True
                    main.cancel()  # type: ignore[union-attr]

            for sig in (signal.SIGINT, signal.SIGTERM):
                with contextlib.suppress(NotImplementedError):
                    loop.add_signal_handler(sig, stop)
            try:
                async with running(services, intake, channels) as live:
                    await live.wait()
            except asyncio.CancelledError:
                log.info("stopped")
            return 0
        finally:
            housekeeping.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await housekeeping


async def _console(services: Services, core: Core, user: str,
                   log_file: str | None = None) -> int:
    """One person at the keyboard; its outbox sender prints only their messages."""
    renderer = Renderer(services.content, "console", services.settings.default_language)
    console = ConsoleChannel(core, renderer, user, language_hint=language_from_locale(),
                             log_file=log_file)
    async with start_workers(services, [ConsoleOutbox(renderer, console=console)]):
        await console.run()
    return 0


def console_log_file(settings: Settings) -> Path:
    """Where the console's logs go unless --verbose: next to the database, under var/."""
    return settings.db_path.parent / "console.log"


def _log_to_file(path: Path) -> None:
    """Send every log line to ``path`` instead of the terminal (the console's chat); the
    file is private (0600, in a directory created 0700), like the database beside it."""
    private_file(path)
    handler = logging.FileHandler(path, encoding="utf-8")
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)


async def _console_cmd(settings: Settings, user: str, verbose: bool = False) -> int:
    log_file = None
    if not verbose:
        path = console_log_file(settings)
        _log_to_file(path)
        log_file = str(path)
    async with open_services(settings) as services:
        return await _console(services, Core(services), user, log_file)


async def _migrate(settings: Settings) -> int:
    db = await Database.open(settings.db_path)
    try:
        applied = await migrate(db)
    finally:
        await db.close()
    print(f"applied: {', '.join(applied)}" if applied else "database is up to date")
    return 0


def _areas(settings: Settings) -> int:
    areas = load_areas(settings.areas_file)
    username = settings.telegram.bot_username
    traits = telegram_traits(username or "<TELEGRAM_BOT_USERNAME>")
    for kel in areas.kelurahan:
        print(f"{kel.code}  Kelurahan {kel.name}, Kec. {kel.kecamatan}, {kel.kota}")
        for rw in kel.rws:
            print(f"  {rw.code}  RW {rw.number}")
            for rt in rw.rts:
                print(f"    {rt.code}  RT {rt.number}  {traits.invite_link(rt.invite)}")
    if not username:
        print("(set TELEGRAM_BOT_USERNAME to print complete links)")
    return 0


def _check_grant(role: str, identity: str, area: str, areas: Areas) -> str | None:
    if ":" not in identity or not identity.split(":", 1)[1]:
        return f"identity must look like telegram:12345, got {identity!r}"
    if role == Role.COORDINATOR:
        if not area:
            return "a coordinator needs --area <rt-or-rw-code> (see python -m bot areas)"
        if not isinstance(areas.get(area), RT | RW):
            return f"--area {area!r} is not an RT or RW code (see python -m bot areas)"
    elif role == Role.HEALTH_WORKER:
        if not area:
            return "a health worker needs --area <kelurahan-code> (see python -m bot areas)"
        if not isinstance(areas.get(area), Kelurahan):
            return f"--area {area!r} is not a kelurahan code (see python -m bot areas)"
    elif area:
        return f"--area applies to coordinators and health workers only, not to {role}"
    return None


async def _admin(settings: Settings, args: argparse.Namespace) -> int:
    async with open_services(settings) as services:
        return await admin(services, args)


async def admin(services: Services, args: argparse.Namespace) -> int:
    """``admin grant|revoke|list`` on open services (the CLI's own; tests pass a running
    bot's). A revocation also unlinks the person's groups and cancels their notices that
    have not gone out (``bot/roles.py``), and prints what it did."""
    actor = f"cli:{getpass.getuser()}"
    repo = services.store.reads.roles
    if args.admin_command == "list":
        if not await services.authz.authorize(actor, Action.ROLES_MANAGE, detail="list"):
            print("error: not permitted", file=sys.stderr)
            return 2
        people = services.store.reads.people
        for g in await repo.all():
            area = f" {g.area_code}" if g.area_code else ""
            person = await people.get(g.identity)
            if person is None:
                waiting = await people.waiting_for(g.identity)
                state = "  [not reachable yet: has not started the bot" + (
                    f"; {waiting} waiting message{'s' if waiting != 1 else ''}]"
                    if waiting else "]")
            elif not person.active:
                state = "  [not reachable: blocked the bot]"
            else:
                state = ""
            print(f"{g.identity}  {g.role}{area}  (by {g.granted_by}, "
                  f"{g.granted_at:%Y-%m-%d %H:%M} UTC){state}")
        return 0
    problem = _check_grant(args.role, args.identity, args.area, services.areas)
    if problem:
        print(f"error: {problem}", file=sys.stderr)
        return 2
    grant = Grant(args.role, args.area)
    detail = f"{args.admin_command} {args.role} {args.area} to {args.identity}".strip()
    if not await services.authz.authorize(actor, Action.ROLES_MANAGE, args.identity,
                                          detail=detail):
        print("error: not permitted", file=sys.stderr)
        return 2
    now = services.clock.now()
    if args.admin_command == "grant":
        changed = await services.store.write(
            lambda tx: tx.roles.grant(args.identity, grant, actor, now,
                                      args.name.strip()[:64]))
        print(("granted" if changed else "already had") + f": {args.identity} {args.role} "
              f"{args.area}".rstrip())
    else:
        revocation = await revoke_role(services, args.identity, grant, actor)
        print("\n".join(revocation.lines()))
    return 0


async def _examples(settings: Settings, delete: bool) -> int:
    """List the seed library's example verdicts, or delete those nobody reported to."""
    async with open_services(settings) as services:
        found = await services.store.reads.hoax.examples()
        if delete:
            gone = await services.store.write(lambda tx: tx.hoax.delete_examples())
            kept = len(found) - gone
            print(f"deleted {gone} example verdicts" + (
                f"; kept {kept} that residents reported to" if kept else ""))
            return 0
        for case in found:
            print(f"#{case.id}  {case.verdict:<13} {case.claim[:70]}")
        print(f"{len(found)} example verdicts (delete them with: python -m bot examples "
              "--delete)")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: "
                        "%(message)s")
    logging.getLogger("httpx").setLevel(logging.WARNING)
    logging.getLogger("apscheduler").setLevel(logging.WARNING)  # job-by-job chatter
    try:
        settings = load_settings()
        if args.command == "run":
            return asyncio.run(_run(settings))
        if args.command == "console":
            return asyncio.run(_console_cmd(settings, args.user, args.verbose))
        if args.command == "migrate":
            return asyncio.run(_migrate(settings))
        if args.command == "areas":
            return _areas(settings)
        if args.command == "examples":
            return asyncio.run(_examples(settings, args.delete))
        return asyncio.run(_admin(settings, args))
    except (ConfigError, ContentError) as exc:
        print(f"Configuration error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
