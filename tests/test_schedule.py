"""When notices are due: recurring times, quiet hours, and what a restart does to schedules.

The pure units of bot/schedule.py are tested directly; restarts go through the real
scheduler start-up (``broadcasting``) with the bot talking to the fake Bot API server.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from bot.app import open_services
from bot.broadcasting.notices import cancel, pause, quiet_hours, resume
from bot.broadcasting.schedule import (
    LAST_DAY,
    QuietHours,
    format_local,
    latest_missed,
    next_occurrence,
)
from bot.clock import FakeClock
from bot.content import load_content
from bot.render import Renderer
from db.repositories.notices import NoticesRepo
from tests.broadcast_helpers import RT03, create_notice, drain, fire_notice, grant, resident
from tests.conftest import make_settings
from tests.telegram_harness import running_bot

WIB = ZoneInfo("Asia/Jakarta")  # UTC+7
WITA = ZoneInfo("Asia/Makassar")  # UTC+8
WIT = ZoneInfo("Asia/Jayapura")  # UTC+9
START = datetime(2026, 11, 29, 8, 0, tzinfo=UTC)  # Sunday 29 Nov 2026, 15:00 WIB
AUTHOR = 700
BODY = "Ronda malam: giliran blok C."
FAST = {"TELEGRAM_PER_CHAT_INTERVAL": "0.05"}


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


# --- next_occurrence -----------------------------------------------------------------------


def test_daily_is_the_next_local_time_after() -> None:
    assert next_occurrence("daily", "07:00", WIB, START) == utc(2026, 11, 30, 0, 0)
    early = utc(2026, 11, 29, 23, 30)  # 06:30 WIB on the 30th: later that same local day
    assert next_occurrence("daily", "07:00", WIB, early) == utc(2026, 11, 30, 0, 0)
    assert next_occurrence("daily", "21:15", WIB, START) == utc(2026, 11, 29, 14, 15)


def test_an_occurrence_is_after_unless_inclusive() -> None:
    at = utc(2026, 11, 30, 0, 0)  # 07:00 WIB
    assert next_occurrence("daily", "07:00", WIB, at) == utc(2026, 12, 1, 0, 0)
    assert next_occurrence("daily", "07:00", WIB, at, inclusive=True) == at


def test_weekly_on_chosen_days() -> None:
    kw = {"weekdays": "mon,thu"}
    first = next_occurrence("weekly", "19:30", WIB, START, **kw)
    assert first == utc(2026, 11, 30, 12, 30)  # Monday 19:30 WIB
    assert first.astimezone(WIB).weekday() == 0
    second = next_occurrence("weekly", "19:30", WIB, first, **kw)
    assert second == utc(2026, 12, 3, 12, 30)  # Thursday
    assert next_occurrence("weekly", "19:30", WIB, second, **kw) == utc(2026, 12, 7, 12, 30)
    # no days chosen: Mondays
    assert next_occurrence("weekly", "08:00", WIB, START) == utc(2026, 11, 30, 1, 0)


def test_monthly_on_a_day_skips_months_without_it() -> None:
    assert next_occurrence("monthly", "08:00", WIB, START, month_day=1) == utc(2026, 12, 1, 1, 0)
    assert next_occurrence("monthly", "08:00", WIB, START, month_day=29) == \
        utc(2026, 12, 29, 1, 0)  # the 29th 08:00 WIB is already past today
    dec31 = next_occurrence("monthly", "08:00", WIB, START, month_day=31)
    assert dec31 == utc(2026, 12, 31, 1, 0)
    jan31 = next_occurrence("monthly", "08:00", WIB, dec31, month_day=31)
    assert jan31 == utc(2027, 1, 31, 1, 0)
    assert next_occurrence("monthly", "08:00", WIB, jan31, month_day=31) == \
        utc(2027, 3, 31, 1, 0)  # no 31 February


def test_monthly_on_the_last_day_of_every_month() -> None:
    """LAST_DAY: the 31st, 28th (29th in a leap year), 31st, 30th ... at the chosen time."""
    due, seen = START, []
    for _ in range(16):
        due = next_occurrence("monthly", "07:00", WIB, due, month_day=LAST_DAY)
        assert due is not None
        seen.append(due.astimezone(WIB).date().isoformat())
    assert seen[:5] == ["2026-11-30", "2026-12-31", "2027-01-31", "2027-02-28", "2027-03-31"]
    assert seen[5] == "2027-04-30"
    assert "2028-02-29" in seen
    assert all(d.endswith(("-28", "-29", "-30", "-31")) for d in seen)
    # today is the last day, but 07:00 has passed: 31 December
    dec1 = datetime(2026, 11, 30, 3, 0, tzinfo=UTC)  # 30 Nov 10:00 WIB
    assert next_occurrence("monthly", "07:00", WIB, dec1, month_day=LAST_DAY) == \
        utc(2026, 12, 31, 0, 0)


def test_end_date_includes_its_whole_last_day() -> None:
    kw = {"end_date": "2026-12-01"}
    assert next_occurrence("daily", "07:00", WIB, START, **kw) == utc(2026, 11, 30, 0, 0)
    last = next_occurrence("daily", "20:00", WIB, utc(2026, 11, 30, 14, 0), **kw)
    assert last == utc(2026, 12, 1, 13, 0)  # 1 Dec 20:00 WIB: still on the end date
    assert next_occurrence("daily", "07:00", WIB, utc(2026, 12, 1, 0, 0), **kw) is None
    assert next_occurrence("weekly", "07:00", WIB, START, weekdays="fri", **kw) is None
    assert next_occurrence("monthly", "07:00", WIB, START, month_day=5, **kw) is None


def test_eastern_time_zones() -> None:
    # 07:00 WITA (UTC+8) and 07:00 WIT (UTC+9) are 23:00 and 22:00 UTC the day before
    assert next_occurrence("daily", "07:00", WITA, START) == utc(2026, 11, 29, 23, 0)
    assert next_occurrence("daily", "07:00", WIT, START) == utc(2026, 11, 29, 22, 0)
    # Monday 06:00 WIT is Sunday 21:00 UTC
    monday = next_occurrence("weekly", "06:00", WIT, START, weekdays="mon")
    assert monday == utc(2026, 11, 29, 21, 0)
    assert monday.astimezone(WIT).weekday() == 0
    # the end date is a local date: 1 Dec 07:00 WITA is 30 Nov 23:00 UTC, still included
    end = {"end_date": "2026-12-01"}
    assert next_occurrence("daily", "07:00", WITA, utc(2026, 11, 29, 23, 0), **end) == \
        utc(2026, 11, 30, 23, 0)
    assert next_occurrence("daily", "07:00", WITA, utc(2026, 11, 30, 23, 0), **end) is None


def test_unknown_repeat_is_refused() -> None:
    with pytest.raises(ValueError):
        next_occurrence("hourly", "07:00", WIB, START)


def test_latest_missed_is_the_last_occurrence_before_now() -> None:
    first = utc(2026, 11, 30, 0, 0)
    now = utc(2026, 12, 2, 2, 0)  # 09:00 WIB on 2 Dec: 30 Nov, 1 and 2 Dec were due
    assert latest_missed("daily", "07:00", WIB, first, now) == utc(2026, 12, 2, 0, 0)
    assert latest_missed("daily", "07:00", WIB, first, utc(2026, 11, 30, 1, 0)) == first
    assert latest_missed("weekly", "07:00", WIB, first, now + timedelta(days=14),
                         weekdays="mon") == utc(2026, 12, 14, 0, 0)
    assert latest_missed("daily", "07:00", WIB, first, now + timedelta(days=30),
                         end_date="2026-12-05") == utc(2026, 12, 5, 0, 0)


# --- quiet hours and local times ---------------------------------------------------------


def wib(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 11, day, hour, minute, tzinfo=WIB)


def test_quiet_hours_across_midnight() -> None:
    qh = QuietHours(time(21, 0), time(6, 0), WIB)
    assert not qh.active(wib(29, 20, 59))
    assert qh.active(wib(29, 21, 0))
    assert qh.active(wib(29, 23, 30))
    assert qh.active(wib(30, 0, 0))
    assert qh.active(wib(30, 5, 59))
    assert not qh.active(wib(30, 6, 0))
    assert not qh.active(START)  # 15:00 WIB
    assert qh.active(utc(2026, 11, 29, 15, 0))  # 22:00 WIB given in UTC
    # before midnight and after it, the window ends at 06:00 WIB the next morning
    morning = utc(2026, 11, 29, 23, 0)
    assert qh.ends_after(wib(29, 22, 0)) == morning
    assert qh.ends_after(wib(30, 2, 0)) == morning
    assert qh.ends_after(wib(30, 5, 59)) == morning
    assert qh.ends_after(morning).tzinfo is not None


def test_quiet_hours_in_other_zones_and_shapes() -> None:
    wita = QuietHours(time(21, 0), time(6, 0), WITA)
    at = utc(2026, 11, 29, 13, 30)  # 21:30 WITA, 20:30 WIB
    assert wita.active(at)
    assert not QuietHours(time(21, 0), time(6, 0), WIB).active(at)
    assert wita.ends_after(at) == utc(2026, 11, 29, 22, 0)  # 06:00 WITA
    daytime = QuietHours(time(12, 0), time(14, 0), WIB)
    assert daytime.active(wib(29, 13, 0))
    assert not daytime.active(wib(29, 14, 0)) and not daytime.active(wib(29, 11, 59))
    assert daytime.ends_after(wib(29, 13, 0)) == wib(29, 14, 0)
    never = QuietHours(time(0, 0), time(0, 0), WIB)
    assert not any(never.active(wib(29, h)) for h in range(24))


def test_format_local() -> None:
    """Dates read in the reader's language, with day and month names from content."""
    words = Renderer(load_content(), "console")

    def local(at: datetime, tz: ZoneInfo, lang: str, **kw: bool) -> str:
        return words.render(format_local(at, tz, **kw), lang)

    at = utc(2026, 11, 30, 0, 0)
    assert local(at, WIB, "id") == "Senin, 30 Nov 2026 07.00 WIB"
    assert local(at, WIB, "en") == "Monday, 30 Nov 2026 07:00 WIB"
    assert local(at, WITA, "id") == "Senin, 30 Nov 2026 08.00 WITA"
    assert local(at, WIT, "id") == "Senin, 30 Nov 2026 09.00 WIT"
    # the local date, not the UTC one: 16 Aug 17:30 UTC is 17 Aug 00:30 WIB
    assert local(utc(2026, 8, 16, 17, 30), WIB, "id") == "Senin, 17 Agu 2026 00.30 WIB"
    assert local(at, WIB, "id", with_day=False) == "30 Nov 2026 07.00 WIB"


