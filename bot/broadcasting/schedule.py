"""When notices are due: one-off and recurring times, and the deployment's quiet hours.

Recurring times are APScheduler cron triggers in the deployment's timezone, so the time
the scheduler wakes up and the time stored in the database come from the same rule.

A monthly notice stores its day of the month (1-28) in ``month_day``; ``LAST_DAY`` (-1) there
means the last day of every month (28, 29, 30 or 31: cron's ``day="last"``).

Dates people read are written with day and month names from Babel (see ``format_local``).
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from apscheduler.triggers.cron import CronTrigger

from bot.broadcasting.dates import format_day, month_names, weekday_names
from bot.events import Text, t

LAST_DAY = -1  # month_day of a monthly notice due on the last day of each month
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
MAX_CATCH_UP = 10_000  # occurrences walked when skipping missed ones


def trigger(repeat: str, at_time: str, tz: ZoneInfo, *, weekdays: str | None = None,
            month_day: int | None = None, end_date: str | None = None) -> CronTrigger:
    """The cron trigger of a recurring notice (daily, weekly or monthly at ``at_time``)."""
    hour, minute = (int(part) for part in at_time.split(":"))
    end = None
    if end_date:
        end = datetime.combine(date.fromisoformat(end_date), time(23, 59, 59), tz)
    kwargs: dict[str, object] = {}
    if repeat == "weekly":
        kwargs["day_of_week"] = weekdays or "mon"
    elif repeat == "monthly":
        kwargs["day"] = "last" if month_day == LAST_DAY else month_day or 1
    elif repeat != "daily":
        raise ValueError(f"not a recurring schedule: {repeat}")
    return CronTrigger(hour=hour, minute=minute, timezone=tz, end_date=end, **kwargs)


def next_occurrence(repeat: str, at_time: str, tz: ZoneInfo, after: datetime, *,
                    weekdays: str | None = None, month_day: int | None = None,
                    end_date: str | None = None, inclusive: bool = False) -> datetime | None:
    """The first occurrence after ``after`` (or at it, if ``inclusive``), in UTC."""
    rule = trigger(repeat, at_time, tz, weekdays=weekdays, month_day=month_day,
                   end_date=end_date)
    start = after if inclusive else after + timedelta(seconds=1)
    found = rule.get_next_fire_time(None, start.astimezone(tz))
    return found.astimezone(UTC) if found else None


def latest_missed(repeat: str, at_time: str, tz: ZoneInfo, first: datetime, now: datetime,
                  **rule: str | int | None) -> datetime:
    """The last occurrence at or before ``now``, starting from the due one ``first``."""
    last = first
    for _ in range(MAX_CATCH_UP):
        following = next_occurrence(repeat, at_time, tz, last, **rule)  # type: ignore[arg-type]
        if following is None or following > now:
            break
        last = following
    return last


class QuietHours:
    """The nightly window in which regular notices wait (e.g. 21:00-06:00 local time)."""

    def __init__(self, start: time, end: time, tz: ZoneInfo) -> None:
        self.start, self.end, self.tz = start, end, tz

    def active(self, now: datetime) -> bool:
        if self.start == self.end:
            return False
        local = now.astimezone(self.tz).time()
        if self.start < self.end:
            return self.start <= local < self.end
        return local >= self.start or local < self.end

    def ends_after(self, now: datetime) -> datetime:
        """When the quiet window that ``now`` falls in ends (UTC)."""
        local = now.astimezone(self.tz)
        end = datetime.combine(local.date(), self.end, self.tz)
        if end <= local:
            end += timedelta(days=1)
        return end.astimezone(UTC)


ZONE_NAMES = {"Asia/Jakarta": "WIB", "Asia/Pontianak": "WIB", "Asia/Makassar": "WITA",
              "Asia/Jayapura": "WIT"}


def zone_name(tz: ZoneInfo, at: datetime) -> str:
    return ZONE_NAMES.get(tz.key) or at.astimezone(tz).tzname() or tz.key


def format_local(at: datetime, tz: ZoneInfo, lang: str | None = None, *,
                 with_day: bool = True) -> Text:
    """E.g. "Senin, 30 Nov 2026 07.00 WIB" / "Monday, 30 Nov 2026 07:00 WIB": day and month
    names from Babel in every language, the layout and the clock's style from content
    (``dates.datetime``), so it is written in the reader's language; ``lang`` is not needed."""
    local = at.astimezone(tz)
    return t("dates.datetime", weekday=weekday_names(local.weekday()) if with_day else None,
             day=local.day, month=month_names(local.month, "abbreviated"), year=local.year,
             hour=local.hour, minute=local.minute, zone=zone_name(tz, at))


def format_date(day: str, lang: str | None = None) -> Text:
    """E.g. "31 Des 2026" / "31 Dec 2026" for an ISO date."""
    return format_day(date.fromisoformat(day), with_weekday=False)
