"""Figures of symptom reports: the daily chart (PNG), the one-line summary's numbers and the
per-RT table with the small-count rule. Pure functions: the caller reads the counts
(``SymptomsRepo.daily``), renders the words from content and writes the audit rows.

The chart is drawn with matplotlib's object API on an Agg canvas (no pyplot, no global
state, no display): safe to call from a worker thread (``asyncio.to_thread``).

Small-count rule (``by_rt``): nobody may be identified by a small count. An RT with fewer
than ``minimum`` reports in the period is never shown by itself; it goes into the rest of
its RW ("RW 02 (RT lain)"). A rest row is itself a figure a reader can work out (the total
minus the rows shown), so a rest must also reach ``minimum``: when it does not, the smallest
RT shown of that RW is moved into the rest as well, and again, until it does. An RW whose
reports together stay below ``minimum`` shows no row at all; its reports go into the rest of
its kelurahan, under the same rule (the smallest row of the kelurahan is moved in until the
rest reaches ``minimum``), and a kelurahan's that stays below goes into the rest of the whole
scope (code ""). If even the whole scope has fewer than ``minimum`` reports, no row is
returned: the summary's total is all that is said. Hence every row has at least ``minimum``
reports, and a rest row holding a small RT always holds at least one more RT, so no row,
and no difference between the rows and the total, is the count of a single small RT.
"""

from __future__ import annotations

import io
import math
import textwrap
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta

from babel.dates import format_skeleton

from bot.areas import Areas
from bot.symptoms.model import Level
from db.repositories.symptoms import DayCount

# bottom to top of each bar; light green, amber, dark red: told apart by lightness too
LEVELS = (Level.LOW, Level.MODERATE, Level.HIGH)
COLOURS = {Level.LOW: "#7cb342", Level.MODERATE: "#ffa000", Level.HIGH: "#c62828"}
# used when the caller passes no words (the caller should: they belong in content)
DEFAULT_LEVEL_NAMES = {
    "id": {"low": "Rendah", "moderate": "Sedang", "high": "Tinggi"},
    "en": {"low": "Low", "moderate": "Moderate", "high": "High"},
}
WIDTH, HEIGHT, DPI = 8.0, 4.5, 100  # 800 x 450 px
MAX_DATE_LABELS = 10
TITLE_WIDTH = 85  # characters a line; a longer title wraps


@dataclass(frozen=True)
class Summary:
    total: int  # reports in the counts given
    high: int  # of them at risk level high
    urgent: int  # with a red flag
    handled_fast: int  # taken by a coordinator within an hour


def summary(counts: Iterable[DayCount]) -> Summary:
    total = high = urgent = fast = 0
    for c in counts:
        total += c.reports
        high += c.reports if c.level == Level.HIGH else 0
        urgent += c.urgent
        fast += c.handled_fast
    return Summary(total, high, urgent, fast)


def _locale(lang: str) -> str:
    return lang if lang in DEFAULT_LEVEL_NAMES else "id"


def day_label(day: date, lang: str) -> str:
    """A day on the x axis: "1 Des" / "Dec 1"."""
    return format_skeleton("dMMM", day, locale=_locale(lang))


