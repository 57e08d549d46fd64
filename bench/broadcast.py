"""The broadcast scenarios: ``python -m bench broadcast|fanout|bcrash``.

No chat flow: the SQLite file is prepared before the bot starts (schema, N consented
residents spread over the demo RTs, one coordinator and one urgent notice to the whole
kelurahan, due now), so the bot's scheduler fires the notice as it starts and its outbox
sender fans it out. The fake server (:mod:`bench.broadcast_driver`, its own process) counts
what every recipient gets. ``fanout`` runs in this process, without a bot.

* broadcast: N recipients, 50 ms latency, the fake answers 429 above the configured rate;
  achieved send rate, 429 answers, the bot's peak RSS, wall time.
* fanout: the fan-out of one notice to 100,000 residents (outbox rows written and committed).
* bcrash: SIGKILL while the notice goes out, count the rows the bot had claimed (``sending``),
  start it again on the same file: lost and duplicated recipients.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import cProfile
import os
import shutil
import sqlite3
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench.common import (
    CHILDREN,
    OURS,
    PY,
    ROOT,
    Children,
    JSONDict,
    bot_command,
    bot_env,
    cpu_seconds,
    fmt,
    log_problems,
    next_event,
    send_command,
)
from bot.app import open_services
from bot.areas import load_areas
from bot.broadcasting.notices import fire
from bot.config import load_settings
from db.database import Database
from db.migrate import migrate
from db.repositories.notices import Notice, NoticesRepo
from db.repositories.roles import Grant, RolesRepo

SCENARIOS = ("broadcast", "fanout", "bcrash")
AREAS_FILE = ROOT / "config" / "areas.demo.toml"
AREA = "cimuncang"  # the demo kelurahan: every RT
AUTHOR_ID = 600_000_001  # the coordinator's chat; not among the recipients
FIRST_RECIPIENT = 710_000_001
CONSENT_VERSION = "2026-11-29"
BODY = ("Air Sungai Cidurian naik cepat. Warga di bantaran sungai diminta segera memindahkan "
        "barang berharga ke tempat tinggi dan bersiap mengungsi ke Balai Warga RW 02. "
        "Posko siaga: 0812-0000-0000.")

BROADCAST_MIN_PCT = 95.0  # of the configured send rate
MAX_RSS_MB = 200.0
FANOUT_MAX_S = 5.0


# --------------------------------------------------------------------------------------------
# the prepared database
# --------------------------------------------------------------------------------------------


def rt_codes() -> list[str]:
    return [rt.code for rt in load_areas(AREAS_FILE).rts_within(AREA)]


async def seed(conn: Any, *, recipients: int, now: datetime, first_id: int = FIRST_RECIPIENT,
               author_id: int = AUTHOR_ID) -> Notice:
    """Inside a write: the residents, their coordinator and a due urgent notice to all."""
    codes = rt_codes()
    stamp = now.isoformat()
    columns = ("identity, channel, address, language, consent_version, consent_at, area_code, "
               "notices_regular, active, created_at, last_seen_at")
    sql = f"INSERT INTO person ({columns}) VALUES (?, 'telegram', ?, 'id', ?, ?, ?, 1, 1, ?, ?)"
    # the author has agreed too but gave no RT, so the notice does not go to them
    await conn.execute(sql, (f"telegram:{author_id}", str(author_id), CONSENT_VERSION, stamp,
                             None, stamp, stamp))
    await conn.executemany(sql, (
        (f"telegram:{uid}", str(uid), CONSENT_VERSION, stamp, codes[i % len(codes)], stamp,
         stamp)
        for i, uid in enumerate(range(first_id, first_id + recipients))))
    # a notice to the whole kelurahan comes from the deployment's administrator (every
    # occurrence checks that its author may still send to its audience)
    await RolesRepo(conn).grant(f"telegram:{author_id}", Grant("admin"), "cli:bench", now)
    return await NoticesRepo(conn).create(Notice(
        author=f"telegram:{author_id}", author_lang="id", signature="Siaga Warga — Admin",
        segment="all", category="urgent", body=BODY, repeat="now", status="active",
        created_at=now, updated_at=now, areas=(AREA,), next_run_at=now))


async def prepare_db(path: Path, recipients: int) -> JSONDict:
    started = time.perf_counter()
    db = await Database.open(path)
    try:
        await migrate(db)
        now = datetime.now(UTC)
        notice = await db.write(lambda conn: seed(conn, recipients=recipients, now=now))
    finally:
        await db.close()
    return {"notice_id": notice.id, "seed_s": round(time.perf_counter() - started, 2)}


def outbox_status(path: Path) -> dict[str, int]:
    """Outbox rows by status (notice rows only), read straight from the file."""
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=10)
    try:
        rows = conn.execute("SELECT status, COUNT(*) FROM outbox WHERE kind = 'notice' "
                            "GROUP BY status").fetchall()
    finally:
        conn.close()
    return {status: n for status, n in rows}


# --------------------------------------------------------------------------------------------
# the bot process
# --------------------------------------------------------------------------------------------


def _status_kb(pid: int) -> tuple[int, int] | None:
    """(VmHWM, VmRSS) in kB of a live process."""
    try:
        text = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return None
    found = {}
    for line in text.splitlines():
        key, _, value = line.partition(":")
        if key in ("VmHWM", "VmRSS"):
            found[key] = int(value.split()[0])
    return (found.get("VmHWM", 0), found.get("VmRSS", 0)) if found else None


class RssWatch:
    """Samples the bot's peak resident set (VmHWM) while it runs."""

    def __init__(self) -> None:
        self.peak_kb = 0
        self.samples = 0

    def sample(self, proc: asyncio.subprocess.Process | None) -> None:
        if proc is None or proc.returncode is not None:
            return
        got = _status_kb(proc.pid)
        if got is not None:
            self.peak_kb = max(self.peak_kb, got[0], got[1])
            self.samples += 1

    async def watch(self, get: Any, every: float = 0.25) -> None:
        while True:
            self.sample(get())
            await asyncio.sleep(every)

    @property
    def peak_mb(self) -> float | None:
        return round(self.peak_kb / 1024.0, 1) if self.samples else None


