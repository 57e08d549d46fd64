"""The /ekspor CSV: what a coordinator's spreadsheet shows, column by column."""

from __future__ import annotations

import csv
import io
from dataclasses import replace
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from bot.areas import RT, RW, Areas, Kelurahan
from bot.symptoms.export import COLUMNS, reports_csv
from db.repositories.symptoms import SymptomReport

TZ = ZoneInfo("Asia/Jakarta")


def make_areas() -> Areas:
    rw = RW("cimuncang-rw02", "02", "cimuncang", (
        RT("cimuncang-rw02-rt03", "03", "cimuncang-rw02", "inv-0203"),))
    return Areas((Kelurahan("cimuncang", "Cimuncang", "Serang", "Kota Serang", (rw,)),))


REPORT = SymptomReport(
    id=17, identity="telegram:123456", consent_id=4, area_code="cimuncang-rw02-rt03",
    day="2026-12-01", subject="household", age_group="60plus", red_flags=(),
    symptoms=("fever", "cough", "smell_taste"), close_contact="unsure",
    conditions=("diabetes", "hypertension"), pregnant=None, level="high",
    rules_version="2026-11", status="done", handler="telegram:777",
    note="Sudah ditelepon, suhu 38,5 °C;\nrujuk ke puskesmas",
    created_at=datetime(2026, 11, 30, 20, 5, tzinfo=UTC),  # 1 Dec, 03:05 WIB
    handled_at=datetime(2026, 11, 30, 20, 30, tzinfo=UTC),
    closed_at=datetime(2026, 12, 1, 9, 0, tzinfo=UTC),
    escalation=0, escalate_at=None, well_at=None)


def parse(data: bytes) -> tuple[list[str], list[dict[str, str]]]:
    reader = csv.reader(io.StringIO(data.decode("utf-8-sig"), newline=""))
    header, *rows = list(reader)
    return header, [dict(zip(header, row, strict=True)) for row in rows]


def test_utf8_with_bom_and_the_documented_columns() -> None:
    data = reports_csv([REPORT], make_areas(), TZ)
    assert data.startswith(b"\xef\xbb\xbfid,created,rt,rw,kelurahan,contact,")
    assert b"\r\n" in data
    header, rows = parse(data)
    assert header == list(COLUMNS)
    assert len(rows) == 1


def test_one_row_with_keys_and_local_times() -> None:
    _, [row] = parse(reports_csv([REPORT], make_areas(), TZ))
    assert row == {
        "id": "17", "created": "2026-12-01 03:05:00", "rt": "03", "rw": "02",
        "kelurahan": "Cimuncang", "contact": "telegram:123456", "subject": "household",
        "age_group": "60plus", "red_flags": "", "symptoms": "fever;cough;smell_taste",
        "close_contact": "unsure", "conditions": "diabetes;hypertension", "pregnant": "",
        "level": "high", "rules_version": "2026-11", "status": "done",
        "handler": "telegram:777", "handled_at": "2026-12-01 03:30:00",
        "closed_at": "2026-12-01 16:00:00",
        "note": "Sudah ditelepon, suhu 38,5 °C;\nrujuk ke puskesmas"}


def test_red_flags_pregnancy_and_an_open_report() -> None:
    urgent = replace(REPORT, id=18, red_flags=("breathing", "bluish"), symptoms=(),
                     conditions=(), pregnant=True, status="new", handler=None,
                     handled_at=None, closed_at=None, note="")
    not_pregnant = replace(REPORT, id=19, pregnant=False)
    _, rows = parse(reports_csv([urgent, not_pregnant], make_areas(), TZ))
    assert [r["id"] for r in rows] == ["18", "19"]
    assert rows[0]["red_flags"] == "breathing;bluish"
    assert (rows[0]["symptoms"], rows[0]["conditions"]) == ("", "")
    assert rows[0]["pregnant"] == "yes" and rows[1]["pregnant"] == "no"
    assert (rows[0]["handler"], rows[0]["handled_at"], rows[0]["closed_at"]) == ("", "", "")


def test_formulas_in_a_note_are_neutralised() -> None:
    notes = ["=HYPERLINK(\"http://x\",\"klik\")", "+62 812", "-1", "@SUM(A1)", "\tx",
             "ok = fine"]
    reports = [replace(REPORT, id=i, note=n) for i, n in enumerate(notes, 1)]
    _, rows = parse(reports_csv(reports, make_areas(), TZ))
    assert [r["note"] for r in rows] == [
        "'=HYPERLINK(\"http://x\",\"klik\")", "'+62 812", "'-1", "'@SUM(A1)", "'\tx",
        "ok = fine"]


def test_an_rt_gone_from_the_areas_file_keeps_its_code() -> None:
    gone = replace(REPORT, area_code="lama-rw09-rt01")
    _, [row] = parse(reports_csv([gone], make_areas(), TZ))
    assert (row["rt"], row["rw"], row["kelurahan"]) == ("lama-rw09-rt01", "", "")


def test_no_reports_is_a_header_only() -> None:
    header, rows = parse(reports_csv([], make_areas(), TZ))
    assert header == list(COLUMNS) and rows == []
