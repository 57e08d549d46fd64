"""Dates and times as coordinators type them, in everyday Indonesian or English.

    "30-11-2026 07.00", "besok jam 7 pagi", "Senin depan 08.00", "tgl 5 jam 16.00",
    "5 Desember 2026 pukul 19.30", "nanti malam jam 7", "lusa 07.00",
    "tomorrow 7am", "next Monday 8:00", "Dec 5 16:00"

The text is first normalised here: the time of day is taken out ("jam 7 pagi", "pukul 19.30",
"7 malam", "08.00", "7am"), then the day is read from what is left: the words people use for
today, tomorrow and the day after, a weekday ("Senin", "Senin depan", "next Monday"), a day
of this month ("tgl 5"), a typed day-month(-year), and everything else ("5 Des", "Dec 5",
"in 3 days") by the ``dateparser`` library, whose Indonesian is too thin to take the raw text.
Month and weekday names come from Babel (CLDR), in both languages.

A text that cannot be used raises :class:`Unreadable` with the reason a person reads
("31 Februari 2027 tidak ada: Februari 2027 hanya sampai tanggal 28", "the time is missing",
"'Minggu depan' can mean Sunday or next week"), never a bare "unreadable" when there is one.
"""

from __future__ import annotations

import calendar
import re
import warnings
from datetime import UTC, date, datetime, time, timedelta
from functools import cache
from typing import Any

from babel.dates import get_day_names, get_month_names

from bot.config import SUPPORTED_LANGUAGES
from bot.events import Text, t

_MARKED_TIME = re.compile(
    r"(?<![\w.])(?:jam|pukul|pkl\.?|at|@)\s*(\d{1,2})(?:[.:](\d{2}))?"
    r"(?:\s*(a\.?m\.?|p\.?m\.?)(?!\w))?(?![\d.:])")
_AMPM_TIME = re.compile(r"(?<![\w.:])(\d{1,2})(?:[.:](\d{2}))?\s*(a\.?m\.?|p\.?m\.?)(?!\w)")
_BARE_TIME = re.compile(r"(?<![\w./:-])(\d{1,2})[.:](\d{2})(?![\w./:-])")
_PERIOD_TIME = re.compile(r"(?<![\w./:-])(\d{1,2})\s+(?=(?:pagi|siang|sore|malam|petang)\b)")
_PERIOD = re.compile(r"\b(pagi|siang|sore|petang|malam|tonight)\b")
_NUMERIC_DATE = re.compile(r"(\d{1,2})[-/.](\d{1,2})(?:[-/.](\d{2,4}))?")
_WORD = re.compile(r"[a-z']+")
_FILLER = {"tgl", "tgl.", "tanggal", "hari", "pada", "on", "the", "of", "at", "jam", "pukul",
           "pkl", "wib", "wita", "wit", "nanti", "ini", "this"}
_TODAY = {"", "today", "sekarang", "tonight"}
_TOMORROW = {"besok", "esok", "tomorrow", "besok hari", "esok hari"}
_AFTER_TOMORROW = {"lusa", "besok lusa", "day after tomorrow", "the day after tomorrow"}
_NEXT = {"depan", "next", "coming", "yang akan datang"}
_NO_DAY = {"next week", "pekan depan", "bulan depan", "next month", "week", "pekan", "bulan",
           "month"}
_IN_UNITS = re.compile(r"\b(\d{1,3}) (hari|minggu|pekan|bulan) (?:lagi|ke depan|dari sekarang)\b")
_UNITS = {"hari": "days", "minggu": "weeks", "pekan": "weeks", "bulan": "months"}
# spellings people type that CLDR does not list (CLDR: "Agu", "Sep", "Nov", "Februari")
_MONTH_SPELLINGS = {"agt": 8, "agust": 8, "sept": 9, "nop": 11, "nopember": 11, "pebruari": 2,
                    "peb": 2, "mrt": 3, "okt": 10, "des": 12}


class Unreadable(ValueError):
    """Why a typed date or time cannot be used; ``reason`` is the text a person reads (None:
    nothing in it looked like a date or time at all)."""

    def __init__(self, reason: Text | None = None) -> None:
        super().__init__(reason.key if reason else "unreadable")
        self.reason = reason


