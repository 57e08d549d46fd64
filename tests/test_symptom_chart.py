"""The /statistik figures: the chart is a real PNG of every day of the window, the summary's
numbers, and the per-RT table never shows a small count (nor lets one be worked out)."""

from __future__ import annotations

import io
import random
import time
from datetime import date

import pytest
from PIL import Image

from bot.areas import RT, RW, Areas, Kelurahan
from bot.symptoms.chart import AreaCount, by_rt, daily_chart, day_label, summary
from db.repositories.symptoms import DayCount

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
FIRST, LAST = date(2026, 11, 2), date(2026, 12, 1)  # 30 days


def make_areas() -> Areas:
    def rw(kel: str, number: str, rts: int) -> RW:
        code = f"{kel}-rw{number}"
        return RW(code, number, kel, tuple(
            RT(f"{code}-rt{i:02d}", f"{i:02d}", code, f"inv-{code}-{i}")
            for i in range(1, rts + 1)))

    return Areas((
        Kelurahan("cimuncang", "Cimuncang", "Serang", "Kota Serang",
                  (rw("cimuncang", "01", 4), rw("cimuncang", "02", 3))),
        Kelurahan("kaligandu", "Kaligandu", "Serang", "Kota Serang",
                  (rw("kaligandu", "01", 2),)),
    ))


def rt_counts(per_rt: dict[str, int], level: str = "moderate") -> list[DayCount]:
    return [DayCount("2026-11-20", code, level, n, 0, 0) for code, n in per_rt.items()]


def png_size(data: bytes) -> tuple[int, int]:
    assert data.startswith(PNG_MAGIC)
    with Image.open(io.BytesIO(data)) as img:
        img.verify()
    with Image.open(io.BytesIO(data)) as img:
        assert img.format == "PNG"
        return img.size


# --- the chart ---------------------------------------------------------------------------

COUNTS = [
    DayCount("2026-11-20", "cimuncang-rw02-rt01", "high", 3, 1, 1),
    DayCount("2026-11-20", "cimuncang-rw02-rt02", "low", 2, 0, 0),
    DayCount("2026-12-01", "cimuncang-rw01-rt01", "moderate", 5, 0, 2),
]


def test_chart_is_a_png_of_the_expected_size() -> None:
    data = daily_chart(COUNTS, FIRST, LAST, "id", "Laporan gejala, 30 hari terakhir",
                       {"low": "Rendah", "moderate": "Sedang", "high": "Tinggi"})
    assert png_size(data) == (800, 450)


def test_chart_without_reports_is_still_a_chart() -> None:
    data = daily_chart([], FIRST, LAST, "en", "Symptom reports, last 30 days")
    assert png_size(data) == (800, 450)
    one_day = daily_chart([], LAST, LAST, "id", "Hari ini")
    assert png_size(one_day) == (800, 450)


def test_same_input_same_bytes_and_the_data_shows() -> None:
    a = daily_chart(COUNTS, FIRST, LAST, "id", "Laporan")
    assert daily_chart(COUNTS, FIRST, LAST, "id", "Laporan") == a
    assert daily_chart(COUNTS[:1], FIRST, LAST, "id", "Laporan") != a
    assert daily_chart(COUNTS, FIRST, LAST, "en", "Laporan") != a  # legend and dates
    # a day outside the window is not drawn
    outside = [*COUNTS, DayCount("2026-11-01", "cimuncang-rw01-rt01", "high", 9, 0, 0)]
    assert daily_chart(outside, FIRST, LAST, "id", "Laporan") == a


def test_chart_window_must_run_forward() -> None:
    with pytest.raises(ValueError):
        daily_chart([], LAST, FIRST, "id", "Laporan")


def test_dates_in_the_reader_language() -> None:
    assert day_label(date(2026, 12, 1), "id") == "1 Des"
    assert day_label(date(2026, 12, 1), "en") == "Dec 1"


def test_chart_is_fast() -> None:
    daily_chart(COUNTS, FIRST, LAST, "id", "Laporan")  # fonts loaded once per process
    started = time.perf_counter()
    daily_chart(COUNTS, FIRST, LAST, "id", "Laporan")
    assert time.perf_counter() - started < 1.0  # about 0.2 s; generous for a busy machine


# --- the summary line --------------------------------------------------------------------