# --- restarts ------------------------------------------------------------------------------


async def prepare(tmp_path, clock: FakeClock, **fields: object) -> int:  # type: ignore[no-untyped-def]
    """Before the 'restart': residents and one scheduled notice in the database file."""
    async with open_services(make_settings(tmp_path), clock) as svc:
        await resident(svc, AUTHOR, RT03)
        await grant(svc, AUTHOR, "coordinator", RT03, "Pak Ahmad")
        for uid in (701, 702):
            await resident(svc, uid, RT03)
        notice = await create_notice(svc, AUTHOR, BODY, **fields)
        assert notice.id is not None
        return notice.id


def got(fake, chat_id: int) -> list[str]:  # type: ignore[no-untyped-def]
    return [m["text"] for m in fake.current_messages(chat_id)
            if m.get("text", "").startswith("📢 Pengumuman") and BODY in m["text"]]


def texts(fake, chat_id: int) -> list[str]:  # type: ignore[no-untyped-def]
    return [m.get("text", "") for m in fake.current_messages(chat_id)]


DAILY = {"repeat": "daily", "at_time": "07:00",
         "next_run_at": utc(2026, 11, 30, 0, 0)}  # Monday 30 Nov 07:00 WIB


async def test_recurring_notice_missed_while_down_is_reported_not_burst(fake, tmp_path
                                                                        ) -> None:
    clock = FakeClock(START)
    notice_id = await prepare(tmp_path, clock, **DAILY)
    clock.advance(days=2, hours=18)  # Wednesday 2 Dec 09:00 WIB: three 07:00s passed
    async with running_bot(fake, tmp_path, clock=clock, **FAST) as bot:
        svc = bot.services
        await drain(bot)
        repo = NoticesRepo(svc.store.db.conn)
        assert await repo.runs_of(notice_id) == []
        for uid in (AUTHOR, 701, 702):
            assert got(fake, uid) == []
        told = [t for t in texts(fake, AUTHOR) if "terlewat" in t]
        assert len(told) == 1, texts(fake, AUTHOR)
        assert "Rabu, 2 Des 2026 07.00 WIB" in told[0]
        assert "Berikutnya: Kamis, 3 Des 2026 07.00 WIB" in told[0]
        notice = await repo.get(notice_id)
        assert notice is not None and notice.status == "active"
        tomorrow = utc(2026, 12, 3, 0, 0)
        assert notice.next_run_at == tomorrow
        assert bot.workers.scheduler.jobs() == {f"notice-{notice_id}": tomorrow}

        # and it keeps its schedule: tomorrow 07:00 it runs once
        clock.advance(hours=22)
        runs = await bot.workers.scheduler.run_due()
        assert len(runs) == 1 and runs[0].planned_at == tomorrow
        await drain(bot)
        for uid in (AUTHOR, 701, 702):
            assert len(got(fake, uid)) == 1
        notice = await repo.get(notice_id)
        assert notice is not None and notice.next_run_at == utc(2026, 12, 4, 0, 0)