def daily_chart(counts: Iterable[DayCount], first_day: date, last_day: date, lang: str,
                title: str, level_names: dict[str, str] | None = None,
                y_label: str = "") -> bytes:
    """A PNG (800 x 450) of reports per day, stacked by risk level (low, moderate, high),
    for every day from ``first_day`` to ``last_day`` (both included; a day without reports
    shows as no bar). ``level_names`` maps "low"/"moderate"/"high" to the legend's words in
    ``lang``; ``title`` and ``y_label`` come rendered from the caller. The same input gives
    the same bytes."""
    if last_day < first_day:
        raise ValueError("last_day is before first_day")
    names = {**DEFAULT_LEVEL_NAMES[_locale(lang)], **(level_names or {})}
    days = [first_day + timedelta(days=i) for i in range((last_day - first_day).days + 1)]
    index = {d.isoformat(): i for i, d in enumerate(days)}
    values = {level: [0] * len(days) for level in LEVELS}
    for c in counts:
        i = index.get(c.day)
        if i is not None and c.level in values:
            values[Level(c.level)][i] += c.reports

    # matplotlib is loaded on the first chart, not when the bot starts (tens of MB)
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.ticker import MaxNLocator

    fig = Figure(figsize=(WIDTH, HEIGHT), dpi=DPI, layout="constrained")
    FigureCanvasAgg(fig)
    ax = fig.add_subplot()
    x = list(range(len(days)))
    bottom = [0] * len(days)
    for level in LEVELS:
        ax.bar(x, values[level], bottom=bottom, width=0.8, color=COLOURS[level],
               label=names[level], linewidth=0)
        bottom = [b + v for b, v in zip(bottom, values[level], strict=True)]

    # a label every few days, counted back from the last day so that today is always named
    step = max(1, math.ceil(len(days) / MAX_DATE_LABELS))
    labelled = list(range(len(days) - 1, -1, -step))[::-1]
    ax.set_xticks(labelled, [day_label(days[i], lang) for i in labelled])
    ax.set_xticks(x, minor=True)
    ax.set_xlim(-0.6, len(days) - 0.4)
    ax.set_ylim(0, max(1, *bottom) * 1.05)
    ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    ax.grid(axis="y", color="#dddddd", linewidth=0.8)
    ax.set_axisbelow(True)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    ax.set_title(textwrap.fill(title, TITLE_WIDTH), loc="left", fontsize=12)
    if y_label:
        ax.set_ylabel(y_label)
    # under the plot: it never hides a bar nor meets a long title
    fig.legend(loc="outside lower center", ncols=3, frameon=False, fontsize=9)

    out = io.BytesIO()
    fig.savefig(out, format="png", dpi=DPI, metadata={"Software": None})
    return out.getvalue()


@dataclass(frozen=True)
class AreaCount:
    """One row of the per-RT table.

    ``folded`` False: ``code`` is an RT code and ``reports`` that RT's own figure.
    ``folded`` True: the rest of a unit, the reports of RTs not shown by themselves:
    ``code`` an RW code ("RW 02 (RT lain)"), a kelurahan code ("Kel. Cimuncang (lainnya)")
    or "" for the rest of the whole scope ("Lainnya")."""

    code: str
    reports: int
    folded: bool = False


def _fold(rows: list[AreaCount], rest: int, minimum: int) -> tuple[list[AreaCount], int]:
    """Move rows below ``minimum`` into the rest, then the smallest rows until the rest is
    0 or reaches ``minimum`` (or nothing is left to move)."""
    shown = []
    for row in rows:
        if row.reports < minimum:
            rest += row.reports
        else:
            shown.append(row)
    while 0 < rest < minimum and shown:
        smallest = min(range(len(shown)), key=lambda i: (shown[i].reports, i))
        rest += shown.pop(smallest).reports
    return shown, rest


def by_rt(counts: Iterable[DayCount], areas: Areas, minimum: int = 3) -> list[AreaCount]:
    """Reports per RT over the counts' period, with the small-count rule (module docstring).

    Rows come in the area directory's order, each unit's rest after its own rows and the
    scope's rest ("") last. Counts of codes the directory does not know (an RT removed
    from the areas file) only go into the scope's rest. An empty list while the summary's
    total is not 0: too few reports to show by RT."""
    totals: Counter[str] = Counter()
    for c in counts:
        totals[c.area_code] += c.reports
    known: set[str] = set()
    rows: list[AreaCount] = []
    scope_rest = 0
    for kel in areas.kelurahan:
        kel_rows: list[AreaCount] = []
        kel_rest = 0
        for rw in kel.rws:
            known.update(rt.code for rt in rw.rts)
            rts = [AreaCount(rt.code, totals[rt.code]) for rt in rw.rts if totals[rt.code]]
            shown, rest = _fold(rts, 0, minimum)
            kel_rows += shown
            if rest >= minimum:
                kel_rows.append(AreaCount(rw.code, rest, folded=True))
            else:
                kel_rest += rest
        shown, kel_rest = _fold(kel_rows, kel_rest, minimum)
        rows += shown
        if kel_rest >= minimum:
            rows.append(AreaCount(kel.code, kel_rest, folded=True))
        else:
            scope_rest += kel_rest
    scope_rest += sum(n for code, n in totals.items() if code not in known)
    rows, scope_rest = _fold(rows, scope_rest, minimum)
    if scope_rest >= minimum:
        rows.append(AreaCount("", scope_rest, folded=True))
    return rows
