"""Orchestrator: ``python -m bench [surge|raw|crash|broadcast|fanout|bcrash|flood|wave|match|all]``
(the scenarios are listed below).

For every chat scenario (surge, raw, crash) it runs Siaga Warga (``python -m bot run``) and
then the echo bot (:mod:`bench.echobot`), each in its own process against a fresh fake-server
process (:mod:`bench.driver`) and a fresh SQLite file. The broadcast scenarios (broadcast,
fanout, bcrash; :mod:`bench.broadcast`) send one notice to many residents instead; the stress
scenarios (flood, wave; :mod:`bench.stress`) run our bot quiet and under load; match
(:mod:`bench.match`) times the hoax claim index in a child process. It prints
the figures and, at the end, a table. Results also go to ``bench/results/latest.json``.
Without scenario names it runs the chat scenarios; ``all`` runs every scenario.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import platform
import random
import shutil
import signal
import sys
import tempfile
import textwrap
import time
import tomllib
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

from bench import broadcast, stress
from bench import match as claim_match
from bench.common import (
    BOT_NAMES,
    CHILDREN,
    ECHO,
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

RESULTS = ROOT / "bench" / "results" / "latest.json"
SCENARIOS = ("surge", "raw", "crash")  # the default set
BROADCAST_SCENARIOS = ("broadcast", "fanout", "bcrash")  # bench/broadcast.py
STRESS_SCENARIOS = stress.SCENARIOS  # bench/stress.py: flood, wave
MATCH_SCENARIOS = claim_match.SCENARIOS  # bench/match.py: match
STEPS_PER_RESIDENT = 5

SURGE_MIN_PCT = 95.0
SURGE_MAX_P99_MS = 250.0
RAW_MIN_RATIO = 0.5
DEFAULT_MAX_CONCURRENT = 16


# --------------------------------------------------------------------------------------------
# one bot run
# --------------------------------------------------------------------------------------------


def demo_invite() -> str:
    """The invite code of RT 03 / RW 02 in config/areas.demo.toml (else the first one)."""
    data = tomllib.loads((ROOT / "config" / "areas.demo.toml").read_text(encoding="utf-8"))
    first = None
    for kel in data.get("kelurahan", []):
        for rw in kel.get("rw", []):
            for rt in rw.get("rt", []):
                first = first or rt.get("invite")
                if rw.get("number") == "02" and rt.get("number") == "03":
                    return str(rt["invite"])
    if first is None:
        raise SystemExit("no invite code in config/areas.demo.toml")
    return str(first)


def _add_cpu(total: list[float], sample: tuple[float, float] | None) -> None:
    if sample is not None:
        total[0] += sample[0]
        total[1] += sample[1]


async def run_bot(opts: argparse.Namespace, scenario: str, kind: str, *, residents: int,
                  latency_ms: float, deadline: float, kill_fraction: float = 0.4) -> JSONDict:
    """One bot against one fresh fake server (and a fresh SQLite file)."""
    tmp = Path(tempfile.mkdtemp(prefix=f"siaga-bench-{scenario}-{kind}-"))
    driver_cmd = [
        PY, "-m", "bench.driver", "--scenario", scenario, "--residents", str(residents),
        "--rule", "button" if kind == OURS else "any", "--rate", str(opts.rate),
        "--latency-ms", str(latency_ms), "--invite", opts.invite,
        "--deadline", str(deadline), "--kill-fraction", str(kill_fraction),
    ]
    profile = None
    if kind == OURS and opts.profile:
        opts.profile.mkdir(parents=True, exist_ok=True)
        profile = opts.profile / f"{scenario}.prof"
    label = f"{scenario}/{BOT_NAMES[kind]}"
    print(f"  {label}: {residents} residents, latency {latency_ms:g} ms, "
          f"time limit {deadline:.0f} s ...", flush=True)
    started = time.monotonic()
    driver = await CHILDREN.spawn(driver_cmd, log=tmp / "driver.log",
                                  env={**os.environ, "PYTHONUNBUFFERED": "1"}, pipe=True)
    bot: asyncio.subprocess.Process | None = None
    result: JSONDict | None = None
    notes: list[str] = []
    restarts = 0
    bot_cpu = [0.0, 0.0]
    fake_cpu = None
    try:
        ready = await next_event(driver, None, 60.0)
        if not ready or ready.get("event") != "ready":
            raise RuntimeError(f"fake server did not start (see {tmp / 'driver.log'})")
        env = bot_env(ready["url"], ready["token"], tmp / "siaga.db", opts.max_concurrent)
        bot = await CHILDREN.spawn(bot_command(kind, profile), log=tmp / "bot.log", env=env)
        limit = time.monotonic() + deadline + 120.0
        while time.monotonic() < limit:
            event = await next_event(driver, bot, limit - time.monotonic())
            if event is None:
                notes.append("driver gave no result")
                break
            name = event.get("event")
            if name == "result":
                result = event
                _add_cpu(bot_cpu, cpu_seconds(bot))
                fake_cpu = cpu_seconds(driver)
                break
            if name == "kill" and bot is not None:
                _add_cpu(bot_cpu, cpu_seconds(bot))
                await CHILDREN.kill(bot)  # SIGKILL, by pid
                restarts += 1
                print(f"    killed the bot (SIGKILL) after {event.get('answered')} of "
                      f"{event.get('residents')} residents were answered; restarting",
                      flush=True)
                bot = await CHILDREN.spawn(bot_command(kind, None), log=tmp / "bot.log",
                                           env=env)
                send_command(driver, "restarted")
            elif name == "bot_exit":
                notes.append(f"bot exited on its own with code {event.get('code')}")
                send_command(driver, "quit")  # the driver reports what it has
                bot = None
    finally:
        if bot is not None:
            await Children.stop(bot, grace=30.0 if profile else 10.0)
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
    result["bot"] = BOT_NAMES[kind]
    result["wall_s"] = round(time.monotonic() - started, 1)
    result["restarts"] = restarts
    result["cpu_s"] = {"bot": round(bot_cpu[0], 1), "bot_main_thread": round(bot_cpu[1], 1),
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
    _print_run(result)
    return result


# --------------------------------------------------------------------------------------------
# scenarios
# --------------------------------------------------------------------------------------------


def _print_run(r: JSONDict) -> None:
    lat = r["latency_ms"]
    line = (f"    -> {r['answered']}/{r['updates_total']} updates answered in "
            f"{fmt(r['elapsed_s'])} s: {fmt(r['updates_per_s'])} updates/s")
    if r.get("pct_of_offered") is not None:
        line += (f" ({r['pct_of_offered']:.1f}% of offered {r['offered_rate']:g}/s; the "
                 f"residents actually offered {fmt(r.get('offered_per_s_actual'))}/s)")
    line += f", latency p50 {fmt(lat['p50'])} ms, p99 {fmt(lat['p99'])} ms"
    if r["scenario"] == "crash":
        line += f"; lost {r['lost']}, duplicated {r['duplicated']}"
    print(line, flush=True)
    problems = r["bot_log"]
    if problems["errors"] or problems["tracebacks"]:
        print(f"    !! bot log: {problems['errors']} errors, {problems['tracebacks']} "
              f"tracebacks; first: {problems['first'][:1]}", flush=True)
    if r.get("error"):
        print(f"    !! {r['error']}", flush=True)
    for note in r.get("notes", []):
        print(f"    !! {note}", flush=True)
    if r.get("bot_log_tail"):
        tail = r["bot_log_tail"].strip().splitlines()[-5:]
        print("    !! bot log tail:\n" + "\n".join(f"       {t}" for t in tail), flush=True)
    if r.get("stuck") and r["scenario"] != "crash" and not r.get("error"):
        print(f"    .. stopped at the time limit with {r['stuck']} residents still waiting "
              f"for an answer (e.g. {r['stuck_examples'][:1]})", flush=True)
    cpu = r.get("cpu_s") or {}
    print(f"    .. CPU seconds: bot {cpu.get('bot')} (main thread {cpu.get('bot_main_thread')}),"
          f" fake server {cpu.get('fake')}; startup {fmt(r.get('startup_s'), '.2f')} s",
          flush=True)


def _ratio(a: float | None, b: float | None) -> float | None:
    return round(a / b, 3) if a is not None and b else None


def compare(ours: JSONDict, echo: JSONDict | None) -> JSONDict:
    if echo is None:
        return {}
    return {
        "updates_per_s": _ratio(ours.get("updates_per_s"), echo.get("updates_per_s")),
        "p50": _ratio(ours["latency_ms"]["p50"], echo["latency_ms"]["p50"]),
        "p99": _ratio(ours["latency_ms"]["p99"], echo["latency_ms"]["p99"]),
    }


async def surge(opts: argparse.Namespace) -> JSONDict:
    n = opts.residents
    expected = n * STEPS_PER_RESIDENT / opts.rate
    print(f"surge: {n} residents x {STEPS_PER_RESIDENT} steps offered at {opts.rate:g} "
          f"updates/s (a resident's next step only after the reply), Bot API latency "
          f"{opts.latency_ms:g} ms", flush=True)
    ours = await run_bot(opts, "surge", OURS, residents=n, latency_ms=opts.latency_ms,
                         deadline=2 * expected + 30)
    echo = None
    if not opts.no_echo:
        echo = await run_bot(opts, "surge", ECHO, residents=n, latency_ms=opts.latency_ms,
                             deadline=(ours["elapsed_s"] or expected) + 30)
    pct, p99 = ours.get("pct_of_offered"), ours["latency_ms"]["p99"]
    ok = pct is not None and pct >= SURGE_MIN_PCT and p99 is not None and p99 <= SURGE_MAX_P99_MS
    return {
        "ours": ours, "echo": echo, "ours_over_echo": compare(ours, echo),
        "target": f">= {SURGE_MIN_PCT:g}% of offered rate and p99 <= {SURGE_MAX_P99_MS:g} ms",
        "pass": ok,
    }


async def raw(opts: argparse.Namespace) -> JSONDict:
    n = opts.residents
    print(f"raw: {n * STEPS_PER_RESIDENT} updates ({n} residents x {STEPS_PER_RESIDENT}) "
          "queued before the bot starts, Bot API latency 0 ms", flush=True)
    limit = max(120.0, n * STEPS_PER_RESIDENT * 0.03)
    ours = await run_bot(opts, "raw", OURS, residents=n, latency_ms=0, deadline=limit)
    echo = None
    if not opts.no_echo:
        echo = await run_bot(opts, "raw", ECHO, residents=n, latency_ms=0, deadline=limit)
    ratio = compare(ours, echo).get("updates_per_s")
    return {
        "ours": ours, "echo": echo, "ours_over_echo": compare(ours, echo),
        "target": f"updates/s >= {RAW_MIN_RATIO:.0%} of the echo bot's",
        "pass": None if ratio is None else ratio >= RAW_MIN_RATIO,
    }


async def crash(opts: argparse.Namespace) -> JSONDict:
    n = opts.crash_residents
    fraction = round(opts.rng.uniform(0.2, 0.6), 3)
    limit_dups = opts.max_concurrent or DEFAULT_MAX_CONCURRENT
    print(f"crash: {n} residents send /start <invite> at once, Bot API latency "
          f"{opts.latency_ms:g} ms; SIGKILL after {fraction:.0%} answered, then restart",
          flush=True)
    ours = await run_bot(opts, "crash", OURS, residents=n, latency_ms=opts.latency_ms,
                         deadline=120.0, kill_fraction=fraction)
    echo = None
    if not opts.no_echo:
        echo = await run_bot(opts, "crash", ECHO, residents=n, latency_ms=opts.latency_ms,
                             deadline=120.0, kill_fraction=fraction)
    ok = ours["lost"] == 0 and ours["duplicated"] <= limit_dups
    return {
        "ours": ours, "echo": echo, "ours_over_echo": compare(ours, echo),
        "kill_fraction": fraction,
        "target": f"0 lost; duplicated <= {limit_dups} (updates in flight: "
                  "TELEGRAM_MAX_CONCURRENT)",
        "pass": ok,
    }


async def _broadcast_scenario(name: str, opts: argparse.Namespace) -> JSONDict:
    return await broadcast.RUNNERS[name](opts)


async def broadcast_(opts: argparse.Namespace) -> JSONDict:
    return await _broadcast_scenario("broadcast", opts)


async def fanout(opts: argparse.Namespace) -> JSONDict:
    return await _broadcast_scenario("fanout", opts)


async def bcrash(opts: argparse.Namespace) -> JSONDict:
    return await _broadcast_scenario("bcrash", opts)


RUNNERS = {"surge": surge, "raw": raw, "crash": crash, "broadcast": broadcast_,
           "fanout": fanout, "bcrash": bcrash, **stress.RUNNERS, "match": claim_match.run}


# --------------------------------------------------------------------------------------------
# report
# --------------------------------------------------------------------------------------------


def _verdict(ok: bool | None) -> str:
    return "-" if ok is None else ("PASS" if ok else "MISS")


DEFINITIONS = (
    "latency: from the update being enqueued at the fake server (raw, crash: or the bot's "
    "first getUpdates, if later) to the sendMessage that completes its answer reaching the "
    "server. Siaga Warga's answer is complete with the message carrying the button pressed "
    "next (the rule also holds if a step is answered with more than one message); the "
    "echo bot's with its one message. updates/s: answered updates per second (surge: first "
    "offer to last answer; raw, crash: first getUpdates to last answer; a run stopped at its "
    "time limit: over the whole limit)."
)


def table(results: dict[str, JSONDict]) -> str:
    head = (f"{'scenario':<8} {'bot':<12} {'updates/s':>10} {'%offered':>9} {'p50 ms':>9} "
            f"{'p99 ms':>9} {'lost':>5} {'dup':>5}  target")
    lines = [head, "-" * len(head)]
    for name, res in results.items():
        if name in BROADCAST_SCENARIOS or name in STRESS_SCENARIOS or name in MATCH_SCENARIOS:
            continue
        if res.get("error"):
            lines.append(f"{name:<8} FAILED: {str(res['error']).splitlines()[0][:100]}")
            continue
        for key in ("ours", "echo"):
            r = res.get(key)
            if not r:
                continue
            lat = r["latency_ms"]
            crash_run = name == "crash"
            target = ""
            if key == "ours":
                target = f"{_verdict(res.get('pass'))}  ({res['target']})"
            lines.append(
                f"{name:<8} {r['bot']:<12} {fmt(r['updates_per_s']):>10} "
                f"{fmt(r.get('pct_of_offered'), '.1f'):>9} {fmt(lat['p50']):>9} "
                f"{fmt(lat['p99']):>9} {fmt(r.get('lost') if crash_run else None, 'd'):>5} "
                f"{fmt(r.get('duplicated') if crash_run else None, 'd'):>5}  {target}"
            )
        cmp_ = res.get("ours_over_echo") or {}
        if cmp_:
            lines.append(
                f"{name:<8} {'ours/echo':<12} {fmt(cmp_.get('updates_per_s'), '.3g'):>10} "
                f"{'':>9} {fmt(cmp_.get('p50'), '.3g'):>9} {fmt(cmp_.get('p99'), '.3g'):>9}"
            )
    return "\n".join(lines)


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        prog="python -m bench",
        description="Benchmark Siaga Warga against a bare python-telegram-bot echo bot.")
    p.add_argument("scenarios", nargs="*", metavar="SCENARIO",
                   help="surge, raw, crash, broadcast, fanout, bcrash, flood, wave, match or all "
                        "(default: surge, raw and crash)")
    p.add_argument("--quick", action="store_true",
                   help="smoke check: 200 residents in the chat scenarios, 1,000 recipients "
                        "in broadcast and bcrash, 10,000 residents in fanout, 100 residents "
                        "and 1,000 flood updates in flood, 400 residents over 12 s in wave, "
                        "10,000 cases and 500 reports in match")
    p.add_argument("--residents", type=int, default=None,
                   help="residents in surge and raw (default 2000, --quick 200)")
    p.add_argument("--crash-residents", type=int, default=None,
                   help="residents in crash (default 1000, --quick 200)")
    p.add_argument("--rate", type=float, default=100.0,
                   help="surge: updates offered per second (default 100)")
    p.add_argument("--latency-ms", type=float, default=50.0,
                   help="surge, crash, broadcast, bcrash: fake Bot API latency per call "
                        "(default 50)")
    p.add_argument("--max-concurrent", type=int, default=None,
                   help="TELEGRAM_MAX_CONCURRENT for our bot (default: the bot's, 16)")
    p.add_argument("--recipients", type=int, default=None,
                   help="broadcast and bcrash: residents the notice goes to (default 10000, "
                        "--quick 1000)")
    p.add_argument("--fanout-people", type=int, default=None,
                   help="fanout: residents (default 100000, --quick 10000)")
    p.add_argument("--send-rate", type=float, default=200.0,
                   help="broadcast and bcrash: TELEGRAM_SEND_RATE of our bot (default 200)")
    p.add_argument("--server-limit", type=float, default=None,
                   help="broadcast: the fake server's 429 limit in send calls per second "
                        "(default: --send-rate; 0 = none)")
    p.add_argument("--flood-residents", type=int, default=None,
                   help="flood: residents (default 500, --quick 100)")
    p.add_argument("--flood-updates", type=int, default=None,
                   help="flood: updates the flooder sends (default 5000, --quick 1000)")
    p.add_argument("--flood-rate", type=float, default=50.0,
                   help="flood: residents' updates offered per second (default 50)")
    p.add_argument("--flood-window", type=int, default=50,
                   help="flood: the flooder's updates kept waiting at the fake server "
                        "(default 50, half a getUpdates batch; 100 fills every batch; "
                        "--flood-updates queues all at once)")
    p.add_argument("--wave-residents", type=int, default=None,
                   help="wave: residents joining (default 2000, --quick 400)")
    p.add_argument("--wave-seconds", type=float, default=None,
                   help="wave: their first updates spread over this many seconds (default 60, "
                        "--quick 12)")
    p.add_argument("--wave-submit-at", type=float, default=None,
                   help="wave: seconds into the wave when the notice is submitted (default a "
                        "third of --wave-seconds)")
    p.add_argument("--wave-audience", type=int, default=None,
                   help="wave: residents of the RT before the run (default 200, --quick 50)")
    p.add_argument("--match-cases", type=int, default=None,
                   help="match: stored cases (default 100000, --quick 10000)")
    p.add_argument("--match-reports", type=int, default=None,
                   help="match: reports matched (default 2000, --quick 500)")
    p.add_argument("--match-baseline", type=int, default=None,
                   help="match: reports of the naive baseline (default 50, --quick 20)")
    p.add_argument("--seed", type=int, default=None,
                   help="seed of the crash and bcrash kill points")
    p.add_argument("--no-echo", action="store_true", help="skip the echo-bot runs")
    p.add_argument("--invite", default=None, help="invite code (default: RT 03 / RW 02)")
    p.add_argument("--profile", type=Path, default=None, metavar="DIR",
                   help="run our bot under cProfile, writing DIR/<scenario>.prof")
    p.add_argument("--json", type=Path, default=RESULTS, help=f"default {RESULTS}")
    p.add_argument("--keep-logs", action="store_true", help="keep the temporary run folders")
    args = p.parse_args(argv)
    if args.residents is None:
        args.residents = 200 if args.quick else 2000
    if args.crash_residents is None:
        args.crash_residents = 200 if args.quick else 1000
    if args.recipients is None:
        args.recipients = 1000 if args.quick else 10_000
    if args.fanout_people is None:
        args.fanout_people = 10_000 if args.quick else 100_000
    if args.flood_residents is None:
        args.flood_residents = 100 if args.quick else 500
    if args.flood_updates is None:
        args.flood_updates = 1000 if args.quick else 5000
    if args.wave_residents is None:
        args.wave_residents = 400 if args.quick else 2000
    if args.wave_seconds is None:
        args.wave_seconds = 12.0 if args.quick else 60.0
    if args.wave_submit_at is None:
        args.wave_submit_at = round(args.wave_seconds / 3, 1)
    if args.match_cases is None:
        args.match_cases = 10_000 if args.quick else 100_000
    if args.match_reports is None:
        args.match_reports = 500 if args.quick else 2000
    if args.match_baseline is None:
        args.match_baseline = 20 if args.quick else 50
    if min(args.match_cases, args.match_reports) < 1 or args.match_baseline < 0:
        p.error("match: cases and reports must be positive, the baseline not negative")
    if args.wave_audience is None:
        args.wave_audience = 50 if args.quick else 200
    if min(args.flood_residents, args.wave_residents) < 1 or args.flood_updates < 0 \
            or args.wave_audience < 1 or args.flood_rate <= 0 or args.flood_window < 1 \
            or args.wave_seconds <= 0 or args.wave_submit_at < 0:
        p.error("flood and wave: residents, audience, rates, window and seconds must be "
                "positive, flood updates and the submission time not negative")
    if min(args.residents, args.crash_residents, args.recipients, args.fanout_people) < 1 \
            or args.rate <= 0 or args.latency_ms < 0:
        p.error("residents and rate must be positive, latency not negative")
    if not 0 < args.send_rate <= 1000 or (args.server_limit or 0) < 0:
        p.error("--send-rate must be more than 0 and at most 1000, --server-limit not negative")
    every = (*SCENARIOS, *BROADCAST_SCENARIOS, *STRESS_SCENARIOS, *MATCH_SCENARIOS)
    unknown = [s for s in args.scenarios if s not in (*every, "all")]
    if unknown:
        p.error(f"unknown scenario {unknown[0]!r} (choose from {', '.join(every)}, all)")
    if not args.scenarios:
        chosen = list(SCENARIOS)
    elif "all" in args.scenarios:
        chosen = list(every)
    else:
        chosen = list(dict.fromkeys(args.scenarios))
    args.scenarios = chosen
    args.invite = args.invite or demo_invite()
    if args.seed is None:
        args.seed = random.SystemRandom().randrange(1 << 30)
    args.rng = random.Random(args.seed)
    return args


async def amain(opts: argparse.Namespace) -> int:
    loop = asyncio.get_running_loop()
    main_task = asyncio.current_task()
    with contextlib.suppress(NotImplementedError):
        loop.add_signal_handler(signal.SIGTERM, main_task.cancel)  # type: ignore[union-attr]
    started = time.monotonic()
    results: dict[str, JSONDict] = {}
    try:
        for name in opts.scenarios:
            try:
                results[name] = await RUNNERS[name](opts)
            except RuntimeError as exc:
                print(f"  !! {name} failed: {exc}", flush=True)
                results[name] = {"error": str(exc), "pass": False}
    finally:
        await CHILDREN.stop_all()
    report = {
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "args": {k: (str(v) if isinstance(v, Path) else v) for k, v in vars(opts).items()
                 if k != "rng"},
        "host": {"cpus": os.cpu_count(), "python": platform.python_version(),
                 "platform": platform.platform()},
        "total_wall_s": round(time.monotonic() - started, 1),
        "definitions": DEFINITIONS,
        "scenarios": results,
    }
    chat = {k: v for k, v in results.items()
            if k not in BROADCAST_SCENARIOS and k not in STRESS_SCENARIOS
            and k not in MATCH_SCENARIOS}
    matched = {k: v for k, v in results.items() if k in MATCH_SCENARIOS}
    notices = {k: v for k, v in results.items() if k in BROADCAST_SCENARIOS}
    stressed = {k: v for k, v in results.items() if k in STRESS_SCENARIOS}
    if notices:
        report["definitions_broadcast"] = broadcast.DEFINITIONS
    if stressed:
        report["definitions_stress"] = stress.DEFINITIONS
    if matched:
        report["definitions_match"] = claim_match.DEFINITIONS
    opts.json.parent.mkdir(parents=True, exist_ok=True)
    opts.json.write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n",
                         encoding="utf-8")
    if chat:
        print()
        print(table(chat))
        print()
        print(textwrap.fill(DEFINITIONS, 99))
    if notices:
        print()
        print(broadcast.table(notices))
        print()
        print(textwrap.fill(broadcast.DEFINITIONS, 99))
    if stressed:
        print()
        print(stress.table(stressed))
        print()
        print(textwrap.fill(stress.DEFINITIONS, 99))
    if matched:
        print()
        print(claim_match.table(matched))
        print()
        print(textwrap.fill(claim_match.DEFINITIONS, 99))
    print(f"\ntotal {report['total_wall_s']:.0f} s; results written to {opts.json}")
    failed = [name for name, res in results.items() if res.get("pass") is False]
    if failed:
        print(f"targets missed: {', '.join(failed)}")
    broken = [name for name, res in results.items() if res.get("error")
              or any((res.get(k) or {}).get("error")
                     for k in ("ours", "echo", "quiet", "flooded", "wave"))]
    if broken:
        print(f"runs that did not complete: {', '.join(broken)}")
        return 1
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    opts = parse_args(argv)
    print(f"Siaga Warga benchmark: {', '.join(opts.scenarios)}; {os.cpu_count()} CPUs; "
          f"seed {opts.seed}", flush=True)
    try:
        return asyncio.run(amain(opts))
    except (KeyboardInterrupt, asyncio.CancelledError):
        print("\ninterrupted; child processes stopped", file=sys.stderr)
        return 130
    except RuntimeError as exc:
        print(f"benchmark failed: {exc}", file=sys.stderr)
        return 1
    finally:
        CHILDREN.kill_all_now()
