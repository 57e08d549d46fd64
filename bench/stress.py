"""The stress scenarios: ``python -m bench flood|wave``. Each runs our bot twice, quiet (the
baseline) and under load, and prints the two side by side.

* flood: residents go through the surge flow at ``--flood-rate`` updates/s (fake server
  :mod:`bench.driver`, scenario ``flood``); in the second run one more account sends
  ``--flood-updates`` updates as fast as the bot takes them. The residents' reply latency,
  quiet and flooded.
* wave: a coordinator submits a notice and a moderator approves it (fake server
  :mod:`bench.wave_driver`), in the second run while ``--wave-residents`` residents join
  through the RT's invite link within ``--wave-seconds``. The delay from submission to the
  moderator's review request, and from approval to the first resident reached.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import shutil
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from bench.broadcast import AREAS_FILE, RssWatch
from bench.common import (
    CHILDREN,
    OURS,
    PY,
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
from bench.driver import FLOW
from bench.wave_driver import JOIN
from bot.areas import load_areas
from bot.handlers.onboarding import CONSENT_VERSION
from db.database import Database
from db.migrate import migrate
from db.repositories.people import Conversation, PeopleRepo, Person
from db.repositories.roles import Grant, RolesRepo

SCENARIOS = ("flood", "wave")

FLOOD_MAX_RATIO = 1.5  # flooded p99 over quiet p99
FLOOD_MAX_P99_MS = 300.0
WAVE_MAX_S = 3.0

COORDINATOR_ID = 600_000_101  # coordinator of the invite's RT; no RT of their own
MODERATOR_ID = 600_000_201
FIRST_AUDIENCE = 720_000_001  # residents of the RT before the run


# --------------------------------------------------------------------------------------------
# one bot run against one fake-server process
# --------------------------------------------------------------------------------------------


async def run_driven(opts: argparse.Namespace, scenario: str, run: str, driver_cmd: list[str],
                     *, tmp: Path, deadline: float, env: dict[str, str] | None = None
                     ) -> JSONDict:
    """Start the fake server (``driver_cmd``), then our bot on ``tmp/siaga.db``; the driver's
    result with the bot's CPU time, peak RSS and log problems."""
    label = f"{scenario}/{run}"
    started = time.monotonic()
    driver = await CHILDREN.spawn(driver_cmd, log=tmp / "driver.log",
                                  env={**os.environ, "PYTHONUNBUFFERED": "1"}, pipe=True)
    bot: asyncio.subprocess.Process | None = None
    result: JSONDict | None = None
    notes: list[str] = []
    rss = RssWatch()
    watcher: asyncio.Task[None] | None = None
    bot_cpu = fake_cpu = None
    stop_s = exit_code = None
    profile = None
    if opts.profile:
        opts.profile.mkdir(parents=True, exist_ok=True)
        profile = opts.profile / f"{scenario}-{run}.prof"
    try:
        ready = await next_event(driver, None, 60.0)
        if not ready or ready.get("event") != "ready":
            raise RuntimeError(f"fake server did not start (see {tmp / 'driver.log'})")
        bot_env_ = bot_env(ready["url"], ready["token"], tmp / "siaga.db", opts.max_concurrent)
        bot_env_.update(env or {})
        bot = await CHILDREN.spawn(bot_command(OURS, profile), log=tmp / "bot.log",
                                   env=bot_env_)
        watcher = asyncio.create_task(rss.watch(lambda: bot))
        limit = time.monotonic() + deadline + 90.0
        while time.monotonic() < limit:
            event = await next_event(driver, bot, limit - time.monotonic())
            if event is None:
                notes.append("driver gave no result")
                break
            if event.get("event") == "result":
                result = event
                rss.sample(bot)
                bot_cpu, fake_cpu = cpu_seconds(bot), cpu_seconds(driver)
                break
            if event.get("event") == "bot_exit":
                notes.append(f"bot exited on its own with code {event.get('code')}")
                bot = None
                send_command(driver, "quit")  # the driver reports what it has
    finally:
        if watcher is not None:
            watcher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await watcher
        if bot is not None:
            t_stop = time.monotonic()
            exit_code = await Children.stop(bot, grace=30.0 if profile else 10.0)
            stop_s = round(time.monotonic() - t_stop, 2)
        send_command(driver, "quit")
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(driver.wait(), 15.0)
        await CHILDREN.kill(driver)
        CHILDREN.close_files()
    if result is None:
        tail = (tmp / "bot.log").read_text(errors="replace")[-2000:]
        raise RuntimeError(f"{label}: no result ({'; '.join(notes)}; logs in {tmp}); "
                           f"bot log tail:\n{tail}")
    result.pop("event", None)
    result["run"] = run
    result["wall_s"] = round(time.monotonic() - started, 1)
    result["peak_rss_mb"] = rss.peak_mb
    result["stop_s"], result["exit_code"] = stop_s, exit_code  # SIGTERM to exit
    result["cpu_s"] = {"bot": None if bot_cpu is None else round(bot_cpu[0], 1),
                       "bot_main_thread": None if bot_cpu is None else round(bot_cpu[1], 1),
                       "fake": None if fake_cpu is None else round(fake_cpu[0], 1)}
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
    return result