async def test_recurring_notice_missed_within_the_grace_runs_once_at_start(fake, tmp_path
                                                                           ) -> None:
    clock = FakeClock(START)
    notice_id = await prepare(tmp_path, clock, **DAILY)
    clock.advance(days=2, hours=16, minutes=30)  # Wednesday 2 Dec 07:30 WIB
    async with running_bot(fake, tmp_path, clock=clock, **FAST) as bot:
        svc = bot.services
        await drain(bot)
        runs = await NoticesRepo(svc.store.db.conn).runs_of(notice_id)
        assert len(runs) == 1
        assert runs[0].planned_at == utc(2026, 12, 2, 0, 0)  # the latest 07:00, not the first
        for uid in (AUTHOR, 701, 702):
            assert len(got(fake, uid)) == 1, texts(fake, uid)
        assert "Rabu, 2 Des 2026" in got(fake, 701)[0]
        assert not any("terlewat" in t for t in texts(fake, AUTHOR))
        notice = await NoticesRepo(svc.store.db.conn).get(notice_id)
        assert notice is not None and notice.next_run_at == utc(2026, 12, 3, 0, 0)
        assert bot.workers.scheduler.jobs() == {f"notice-{notice_id}": utc(2026, 12, 3, 0, 0)}
        assert await bot.workers.scheduler.run_due() == []  # nothing more is due


