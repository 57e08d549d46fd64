"""The fake Telegram Bot API server and the simulated residents, in one process.

    python -m bench.driver --scenario surge|raw|crash|flood --residents N --rule button|any
        [--rate R] [--latency-ms L] [--invite CODE] [--deadline S] [--kill-fraction F]
        [--flood N] [--flood-window W]

The residents live next to the fake server (tests/fake_telegram.py, unmodified) so that they
see every reply the moment it reaches the server, without polling its control endpoints.
Talks to the orchestrator (bench.cli) in JSON lines:

    stdout  {"event": "ready", "url": ...}   serving; the bot may be started
            {"event": "kill", ...}           crash: kill the bot now
            {"event": "result", ...}         figures of this run
    stdin   {"cmd": "restarted"}             crash: the bot was started again
            {"cmd": "quit"}                  stop serving (end of input does the same)

When is an update answered?  Rule ``any``: by the next sendMessage to that person (the echo
bot sends exactly one per update).  Rule ``button``: by the sendMessage that carries the button
the resident presses next (so a step answered with several messages counts when the one with
the next button arrives); the last step by the next sendMessage.

Scenario ``flood`` is ``surge`` (the residents offered at ``--rate``) plus, with ``--flood N``,
one more account that sends N updates as fast as the bot takes them: from the residents' first
update on it keeps ``--flood-window`` (default 50, half a getUpdates batch) of its updates
waiting at the fake server, topping up whenever a getUpdates call hands some to the bot, so
every call the bot makes returns 50 of them until the N are gone (about 850 a second). With
100, every batch is full of them and a resident's update waits behind them in Telegram's own
queue, one extra round trip whatever the bot does (getUpdates is first in, first out);
``--flood-window N`` queues all of them at once.) With ``--flood 0`` it is the
quiet baseline.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import itertools
import json
import math
import sys
import time
from collections import Counter, deque
from dataclasses import dataclass, field
from typing import Any

from tests.fake_telegram import DEFAULT_TOKEN, FakeBotAPI, command_entities

JSONDict = dict[str, Any]

FLOW = ("/start {invite}", "lang:id", "consent:yes", "m:info", "topic:5m")
FIRST_USER_ID = 700_000_001
FLOODER_ID = 690_000_001
# what the flooder sends, in turn: a command, plain text, a button press
FLOOD_KINDS = ("/start {invite}", "halo, tolong dibalas", "m:info")
STARTUP_TIMEOUT = 60.0  # seconds for the bot to make its first getUpdates call
QUIT_TIMEOUT = 120.0  # seconds to wait for "quit" after the result


def percentile(sorted_values: list[float], q: float) -> float | None:
    """Nearest-rank percentile of an already sorted list (None if empty)."""
    if not sorted_values:
        return None
    rank = max(1, math.ceil(q * len(sorted_values)))
    return sorted_values[min(rank, len(sorted_values)) - 1]


def summary_ms(values: list[float]) -> JSONDict:
    data = sorted(values)

    def ms(v: float | None) -> float | None:
        return None if v is None else round(v * 1000.0, 2)

    return {
        "n": len(data),
        "p50": ms(percentile(data, 0.50)),
        "p90": ms(percentile(data, 0.90)),
        "p99": ms(percentile(data, 0.99)),
        "max": ms(data[-1] if data else None),
        "mean": ms(sum(data) / len(data) if data else None),
    }


@dataclass
class Resident:
    uid: int
    offered: int = 0  # steps pushed to the fake server
    answered: int = 0  # steps answered completely
    enqueued: list[float] = field(default_factory=list)  # enqueue time of each pushed step
    first_reply: list[float | None] = field(default_factory=list)
    messages: int = 0  # sendMessage calls to this person
    texts: Counter[str] = field(default_factory=Counter)
    extra: int = 0  # messages that arrived while no update of this person was outstanding

    @property
    def user(self) -> JSONDict:
        return {"id": self.uid, "is_bot": False, "first_name": "Warga", "language_code": "id"}

    @property
    def chat(self) -> JSONDict:
        return {"id": self.uid, "type": "private", "first_name": "Warga"}


class BenchFake(FakeBotAPI):
    """The fake server, telling the driver about every getUpdates and sendMessage."""

    driver: Driver

    async def _m_getUpdates(self, params: JSONDict) -> list[JSONDict]:
        self.driver.on_poll()
        batch = await super()._m_getUpdates(params)
        self.driver.on_batch(batch)
        return batch

    def _log_sent(self, method: str, params: JSONDict, t0: float) -> None:
        super()._log_sent(method, params, t0)
        if method == "sendMessage":
            self.driver.on_send(params, t0)


def emit(event: str, **data: Any) -> None:
    print(json.dumps({"event": event, **data}), flush=True)


class Controlled:
    """What every fake-server driver shares: the orchestrator's commands on stdin ("quit",
    "restarted") and waits that end early when told to quit."""

    def __init__(self) -> None:
        self.quit = asyncio.Event()
        self.restarted = asyncio.Event()

    async def _wait(self, event: asyncio.Event, timeout: float) -> bool:  # noqa: ASYNC109
        """Wait for ``event`` (or quit) at most ``timeout`` seconds; True if it is set."""
        if event.is_set():
            return True
        if timeout <= 0:
            return False
        waiters = [asyncio.ensure_future(event.wait()), asyncio.ensure_future(self.quit.wait())]
        try:
            await asyncio.wait(waiters, timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for w in waiters:
                w.cancel()
        return event.is_set()

    async def _read_commands(self) -> None:
        loop = asyncio.get_running_loop()
        reader = asyncio.StreamReader()
        await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
        while True:
            line = await reader.readline()
            if not line:
                self.quit.set()
                return
            with contextlib.suppress(ValueError):
                cmd = json.loads(line).get("cmd")
                if cmd == "quit":
                    self.quit.set()
                    return
                if cmd == "restarted":
                    self.restarted.set()


class Driver(Controlled):
    def __init__(self, args: argparse.Namespace) -> None:
        super().__init__()
        self.args = args
        self.scenario: str = args.scenario
        self.fake = BenchFake(args.token, latency=args.latency_ms / 1000.0)
        self.fake.driver = self
        flow = [s.format(invite=args.invite) for s in FLOW]
        # crash: only the first step, still answered by the message with the next button
        self.steps = flow[:1] if self.scenario == "crash" else flow
        self.paced = self.scenario in ("surge", "flood")  # residents offered at --rate
        n = len(self.steps)
        self.expect: list[str | None] = [
            flow[k + 1] if args.rule == "button" and k + 1 < len(flow) else None
            for k in range(n)
        ]
        self.residents = {
            FIRST_USER_ID + i: Resident(FIRST_USER_ID + i) for i in range(args.residents)
        }
        self.total_steps = n * len(self.residents)
        self.callback_ids = itertools.count(5_000_000_000_000_000_001)
        self.latencies: list[float] = []
        self.by_step: dict[int, list[float]] = {k: [] for k in range(n)}
        self.first_latencies: list[float] = []
        self.answered_total = 0
        self.offered_total = 0
        self.polls = 0
        self.t_first_poll: float | None = None
        self.t_first_offer: float | None = None
        self.t_last_offer: float | None = None
        self.t_last_answer: float | None = None
        self.t_last_send: float | None = None
        self.first_poll = asyncio.Event()
        self.all_answered = asyncio.Event()
        self.quit = asyncio.Event()
        self.ready: deque[Resident] = deque()  # answered, with steps left (surge)
        # crash
        self.kill_at = max(1, math.ceil(args.kill_fraction * len(self.residents)))
        self.kill_sent = asyncio.Event()
        self.answered_at_kill: int | None = None
        self.t_kill: float | None = None
        self._t_ready = 0.0
        self.restarted = asyncio.Event()
        self.restart_poll = asyncio.Event()
        self.t_restart_poll: float | None = None
        self.answered_at_restart: int | None = None
        # flood
        self.flooder = Resident(FLOODER_ID)
        self.flood_kinds = [k.format(invite=args.invite) for k in FLOOD_KINDS]
        self.flood_waiting: deque[int] = deque()  # update ids pushed, not yet handed out
        self.flood_pushed = 0
        self.flood_fetched = 0
        self.t_flood_start: float | None = None
        self.t_flood_fetched: float | None = None  # the last flood update handed to the bot
        self.flood_messages = 0  # sendMessage calls to the flooder
        self.lat_at: list[tuple[float, float]] = []  # (enqueued, latency) of answered steps

    # ------------------------------------------------------------------ building updates

    def _message_update(self, r: Resident, text: str) -> JSONDict:
        return {
            "message": {
                "message_id": r.offered + 1,
                "from": r.user,
                "chat": r.chat,
                "date": int(time.time()),
                "text": text,
                "entities": command_entities(text),
            }
        }

    def _callback_update(self, r: Resident, data: str, live: bool) -> JSONDict:
        shown = self.fake.current_messages(r.uid) if live else []
        if shown:  # the bot's latest message in this chat, as Telegram would attach it
            message = dict(shown[-1])
        else:  # pre-queued: a plausible earlier bot message
            message = {"message_id": 1000 + r.offered, "from": self.fake.bot_user,
                       "chat": r.chat, "date": int(time.time()), "text": "..."}
        return {
            "callback_query": {
                "id": str(next(self.callback_ids)),
                "from": r.user,
                "message": message,
                "chat_instance": str(8_000_000_000_000_000_000 + r.uid),
                "data": data,
            }
        }

    def offer(self, r: Resident, live: bool = True) -> None:
        """Push this resident's next step to the fake server's getUpdates queue."""
        step = self.steps[r.offered]
        update = (self._message_update(r, step) if r.offered == 0
                  else self._callback_update(r, step, live))
        self.fake.push_update(update)
        r.enqueued.append(self.fake.enqueue_times[update["update_id"]])
        r.first_reply.append(None)
        r.offered += 1
        self.offered_total += 1
        now = time.monotonic()
        if self.t_first_offer is None:
            self.t_first_offer = now
        self.t_last_offer = now

    # ------------------------------------------------------------------ hooks from the fake

    def on_poll(self) -> None:
        self.polls += 1
        now = time.monotonic()
        if self.t_first_poll is None:
            self.t_first_poll = now
            if self.scenario == "crash":  # everybody at once, with the bot running
                for r in self.residents.values():
                    self.offer(r)
            self.first_poll.set()
        if self.restarted.is_set() and not self.restart_poll.is_set():
            self.t_restart_poll = now
            self.answered_at_restart = self.answered_total
            self.restart_poll.set()

    def on_batch(self, batch: list[JSONDict]) -> None:
        """A getUpdates call is answered: its flood updates are the bot's now; top up."""
        if not self.flood_waiting or not batch:
            return
        last = max(u["update_id"] for u in batch)
        while self.flood_waiting and self.flood_waiting[0] <= last:
            self.flood_waiting.popleft()
            self.flood_fetched += 1
        if self.flood_fetched >= self.args.flood and self.t_flood_fetched is None:
            self.t_flood_fetched = time.monotonic()
        self._top_up_flood()

    # ------------------------------------------------------------------ the flooder

    def _flood_update(self) -> JSONDict:
        f = self.flooder
        kind = self.flood_kinds[self.flood_pushed % len(self.flood_kinds)]
        if kind.startswith(("/", "halo")):
            update = self._message_update(f, kind)
        else:
            update = self._callback_update(f, kind, live=True)
        f.offered += 1  # numbers the flooder's messages
        return update

    def _top_up_flood(self) -> None:
        while self.flood_pushed < self.args.flood \
                and len(self.flood_waiting) < self.args.flood_window:
            update = self._flood_update()
            self.fake.push_update(update)
            self.flood_waiting.append(update["update_id"])
            self.flood_pushed += 1

    def start_flood(self) -> None:
        if self.args.flood > 0 and self.t_flood_start is None:
            self.t_flood_start = time.monotonic()
            self._top_up_flood()

    def _completes(self, k: int, params: JSONDict) -> bool:
        expected = self.expect[k]
        if expected is None:
            return True
        markup = params.get("reply_markup")
        if not isinstance(markup, dict):
            return False
        return any(isinstance(b, dict) and b.get("callback_data") == expected
                   for row in markup.get("inline_keyboard") or [] for b in row)

    def on_send(self, params: JSONDict, t0: float) -> None:
        self.t_last_send = time.monotonic()
        if params.get("chat_id") == FLOODER_ID:
            self.flood_messages += 1
            self.flooder.texts[str(params.get("text"))[:60]] += 1
            return
        r = self.residents.get(params.get("chat_id"))  # type: ignore[arg-type]
        if r is None:
            return
        r.messages += 1
        r.texts[str(params.get("text"))] += 1
        k = r.answered
        if k >= r.offered:
            r.extra += 1
            return
        start = max(r.enqueued[k], self.t_first_poll or 0.0)
        if r.first_reply[k] is None:
            r.first_reply[k] = t0
            self.first_latencies.append(t0 - start)
        if not self._completes(k, params):
            return
        latency = t0 - start
        self.latencies.append(latency)
        self.by_step[k].append(latency)
        self.lat_at.append((start, latency))
        r.answered += 1
        self.answered_total += 1
        self.t_last_answer = t0
        if self.paced and r.answered < len(self.steps):
            self.ready.append(r)
        if self.answered_total >= self.total_steps:
            self.all_answered.set()
        if self.scenario == "crash" and not self.kill_sent.is_set() \
                and self.answered_total >= self.kill_at:
            self.answered_at_kill = self.answered_total
            self.t_kill = time.monotonic()
            self.kill_sent.set()
            emit("kill", answered=self.answered_total, residents=len(self.residents))

    # ------------------------------------------------------------------ scenarios

    def prequeue(self) -> None:
        """raw: every step of every resident, step by step (each person's steps in order)."""
        for _ in self.steps:
            for r in self.residents.values():
                self.offer(r, live=False)

    async def run(self) -> JSONDict:
        if not await self._wait(self.first_poll, STARTUP_TIMEOUT):
            if self.quit.is_set():
                return self.result(error="stopped before the bot's first getUpdates call")
            return self.result(error="the bot made no getUpdates call within "
                                     f"{STARTUP_TIMEOUT:.0f}s")
        assert self.t_first_poll is not None
        deadline = self.t_first_poll + self.args.deadline
        if self.paced:
            await self._surge(deadline)
        elif self.scenario == "raw":
            await self._wait(self.all_answered, deadline - time.monotonic())
        else:
            await self._crash(deadline)
        return self.result()

    async def _surge(self, deadline: float) -> None:
        """Offer one update every 1/rate s: a resident whose reply arrived goes first, else
        a newcomer; a slot with nobody ready is skipped (a person waits for the reply)."""
        interval = 1.0 / self.args.rate
        newcomers = iter(self.residents.values())
        t0 = time.monotonic()
        tick = 0
        if self.scenario == "flood":
            self.start_flood()
        while not self.all_answered.is_set() and not self.quit.is_set():
            now = time.monotonic()
            if now >= deadline:
                return
            due = t0 + tick * interval
            if due > now:
                await asyncio.sleep(due - now)
                continue
            tick += 1
            if self.ready:
                self.offer(self.ready.popleft())
            else:
                r = next(newcomers, None)
                if r is not None:
                    self.offer(r)

    async def _crash(self, deadline: float) -> None:
        if not await self._wait(self.kill_sent, deadline - time.monotonic()):
            return
        if not await self._wait(self.restarted, deadline - time.monotonic()):
            return
        if not await self._wait(self.restart_poll, deadline - time.monotonic()):
            return
        assert self.t_restart_poll is not None
        # done when everybody was answered and 1.5 s passed without a message (late
        # duplicates), or after 5 s without any message (the rest is lost)
        while not self.quit.is_set():
            now = time.monotonic()
            if now >= deadline:
                return
            quiet = now - max(self.t_last_send or 0.0, self.t_restart_poll)
            if (self.all_answered.is_set() and quiet >= 1.5) or quiet >= 5.0:
                return
            await asyncio.sleep(0.1)

    # ------------------------------------------------------------------ figures

    def result(self, error: str | None = None) -> JSONDict:
        now = time.monotonic()
        n_res = len(self.residents)
        finished = self.answered_total >= self.total_steps
        start = self.t_first_offer if self.paced else self.t_first_poll
        if start is None:
            elapsed = None
        elif finished and self.t_last_answer is not None:
            elapsed = self.t_last_answer - start
        else:
            elapsed = now - start
        out: JSONDict = {
            "scenario": self.scenario,
            "rule": self.args.rule,
            "residents": n_res,
            "updates_total": self.total_steps,
            "offered": self.offered_total,
            "answered": self.answered_total,
            "unanswered_offered": self.offered_total - self.answered_total,
            "finished": finished,
            "elapsed_s": None if elapsed is None else round(elapsed, 3),
            "updates_per_s": (round(self.answered_total / elapsed, 2)
                              if elapsed else None),
            "latency_ms": summary_ms(self.latencies),
            "first_reply_latency_ms": summary_ms(self.first_latencies),
            "latency_by_step_ms": {self.steps[k].split(" ")[0]: summary_ms(v)
                                   for k, v in self.by_step.items()},
            "startup_s": (round(self.t_first_poll - self._t_ready, 3)
                          if self.t_first_poll is not None else None),
            "polls": self.polls,
            "calls": dict(self.fake.call_counts),
            "latency_setting_ms": self.args.latency_ms,
        }
        if error:
            out["error"] = error
        if self.paced:
            span = ((self.t_last_offer or 0.0) - (self.t_first_offer or 0.0))
            out["offered_rate"] = self.args.rate
            out["offered_per_s_actual"] = (round((self.offered_total - 1) / span, 2)
                                           if span > 0 else None)
            out["pct_of_offered"] = (round(100.0 * out["updates_per_s"] / self.args.rate, 1)
                                     if out["updates_per_s"] else None)
        if self.scenario == "crash":
            answered = [r for r in self.residents.values() if r.answered > 0]
            out["kill_fraction"] = self.args.kill_fraction
            out["answered_at_kill"] = self.answered_at_kill
            out["answered_at_restart"] = self.answered_at_restart
            out["restart_gap_s"] = (round(self.t_restart_poll - self.t_kill, 3)
                                    if self.t_restart_poll and self.t_kill else None)
            out["lost"] = n_res - len(answered)
            out["duplicated"] = sum(1 for r in self.residents.values()
                                    if any(c > 1 for c in r.texts.values()))
            out["answered_twice"] = sum(1 for r in self.residents.values()
                                        if r.extra and r.answered)
            out["partial_only"] = sum(1 for r in self.residents.values()
                                      if r.messages and not r.answered)
        if self.scenario == "flood":
            out["flood"] = self.flood_result(now)
        stuck = [r for r in self.residents.values() if r.answered < r.offered]
        out["stuck"] = len(stuck)
        out["stuck_examples"] = [
            {"user": r.uid, "step": self.steps[r.answered],
             "last_texts": [t[:80] for t in list(r.texts)[-2:]]}
            for r in stuck[:3]
        ]
        return out

    def flood_result(self, now: float) -> JSONDict:
        """The flooder's figures, and the residents' latency while its updates were fetched."""
        t_start, t_end = self.t_flood_start, self.t_flood_fetched or now
        during = [lat for at, lat in self.lat_at
                  if t_start is not None and t_start <= at <= t_end]
        return {
            "updates": self.args.flood,
            "window": self.args.flood_window,
            "pushed": self.flood_pushed,
            "fetched": self.flood_fetched,
            "fetch_s": (round(self.t_flood_fetched - t_start, 3)
                        if self.t_flood_fetched is not None and t_start is not None else None),
            "messages_to_flooder": self.flood_messages,
            "texts_to_flooder": [{"text": t, "n": n}
                                 for t, n in self.flooder.texts.most_common(4)],
            "resident_latency_during_ms": summary_ms(during),
        }

    # ------------------------------------------------------------------ process

    async def main(self) -> None:
        await self.fake.start("127.0.0.1", self.args.port)
        commands = asyncio.create_task(self._read_commands())
        try:
            if self.scenario == "raw":
                self.prequeue()
            self._t_ready = time.monotonic()
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
    p = argparse.ArgumentParser(prog="python -m bench.driver")
    p.add_argument("--scenario", choices=("surge", "raw", "crash", "flood"), required=True)
    p.add_argument("--residents", type=int, required=True)
    p.add_argument("--rule", choices=("button", "any"), default="button")
    p.add_argument("--rate", type=float, default=100.0)
    p.add_argument("--latency-ms", type=float, default=0.0)
    p.add_argument("--invite", default="cmc23-N8vNPoT0")
    p.add_argument("--deadline", type=float, default=300.0,
                   help="seconds after the first getUpdates after which the run stops")
    p.add_argument("--kill-fraction", type=float, default=0.4)
    p.add_argument("--flood", type=int, default=0,
                   help="flood: updates the flooder sends (0: the quiet baseline)")
    p.add_argument("--flood-window", type=int, default=50,
                   help="flood: the flooder's updates kept waiting at the fake server")
    p.add_argument("--token", default=DEFAULT_TOKEN)
    p.add_argument("--port", type=int, default=0)
    args = p.parse_args(argv)
    if args.residents < 1 or args.rate <= 0 or args.deadline <= 0:
        p.error("--residents, --rate and --deadline must be positive")
    if args.flood < 0 or args.flood_window < 1:
        p.error("--flood must not be negative, --flood-window must be positive")
    return args


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    asyncio.run(Driver(args).main())


if __name__ == "__main__":
    main()