# --- names from Babel ------------------------------------------------------------------------


def weekday_names(index: int, width: str = "wide") -> dict[str, str]:
    """{language: name} of a weekday (0 = Monday) in every supported language."""
    return {lang: get_day_names(width, locale=lang)[index] for lang in SUPPORTED_LANGUAGES}


def month_names(month: int, width: str = "wide") -> dict[str, str]:
    """{language: name} of a month (1 = January) in every supported language."""
    return {lang: get_month_names(width, locale=lang)[month] for lang in SUPPORTED_LANGUAGES}


@cache
def _weekdays() -> dict[str, int]:
    """Every weekday name and abbreviation (Indonesian and English) -> 0..6."""
    found: dict[str, int] = {}
    for lang in SUPPORTED_LANGUAGES:
        for width in ("wide", "abbreviated"):
            for context in ("format", "stand-alone"):
                for i, name in get_day_names(width, context, lang).items():
                    found.setdefault(name.lower().rstrip("."), i)
    found["jum'at"] = found.get("jumat", 4)
    return found


@cache
def _months() -> dict[str, int]:
    """Every month name and abbreviation (Indonesian and English) -> 1..12."""
    found: dict[str, int] = {}
    for lang in SUPPORTED_LANGUAGES:
        for width in ("wide", "abbreviated"):
            for context in ("format", "stand-alone"):
                for i, name in get_month_names(width, context, lang).items():
                    found.setdefault(name.lower().rstrip("."), i)
    for spelling, month in _MONTH_SPELLINGS.items():
        found.setdefault(spelling, month)
    return found


# --- the time of day -------------------------------------------------------------------------


def _hour_in(hour: int, period: str | None) -> int:
    """The 24-hour clock hour of "7 pagi", "7 malam", "3 sore", "1 siang", "7pm"."""
    if period is None:
        return hour
    period = period.replace(".", "")
    if period in {"am", "pagi"}:
        return 0 if hour == 12 else hour
    if hour >= 12 or hour == 0:
        return 0 if hour == 12 and period in {"malam", "tonight"} else hour
    if period == "pm" or period in {"sore", "petang"}:
        return hour + 12
    if period == "siang":
        return hour + 12 if hour <= 5 else hour
    return hour + 12 if hour >= 6 else hour  # malam: 7 malam = 19, 1 malam = 01


def _take_time(text: str) -> tuple[str, tuple[int, int] | None, bool]:
    """(the text without its time of day, (hour, minute) or None, whether a period word such
    as "malam" was given); raises Unreadable for a time that does not exist ("jam 25")."""
    period_match = _PERIOD.search(text)
    period = period_match[1] if period_match else None
    for pattern, marked in ((_MARKED_TIME, True), (_AMPM_TIME, True), (_BARE_TIME, False),
                            (_PERIOD_TIME, True)):
        matches = list(pattern.finditer(text))
        if not marked:
            matches = [m for m in matches if int(m[1]) <= 23 and int(m[2]) <= 59]
        if pattern is _PERIOD_TIME:  # "tgl 5 pagi" is the 5th, in the morning: no time yet
            matches = [m for m in matches if not re.search(r"\b(tgl\.?|tanggal)\s*$",
                                                          text[:m.start()])]
        if not matches:
            continue
        m = matches[-1]
        hour, minute = int(m[1]), int(m[2]) if m.lastindex and m.lastindex >= 2 and m[2] else 0
        ampm = m[3] if pattern.groups >= 3 else None
        typed = f"{hour:02d}.{minute:02d}"
        if ampm and not 1 <= hour <= 12:
            raise Unreadable(t("dates.no_such_time", clock=f"{m[0].strip()}"))
        if hour > 23 or minute > 59:
            raise Unreadable(t("dates.no_such_time", clock=typed))
        hour = _hour_in(hour, ampm or period)
        rest = _PERIOD.sub(" ", text[:m.start()] + " " + text[m.end():], count=1)
        return _squash(rest), (hour, minute), period is not None
    return _squash(_PERIOD.sub(" ", text, count=1)), None, period is not None