async def test_recurring_notice_whose_end_passed_while_down_is_finished(fake, tmp_path
                                                                        ) -> None:
    clock = FakeClock(START)
    notice_id = await prepare(tmp_path, clock, end_date="2026-12-01", **DAILY)
    clock.advance(days=4)  # Thursday 3 Dec 15:00 WIB: the last 07:00 was on 1 Dec
    async with running_bot(fake, tmp_path, clock=clock, **FAST) as bot:
        svc = bot.services
        await drain(bot)
        notice = await NoticesRepo(svc.store.db.conn).get(notice_id)
        assert notice is not None and notice.status == "done" and notice.next_run_at is None
        assert await NoticesRepo(svc.store.db.conn).runs_of(notice_id) == []
        told = [t for t in texts(fake, AUTHOR) if "terlewat" in t]
        assert len(told) == 1 and "Selasa, 1 Des 2026 07.00 WIB" in told[0], told
        assert bot.workers.scheduler.jobs() == {}


async def test_quiet_hours_and_grace_come_from_the_settings(tmp_path) -> None:
    settings = make_settings(tmp_path, SIAGA_TIMEZONE="Asia/Jayapura",
                             SIAGA_QUIET_START="22:00", SIAGA_QUIET_END="05:30",
                             SIAGA_MISSED_GRACE_MINUTES="15")
    assert settings.broadcast.missed_grace == timedelta(minutes=15)
    async with open_services(settings, FakeClock(START)) as svc:
        qh = quiet_hours(svc)
        assert qh.active(utc(2026, 11, 29, 13, 30))  # 22:30 WIT
        assert not qh.active(utc(2026, 11, 29, 12, 59))  # 21:59 WIT
        assert qh.ends_after(utc(2026, 11, 29, 13, 30)) == utc(2026, 11, 29, 20, 30)


ONCE = {"repeat": "once", "start_at": utc(2026, 11, 29, 10, 0),
        "next_run_at": utc(2026, 11, 29, 10, 0)}  # 17:00 WIB today


async def test_one_off_notice_missed_beyond_the_grace_is_marked_missed(fake, tmp_path) -> None:
    clock = FakeClock(START)
    notice_id = await prepare(tmp_path, clock, **ONCE)
    clock.advance(hours=3, minutes=1)  # 18:01 WIB: 61 minutes late
    async with running_bot(fake, tmp_path, clock=clock, **FAST) as bot:
        svc = bot.services
        await drain(bot)
        notice = await NoticesRepo(svc.store.db.conn).get(notice_id)
        assert notice is not None
        assert notice.status == "missed" and notice.next_run_at is None
        assert await NoticesRepo(svc.store.db.conn).runs_of(notice_id) == []
        for uid in (AUTHOR, 701, 702):
            assert got(fake, uid) == []
        told = [t for t in texts(fake, AUTHOR) if "tidak terkirim" in t]
        assert len(told) == 1, texts(fake, AUTHOR)
        assert f"Pengumuman #{notice_id} terjadwal Minggu, 29 Nov 2026 17.00 WIB" in told[0]
        assert bot.workers.scheduler.jobs() == {}


