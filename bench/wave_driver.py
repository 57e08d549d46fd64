"""The fake Telegram Bot API server for the wave scenario: residents joining while a notice is
submitted and approved.

    python -m bench.wave_driver --residents N --seconds S --submit-at T --invite CODE
        --coordinator ID --moderator ID [--latency-ms L] [--deadline S]

The bot's database already holds a coordinator of the invite's RT, a moderator and the RT's
residents (see :mod:`bench.stress`). Once the bot polls, the coordinator walks the notice
wizard up to its preview (``/siaran``, new, the text, everybody, regular, now). Then the wave
starts: N new residents each join through the invite link (``/start <invite>``, ``lang:id``,
``consent:yes``), the first updates spread evenly over S seconds, each next step the moment
the answer to the previous one reaches the fake server. T seconds into the wave the
coordinator presses Send (submits the notice for approval); the moderator presses Approve the
moment the review request reaches the fake server. With N = 0 (the quiet baseline) the
coordinator submits T seconds after the preview.

Measured on this process's clock: from the Send update entering the getUpdates queue to the
moderator's review request reaching the server, and from the Approve update entering the
queue to the first resident's copy of the notice reaching the server. Talks to the
orchestrator in JSON lines like :mod:`bench.driver` ("ready", "result"; "quit").
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import itertools
import time
from collections import Counter
from typing import Any

from bench.driver import (
    QUIT_TIMEOUT,
    STARTUP_TIMEOUT,
    Controlled,
    Resident,
    emit,
    summary_ms,
)
from tests.fake_telegram import DEFAULT_TOKEN, FakeBotAPI, command_entities

JSONDict = dict[str, Any]

JOIN = ("/start {invite}", "lang:id", "consent:yes")
FIRST_JOINER = 730_000_001
MARKER = "KODE-UJI-GELOMBANG"  # in the notice's body: tells its copies from other messages
BODY = ("Kerja bakti membersihkan saluran air RT 03 hari Minggu pukul 07.00. Mohon membawa "
        f"cangkul dan karung. ({MARKER})")
# the coordinator's way to the preview: (update, the button the answer must carry; None: any)
WIZARD = (
    ("/siaran", "bc:new"),
    ("bc:new", None),  # "write the text" (with Cancel only)
    (BODY, "bc:seg:all"),  # an RT coordinator's audience is their RT: no audience step
    ("bc:seg:all", "bc:cat:regular"),
    ("bc:cat:regular", "bc:when:now"),
    ("bc:when:now", "bc:send"),  # the preview, then the summary with Send
)
SUBMIT = "bc:send"
APPROVE_PREFIX = "mod:ok:"
STEP_TIMEOUT = 30.0  # seconds for each answer in the wizard
MESSAGE_METHODS = frozenset({"sendMessage", "sendPhoto", "sendDocument"})


def _buttons(params: JSONDict) -> list[str]:
    markup = params.get("reply_markup")
    if not isinstance(markup, dict):
        return []
    return [str(b.get("callback_data")) for row in markup.get("inline_keyboard") or []
            for b in row if isinstance(b, dict) and b.get("callback_data")]


def _text(params: JSONDict) -> str:
    return str(params.get("text") or params.get("caption") or "")


class WaveFake(FakeBotAPI):
    """The fake server, telling the driver about every getUpdates and message sent."""

    driver: WaveDriver

    async def _m_getUpdates(self, params: JSONDict) -> list[JSONDict]:
        self.driver.on_poll()
        return await super()._m_getUpdates(params)

    def _log_sent(self, method: str, params: JSONDict, t0: float) -> None:
        super()._log_sent(method, params, t0)
        if method in MESSAGE_METHODS:
            self.driver.on_send(params, t0)


class WaveDriver(Controlled):
    def __init__(self, args: argparse.Namespace) -> None:
        super().__init__()
        self.args = args
        self.fake = WaveFake(args.token, latency=args.latency_ms / 1000.0)
        self.fake.driver = self
        self.steps = [s.format(invite=args.invite) for s in JOIN]
        self.expect: list[str | None] = [*self.steps[1:], None]
        self.joiners = {FIRST_JOINER + i: Resident(FIRST_JOINER + i)
                        for i in range(args.residents)}
        self.staff = {args.coordinator, args.moderator}
        self.coordinator = Resident(args.coordinator)
        self.moderator = Resident(args.moderator)
        self.callback_ids = itertools.count(6_000_000_000_000_000_001)
        self.first_poll = asyncio.Event()
        self.t_first_poll: float | None = None
        self.polls = 0
        self._t_ready = 0.0
        # joiners
        self.latencies: list[float] = []
        self.offered = 0
        self.answered = 0
        self.joined = 0  # every step answered
        self.all_joined = asyncio.Event()
        if not self.joiners:
            self.all_joined.set()
        self.t_wave: float | None = None
        self.t_first_offer: float | None = None
        self.t_last_offer: float | None = None
        self.t_last_joined: float | None = None
        self.extra = 0  # messages to joiners with no step of theirs outstanding
        # staff: one waiter at a time per person (the button its answer must carry)
        self.waiters: dict[int, tuple[str | None, asyncio.Future[tuple[float, JSONDict]]]] = {}
        self.request_given_up = False  # then the moderator opens the review list instead
        self.via_list = False
        self.wizard_s: list[float] = []
        self.t_submit: float | None = None
        self.t_submit_reply: float | None = None
        self.t_request: float | None = None
        self.request: JSONDict | None = None
        self.notice_id: int | None = None
        self.got_request = asyncio.Event()
        self.t_approve: float | None = None
        self.t_approve_reply: float | None = None
        self.joined_at_submit: int | None = None
        self.offered_at_submit: int | None = None
        # the notice's copies
        self.reached: dict[int, float] = {}  # chat -> first copy's arrival
        self.repeats = 0
        self.first_reached = asyncio.Event()
        self.texts_to_moderator: Counter[str] = Counter()

    # ------------------------------------------------------------------ updates

    def _message(self, r: Resident, text: str) -> JSONDict:
        r.offered += 1
        return {"message": {"message_id": r.offered, "from": r.user, "chat": r.chat,
                            "date": int(time.time()), "text": text,
                            "entities": command_entities(text)}}

    def _press(self, r: Resident, data: str, message: JSONDict | None = None) -> JSONDict:
        r.offered += 1
        if message is None:
            shown = self.fake.current_messages(r.uid)
            message = dict(shown[-1]) if shown else {
                "message_id": 1000 + r.offered, "from": self.fake.bot_user, "chat": r.chat,
                "date": int(time.time()), "text": "..."}
        return {"callback_query": {"id": str(next(self.callback_ids)), "from": r.user,
                                   "message": message,
                                   "chat_instance": str(8_000_000_000_000_000_000 + r.uid),
                                   "data": data}}

    def _update(self, r: Resident, step: str) -> JSONDict:
        is_text = step.startswith("/") or ":" not in step or " " in step
        return self._message(r, step) if is_text else self._press(r, step)

    def push(self, update: JSONDict) -> float:
        """Queue an update for getUpdates; the moment it was queued."""
        self.fake.push_update(update)
        return self.fake.enqueue_times[update["update_id"]]

    def offer(self, r: Resident) -> None:
        """A joiner's next step."""
        k = len(r.enqueued)
        r.enqueued.append(self.push(self._update(r, self.steps[k])))
        r.first_reply.append(None)
        self.offered += 1
        now = time.monotonic()
        self.t_first_offer = self.t_first_offer or now
        self.t_last_offer = now

    # ------------------------------------------------------------------ hooks from the fake

    def on_poll(self) -> None:
        self.polls += 1
        if self.t_first_poll is None:
            self.t_first_poll = time.monotonic()
            self.first_poll.set()

    def on_send(self, params: JSONDict, t0: float) -> None:
        chat = params.get("chat_id")
        if not isinstance(chat, int):
            return
        if chat in self.staff:  # (the coordinator's preview carries the notice's text too)
            self._staff(chat, params, t0)
            return
        if MARKER in _text(params):
            self._copy(chat, t0)
            return
        r = self.joiners.get(chat)
        if r is None:
            return
        k = r.answered
        if k >= len(r.enqueued):
            self.extra += 1
            return
        expected = self.expect[k]
        if expected is not None and expected not in _buttons(params):
            return  # a step answered with more than one message: wait for the one with
        self.latencies.append(t0 - r.enqueued[k])
        r.answered += 1
        self.answered += 1
        if r.answered < len(self.steps):
            self.offer(r)  # the next step at once
            return
        self.joined += 1
        self.t_last_joined = t0
        if self.joined >= len(self.joiners):
            self.all_joined.set()

    def _copy(self, chat: int, t0: float) -> None:
        if chat in self.reached:
            self.repeats += 1
            return
        self.reached[chat] = t0
        self.first_reached.set()

    def _staff(self, chat: int, params: JSONDict, t0: float) -> None:
        buttons = _buttons(params)
        if chat == self.args.moderator:
            self.texts_to_moderator[" ".join(_text(params).split()[:5])] += 1
            approve = [b for b in buttons if b.startswith(APPROVE_PREFIX)]
            if approve and self.t_submit is not None and self.t_request is None \
                    and not self.request_given_up:
                self.t_request = t0
                self.notice_id = int(approve[0][len(APPROVE_PREFIX):])
                self.request = self.fake.current_messages(chat)[-1]
                self.got_request.set()
                return
            if self.t_approve is not None and self.t_approve_reply is None:
                self.t_approve_reply = t0
        elif self.t_submit is not None and self.t_submit_reply is None:
            self.t_submit_reply = t0
        waiter = self.waiters.get(chat)
        if waiter is not None and (waiter[0] is None or waiter[0] in buttons or any(
                b.startswith(waiter[0]) for b in buttons if waiter[0].endswith(":"))) \
                and not waiter[1].done():
            del self.waiters[chat]
            waiter[1].set_result((t0, params))

    # ------------------------------------------------------------------ the run

    async def _answer(self, r: Resident, update: JSONDict, expect: str | None) -> float | None:
        """Push a staff update and wait for the answer carrying the button ``expect`` (any
        message if None, a button starting with it if it ends with ":"); its latency."""
        future: asyncio.Future[tuple[float, JSONDict]] = \
            asyncio.get_running_loop().create_future()
        self.waiters[r.uid] = (expect, future)
        queued = self.push(update)
        try:
            t0, _ = await asyncio.wait_for(future, STEP_TIMEOUT)
        except TimeoutError:
            return None
        finally:
            self.waiters.pop(r.uid, None)
        return t0 - queued

    async def _prepare(self) -> str | None:
        """The coordinator's wizard up to the preview; an error, or None."""
        for step, expect in WIZARD:
            latency = await self._answer(self.coordinator,
                                         self._update(self.coordinator, step), expect)
            if latency is None:
                return (f"the coordinator's wizard stalled at {step[:20]!r} (no answer with "
                        f"{expect or 'a message'} within {STEP_TIMEOUT:g} s)")
            self.wizard_s.append(latency)
        return None

    async def _wave(self) -> None:
        """Each joiner's first update at its time; the next steps follow their answers."""
        assert self.t_wave is not None
        interval = self.args.seconds / max(1, len(self.joiners))
        for i, r in enumerate(self.joiners.values()):
            due = self.t_wave + i * interval
            delay = due - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)
            if self.quit.is_set():
                return
            self.offer(r)

    async def run(self) -> JSONDict:
        if not await self._wait(self.first_poll, STARTUP_TIMEOUT):
            return self.result(error="the bot made no getUpdates call within "
                                     f"{STARTUP_TIMEOUT:.0f}s")
        assert self.t_first_poll is not None
        deadline = self.t_first_poll + self.args.deadline
        error = await self._prepare()
        if error:
            return self.result(error=error)
        self.t_wave = time.monotonic()
        wave = asyncio.create_task(self._wave())
        try:
            return await self._notice(deadline)
        finally:
            wave.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await wave

    async def _notice(self, deadline: float) -> JSONDict:
        assert self.t_wave is not None
        await asyncio.sleep(max(0.0, self.t_wave + self.args.submit_at - time.monotonic()))
        self.joined_at_submit, self.offered_at_submit = self.joined, self.offered
        self.t_submit = self.push(self._press(self.coordinator, SUBMIT))
        stopped = None
        limit = min(deadline, self.t_submit + self.args.give_up)
        if not await self._wait(self.got_request, limit - time.monotonic()):
            stopped = (f"no review request reached the moderator {self.args.give_up:g} s "
                       "after submission; the moderator opened the review list instead")
            await self._from_list()
        if self.notice_id is not None:
            self.t_approve = self.push(self._press(
                self.moderator, f"{APPROVE_PREFIX}{self.notice_id}", self.request))
            limit = min(deadline, self.t_approve + self.args.give_up)
            if not await self._wait(self.first_reached, limit - time.monotonic()):
                stopped = stopped or \
                    f"no resident had the notice {self.args.give_up:g} s after approval"
        else:
            stopped = "the moderator found no notice to approve"
        # the rest of the wave (the notice keeps going out meanwhile)
        if not await self._wait(self.all_joined, deadline - time.monotonic()):
            stopped = stopped or "deadline reached before every joiner was answered"
        await self._wait(self.quit, 0.5)  # late answers
        return self.result(stopped=stopped)

    async def _from_list(self) -> None:
        """The review request did not come: the moderator opens the list of notices waiting
        (an answer, not a queued message) and takes the notice's Approve button from it."""
        self.request_given_up = True
        self.via_list = True
        if self.quit.is_set():
            return
        if await self._answer(self.moderator, self._press(self.moderator, "bc:review"),
                              APPROVE_PREFIX) is None:
            return
        for message in reversed(self.fake.current_messages(self.args.moderator)):
            approve = [b for b in _buttons(message) if b.startswith(APPROVE_PREFIX)]
            if approve:
                self.notice_id = int(approve[0][len(APPROVE_PREFIX):])
                self.request = message
                return

    # ------------------------------------------------------------------ figures

    def result(self, error: str | None = None, stopped: str | None = None) -> JSONDict:
        def since(t: float | None, start: float | None) -> float | None:
            return round(t - start, 3) if t is not None and start is not None else None

        reached = sorted(self.reached.values())
        span = since(self.t_last_offer, self.t_first_offer)
        out: JSONDict = {
            "residents": len(self.joiners),
            "wave_s": self.args.seconds,
            "submit_at_s": self.args.submit_at,
            "updates_total": len(self.joiners) * len(self.steps),
            "offered": self.offered,
            "answered": self.answered,
            "joined": self.joined,
            "offered_per_s_actual": (round((self.offered - 1) / span, 2)
                                     if span and self.offered > 1 else None),
            "latency_ms": summary_ms(self.latencies),
            "extra_messages": self.extra,
            "wizard_ms": summary_ms(self.wizard_s),
            "notice_id": self.notice_id,
            "give_up_s": self.args.give_up,
            "approved_from_list": self.via_list,
            "joined_at_submit": self.joined_at_submit,
            "offered_at_submit": self.offered_at_submit,
            "submit_to_request_s": since(self.t_request, self.t_submit),
            "approve_to_first_s": since(reached[0] if reached else None, self.t_approve),
            "approve_to_last_seen_s": since(reached[-1] if reached else None, self.t_approve),
            "submit_reply_s": since(self.t_submit_reply, self.t_submit),
            "approve_reply_s": since(self.t_approve_reply, self.t_approve),
            "reached": len(reached),
            "reached_joiners": sum(1 for c in self.reached if c in self.joiners),
            "repeats": self.repeats,
            "texts_to_moderator": [{"text": t, "n": n}
                                   for t, n in self.texts_to_moderator.most_common(4)],
            "wave_to_last_joined_s": since(self.t_last_joined, self.t_wave),
            "startup_s": since(self.t_first_poll, self._t_ready),
            "polls": self.polls,
            "calls": dict(self.fake.call_counts),
            "latency_setting_ms": self.args.latency_ms,
        }
        if error:
            out["error"] = error
        if stopped:
            out["stopped"] = stopped
        return out

    # ------------------------------------------------------------------ process

    async def main(self) -> None:
        await self.fake.start("127.0.0.1", self.args.port)
        commands = asyncio.create_task(self._read_commands())
        try:
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
    p = argparse.ArgumentParser(prog="python -m bench.wave_driver")
    p.add_argument("--residents", type=int, required=True,
                   help="residents joining (0: the quiet baseline)")
    p.add_argument("--seconds", type=float, default=60.0,
                   help="the joiners' first updates are spread over this many seconds")
    p.add_argument("--submit-at", type=float, default=20.0,
                   help="seconds into the wave at which the coordinator submits")
    p.add_argument("--invite", required=True)
    p.add_argument("--coordinator", type=int, required=True, help="the coordinator's chat id")
    p.add_argument("--moderator", type=int, required=True, help="the moderator's chat id")
    p.add_argument("--latency-ms", type=float, default=0.0)
    p.add_argument("--give-up", type=float, default=30.0,
                   help="seconds to wait for the review request, and for the first copy")
    p.add_argument("--deadline", type=float, default=300.0,
                   help="seconds after the first getUpdates after which the run stops")
    p.add_argument("--token", default=DEFAULT_TOKEN)
    p.add_argument("--port", type=int, default=0)
    args = p.parse_args(argv)
    if args.residents < 0 or args.seconds <= 0 or args.submit_at < 0 or args.deadline <= 0 \
            or args.give_up <= 0:
        p.error("--residents must not be negative; --seconds, --deadline, --give-up positive")
    return args


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    asyncio.run(WaveDriver(args).main())


if __name__ == "__main__":
    main()
