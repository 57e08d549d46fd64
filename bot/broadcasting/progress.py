"""Progress and reports to a notice's author while it goes out.

The author gets one message that is edited as sending advances ("Terkirim 1.200 / 5.000"),
then a report (delivered, failed, blocked the bot, skipped) and a copy of the notice ready to
paste into the RT's WhatsApp group. If quiet hours hold regular messages back until the
morning, the report says so and a short follow-up comes once those went out.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Mapping

from bot.broadcasting.notices import notify, whatsapp_copy
from bot.broadcasting.outbox import Transport
from bot.broadcasting.schedule import format_local
from bot.context import Services
from bot.events import say
from bot.render import Renderer
from db.repositories.notices import Run
from db.repositories.outbox import SYSTEM, RunCounts

log = logging.getLogger(__name__)


class Reporter:
    def __init__(self, services: Services, transports: Mapping[str, Transport],
                 every: float = 2.0, edit_every: float = 3.0) -> None:
        self.services = services
        self.transports = transports
        self.every = every
        self.edit_every = edit_every  # seconds between two edits of one progress message
        self._edited: dict[int, float] = {}  # run id -> loop time of its last edit
        self._shown: dict[int, int] = {}  # run id -> delivered count last shown
        self._wakeup = asyncio.Event()
        self._lock = asyncio.Lock()  # one pass at a time: a run is reported once
        self.whatsapp = Renderer(services.content, "whatsapp",
                                 services.settings.default_language)  # for the pasteable copy

    def wake(self) -> None:
        self._wakeup.set()

    async def run(self) -> None:
        while True:
            self._wakeup.clear()  # before the pass: a wake-up during it is not lost
            try:
                await self.tick()
            except Exception:
                log.exception("progress report failed")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wakeup.wait(), self.every)
            await asyncio.sleep(0.2)  # at most five passes a second, however busy

    async def tick(self) -> None:
        """Update progress messages; send the report of every run that has finished."""
        async with self._lock:
            await self._pass()

    async def _pass(self) -> None:
        tx = self.services.store.reads
        for run in await tx.notices.unfinished_runs():
            counts = await tx.outbox.counts(run.id)
            in_hand = counts.queued - counts.deferred + counts.sending
            if in_hand == 0:
                if await tx.outbox.progress_pending(run.id):
                    continue  # report once the progress message exists, so it can be closed
                level = 2 if counts.queued == 0 else 1
                if level > run.reported:
                    await self._report(run, counts, level)
                    continue
            now = asyncio.get_running_loop().time()
            if self._shown.get(run.id) != counts.done and \
                    now - self._edited.get(run.id, -1e9) >= self.edit_every:
                await self._edit(run, counts)

    async def _edit(self, run: Run, counts: RunCounts, final: bool = False) -> None:
        found = await self.services.store.reads.outbox.progress_message(run.id)
        if found is None:
            return
        transport = self.transports.get(found.channel)
        if transport is None:
            return
        key = "broadcast.progress_done" if final else "broadcast.progress"
        reply = say(key, id=run.notice_id, sent=counts.sent, total=counts.total)
        self._edited[run.id] = asyncio.get_running_loop().time()
        await transport.limiter.acquire(SYSTEM)  # an edit counts towards the rate, first in line
        try:
            delivery = await transport.edit(found.address, found.message_id, found.lang, reply)
        except Exception as exc:  # progress is best effort; the report still comes
            log.debug("progress edit failed: %s", exc)
            return
        if delivery.status == "limited":
            transport.limiter.pause(delivery.retry_after)
            return
        self._shown[run.id] = counts.done

    async def _report(self, run: Run, counts: RunCounts, level: int) -> None:
        services = self.services
        now = services.clock.now()
        notice = await services.store.reads.notices.get(run.notice_id)
        await self._edit(run, counts, final=True)
        figures = {"delivered": counts.sent, "failed": counts.failed,
                   "blocked": counts.blocked, "skipped": counts.skipped + counts.cancelled}

        async def write(tx):  # type: ignore[no-untyped-def]
            await tx.notices.mark_reported(run.id, level, figures,
                                                  now if level == 2 else None)
            if notice is None:
                return
            lang = notice.author_lang
            if run.reported == 0:
                until = ""
                if counts.deferred:
                    next_due = await tx.outbox.next_due_of_run(run.id)
                    until = format_local(next_due, services.settings.timezone, lang) \
                        if next_due else ""
                await notify(tx, notice.author, say(
                    "broadcast.report", id=notice.id, total=counts.total,
                    delivered=counts.sent, failed=counts.failed, blocked=counts.blocked,
                    opted_out=counts.skipped, cancelled=counts.cancelled,
                    deferred=counts.deferred, until=until), now)
                await notify(tx, notice.author, say(
                    "broadcast.whatsapp_copy", copy=whatsapp_copy(
                        services, self.whatsapp, notice, lang, run.started_at)), now)
            else:
                await notify(tx, notice.author, say(
                    "broadcast.report_deferred", id=notice.id, delivered=counts.sent,
                    failed=counts.failed, blocked=counts.blocked, total=counts.total,
                    cancelled=counts.cancelled), now)

        await services.store.write(write)
        services.signals.outbox()
        self._shown.pop(run.id, None)
        self._edited.pop(run.id, None)
