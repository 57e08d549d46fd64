"""The background workers: the notice scheduler, one outbox sender per channel, the
progress reporter and the symptom follow-up (check-ins, escalation), started and stopped
together."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

from bot.broadcasting.outbox import Sender, Transport
from bot.broadcasting.progress import Reporter
from bot.broadcasting.scheduler import NoticeScheduler
from bot.context import Services
from bot.symptoms import service as symptoms
from bot.volunteers import service as volunteers

log = logging.getLogger(__name__)


async def follow_up_loop(services: Services, every: float = 30.0) -> None:
    """Every ``every`` seconds: symptom check-ins and escalations, call-out reminders.
    Their schedules live in the database, so a restart loses none."""
    while True:
        for name, run_due in (("symptom follow-up", symptoms.run_due),
                              ("call-out reminders", volunteers.run_due)):
            try:
                await run_due(services)
            except Exception:
                log.exception("%s failed", name)
        await asyncio.sleep(every)


@dataclass
class Workers:
    scheduler: NoticeScheduler
    senders: list[Sender]
    reporter: Reporter
    sender_tasks: dict[str, asyncio.Task[None]] = field(default_factory=dict)

    def running(self) -> dict[str, bool]:
        """Whether each channel's sender is still running (for /healthz)."""
        return {channel: not task.done() for channel, task in self.sender_tasks.items()}


@contextlib.asynccontextmanager
async def start_workers(services: Services, transports: list[Transport]
                        ) -> AsyncIterator[Workers]:
    """Run the scheduler, one outbox sender per channel and the progress reporter."""
    reporter = Reporter(services, {t.channel: t for t in transports})
    senders = [Sender(services, t, on_flush=reporter.wake) for t in transports]
    for sender in senders:
        services.signals.outbox_listeners.append(sender.wake)
    scheduler = NoticeScheduler(services)
    sender_tasks = {s.transport.channel: asyncio.create_task(s.run(),
                                                             name=f"sender-{s.transport.channel}")
                    for s in senders}
    tasks = [*sender_tasks.values()]
    reporting = asyncio.create_task(reporter.run(), name="reporter")
    following = asyncio.create_task(follow_up_loop(services), name="symptom-follow-up")
    try:
        await scheduler.start()
        yield Workers(scheduler, senders, reporter, sender_tasks)
    finally:
        scheduler.stop()
        for sender in senders:
            sender.stop()
        if tasks:
            await asyncio.wait(tasks, timeout=10)
        for task in [*tasks, reporting, following]:
            task.cancel()
        await asyncio.gather(*tasks, reporting, following, return_exceptions=True)
        for sender in senders:
            with contextlib.suppress(ValueError):
                services.signals.outbox_listeners.remove(sender.wake)
