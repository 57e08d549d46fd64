"""The CSV of identified symptom reports (``/ekspor``): one row a report, for the RT/RW
coordinator and the puskesmas. Pure: the caller picks the reports in the reader's scope
(only reports stored with consent exist as rows), writes the audit row and sends the file.

The file is UTF-8 with a byte order mark (so Excel shows names with their own letters),
comma-separated, rows ended by CRLF, a header line of the column names below. Answers are
the questionnaire's keys (``bot/symptoms/model.py``), not words of one language, so a
spreadsheet or a script reads them the same in every deployment; several answers in one
cell are joined with ";". Times are local time in the deployment's timezone (settings;
Indonesia has no daylight saving time, so a local time names one moment), written
``YYYY-MM-DD HH:MM:SS``, which spreadsheets read as a date and time.

| Column | Contents |
|---|---|
| `id` | the report's number (as in `/laporan`) |
| `created` | when the report was sent, local time |
| `rt` | RT number ("03"); the area code if the RT is no longer in the areas file |
| `rw` | RW number ("02") |
| `kelurahan` | kelurahan name |
| `contact` | who sent it (`telegram:123456`), shared under consent to be called back |
| `subject` | `self` or `household` (someone at home; the resident stays the contact) |
| `age_group` | `lt18`, `18_39`, `40_59`, `60plus` |
| `red_flags` | danger signs answered yes: `breathing`, `chest`, `bluish`, `confused` |
| `symptoms` | of the last 14 days, keys of `SYMPTOMS` in model.py: `fever`, `cough`, ... |
| `close_contact` | with a confirmed case in the last 14 days: `yes`, `no`, `unsure` |
| `conditions` | `diabetes`, `hypertension`, `heart`, `lung`, `kidney`, `immune` (empty: none) |
| `pregnant` | `yes`, `no`, or empty when not asked |
| `level` | risk level: `low`, `moderate`, `high` |
| `rules_version` | version of the triage rules file that gave the level |
| `status` | `new`, `handling`, `done` |
| `handler` | who took the report, as stored (an identity) |
| `handled_at` | when it was taken, local time |
| `closed_at` | when it was closed, local time |
| `note` | the handler's note |

A cell that begins with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return gets a leading
apostrophe, so that a spreadsheet shows it as text instead of running it as a formula
(a note is typed by a person; no other cell can start so).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from datetime import UTC, datetime, tzinfo

from bot.areas import Areas
from db.repositories.symptoms import SymptomReport

COLUMNS = ("id", "created", "rt", "rw", "kelurahan", "contact", "subject", "age_group",
           "red_flags", "symptoms", "close_contact", "conditions", "pregnant", "level",
           "rules_version", "status", "handler", "handled_at", "closed_at", "note")
BOM = "\ufeff"
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: str) -> str:
    """Text a spreadsheet will not run as a formula."""
    return "'" + value if value.startswith(_FORMULA_START) else value


def local_time(at: datetime | None, tz: tzinfo) -> str:
    if at is None:
        return ""
    if at.tzinfo is None:  # stored times are UTC
        at = at.replace(tzinfo=UTC)
    return at.astimezone(tz).strftime("%Y-%m-%d %H:%M:%S")


def _row(r: SymptomReport, areas: Areas, tz: tzinfo) -> list[str]:
    chain = areas.chain(r.area_code)
    if chain:
        kel, rw, rt = chain
        where = [rt.number, rw.number, kel.name]
    else:
        where = [r.area_code, "", ""]
    pregnant = "" if r.pregnant is None else ("yes" if r.pregnant else "no")
    cells = [str(r.id), local_time(r.created_at, tz), *where, r.identity, r.subject,
             r.age_group, ";".join(r.red_flags), ";".join(r.symptoms), r.close_contact,
             ";".join(r.conditions), pregnant, r.level, r.rules_version, r.status,
             r.handler or "", local_time(r.handled_at, tz), local_time(r.closed_at, tz),
             r.note or ""]
    return [safe_cell(c) for c in cells]


def reports_csv(reports: Iterable[SymptomReport], areas: Areas, tz: tzinfo) -> bytes:
    """The reports as CSV bytes (UTF-8 with BOM), in the order given; a header line even
    when there is no report."""
    out = io.StringIO(newline="")
    out.write(BOM)
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(COLUMNS)
    for r in reports:
        writer.writerow(_row(r, areas, tz))
    return out.getvalue().encode("utf-8")