def test_summary_numbers() -> None:
    s = summary(COUNTS)
    assert (s.total, s.high, s.urgent, s.handled_fast) == (10, 3, 1, 3)
    assert summary([]) == summary(())
    assert summary([]).total == 0


# --- the small-count rule ----------------------------------------------------------------

def test_rts_with_enough_reports_are_shown_alone() -> None:
    counts = rt_counts({"cimuncang-rw01-rt01": 3, "cimuncang-rw01-rt02": 5})
    counts += rt_counts({"cimuncang-rw01-rt01": 1}, level="high")  # summed over levels
    assert by_rt(counts, make_areas()) == [
        AreaCount("cimuncang-rw01-rt01", 4), AreaCount("cimuncang-rw01-rt02", 5)]


def test_small_rts_are_shown_only_inside_their_rw() -> None:
    rows = by_rt(rt_counts({"cimuncang-rw02-rt01": 7, "cimuncang-rw02-rt02": 2,
                            "cimuncang-rw02-rt03": 1}), make_areas())
    assert rows == [AreaCount("cimuncang-rw02-rt01", 7),
                    AreaCount("cimuncang-rw02", 3, folded=True)]


def test_a_lone_small_rt_does_not_leak_through_the_rw_rest() -> None:
    # RT 02 alone below 3: "RW 02 (RT lain): 2" would be RT 02's own count. The next
    # smallest RT goes into the rest too.
    rows = by_rt(rt_counts({"cimuncang-rw02-rt01": 7, "cimuncang-rw02-rt02": 2,
                            "cimuncang-rw01-rt01": 4}), make_areas())
    assert rows == [AreaCount("cimuncang-rw01-rt01", 4),
                    AreaCount("cimuncang-rw02", 9, folded=True)]
    assert all(row.reports != 2 for row in rows)


def test_a_small_rw_goes_into_its_kelurahan_rest() -> None:
    # RW 01 has 2 reports in all: no RW 01 row; the smallest row of the kelurahan joins it
    rows = by_rt(rt_counts({"cimuncang-rw01-rt01": 2, "cimuncang-rw02-rt01": 5,
                            "cimuncang-rw02-rt02": 4}), make_areas())
    assert rows == [AreaCount("cimuncang-rw02-rt01", 5),
                    AreaCount("cimuncang", 6, folded=True)]


def test_too_few_reports_in_the_whole_scope_show_no_row() -> None:
    counts = rt_counts({"cimuncang-rw01-rt01": 1, "kaligandu-rw01-rt02": 1})
    assert by_rt(counts, make_areas()) == []
    assert summary(counts).total == 2  # the scope's own total is all that is said


def test_reports_of_an_rt_no_longer_in_the_areas_file() -> None:
    rows = by_rt(rt_counts({"gone-rw09-rt01": 4, "kaligandu-rw01-rt01": 3}), make_areas())
    assert rows == [AreaCount("kaligandu-rw01-rt01", 3), AreaCount("", 4, folded=True)]


def test_minimum_is_a_parameter() -> None:
    counts = rt_counts({"cimuncang-rw01-rt01": 2, "cimuncang-rw01-rt02": 1})
    assert by_rt(counts, make_areas(), minimum=1) == [
        AreaCount("cimuncang-rw01-rt01", 2), AreaCount("cimuncang-rw01-rt02", 1)]
    assert by_rt(counts, make_areas(), minimum=5) == []


@pytest.mark.parametrize("seed", range(200))
def test_no_row_is_small_and_the_rows_add_up(seed: int) -> None:
    areas = make_areas()
    rng = random.Random(seed)
    codes = [rt.code for rt in areas.all_rts()]
    per_rt = {c: rng.choice((0, 0, 1, 1, 2, 3, 4, 8)) for c in codes}
    counts = rt_counts({c: n for c, n in per_rt.items() if n})
    total = sum(per_rt.values())
    rows = by_rt(counts, areas)
    assert all(row.reports >= 3 for row in rows)
    assert sum(row.reports for row in rows) == (total if total >= 3 else 0)
    for row in rows:
        if not row.folded:
            assert per_rt[row.code] == row.reports
            continue
        # a rest row never stands for one small RT: if the RTs it may hold (the unit's RTs
        # not shown alone) include a small one, they include another RT with reports
        shown = {r.code for r in rows if not r.folded}
        inside = [c for c in codes if c.startswith(row.code) and c not in shown
                  and per_rt[c]]
        assert len(inside) >= 2 or all(per_rt[c] >= 3 for c in inside)
