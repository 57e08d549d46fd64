"""Dates and times as coordinators type them: "30-11-2026 07.00", "besok 07.00", "19:30"."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

_DATE = re.compile(r"(\d{1,2})[-/.](\d{1,2})(?:[-/.](\d{2,4}))?")
_TIME = re.compile(r"(\d{1,2})[:.](\d{2})")


def parse_time(text: str) -> str | None:
    """"07:00", "7.30" -> "07:00", "07:30"; None if it is not a time of day."""
    m = _TIME.fullmatch(text.strip())
    if not m or int(m[1]) > 23 or int(m[2]) > 59:
        return None
    return f"{int(m[1]):02d}:{int(m[2]):02d}"


def parse_date(text: str, now: datetime, tz: Any) -> date | None:
    """"30-11-2026", "30/11/26", "30-11" (the next one) -> a date; None if not a date."""
    m = _DATE.fullmatch(text.strip())
    if not m:
        return None
    day, month = int(m[1]), int(m[2])
    today = now.astimezone(tz).date()
    year = int(m[3]) if m[3] else today.year
    if m[3] and year < 100:
        year += 2000
    try:
        found = date(year, month, day)
    except ValueError:
        return None
    if not m[3] and found < today:
        found = date(year + 1, month, day)
    return found


def parse_datetime(text: str, now: datetime, tz: Any) -> datetime | None:
    """"30-11-2026 07:00", "besok 07.00", "hari ini 19:30" -> an aware UTC datetime."""
    words = text.strip().lower().split()
    if len(words) < 2:
        return None
    clock = parse_time(words[-1])
    if clock is None:
        return None
    head = " ".join(words[:-1])
    today = now.astimezone(tz).date()
    if head in {"besok", "tomorrow"}:
        day: date | None = today + timedelta(days=1)
    elif head in {"hari ini", "today", "nanti"}:
        day = today
    elif head in {"lusa"}:
        day = today + timedelta(days=2)
    else:
        day = parse_date(head, now, tz)
    if day is None:
        return None
    hour, minute = (int(p) for p in clock.split(":"))
    return datetime.combine(day, time(hour, minute), tz).astimezone(UTC)