def notice_bot_env(opts: argparse.Namespace, url: str, token: str, db: Path) -> dict[str, str]:
    env = bot_env(url, token, db, opts.max_concurrent)
    env.update(
        TELEGRAM_SEND_RATE=f"{opts.send_rate:g}",
        TELEGRAM_PER_CHAT_INTERVAL="1.0",
        SIAGA_QUIET_START="00:00",  # the same start and end: no quiet hours
        SIAGA_QUIET_END="00:00",
    )
    return env


async def run_notice_bot(opts: argparse.Namespace, scenario: str, *, recipients: int,
                         rate_limit: float | None, kill_fraction: float | None = None
                         ) -> JSONDict:
    """Prepare the file, start the fake server and the bot, and see the notice go out."""
    tmp = Path(tempfile.mkdtemp(prefix=f"siaga-bench-{scenario}-"))
    db_path = tmp / "siaga.db"
    seeded = await prepare_db(db_path, recipients)
    expected = recipients / opts.send_rate
    deadline = 3 * expected + 120.0
    driver_cmd = [
        PY, "-m", "bench.broadcast_driver", "--recipients", str(recipients),
        "--first-id", str(FIRST_RECIPIENT), "--author-id", str(AUTHOR_ID),
        "--latency-ms", str(opts.latency_ms), "--deadline", str(deadline),
        "--check-rate", f"{opts.send_rate:g}",
    ]
    if rate_limit:
        driver_cmd += ["--rate-limit", f"{rate_limit:g}"]
    if kill_fraction is not None:
        driver_cmd += ["--kill-fraction", str(kill_fraction)]
    profile = None
    if opts.profile and kill_fraction is None:
        opts.profile.mkdir(parents=True, exist_ok=True)
        profile = opts.profile / f"{scenario}.prof"
    print(f"  {scenario}: {recipients} recipients seeded in {seeded['seed_s']:.1f} s; bot at "
          f"TELEGRAM_SEND_RATE={opts.send_rate:g}, fake server latency {opts.latency_ms:g} ms, "
          f"429 above {f'{rate_limit:g}/s' if rate_limit else 'never'}; time limit "
          f"{deadline:.0f} s ...", flush=True)
    started = time.monotonic()
    driver = await CHILDREN.spawn(driver_cmd, log=tmp / "driver.log",
                                  env={**os.environ, "PYTHONUNBUFFERED": "1"}, pipe=True)
    bot: asyncio.subprocess.Process | None = None
    result: JSONDict | None = None
    notes: list[str] = []
    rss = RssWatch()
    watcher: asyncio.Task[None] | None = None
    cpu = [0.0, 0.0]
    crash: JSONDict = {}
    t_bot = None
    fake_cpu = None
    stop_s = exit_code = None
    try:
        ready = await next_event(driver, None, 60.0)
        if not ready or ready.get("event") != "ready":
            raise RuntimeError(f"fake server did not start (see {tmp / 'driver.log'})")
        env = notice_bot_env(opts, ready["url"], ready["token"], db_path)
        t_bot = time.monotonic()
        bot = await CHILDREN.spawn(bot_command(OURS, profile), log=tmp / "bot.log", env=env)
        watcher = asyncio.create_task(rss.watch(lambda: bot))
        limit = time.monotonic() + deadline + 60.0
        while time.monotonic() < limit:
            event = await next_event(driver, bot, limit - time.monotonic())
            if event is None:
                notes.append("driver gave no result")
                break
            name = event.get("event")
            if name == "result":
                result = event
                rss.sample(bot)
                _add(cpu, cpu_seconds(bot))
                fake_cpu = cpu_seconds(driver)
                break
            if name == "kill" and bot is not None:
                rss.sample(bot)
                _add(cpu, cpu_seconds(bot))
                await CHILDREN.kill(bot)  # SIGKILL, by pid
                t_kill = time.monotonic()
                at_kill = outbox_status(db_path)
                crash = {"delivered_at_kill_event": event.get("delivered"),
                         "in_flight": at_kill.get("sending", 0), "outbox_at_kill": at_kill}
                print(f"    killed the bot (SIGKILL) after {event.get('delivered')} of "
                      f"{recipients} recipients had the notice; {crash['in_flight']} outbox "
                      "rows were 'sending'; restarting", flush=True)
                bot = await CHILDREN.spawn(bot_command(OURS, None), log=tmp / "bot.log",
                                           env=env)
                crash["restart_spawn_s"] = round(time.monotonic() - t_kill, 3)
                send_command(driver, "restarted")
            elif name == "bot_exit":
                notes.append(f"bot exited on its own with code {event.get('code')}")
                send_command(driver, "quit")  # the driver reports what it has
                bot = None
    finally:
        if watcher is not None:
            watcher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await watcher
        if bot is not None:
            t_stop = time.monotonic()
            exit_code = await Children.stop(bot, grace=30.0 if profile else 15.0)
            stop_s = round(time.monotonic() - t_stop, 2)
        send_command(driver, "quit")
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(driver.wait(), 15.0)
        await CHILDREN.kill(driver)
        CHILDREN.close_files()
    if result is None:
        tail = (tmp / "bot.log").read_text(errors="replace")[-2000:]
        raise RuntimeError(f"{scenario}: no result ({'; '.join(notes)}; logs in {tmp}); "
                           f"bot log tail:\n{tail}")
    result.pop("event", None)
    t_first, t_last = result.pop("t_first", None), result.pop("t_last", None)
    result.update(crash)
    result["configured_rate"] = opts.send_rate
    rate = result.get("send_rate")
    result["ratio_to_configured"] = round(rate / opts.send_rate, 3) if rate else None
    result["pct_of_configured"] = round(100.0 * rate / opts.send_rate, 1) if rate else None
    result["peak_rss_mb"] = rss.peak_mb
    # on Linux time.monotonic() is one clock for every process
    result["bot_start_to_first_s"] = round(t_first - t_bot, 3) if t_first and t_bot else None
    result["bot_start_to_last_s"] = round(t_last - t_bot, 3) if t_last and t_bot else None
    result["wall_s"] = round(time.monotonic() - started, 1)
    result["stop_s"], result["exit_code"] = stop_s, exit_code
    result["cpu_s"] = {"bot": round(cpu[0], 1), "bot_main_thread": round(cpu[1], 1),
                       "fake": None if fake_cpu is None else round(fake_cpu[0], 1)}
    result["seed_s"] = seeded["seed_s"]
    with contextlib.suppress(sqlite3.Error):
        result["outbox_at_end"] = outbox_status(db_path)
    result["bot_log"] = log_problems(tmp / "bot.log")
    if notes:
        result["notes"] = notes
        result["bot_log_tail"] = (tmp / "bot.log").read_text(errors="replace")[-1500:]
    if profile is not None:
        result["profile"] = str(profile)
    if opts.keep_logs:
        result["logs"] = str(tmp)
    else:
        shutil.rmtree(tmp, ignore_errors=True)
    _print_run(scenario, result)
    return result