def _print_common(r: JSONDict) -> None:
    cpu = r.get("cpu_s") or {}
    print(f"    .. peak RSS {fmt(r.get('peak_rss_mb'))} MB; CPU seconds bot {cpu.get('bot')} "
          f"(main thread {cpu.get('bot_main_thread')}), fake server {cpu.get('fake')}; SIGTERM "
          f"to exit {fmt(r.get('stop_s'), '.2f')} s (code {r.get('exit_code')}); run "
          f"{r['wall_s']:.1f} s", flush=True)
    problems = r["bot_log"]
    if problems["errors"] or problems["tracebacks"]:
        print(f"    !! bot log: {problems['errors']} errors, {problems['tracebacks']} "
              f"tracebacks; first: {problems['first'][:2]}", flush=True)
    for key in ("error", "stopped"):
        if r.get(key):
            print(f"    !! {r[key]}", flush=True)
    for note in r.get("notes", []):
        print(f"    !! {note}", flush=True)
    if r.get("bot_log_tail"):
        tail = r["bot_log_tail"].strip().splitlines()[-5:]
        print("    !! bot log tail:\n" + "\n".join(f"       {t}" for t in tail), flush=True)


# --------------------------------------------------------------------------------------------
# flood
# --------------------------------------------------------------------------------------------


async def _flood_run(opts: argparse.Namespace, run: str, flood_updates: int,
                     deadline: float) -> JSONDict:
    n = opts.flood_residents
    tmp = Path(tempfile.mkdtemp(prefix=f"siaga-bench-flood-{run}-"))
    cmd = [
        PY, "-m", "bench.driver", "--scenario", "flood", "--residents", str(n),
        "--rule", "button", "--rate", f"{opts.flood_rate:g}",
        "--latency-ms", f"{opts.latency_ms:g}", "--invite", opts.invite,
        "--deadline", f"{deadline:g}", "--flood", str(flood_updates),
        "--flood-window", str(opts.flood_window),
    ]
    what = f"+ a flooder sending {flood_updates}" if flood_updates else "no flooder"
    print(f"  flood/{run}: {n} residents x {len(FLOW)} steps at {opts.flood_rate:g} updates/s, "
          f"{what}; time limit {deadline:.0f} s ...", flush=True)
    r = await run_driven(opts, "flood", run, cmd, tmp=tmp, deadline=deadline)
    lat = r["latency_ms"]
    print(f"    -> {r['answered']}/{r['updates_total']} resident updates answered in "
          f"{fmt(r['elapsed_s'])} s ({fmt(r.get('offered_per_s_actual'))}/s offered), latency "
          f"p50 {fmt(lat['p50'])} ms, p99 {fmt(lat['p99'])} ms, max {fmt(lat['max'])} ms",
          flush=True)
    f = r.get("flood") or {}
    if f.get("updates"):
        during = f.get("resident_latency_during_ms") or {}
        texts = "; ".join(f"{t['n']} x {t['text'][:40]!r}" for t in f.get("texts_to_flooder")
                          or [])
        print(f"    .. flooder: {f.get('fetched')}/{f.get('updates')} of its updates taken "
              f"by the bot in {fmt(f.get('fetch_s'), '.2f')} s; {f.get('messages_to_flooder')} "
              f"messages to it ({texts}); residents' updates queued meanwhile: "
              f"{during.get('n')}, p50 {fmt(during.get('p50'))} ms, p99 "
              f"{fmt(during.get('p99'))} ms", flush=True)
    _print_common(r)
    return r


