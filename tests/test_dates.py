"""Dates and times as coordinators type them, read on a fixed "now" (Tuesday 1 Dec 2026,
10:00 WIB): what each phrase means, why a refused one is refused, and how the moment is
written back to them in full (day and month names from Babel) in Indonesian and English."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest

from bot.broadcasting.dates import (
    Unreadable,
    parse_datetime,
    read_date,
    read_datetime,
    read_time,
)
from bot.broadcasting.schedule import format_date, format_local
from bot.content import load_content
from bot.events import Text
from bot.render import Renderer

WIB = ZoneInfo("Asia/Jakarta")
NOW = datetime(2026, 12, 1, 3, 0, tzinfo=UTC)  # Tuesday 1 Dec 2026, 10:00 WIB
WORDS = Renderer(load_content(), "console")


def read(text: Text, lang: str = "id") -> str:
    return WORDS.render(text, lang)


def local(text: str, now: datetime = NOW) -> str:
    """The moment ``text`` means, as the coordinator reads it back (Indonesian)."""
    return read(format_local(read_datetime(text, now, WIB), WIB))


def refusal(text: str, now: datetime = NOW, lang: str = "id") -> str:
    with pytest.raises(Unreadable) as caught:
        read_datetime(text, now, WIB)
    reason = caught.value.reason
    return read(reason, lang) if reason is not None else ""


@pytest.mark.parametrize(("typed", "meant"), [
    # the phrases coordinators tripped over
    ("besok jam 7 pagi", "Rabu, 2 Des 2026 07.00 WIB"),
    ("Senin depan 08.00", "Senin, 7 Des 2026 08.00 WIB"),
    ("tgl 5 jam 16.00", "Sabtu, 5 Des 2026 16.00 WIB"),
    # the formats that worked before
    ("30-12-2026 07.00", "Rabu, 30 Des 2026 07.00 WIB"),
    ("30/12/26 07:00", "Rabu, 30 Des 2026 07.00 WIB"),
    ("30-12 07.00", "Rabu, 30 Des 2026 07.00 WIB"),
    ("1-1 07.00", "Jumat, 1 Jan 2027 07.00 WIB"),  # the next 1 January
    ("besok 07.00", "Rabu, 2 Des 2026 07.00 WIB"),
    ("hari ini 19:30", "Selasa, 1 Des 2026 19.30 WIB"),
    ("lusa 07.00", "Kamis, 3 Des 2026 07.00 WIB"),
    # times of day as people say them
    ("besok jam 7 malam", "Rabu, 2 Des 2026 19.00 WIB"),
    ("besok pukul 19.30", "Rabu, 2 Des 2026 19.30 WIB"),
    ("besok 7 pagi", "Rabu, 2 Des 2026 07.00 WIB"),
    ("besok pagi jam 6", "Rabu, 2 Des 2026 06.00 WIB"),
    ("besok jam 1 siang", "Rabu, 2 Des 2026 13.00 WIB"),
    ("besok jam 4 sore", "Rabu, 2 Des 2026 16.00 WIB"),
    ("besok 08.00", "Rabu, 2 Des 2026 08.00 WIB"),
    ("besok 7am", "Rabu, 2 Des 2026 07.00 WIB"),
    ("nanti malam jam 7", "Selasa, 1 Des 2026 19.00 WIB"),
    ("jam 19.30", "Selasa, 1 Des 2026 19.30 WIB"),  # a time alone: today
    # days
    ("senin 08.00", "Senin, 7 Des 2026 08.00 WIB"),
    ("hari Jumat jam 16.00", "Jumat, 4 Des 2026 16.00 WIB"),
    ("Minggu 08.00", "Minggu, 6 Des 2026 08.00 WIB"),  # "Minggu" alone: Sunday
    ("hari Minggu depan 08.00", "Minggu, 6 Des 2026 08.00 WIB"),
    ("selasa 11.00", "Selasa, 1 Des 2026 11.00 WIB"),  # today, still ahead
    ("selasa 09.00", "Selasa, 8 Des 2026 09.00 WIB"),  # today's 09.00 has passed
    ("Selasa depan 11.00", "Selasa, 8 Des 2026 11.00 WIB"),
    ("tgl 1 jam 11.00", "Selasa, 1 Des 2026 11.00 WIB"),  # still ahead today
    ("tgl 1 jam 09.00", "Jumat, 1 Jan 2027 09.00 WIB"),  # passed: next month
    ("tanggal 31 jam 07.00", "Kamis, 31 Des 2026 07.00 WIB"),
    ("tanggal 5 Des 16.00", "Sabtu, 5 Des 2026 16.00 WIB"),
    ("5 Desember 2026 jam 16.00", "Sabtu, 5 Des 2026 16.00 WIB"),
    ("5 Agustus 07.00", "Kamis, 5 Agu 2027 07.00 WIB"),  # the next 5 August
    ("3 hari lagi jam 8 pagi", "Jumat, 4 Des 2026 08.00 WIB"),
    ("2 minggu lagi 07.00", "Selasa, 15 Des 2026 07.00 WIB"),
    # English
    ("tomorrow 7am", "Rabu, 2 Des 2026 07.00 WIB"),
    ("tomorrow at 7 pm", "Rabu, 2 Des 2026 19.00 WIB"),
    ("next Monday 8:00", "Senin, 7 Des 2026 08.00 WIB"),
    ("Dec 5 16:00", "Sabtu, 5 Des 2026 16.00 WIB"),
    ("5th December 2026 7pm", "Sabtu, 5 Des 2026 19.00 WIB"),
    ("in 3 days 07:00", "Jumat, 4 Des 2026 07.00 WIB"),
])
def test_phrases_people_type(typed: str, meant: str) -> None:
    assert local(typed) == meant


def test_a_day_of_this_month_already_gone_is_next_months() -> None:
    on_the_10th = datetime(2026, 12, 10, 3, 0, tzinfo=UTC)
    assert local("tgl 5 jam 16.00", on_the_10th) == "Selasa, 5 Jan 2027 16.00 WIB"
    # a 31st skips the months that have none
    in_april = datetime(2027, 4, 1, 3, 0, tzinfo=UTC)
    assert local("tgl 31 jam 07.00", in_april) == "Senin, 31 Mei 2027 07.00 WIB"


@pytest.mark.parametrize(("typed", "reason"), [
    ("31-02-2027 07.00",
     "Tanggal 31 Februari 2027 tidak ada: Februari 2027 hanya sampai tanggal 28."),
    ("29-02-2028 07.00", None),  # a leap year has one
    ("31 April 2027 jam 7 pagi",
     "Tanggal 31 April 2027 tidak ada: April 2027 hanya sampai tanggal 30."),
    ("30 Feb 07.00", "Tanggal 30 Februari tidak ada: Februari hanya sampai tanggal 29."),
    ("13-13-2026 07.00", "Bulan 13 tidak ada: bulan hanya 1 sampai 12."),
    ("tgl 32 jam 07.00", "Tanggal 32 tidak ada: tanggal hanya 1 sampai 31."),
    ("besok jam 25", "Jam 25.00 tidak ada: jam hanya dari 00.00 sampai 23.59."),
    ("besok", "Jamnya belum ada: Rabu, 2 Des 2026, jam berapa?"),
    ("tgl 5 pagi", "Jamnya belum ada: Sabtu, 5 Des 2026, jam berapa?"),
    ("Senin depan", "Jamnya belum ada: Senin, 7 Des 2026, jam berapa?"),
    ("5 Desember 2026", "Jamnya belum ada: Sabtu, 5 Des 2026, jam berapa?"),
    ("minggu depan 08.00", "“Minggu” bisa berarti hari Minggu atau satu pekan."),
    ("pekan depan jam 8", "Hari apa tepatnya?"),
    ("next week 07:00", "Hari apa tepatnya?"),
    ("kapan-kapan", ""),  # nothing readable: the step's general example instead
])
def test_refusals_say_why(typed: str, reason: str | None) -> None:
    if reason is None:
        assert local(typed) == "Selasa, 29 Feb 2028 07.00 WIB"
        return
    assert refusal(typed).startswith(reason), refusal(typed)


def test_a_missing_time_suggests_the_same_words_with_a_time() -> None:
    assert "misalnya besok jam 07.00" in refusal("besok")
    assert refusal("tomorrow", lang="en") == (
        "The time is missing: Wednesday, 2 Dec 2026, at what time? Type the date and the time "
        "together, e.g. tomorrow 07:00.")


def test_refusals_in_english() -> None:
    assert refusal("31-02-2027 07.00", lang="en") == \
        "There is no 31 February 2027: February 2027 has only 28 days."
    assert refusal("minggu depan 08.00", lang="en").startswith(
        "“Minggu” can mean Sunday or a week.")


def test_the_old_none_answer_is_kept() -> None:
    assert parse_datetime("31-02-2027 07.00", NOW, WIB) is None
    assert parse_datetime("besok jam 7 pagi", NOW, WIB) == datetime(2026, 12, 2, 0, 0, tzinfo=UTC)


@pytest.mark.parametrize(("typed", "clock"), [
    ("07.00", "07:00"), ("7:30", "07:30"), ("jam 7 pagi", "07:00"), ("pukul 19.30", "19:30"),
    ("7 malam", "19:00"), ("jam 3 sore", "15:00"), ("7pm", "19:00"), ("12 pm", "12:00"),
    ("12am", "00:00"), ("jam 16", "16:00"),
])
def test_times_of_day(typed: str, clock: str) -> None:
    assert read_time(typed) == clock


@pytest.mark.parametrize("typed", ["jam tujuh", "besok 07.00", "25.00", "13pm", ""])
def test_not_a_time_of_day(typed: str) -> None:
    with pytest.raises(Unreadable):
        read_time(typed)


def test_end_dates() -> None:
    assert read_date("31-12-2026", NOW, WIB) == date(2026, 12, 31)
    assert read_date("31 Des 2026", NOW, WIB) == date(2026, 12, 31)
    assert read_date("besok", NOW, WIB) == date(2026, 12, 2)
    with pytest.raises(Unreadable) as caught:
        read_date("31-02-2027", NOW, WIB)
    assert read(caught.value.reason).startswith("Tanggal 31 Februari 2027 tidak ada")


def test_confirmation_in_full_in_both_languages_and_zones() -> None:
    at = read_datetime("besok jam 7 pagi", NOW, WIB)
    assert read(format_local(at, WIB), "id") == "Rabu, 2 Des 2026 07.00 WIB"
    assert read(format_local(at, WIB), "en") == "Wednesday, 2 Dec 2026 07:00 WIB"
    makassar, jayapura = ZoneInfo("Asia/Makassar"), ZoneInfo("Asia/Jayapura")
    assert read(format_local(read_datetime("besok jam 7 pagi", NOW, makassar), makassar)) == \
        "Rabu, 2 Des 2026 07.00 WITA"
    assert read(format_local(read_datetime("tomorrow 7am", NOW, jayapura), jayapura), "en") \
        == "Wednesday, 2 Dec 2026 07:00 WIT"
    # every month name, from Babel (Indonesian "Agu", "Okt", "Des"; English "Aug", "Oct")
    assert [read(format_date(f"2027-{m:02d}-01"), "id").split()[1] for m in range(1, 13)] == [
        "Jan", "Feb", "Mar", "Apr", "Mei", "Jun", "Jul", "Agu", "Sep", "Okt", "Nov", "Des"]
    assert read(format_date("2027-10-01"), "en") == "1 Oct 2027"