async def test_one_off_notice_missed_within_the_grace_is_sent_at_start(fake, tmp_path) -> None:
    clock = FakeClock(START)
    notice_id = await prepare(tmp_path, clock, **ONCE)
    clock.advance(hours=2, minutes=59)  # 59 minutes late
    async with running_bot(fake, tmp_path, clock=clock, **FAST) as bot:
        svc = bot.services
        await drain(bot)
        notice = await NoticesRepo(svc.store.db.conn).get(notice_id)
        assert notice is not None and notice.status == "done"
        runs = await NoticesRepo(svc.store.db.conn).runs_of(notice_id)
        assert len(runs) == 1 and runs[0].planned_at == ONCE["start_at"]
        for uid in (AUTHOR, 701, 702):
            assert len(got(fake, uid)) == 1
        assert not any("tidak terkirim" in t for t in texts(fake, AUTHOR))
        assert bot.workers.scheduler.jobs() == {}


async def test_a_scheduled_notice_goes_out_when_its_job_fires(fake, tmp_path) -> None:
    """A notice scheduled while the bot runs: the scheduler registers a job and that job
    starts it (the wait is measured on the bot's clock)."""
    clock = FakeClock(START)
    async with running_bot(fake, tmp_path, clock=clock, **FAST) as bot:
        svc = bot.services
        for uid in (AUTHOR, 701):
            await resident(svc, uid, RT03)
        at = clock.now() + timedelta(seconds=1)
        notice = await create_notice(svc, AUTHOR, BODY, repeat="once", start_at=at,
                                     next_run_at=at)
        svc.signals.schedule()
        await asyncio.sleep(0.1)
        assert bot.workers.scheduler.jobs() == {f"notice-{notice.id}": at}
        clock.advance(seconds=1)
        await fake.wait_for_call(
            "sendMessage", lambda p: p.get("chat_id") == 701 and BODY in p.get("text", ""),
            timeout=4)
        assert len(got(fake, 701)) == 1
        await drain(bot)
        assert bot.workers.scheduler.jobs() == {}


# --- pause, resume, cancel -----------------------------------------------------------------


async def test_resuming_a_paused_recurring_notice_skips_what_passed(services, clock) -> None:
    await resident(services, AUTHOR, RT03)
    notice = await create_notice(services, AUTHOR, BODY, **DAILY)
    await services.store.write(lambda tx: pause(services, tx, notice.id, clock.now()))
    clock.advance(days=3)  # Wednesday 2 Dec 15:00 WIB
    assert await NoticesRepo(services.store.db.conn).due(clock.now()) == []  # paused: not due
    await services.store.write(lambda tx: resume(services, tx, notice.id, clock.now()))
    saved = await NoticesRepo(services.store.db.conn).get(notice.id or 0)
    assert saved is not None and saved.status == "active"
    assert saved.next_run_at == utc(2026, 12, 3, 0, 0)


async def test_resuming_a_one_off_notice_after_its_grace_marks_it_missed(services, clock
                                                                         ) -> None:
    await resident(services, AUTHOR, RT03)
    notice = await create_notice(services, AUTHOR, BODY, **ONCE)
    await services.store.write(lambda tx: pause(services, tx, notice.id, clock.now()))
    clock.advance(hours=4)
    await services.store.write(lambda tx: resume(services, tx, notice.id, clock.now()))
    saved = await NoticesRepo(services.store.db.conn).get(notice.id or 0)
    assert saved is not None and saved.status == "missed" and saved.next_run_at is None


async def test_cancelling_stops_the_rest_of_a_run_held_for_quiet_hours(fake, tmp_path) -> None:
    clock = FakeClock(utc(2026, 11, 29, 15, 0))  # 22:00 WIB
    async with running_bot(fake, tmp_path, clock=clock, **FAST) as bot:
        svc = bot.services
        await resident(svc, AUTHOR, RT03)
        for uid in (701, 702):
            await resident(svc, uid, RT03)
        notice = await create_notice(svc, AUTHOR, BODY)
        await fire_notice(svc, notice)
        await drain(bot)
        _, stopped = await svc.store.write(
            lambda tx: cancel(svc, tx, notice.id, clock.now()))
        assert stopped == 3
        clock.advance(hours=8, minutes=1)
        await asyncio.sleep(0.3)
        await drain(bot)
        for uid in (AUTHOR, 701, 702):
            assert got(fake, uid) == []
        saved = await NoticesRepo(svc.store.db.conn).get(notice.id or 0)
        assert saved is not None and saved.status == "cancelled"
