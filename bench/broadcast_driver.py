"""The fake Telegram Bot API server for the broadcast scenarios, counting what recipients get.

    python -m bench.broadcast_driver --recipients N --first-id ID --author-id ID
        [--latency-ms L] [--rate-limit R] [--kill-fraction F] [--deadline S]

The bot's database already holds N recipients (chat ids ``first-id`` ... ``first-id + N - 1``)
and one due notice (see :mod:`bench.broadcast`); nobody writes to the bot. This process
serves tests/fake_telegram.py (optionally with its 429 rate limit) and watches every call that
reaches it: the first message to each recipient, repeats, and what the author gets (progress
message, its edits, the report). Talks to the orchestrator (bench.cli) in JSON lines:

    stdout  {"event": "ready", "url": ...}   serving; the bot may be started
            {"event": "kill", ...}           bcrash: kill the bot now (--kill-fraction given)
            {"event": "result", ...}         figures of this run
    stdin   {"cmd": "restarted"}             bcrash: the bot was started again
            {"cmd": "quit"}                  stop serving (end of input does the same)

A run ends when every recipient has a message and the author has the report (then 0.5 s
without a call) or no call came for 3 s (so late repeats and the report are counted; at most
20 s after the last recipient), when no new recipient was reached for ``--stall`` seconds (the
rest counts as lost), or at the deadline.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import math
import time
from collections import Counter
from collections.abc import Iterable
from typing import Any

from bench.driver import QUIT_TIMEOUT, Controlled, emit, percentile
from tests.fake_telegram import DEFAULT_TOKEN, FakeBotAPI

JSONDict = dict[str, Any]

QUIET_AFTER_REPORT = 0.5  # once everybody has a message and the author has the report
QUIET_AFTER_DONE = 3.0  # seconds without any call once everybody has a message
MAX_AFTER_DONE = 20.0  # ... but no longer than this after the last recipient was reached
AUTHOR_MESSAGES = 3  # progress message, report, copy for WhatsApp
MESSAGE_METHODS = frozenset({"sendMessage", "sendPhoto", "sendDocument"})


def busiest(times: Iterable[float], window: float = 1.0) -> int:
    """Most calls that arrived within any ``window`` seconds."""
    ordered = sorted(times)
    best = lo = 0
    for hi, t in enumerate(ordered):
        while t - ordered[lo] > window:
            lo += 1
        best = max(best, hi - lo + 1)
    return best


def bucket_rejects(times: Iterable[float], rate: float) -> int:
    """Calls a token bucket (``rate`` per second, capacity max(1, rate/10)) would refuse."""
    size = max(1.0, rate / 10.0)
    tokens, last, refused = size, None, 0
    for t in sorted(times):
        if last is not None:
            tokens = min(size, tokens + (t - last) * rate)
        last = t
        if tokens >= 1.0:
            tokens -= 1.0
        else:
            refused += 1
    return refused


class WatchingFake(FakeBotAPI):
    """The fake server, telling the driver about every send call that succeeded."""

    driver: BroadcastDriver

    def _log_sent(self, method: str, params: JSONDict, t0: float) -> None:
        super()._log_sent(method, params, t0)
        self.driver.on_send(method, params, t0)


class BroadcastDriver(Controlled):
    def __init__(self, args: argparse.Namespace) -> None:
        super().__init__()
        self.args = args
        self.fake = WatchingFake(args.token, latency=args.latency_ms / 1000.0,
                                 rate_limit=args.rate_limit)
        self.fake.driver = self
        self.n = args.recipients
        self.first_id = args.first_id
        self.author_id = args.author_id
        self.counts = [0] * self.n  # messages per recipient
        self.first_at: list[float] = []  # arrival of each recipient's first message, in order
        self.delivered = 0  # recipients with at least one message
        self.repeats = 0  # messages beyond the first to a recipient
        self.repeats_after_restart = 0
        self.other_chats = 0  # messages to chats that are neither recipients nor the author
        self.author: list[tuple[str, float, str]] = []  # (method, time, first words)
        self.send_times: list[tuple[float, bool]] = []  # every send call: (arrival, recipient?)
        self.t_ready = 0.0
        self.t_last_call: float | None = None
        self.t_last_new: float | None = None
        self.all_reached = asyncio.Event()
        # bcrash
        self.kill_at = (max(1, math.ceil(args.kill_fraction * self.n))
                        if args.kill_fraction is not None else None)
        self.kill_sent = asyncio.Event()
        self.delivered_at_kill: int | None = None
        self.t_kill: float | None = None
        self.t_restart: float | None = None
        self.t_first_after_restart: float | None = None
        self.delivered_at_restart: int | None = None

    # ------------------------------------------------------------------ hook from the fake

    def on_send(self, method: str, params: JSONDict, t0: float) -> None:
        self.t_last_call = t0
        chat = params.get("chat_id")
        i = chat - self.first_id if isinstance(chat, int) else -1
        self.send_times.append((t0, method in MESSAGE_METHODS and 0 <= i < self.n))
        if chat == self.author_id:
            text = str(params.get("text") or params.get("caption") or "")
            self.author.append((method, t0, " ".join(text.split()[:6])))
            return
        if method not in MESSAGE_METHODS:
            return
        if not 0 <= i < self.n:
            self.other_chats += 1
            return
        if self.restarted.is_set() and self.t_first_after_restart is None:
            self.t_first_after_restart = t0
        self.counts[i] += 1
        if self.counts[i] > 1:
            self.repeats += 1
            if self.restarted.is_set():
                self.repeats_after_restart += 1
            return
        self.delivered += 1
        self.first_at.append(t0)
        self.t_last_new = t0
        if self.delivered >= self.n:
            self.all_reached.set()
        if self.kill_at is not None and not self.kill_sent.is_set() \
                and self.delivered >= self.kill_at:
            self.delivered_at_kill = self.delivered
            self.t_kill = time.monotonic()
            self.kill_sent.set()
            emit("kill", delivered=self.delivered, recipients=self.n)

    # ------------------------------------------------------------------ the run

    async def run(self) -> JSONDict:
        deadline = self.t_ready + self.args.deadline
        if self.kill_at is not None:
            if not await self._wait(self.kill_sent, deadline - time.monotonic()):
                return self.result("no kill point reached")
            if not await self._wait(self.restarted, deadline - time.monotonic()):
                return self.result("the bot was not restarted")
            self.t_restart = time.monotonic()
            self.delivered_at_restart = self.delivered
        while not self.quit.is_set():
            now = time.monotonic()
            if now >= deadline:
                return self.result("deadline reached")
            if self.all_reached.is_set():
                assert self.t_last_new is not None
                quiet = now - (self.t_last_call or now)
                reported = sum(1 for m, _, _ in self.author if m in MESSAGE_METHODS) \
                    >= AUTHOR_MESSAGES
                if (reported and quiet >= QUIET_AFTER_REPORT) or quiet >= QUIET_AFTER_DONE \
                        or now - self.t_last_new >= MAX_AFTER_DONE:
                    return self.result()
            else:
                since = max(self.t_last_new or self.t_ready, self.t_restart or 0.0)
                if now - since >= self.args.stall:
                    return self.result(f"no new recipient reached for {self.args.stall:g} s")
            await asyncio.sleep(0.05)
        return self.result("stopped by the orchestrator")

    def would_limit(self, rate: float) -> JSONDict:
        """429s a token bucket at ``rate`` (capacity rate/10) would have answered to the calls
        that succeeded: all send calls, and the recipients' messages alone."""
        return {"all_send_calls": bucket_rejects((t for t, _ in self.send_times), rate),
                "recipient_messages": bucket_rejects((t for t, r in self.send_times if r),
                                                     rate)}

    def result(self, stopped: str | None = None) -> JSONDict:
        first = self.first_at[0] if self.first_at else None
        last = self.first_at[-1] if self.first_at else None
        span = (last - first) if first is not None and last is not None else None
        rate = (len(self.first_at) - 1) / span if span else None
        # recipients reached per whole second of the run (first and last second left out)
        per_second: list[int] = []
        if first is not None and span and span > 2:
            buckets = [0] * (int(span) + 1)
            for t in self.first_at:
                buckets[int(t - first)] += 1
            per_second = sorted(buckets[1:-1])
        author_sends = [t for m, t, _ in self.author if m in MESSAGE_METHODS]
        out: JSONDict = {
            "recipients": self.n,
            "delivered": self.delivered,
            "lost": self.n - self.delivered,
            "duplicated": sum(1 for c in self.counts if c > 1),
            "repeats": self.repeats,
            "repeats_after_restart": self.repeats_after_restart,
            "other_chats": self.other_chats,
            "first_to_last_s": None if span is None else round(span, 3),
            "send_rate": None if rate is None else round(rate, 2),
            "per_second": {
                "min": per_second[0] if per_second else None,
                "p50": percentile(per_second, 0.5) if per_second else None,
                "max": per_second[-1] if per_second else None,
            },
            "first_message_s": None if first is None else round(first - self.t_ready, 3),
            "t_first": first,  # time.monotonic(), one clock for every process on Linux
            "t_last": last,
            "limited_429": self.fake.limited_count,
            "limited_by_method": dict(Counter(m for m, _, code in self.fake.failed_calls
                                              if code == 429)),
            "busiest_second": {
                "all_send_calls": busiest(t for t, _ in self.send_times),
                "recipient_messages": busiest(t for t, r in self.send_times if r),
            },
            "calls": dict(self.fake.call_counts),
            "author": {
                "messages": len(author_sends),
                "edits": sum(1 for m, _, _ in self.author if m == "editMessageText"),
                # the report is the author's second message (after the progress message)
                "report_after_last_s": (round(author_sends[1] - last, 3)
                                        if len(author_sends) > 1 and last is not None
                                        else None),
                "texts": [text for m, _, text in self.author if m in MESSAGE_METHODS][:4],
            },
            "latency_setting_ms": self.args.latency_ms,
            "rate_limit": self.args.rate_limit,
        }
        if self.kill_at is not None:
            out["kill_fraction"] = self.args.kill_fraction
            out["delivered_at_kill"] = self.delivered_at_kill
            out["delivered_at_restart"] = self.delivered_at_restart
            out["restart_to_first_s"] = (
                round(self.t_first_after_restart - self.t_restart, 3)
                if self.t_first_after_restart and self.t_restart else None)
        if self.args.check_rate:
            out["would_limit_at"] = {f"{self.args.check_rate:g}":
                                     self.would_limit(self.args.check_rate)}
        if stopped:
            out["stopped"] = stopped
        return out

    # ------------------------------------------------------------------ process

    async def main(self) -> None:
        await self.fake.start("127.0.0.1", self.args.port)
        commands = asyncio.create_task(self._read_commands())
        try:
            self.t_ready = time.monotonic()
            emit("ready", url=self.fake.base_url, token=self.fake.token)
            result = await self.run()
            emit("result", **result)
            await self._wait(self.quit, QUIT_TIMEOUT)
        finally:
            commands.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await commands
            await self.fake.stop()


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m bench.broadcast_driver")
    p.add_argument("--recipients", type=int, required=True)
    p.add_argument("--first-id", type=int, required=True, help="chat id of the first recipient")
    p.add_argument("--author-id", type=int, required=True, help="chat id of the author")
    p.add_argument("--latency-ms", type=float, default=0.0)
    p.add_argument("--rate-limit", type=float, default=None,
                   help="the fake server's 429 limit for send calls per second (default off)")
    p.add_argument("--kill-fraction", type=float, default=None,
                   help="ask for a kill once this fraction of recipients has a message")
    p.add_argument("--deadline", type=float, default=600.0,
                   help="seconds after start-up after which the run stops")
    p.add_argument("--stall", type=float, default=30.0,
                   help="seconds without a new recipient after which the rest counts as lost")
    p.add_argument("--check-rate", type=float, default=None,
                   help="also report how many calls a limit at this rate would have refused")
    p.add_argument("--token", default=DEFAULT_TOKEN)
    p.add_argument("--port", type=int, default=0)
    args = p.parse_args(argv)
    if args.recipients < 1 or args.deadline <= 0 or args.stall <= 0:
        p.error("--recipients, --deadline and --stall must be positive")
    if args.rate_limit is not None and args.rate_limit <= 0:
        p.error("--rate-limit must be positive")
    return args


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    asyncio.run(BroadcastDriver(args).main())


if __name__ == "__main__":
    main()