async def flood(opts: argparse.Namespace) -> JSONDict:
    n, updates = opts.flood_residents, opts.flood_updates
    expected = n * len(FLOW) / opts.flood_rate
    deadline = expected + 25.0
    print(f"flood: {n} residents x {len(FLOW)} steps offered at {opts.flood_rate:g} updates/s "
          f"(a resident's next step only after the reply), Bot API latency "
          f"{opts.latency_ms:g} ms; quiet, then with one account sending {updates} updates as "
          f"fast as the bot takes them ({opts.flood_window} kept waiting)", flush=True)
    quiet = await _flood_run(opts, "quiet", 0, deadline)
    flooded = await _flood_run(opts, "flooded", updates, deadline)
    q99, f99 = quiet["latency_ms"]["p99"], flooded["latency_ms"]["p99"]
    ratio = round(f99 / q99, 3) if f99 is not None and q99 else None
    ok = (quiet["finished"] and flooded["finished"] and ratio is not None
          and ratio <= FLOOD_MAX_RATIO and f99 is not None and f99 <= FLOOD_MAX_P99_MS)
    res: JSONDict = {
        "quiet": quiet, "flooded": flooded, "p99_ratio": ratio,
        "target": f"flooded p99 <= {FLOOD_MAX_RATIO:g} x quiet p99 and <= "
                  f"{FLOOD_MAX_P99_MS:g} ms, every resident answered",
        "pass": ok,
    }
    print(f"    => residents' p99 {fmt(f99)} ms flooded vs {fmt(q99)} ms quiet = "
          f"{fmt(ratio, '.2f')} x; {_verdict(ok)} ({res['target']})", flush=True)
    return res


# --------------------------------------------------------------------------------------------
# wave
# --------------------------------------------------------------------------------------------


def invite_rt(invite: str) -> str:
    rt = load_areas(AREAS_FILE).by_invite(invite)
    if rt is None:
        raise RuntimeError(f"invite {invite!r} is not in {AREAS_FILE}")
    return rt.code


async def prepare_wave_db(path: Path, audience: int, rt_code: str) -> None:
    """The coordinator of ``rt_code``, a moderator (both consented, no RT of their own) and
    ``audience`` consented residents of the RT."""
    db = await Database.open(path)
    try:
        await migrate(db)
        now = datetime.now(UTC)

        async def seed(conn: object) -> None:
            people, roles = PeopleRepo(conn), RolesRepo(conn)  # type: ignore[arg-type]
            chats = [(COORDINATOR_ID, None), (MODERATOR_ID, None),
                     *((FIRST_AUDIENCE + i, rt_code) for i in range(audience))]
            for uid, area in chats:
                await people.save(Person(f"telegram:{uid}", "telegram", str(uid), now, now,
                                         language="id", consent_version=CONSENT_VERSION,
                                         consent_at=now, area_code=area), Conversation(), now)
            await roles.grant(f"telegram:{COORDINATOR_ID}", Grant("coordinator", rt_code),
                              "cli:bench", now, "Ketua RT — Pak Ahmad")
            await roles.grant(f"telegram:{MODERATOR_ID}", Grant("moderator"), "cli:bench", now,
                              "Bu Sari")

        await db.write(seed)
    finally:
        await db.close()


async def _wave_run(opts: argparse.Namespace, run: str, residents: int, seconds: float,
                    submit_at: float) -> JSONDict:
    tmp = Path(tempfile.mkdtemp(prefix=f"siaga-bench-wave-{run}-"))
    await prepare_wave_db(tmp / "siaga.db", opts.wave_audience, invite_rt(opts.invite))
    # room for the submission, 30 s for the request, 30 s for the first copy
    deadline = max(seconds, submit_at + 60.0) + 15.0 if residents else submit_at + 75.0
    cmd = [
        PY, "-m", "bench.wave_driver", "--residents", str(residents),
        "--seconds", f"{seconds:g}", "--submit-at", f"{submit_at:g}",
        "--invite", opts.invite, "--coordinator", str(COORDINATOR_ID),
        "--moderator", str(MODERATOR_ID), "--latency-ms", f"{opts.latency_ms:g}",
        "--deadline", f"{deadline:g}",
    ]
    what = (f"{residents} residents joining over {seconds:g} s, the coordinator submitting "
            f"{submit_at:g} s in" if residents else "nobody joining")
    print(f"  wave/{run}: {opts.wave_audience} residents in the RT, {what}; time limit "
          f"{deadline:.0f} s ...", flush=True)
    # quiet hours off, so that a regular notice goes out at once
    env = {"SIAGA_QUIET_START": "00:00", "SIAGA_QUIET_END": "00:00"}
    r = await run_driven(opts, "wave", run, cmd, tmp=tmp, deadline=deadline, env=env)
    if residents:
        lat = r["latency_ms"]
        print(f"    -> {r['joined']}/{residents} joined ({r['answered']}/{r['updates_total']} "
              f"updates answered, {fmt(r.get('offered_per_s_actual'))}/s offered), latency p50 "
              f"{fmt(lat['p50'])} ms, p99 {fmt(lat['p99'])} ms; {r.get('joined_at_submit')} "
              f"had joined when the notice was submitted", flush=True)
    listed = " (so the moderator approved from the review list)" \
        if r.get("approved_from_list") else ""
    print(f"    -> submission to the moderator's review request "
          f"{_delay(r, 'submit_to_request_s')}{listed}; approval to the first resident "
          f"reached {_delay(r, 'approve_to_first_s')} ({r.get('reached')} residents "
          f"had it by the end, {r.get('reached_joiners')} of them new; last "
          f"{fmt(r.get('approve_to_last_seen_s'), '.1f')} s after approval)", flush=True)
    print(f"    .. answers: coordinator's Send {fmt(r.get('submit_reply_s'), '.3f')} s, "
          f"moderator's Approve {fmt(r.get('approve_reply_s'), '.3f')} s", flush=True)
    _print_common(r)
    return r