def _add(total: list[float], sample: tuple[float, float] | None) -> None:
    if sample is not None:
        total[0] += sample[0]
        total[1] += sample[1]


def _print_run(scenario: str, r: JSONDict) -> None:
    per = r.get("per_second") or {}
    print(f"    -> {r['delivered']}/{r['recipients']} recipients reached, first to last "
          f"{fmt(r.get('first_to_last_s'))} s: {fmt(r.get('send_rate'))} messages/s = "
          f"{fmt(r.get('ratio_to_configured'), '.3f')} x the configured rate "
          f"{r['configured_rate']:g}/s (per second min {fmt(per.get('min'), 'd')}, median "
          f"{fmt(per.get('p50'), 'd')}, max {fmt(per.get('max'), 'd')}); 429 answers "
          f"{r['limited_429']}", flush=True)
    print(f"    .. peak RSS {fmt(r.get('peak_rss_mb'))} MB; bot start to first recipient "
          f"{fmt(r.get('bot_start_to_first_s'), '.2f')} s, to last "
          f"{fmt(r.get('bot_start_to_last_s'), '.1f')} s; run {r['wall_s']:.1f} s; SIGTERM to "
          f"exit {fmt(r.get('stop_s'), '.2f')} s (code {r.get('exit_code')}); CPU seconds "
          f"{r['cpu_s']['bot']} (main thread {r['cpu_s']['bot_main_thread']}), fake server "
          f"{r['cpu_s']['fake']}", flush=True)
    busiest = r.get("busiest_second") or {}
    would = next(iter((r.get("would_limit_at") or {}).values()), {})
    print(f"    .. busiest second at the fake: {busiest.get('all_send_calls')} send calls, "
          f"{busiest.get('recipient_messages')} to recipients; 429s by method "
          f"{r.get('limited_by_method') or {}}; a {r['configured_rate']:g}/s bucket would "
          f"refuse {would.get('all_send_calls')} of the calls that went through "
          f"({would.get('recipient_messages')} counting recipients' messages alone)",
          flush=True)
    author = r.get("author") or {}
    print(f"    .. author: {author.get('messages')} messages, {author.get('edits')} progress "
          f"edits, report {fmt(author.get('report_after_last_s'), '.2f')} s after the last "
          f"recipient; outbox at the end {r.get('outbox_at_end')}", flush=True)
    if scenario == "bcrash":
        print(f"    .. lost {r['lost']}, duplicated {r['duplicated']} (in flight at the kill "
              f"{r.get('in_flight')}); first message {fmt(r.get('restart_to_first_s'), '.2f')}"
              " s after the restart", flush=True)
    elif r.get("duplicated"):
        print(f"    !! {r['duplicated']} recipients got the notice more than once", flush=True)
    if r.get("stopped"):
        print(f"    !! stopped: {r['stopped']}", flush=True)
    problems = r["bot_log"]
    if problems["errors"] or problems["tracebacks"] or problems["warnings"]:
        print(f"    !! bot log: {problems['errors']} errors, {problems['warnings']} warnings, "
              f"{problems['tracebacks']} tracebacks; first: {problems['first'][:2]}",
              flush=True)
    for note in r.get("notes", []):
        print(f"    !! {note}", flush=True)
    if r.get("bot_log_tail"):
        tail = r["bot_log_tail"].strip().splitlines()[-5:]
        print("    !! bot log tail:\n" + "\n".join(f"       {t}" for t in tail), flush=True)


