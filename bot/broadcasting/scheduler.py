"""APScheduler wakes the bot when a notice is due; the database says what is due.

Every scheduled notice has its next time (``next_run_at``) in the database. At start and
whenever a schedule changes, each one is (re-)registered as an APScheduler job at that
time; a job only calls ``run_due``, which starts whatever the database says is due by the
injected clock, so tests move the clock and call ``run_due`` instead of sleeping. A
once-a-minute job catches anything else (e.g. a notice added by another process).
"""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime, timedelta

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.date import DateTrigger
from apscheduler.triggers.interval import IntervalTrigger

from bot.broadcasting.notices import run_due
from bot.context import Services
from db.repositories.notices import Run

log = logging.getLogger(__name__)


class NoticeScheduler:
    def __init__(self, services: Services) -> None:
        self.services = services
        self.aps = AsyncIOScheduler(timezone=services.settings.timezone)
        self._lock = asyncio.Lock()
        self._due: dict[str, datetime] = {}  # job id -> when the notice is due
        self._tasks: set[asyncio.Task[None]] = set()

    async def start(self) -> None:
        """Start anything due (or report it missed), then register every schedule."""
        await self.run_due()
        self.aps.start()
        self.aps.add_job(self._job, IntervalTrigger(minutes=1), id="sweep",
                         replace_existing=True, coalesce=True, max_instances=1)
        await self.sync()
        self.services.signals.schedule_listeners.append(self._changed)

    def _changed(self) -> None:
        task = asyncio.get_running_loop().create_task(self.sync())
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def sync(self) -> None:
        """Make the APScheduler jobs match the notices scheduled in the database."""
        scheduled = await self.services.store.reads.notices.scheduled()
        wanted = {f"notice-{n.id}": n.next_run_at for n in scheduled if n.next_run_at}
        for job in self.aps.get_jobs():
            if job.id.startswith("notice-") and job.id not in wanted:
                job.remove()
        now = self.services.clock.now()
        for job_id, at in wanted.items():
            if self._due.get(job_id) == at and self.aps.get_job(job_id) is not None:
                continue
            # APScheduler waits in real time; the wait is measured on the injected clock
            fire_at = datetime.now(UTC) + max(at - now, timedelta(seconds=1))
            self.aps.add_job(self._job, DateTrigger(run_date=fire_at), id=job_id,
                             replace_existing=True, misfire_grace_time=None, coalesce=True)
            self._due[job_id] = at
        for job_id in set(self._due) - set(wanted):
            del self._due[job_id]

    def jobs(self) -> dict[str, datetime]:
        """Registered notice jobs and the time (on the bot's clock) each is due."""
        registered = {job.id for job in self.aps.get_jobs()}
        return {job_id: at for job_id, at in self._due.items() if job_id in registered}

    async def _job(self) -> None:
        try:
            await self.run_due()
            await self.sync()
        except Exception:
            log.exception("scheduled notices failed")

    async def run_due(self) -> list[Run]:
        """Start every notice due by the clock (one at a time)."""
        async with self._lock:
            now = self.services.clock.now()
            if not await self.services.store.reads.notices.due(now):
                return []  # the usual case for the minute sweep: no write at all
            runs = await self.services.store.write(lambda tx: run_due(self.services, tx, now))
        if runs:
            log.info("started %d scheduled notices", len(runs))
        self.services.signals.outbox()
        return runs

    def stop(self) -> None:
        if self._changed in self.services.signals.schedule_listeners:
            self.services.signals.schedule_listeners.remove(self._changed)
        if self.aps.running:
            self.aps.shutdown(wait=False)