def _delay(r: JSONDict, key: str, spec: str = ".3f", unit: str = " s") -> str:
    """A measured delay, or "> give-up" when it did not come within it."""
    value = r.get(key)
    if value is not None:
        return f"{value:{spec}}{unit}"
    if r.get("error") or r.get("give_up_s") is None:
        return "-"
    return f">{r['give_up_s']:g}{unit}"


async def wave(opts: argparse.Namespace) -> JSONDict:
    n, seconds, at = opts.wave_residents, opts.wave_seconds, opts.wave_submit_at
    print(f"wave: a coordinator submits a notice and a moderator approves it; quiet, then "
          f"while {n} residents join through the invite link over {seconds:g} s "
          f"({n * len(JOIN)} updates: /start <invite>, lang:id, consent:yes), submitted "
          f"{at:g} s into the wave; Bot API latency {opts.latency_ms:g} ms", flush=True)
    quiet = await _wave_run(opts, "quiet", 0, seconds, 1.0)
    loaded = await _wave_run(opts, "wave", n, seconds, at)
    req, first = loaded.get("submit_to_request_s"), loaded.get("approve_to_first_s")
    ok = (req is not None and req <= WAVE_MAX_S and first is not None and first <= WAVE_MAX_S
          and not loaded.get("error"))
    res: JSONDict = {
        "quiet": quiet, "wave": loaded,
        "target": f"submission to review request and approval to first resident <= "
                  f"{WAVE_MAX_S:g} s each",
        "pass": ok,
    }
    print(f"    => during the wave: request {_delay(loaded, 'submit_to_request_s', '.2f')} "
          f"(quiet {_delay(quiet, 'submit_to_request_s', '.2f')}), first resident "
          f"{_delay(loaded, 'approve_to_first_s', '.2f')} (quiet "
          f"{_delay(quiet, 'approve_to_first_s', '.2f')}); {_verdict(ok)} ({res['target']})",
          flush=True)
    return res


RUNNERS = {"flood": flood, "wave": wave}


# --------------------------------------------------------------------------------------------
# report
# --------------------------------------------------------------------------------------------


def _verdict(ok: bool | None) -> str:
    return "-" if ok is None else ("PASS" if ok else "MISS")


DEFINITIONS = (
    "Stress scenarios, each our bot twice: the quiet run is the baseline. flood: latency from "
    "a resident's update being queued at the fake server to the sendMessage that completes "
    "its answer reaching the server (as in surge); x quiet: the flooded p99 over the quiet "
    "p99. wave: request s from the Send button's update being queued to the moderator's "
    "review request reaching the server; first s from the Approve button's update being "
    "queued to the notice's first copy to a resident reaching the server."
)


def table(results: dict[str, JSONDict]) -> str:
    head = (f"{'scenario':<9} {'run':<8} {'residents':>9} {'p50 ms':>8} {'p99 ms':>8} "
            f"{'x quiet':>7} {'request s':>9} {'first s':>8}  target")
    lines = [head, "-" * len(head)]
    for name, res in results.items():
        if res.get("error"):
            lines.append(f"{name:<9} FAILED: {str(res['error']).splitlines()[0][:100]}")
            continue
        runs = ("quiet", "flooded") if name == "flood" else ("quiet", "wave")
        for key in runs:
            r = res.get(key) or {}
            lat = r.get("latency_ms") or {}
            loaded = key != "quiet"
            target = f"{_verdict(res.get('pass'))}  ({res['target']})" if loaded else ""
            lines.append(
                f"{name:<9} {key:<8} {r.get('residents', 0):>9} {fmt(lat.get('p50')):>8} "
                f"{fmt(lat.get('p99')):>8} "
                f"{fmt(res.get('p99_ratio') if loaded else None, '.2f'):>7} "
                f"{_delay(r, 'submit_to_request_s', '.2f', '') if name == 'wave' else '-':>9} "
                f"{_delay(r, 'approve_to_first_s', '.2f', '') if name == 'wave' else '-':>8}  "
                f"{target}")
    return "\n".join(lines)