# --------------------------------------------------------------------------------------------
# scenarios
# --------------------------------------------------------------------------------------------


async def broadcast(opts: argparse.Namespace) -> JSONDict:
    n = opts.recipients
    limit = opts.server_limit if opts.server_limit is not None else opts.send_rate
    print(f"broadcast: one urgent notice to {n} residents at TELEGRAM_SEND_RATE="
          f"{opts.send_rate:g}; the fake server answers 429 above {limit:g} send calls/s",
          flush=True)
    ours = await run_notice_bot(opts, "broadcast", recipients=n, rate_limit=limit or None)
    pct, rss = ours.get("pct_of_configured"), ours.get("peak_rss_mb")
    ok = (pct is not None and pct >= BROADCAST_MIN_PCT and ours["limited_429"] == 0
          and rss is not None and rss < MAX_RSS_MB and ours["lost"] == 0)
    return {
        "ours": ours,
        "baseline": f"configured rate {opts.send_rate:g}/s",
        "target": f">= {BROADCAST_MIN_PCT:g}% of the configured rate, 0 x 429, peak RSS < "
                  f"{MAX_RSS_MB:g} MB",
        "pass": ok,
    }


async def bcrash(opts: argparse.Namespace) -> JSONDict:
    n = opts.recipients
    fraction = round(opts.rng.uniform(0.2, 0.8), 3)
    print(f"bcrash: one urgent notice to {n} residents at TELEGRAM_SEND_RATE="
          f"{opts.send_rate:g}; SIGKILL after {fraction:.0%} have it, then restart", flush=True)
    ours = await run_notice_bot(opts, "bcrash", recipients=n, rate_limit=None,
                                kill_fraction=fraction)
    in_flight = ours.get("in_flight")
    ok = ours["lost"] == 0 and in_flight is not None and ours["duplicated"] <= in_flight
    return {
        "ours": ours,
        "kill_fraction": fraction,
        "target": "0 lost; duplicated <= rows in flight ('sending') at the kill",
        "pass": ok,
    }


