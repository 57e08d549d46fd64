"""What the orchestrator (:mod:`bench.cli`) and the broadcast scenarios (:mod:`bench.broadcast`)
share: the child processes, how our bot and the echo bot are started, the driver's JSON events.
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import json
import os
import platform
import signal
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

JSONDict = dict[str, Any]

ROOT = Path(__file__).resolve().parent.parent
PY = sys.executable

OURS, ECHO = "ours", "echo"
BOT_NAMES = {OURS: "siaga-warga", ECHO: "echo (PTB)"}


def fmt(value: Any, spec: str = ".1f", none: str = "-") -> str:
    return none if value is None else format(value, spec)


# --------------------------------------------------------------------------------------------
# child processes
# --------------------------------------------------------------------------------------------


def _die_with_parent() -> None:  # runs in the child between fork and exec (Linux only)
    with contextlib.suppress(Exception):
        ctypes.CDLL(None, use_errno=True).prctl(1, int(signal.SIGKILL))  # PR_SET_PDEATHSIG


def _open_log(path: Path) -> Any:
    return path.open("ab")


class Children:
    """Every process this run started; each is stopped by its own pid, none outlives us."""

    def __init__(self) -> None:
        self.procs: list[asyncio.subprocess.Process] = []
        self._files: list[Any] = []

    async def spawn(self, cmd: Sequence[str], *, log: Path, env: dict[str, str] | None = None,
                    pipe: bool = False) -> asyncio.subprocess.Process:
        out = _open_log(log)
        self._files.append(out)
        kwargs: dict[str, Any] = {}
        if platform.system() == "Linux":
            kwargs["preexec_fn"] = _die_with_parent
        proc = await asyncio.create_subprocess_exec(
            *cmd,
            cwd=str(ROOT),
            env=env,
            stdin=asyncio.subprocess.PIPE if pipe else asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE if pipe else out,
            stderr=out,
            limit=1 << 24,
            **kwargs,
        )
        self.procs.append(proc)
        return proc

    @staticmethod
    async def stop(proc: asyncio.subprocess.Process, grace: float = 10.0) -> int | None:
        """SIGTERM, then SIGKILL after ``grace`` seconds."""
        if proc.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                proc.terminate()
            try:
                await asyncio.wait_for(proc.wait(), grace)
            except TimeoutError:
                with contextlib.suppress(ProcessLookupError):
                    proc.kill()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(proc.wait(), 10.0)
        return proc.returncode

    @staticmethod
    async def kill(proc: asyncio.subprocess.Process) -> None:
        if proc.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(proc.pid, signal.SIGKILL)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(proc.wait(), 10.0)

    async def stop_all(self) -> None:
        for proc in self.procs:
            await self.kill(proc)
        self.close_files()

    def kill_all_now(self) -> None:
        """Last resort outside the event loop (e.g. after Ctrl-C)."""
        for proc in self.procs:
            if proc.returncode is None:
                with contextlib.suppress(ProcessLookupError, PermissionError):
                    os.kill(proc.pid, signal.SIGKILL)
        self.close_files()

    def close_files(self) -> None:
        for f in self._files:
            with contextlib.suppress(OSError):
                f.close()
        self._files.clear()


CHILDREN = Children()  # every child of this run


# --------------------------------------------------------------------------------------------
# the bot's process and the driver's events
# --------------------------------------------------------------------------------------------


def bot_env(url: str, token: str, db: Path, max_concurrent: int | None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TELEGRAM_", "SIAGA_"))}
    env.update(
        TELEGRAM_BOT_TOKEN=token,
        TELEGRAM_BASE_URL=url,
        TELEGRAM_POLL_TIMEOUT="1",
        SIAGA_DB=str(db),
        SIAGA_CONFIG=str(ROOT / "config" / "settings.example.toml"),
        SIAGA_AREAS_FILE=str(ROOT / "config" / "areas.demo.toml"),
        PTB_TIMEDELTA="true",
        PYTHONUNBUFFERED="1",
    )
    if max_concurrent is not None:
        env["TELEGRAM_MAX_CONCURRENT"] = str(max_concurrent)
    return env


def bot_command(kind: str, profile: Path | None) -> list[str]:
    if kind == ECHO:
        return [PY, "-m", "bench.echobot"]
    if profile is not None:
        return [PY, "-m", "cProfile", "-o", str(profile), "-m", "bot", "run"]
    return [PY, "-m", "bot", "run"]


def _stat_cpu(path: Path) -> float:
    fields = path.read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def cpu_seconds(proc: asyncio.subprocess.Process | None) -> tuple[float, float] | None:
    """(all threads, main thread) CPU seconds a live child has used so far (Linux /proc)."""
    if proc is None or proc.returncode is not None:
        return None
    try:
        return (_stat_cpu(Path(f"/proc/{proc.pid}/stat")),
                _stat_cpu(Path(f"/proc/{proc.pid}/task/{proc.pid}/stat")))
    except (OSError, IndexError, ValueError):
        return None


def log_problems(path: Path) -> JSONDict:
    """Count ERROR / WARNING / Traceback lines in a bot log; keep the first few."""
    counts = {"errors": 0, "warnings": 0, "tracebacks": 0}
    first: list[str] = []
    if not path.exists():
        return {**counts, "first": first}
    for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
        if " ERROR " in line or " CRITICAL " in line:
            counts["errors"] += 1
        elif " WARNING " in line:
            counts["warnings"] += 1
        elif line.startswith("Traceback"):
            counts["tracebacks"] += 1
        else:
            continue
        if len(first) < 3:
            first.append(line[:200])
    return {**counts, "first": first}


async def next_event(driver: asyncio.subprocess.Process, bot: asyncio.subprocess.Process | None,
                      timeout: float) -> JSONDict | None:  # noqa: ASYNC109
    """The next JSON event from the driver; {"event": "bot_exit"} if the bot dies first;
    None on timeout or when the driver ended."""
    assert driver.stdout is not None
    deadline = time.monotonic() + timeout
    line_task = asyncio.ensure_future(driver.stdout.readline())
    try:
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return None
            waiters: set[asyncio.Future[Any]] = {line_task}
            bot_task = None
            if bot is not None and bot.returncode is None:
                bot_task = asyncio.ensure_future(bot.wait())
                waiters.add(bot_task)
            done, _ = await asyncio.wait(waiters, timeout=remaining,
                                         return_when=asyncio.FIRST_COMPLETED)
            if bot_task is not None and not bot_task.done():
                bot_task.cancel()
            if line_task in done:
                line = line_task.result()
                if not line:
                    return None
                with contextlib.suppress(ValueError):
                    event = json.loads(line)
                    if isinstance(event, dict):
                        return event
                line_task = asyncio.ensure_future(driver.stdout.readline())
                continue
            if bot_task is not None and bot_task in done:
                return {"event": "bot_exit", "code": bot.returncode if bot else None}
    finally:
        if not line_task.done():
            line_task.cancel()


def send_command(driver: asyncio.subprocess.Process, cmd: str) -> None:
    if driver.stdin is not None and driver.returncode is None:
        with contextlib.suppress(ConnectionError, RuntimeError):
            driver.stdin.write(json.dumps({"cmd": cmd}).encode() + b"\n")