def _squash(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


def read_time(text: str) -> str:
    """"07:00", "7.30", "jam 7 pagi", "pukul 19.30", "7 malam", "7pm" -> "07:00", "07:30",
    "07:00", "19:30", "19:00", "19:00"; Unreadable if it is not (only) a time of day."""
    rest, clock, _ = _take_time(_normal(text))
    if clock is None or _words(rest):
        raise Unreadable()
    return f"{clock[0]:02d}:{clock[1]:02d}"


def parse_time(text: str) -> str | None:
    """:func:`read_time`, or None when it is not a time of day."""
    try:
        return read_time(text)
    except Unreadable:
        return None


# --- the day ---------------------------------------------------------------------------------


def _normal(text: str) -> str:
    """Lower case, one space between words, no commas or brackets."""
    return _squash(re.sub(r"[,()]", " ", text.strip().lower())).rstrip(".!?")


def _words(text: str) -> str:
    """The text without filler words ("tgl", "hari", "pada", "jam", "WIB", "on", ...)."""
    return " ".join(w for w in text.split() if w not in _FILLER)


def _checked(year: int | None, month: int, day: int) -> date:
    """The date, or the reason it does not exist ("31 Februari 2027 tidak ada"); without a
    year, only whether some year has it (a leap year: 2028)."""
    if not 1 <= month <= 12:
        raise Unreadable(t("dates.no_such_month", month=month))
    last = calendar.monthrange(year or 2028, month)[1]
    if not 1 <= day <= last:
        raise Unreadable(t("dates.no_such_day", day=day, month=month_names(month),
                           year=year, last=last))
    return date(year or 2028, month, day)


def _day_of_month(day: int, today: date, clock: tuple[int, int] | None,
                  now: datetime) -> date:
    """"tgl 5": the 5th of this month if it is still ahead, else of the next month that has
    one (a 31st skips the months without it)."""
    if not 1 <= day <= 31:
        raise Unreadable(t("dates.no_such_date", day=day))
    year, month = today.year, today.month
    for _ in range(13):
        if day <= calendar.monthrange(year, month)[1]:
            found = date(year, month, day)
            at = time(*clock) if clock else time(23, 59)
            if found > today or (found == today and datetime.combine(found, at, now.tzinfo)
                                 > now):
                return found
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    raise Unreadable(t("dates.no_such_date", day=day))  # pragma: no cover - every 13 months


def _numeric(m: re.Match[str], today: date) -> date:
    """"30-11-2026", "30/11/26", "30-11" (the next one)."""
    day, month = int(m[1]), int(m[2])
    year = int(m[3]) if m[3] else today.year
    if m[3] and year < 100:
        year += 2000
    if not m[3] and 1 <= month <= 12 and 1 <= day and (
            date(year, month, min(day, calendar.monthrange(year, month)[1])) < today):
        year += 1
    return _checked(year, month, day)


def _weekday(words: str, today: date, clock: tuple[int, int] | None,
             now: datetime, sunday: bool) -> date | None:
    """"Senin", "Senin depan", "next Monday", "hari Minggu": the next such day (today itself
    only when it is named bare and the time is still ahead)."""
    parts = words.split()
    ahead = any(p in _NEXT for p in parts)
    names = [p for p in parts if p not in _NEXT]
    if len(names) != 1 or names[0] not in _weekdays():
        return None
    if names[0] == "minggu" and ahead and not sunday:
        raise Unreadable(t("dates.week_ambiguous"))
    index = _weekdays()[names[0]]
    days = (index - today.weekday()) % 7
    if days == 0:
        at = time(*clock) if clock else time(23, 59)
        if ahead or datetime.combine(today, at, now.tzinfo) <= now:
            days = 7
    return today + timedelta(days=days)


def _month_named(words: str) -> tuple[int, int, int | None] | None:
    """(day, month, year or None) of "5 Des", "5 Desember 2026", "Dec 5", "December 5th"."""
    tokens = words.replace("-", " ").split()
    months = _months()
    found = [(i, months[w.rstrip(".")]) for i, w in enumerate(tokens)
             if w.rstrip(".") in months]
    numbers = [(i, int(re.sub(r"(st|nd|rd|th)$", "", w))) for i, w in enumerate(tokens)
               if re.fullmatch(r"\d{1,4}(st|nd|rd|th)?", w)]
    if len(found) != 1 or not numbers or len(numbers) > 2:
        return None
    day = next((n for _, n in numbers if n < 100), None)
    year = next((n for _, n in numbers if n >= 1000), None)
    if day is None or (len(numbers) == 2 and year is None):
        return None
    return day, found[0][1], year


def _by_library(words: str, now: datetime) -> date | None:
    """What dateparser makes of the rest ("in 3 days", "Dec 5", "5th of December")."""
    settings: Any = {"RELATIVE_BASE": now.replace(tzinfo=None), "PREFER_DATES_FROM": "future",
                     "DATE_ORDER": "DMY", "RETURN_AS_TIMEZONE_AWARE": False,
                     "REQUIRE_PARTS": ["day"]}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # its own dependencies' deprecation warnings
        import dateparser  # slow to import: only when a coordinator types such a date

        found = dateparser.parse(words, languages=list(SUPPORTED_LANGUAGES), settings=settings)
    return found.date() if found else None


def _read_day(text: str, clock: tuple[int, int] | None, now: datetime) -> date:
    today = now.date()
    sunday = bool(re.search(r"\bhari minggu\b", text))
    text = _IN_UNITS.sub(lambda m: f"in {m[1]} {_UNITS[m[2]]}", text)  # for dateparser
    if not sunday and re.search(r"\bminggu (depan|ini|lagi|besok)\b", text):
        raise Unreadable(t("dates.week_ambiguous"))  # Sunday, or a week?
    words = _words(text)
    if words in _TODAY:
        return today
    if words in _TOMORROW:
        return today + timedelta(days=1)
    if words in _AFTER_TOMORROW:
        return today + timedelta(days=2)
    if words in _NO_DAY:
        raise Unreadable(t("dates.no_day"))
    if re.fullmatch(r"\d{1,2}", words):
        return _day_of_month(int(words), today, clock, now)
    numeric = _NUMERIC_DATE.fullmatch(words)
    if numeric:
        return _numeric(numeric, today)
    weekday = _weekday(words, today, clock, now, sunday)
    if weekday is not None:
        return weekday
    named = _month_named(words)
    if named is not None:
        day, month, year = named
        if year is not None:
            return _checked(year, month, day)
        _checked(None, month, day)  # "31 Feb": no year has one
        found = _by_library(words, now)
        if found is None and (month, day) == (2, 29):  # the next year that has one
            year = today.year + 1
            while not calendar.isleap(year):
                year += 1
            return date(year, 2, 29)
        if found is not None:
            return found
    found = _by_library(words, now)
    if found is None:
        raise Unreadable()
    return found


def read_datetime(text: str, now: datetime, tz: Any) -> datetime:
    """The moment a typed date and time means (aware, UTC), or Unreadable with its reason.
    A time without a day means today; a day without a time is refused ("which time?")."""
    local_now = now.astimezone(tz)
    rest, clock, period = _take_time(_normal(text))
    if clock is None:
        day = _read_day(rest, None, local_now)  # the day's own reason comes first
        raise Unreadable(t("dates.no_time", day=format_day(day), typed=_squash(text),
                              period=period))
    day = _read_day(rest, clock, local_now)
    return datetime.combine(day, time(*clock), tz).astimezone(UTC)


def parse_datetime(text: str, now: datetime, tz: Any) -> datetime | None:
    """:func:`read_datetime`, or None when it cannot be used (whatever the reason)."""
    try:
        return read_datetime(text, now, tz)
    except Unreadable:
        return None


def read_date(text: str, now: datetime, tz: Any) -> date:
    """A typed day without a time ("31-12-2026", "5 Des 2026", "besok"), or Unreadable."""
    local_now = now.astimezone(tz)
    return _read_day(_normal(text), None, local_now)


def parse_date(text: str, now: datetime, tz: Any) -> date | None:
    """:func:`read_date`, or None when it cannot be used."""
    try:
        return read_date(text, now, tz)
    except Unreadable:
        return None


def format_day(day: date, with_weekday: bool = True) -> Text:
    """E.g. "Rabu, 2 Des 2026" / "Wednesday, 2 Dec 2026" (names from Babel)."""
    return t("dates.date", weekday=weekday_names(day.weekday()) if with_weekday else None,
             day=day.day, month=month_names(day.month, "abbreviated"), year=day.year)