def _folder_mb(path: Path) -> float:
    return sum(entry.stat().st_size for entry in os.scandir(path)) / 1e6


async def fanout(opts: argparse.Namespace) -> JSONDict:
    """Fan one notice out to N residents in this process: outbox rows written, committed."""
    n = opts.fanout_people
    print(f"fanout: one notice to {n} residents, in this process (no bot): "
          "bot.broadcasting.notices.fire inside one database write", flush=True)
    tmp = Path(tempfile.mkdtemp(prefix="siaga-bench-fanout-"))
    settings = load_settings({
        "SIAGA_CONFIG": str(ROOT / "config" / "settings.example.toml"),
        "SIAGA_DB": str(tmp / "siaga.db"),
        "SIAGA_AREAS_FILE": str(AREAS_FILE),
        "SIAGA_QUIET_START": "00:00",
        "SIAGA_QUIET_END": "00:00",
    })
    profiler = cProfile.Profile() if opts.profile else None
    try:
        async with open_services(settings) as services:
            now = services.clock.now()
            t0 = time.perf_counter()
            notice = await services.store.db.write(lambda conn: seed(conn, recipients=n, now=now))
            seed_s = time.perf_counter() - t0
            if profiler is not None:
                profiler.enable()
            t0 = time.perf_counter()
            run = await services.store.write(lambda tx: fire(services, tx, notice, now, now))
            fire_s = time.perf_counter() - t0
            if profiler is not None:
                profiler.disable()
            async with services.store.db.conn.execute(
                    "SELECT kind, status, COUNT(*) FROM outbox GROUP BY kind, status") as cur:
                rows = {f"{k}/{s}": c for k, s, c in await cur.fetchall()}
        size_mb = _folder_mb(tmp)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    total = sum(rows.values())
    result: JSONDict = {
        "persons": n, "fire_s": round(fire_s, 3), "rows": total,
        "rows_per_s": round(total / fire_s) if fire_s else None,
        "outbox": rows, "run_total": run.total, "seed_s": round(seed_s, 2),
        "db_mb": round(size_mb, 1),
        "rows_ok": total == n + 1 and rows.get("notice/queued") == n
        and rows.get("progress/queued") == 1,
    }
    if profiler is not None:
        opts.profile.mkdir(parents=True, exist_ok=True)
        path = opts.profile / "fanout.prof"
        profiler.dump_stats(path)
        result["profile"] = str(path)
    print(f"    -> {total} outbox rows ({rows}) written and committed in {fire_s:.3f} s: "
          f"{fmt(result['rows_per_s'], 'd')} rows/s; expected {n} + 1 progress row: "
          f"{'ok' if result['rows_ok'] else 'WRONG'}; seeding took {seed_s:.1f} s", flush=True)
    return {
        "ours": result,
        "target": f"< {FANOUT_MAX_S:g} s, one row per resident (+1 progress row)",
        "pass": fire_s < FANOUT_MAX_S and result["rows_ok"],
    }


RUNNERS = {"broadcast": broadcast, "fanout": fanout, "bcrash": bcrash}


# --------------------------------------------------------------------------------------------
# report
# --------------------------------------------------------------------------------------------


DEFINITIONS = (
    "Broadcast scenarios. msgs/s: recipients reached per second, (N - 1) / time from the "
    "first to the last recipient's first message as they reach the fake server (the author's "
    "progress message, its edits and the report are not counted); x config: that over the "
    "configured TELEGRAM_SEND_RATE (the baseline). 429: send calls the fake server refused "
    "(token bucket of rate/10 calls; every send method counts, edits too). peak RSS: the "
    "bot's VmHWM. wall s: bot start to the last recipient. fanout: msgs/s is outbox rows "
    "written per second, wall s the write of the fan-out until committed. lost: recipients "
    "without the notice; dup: recipients who got it more than once; in-flight: outbox rows "
    "'sending' in the file at the kill."
)


def table(results: dict[str, JSONDict]) -> str:
    head = (f"{'scenario':<9} {'recipients':>10} {'msgs/s':>9} {'x config':>8} {'429':>5} "
            f"{'RSS MB':>7} {'wall s':>7} {'lost':>5} {'dup':>5} {'in-flight':>9}  target")
    lines = [head, "-" * len(head)]
    for name, res in results.items():
        if res.get("error"):
            lines.append(f"{name:<9} FAILED: {str(res['error']).splitlines()[0][:100]}")
            continue
        r = res.get("ours") or {}
        verdict = "-" if res.get("pass") is None else ("PASS" if res["pass"] else "MISS")
        if name == "fanout":
            lines.append(
                f"{name:<9} {r['persons']:>10} {fmt(r['rows_per_s'], 'd'):>9} {'':>8} "
                f"{'':>5} {'':>7} {fmt(r['fire_s'], '.2f'):>7} {'':>5} {'':>5} {'':>9}  "
                f"{verdict}  ({res['target']})")
            continue
        crashed = name == "bcrash"
        lines.append(
            f"{name:<9} {r['recipients']:>10} {fmt(r.get('send_rate')):>9} "
            f"{fmt(r.get('ratio_to_configured'), '.3f'):>8} {r['limited_429']:>5} "
            f"{fmt(r.get('peak_rss_mb')):>7} {fmt(r.get('bot_start_to_last_s')):>7} "
            f"{r['lost']:>5} {r['duplicated']:>5} "
            f"{fmt(r.get('in_flight') if crashed else None, 'd'):>9}  "
            f"{verdict}  ({res['target']})")
    return "\n".join(lines)
