"""The RT/RW coordinator's and health worker's side of symptom reports: take an alert, list
the open reports of their area, add a note, close, export a CSV, see a chart.

    alert ──sx-take:<id>──► "you handle it" (or who does)
    /laporan ──► LIST (newest first, at most 10) ──sx-take|sx-note|sx-done:<id>──► …
                                       sx-note:<id> ──► NOTE (typed) ──► LIST
    /ekspor [laporan] ──► a CSV document of the reports shared with the area
    /statistik ──► a PNG chart of reports per day by risk level, 30 days, with a summary

Only the areas of the person's own grants (coordinator: RT/RW; health worker: kelurahan);
moderators see no health data. Every read of an identified report writes an audit row.
"""

from __future__ import annotations

import asyncio

from bot.authz import Action
from bot.context import Context
from bot.events import Media, Reply, Text, button, say, t
from bot.feature import Command, Feature, On, Who
from bot.flow import Flow, Step
from bot.menu import main_menu, menu_row
from bot.symptoms import chart, export
from bot.symptoms.callbacks import AddNote, Close, Handle, Reports
from bot.symptoms.desk import Scope, SymptomDesk
from bot.symptoms.service import report_params
from db.repositories.symptoms import SymptomReport

NOTE_LIMIT = 500
MINIMUM = 3  # an RT with fewer reports in the period is shown only inside its RW


def _scope_label(ctx: Context, scope: Scope) -> Text:
    return ctx.areas.labels(scope.codes)


async def _item(ctx: Context, report: SymptomReport) -> dict[str, object]:
    params = report_params(ctx.services, report)
    params["handler"] = await ctx.use(SymptomDesk).handler_name(report.handler)
    return params


def _buttons(report: SymptomReport) -> list:
    row = []
    if report.status == "new":
        row.append(button("symptoms.desk.take_button", Handle(report.id).pack(), id=report.id))
    row.append(button("symptoms.desk.note_button", AddNote(report.id).pack(), id=report.id))
    if report.status != "done":
        row.append(button("symptoms.desk.close_button", Close(report.id).pack(),
                          id=report.id))
    return row


async def reports(ctx: Context, _: Reports | None = None) -> list[Reply]:
    """The open reports in the person's area, newest first."""
    ctx.conv.clear()
    desk = ctx.use(SymptomDesk)
    scope = await desk.scope(Action.REPORTS_VIEW)
    if not scope.allowed:
        return [main_menu(ctx, "symptoms.desk.not_allowed")]
    found, more = await desk.open_reports(scope)
    if not found:
        return [main_menu(ctx, "symptoms.desk.empty", scope=_scope_label(ctx, scope))]
    items = [await _item(ctx, r) for r in found]
    rows = [_buttons(r) for r in found]
    return [say("symptoms.desk.list", [*rows, menu_row()], scope=_scope_label(ctx, scope),
                reports=items, more=more)]


async def _report_in_scope(ctx: Context, report_id: int) -> tuple[SymptomReport | None, bool]:
    desk = ctx.use(SymptomDesk)
    report = await desk.get(report_id)
    if report is None:
        return None, False
    return report, await desk.may_see(report)


async def on_handle(ctx: Context, data: Handle) -> list[Reply]:
    """"I'll handle it": the first to press owns the report; the others are told who."""
    report, allowed = await _report_in_scope(ctx, data.report)
    if report is None:
        return [main_menu(ctx, "symptoms.desk.gone")]
    if not allowed:
        return [main_menu(ctx, "symptoms.desk.not_allowed")]
    claim = await ctx.use(SymptomDesk).claim(data.report)
    if claim.report is None:
        return [main_menu(ctx, "symptoms.desk.gone")]
    if claim.mine and claim.report.handled_at and report.handler is None:
        return [main_menu(ctx, "symptoms.desk.taken", id=data.report)]
    if claim.report.status == "done":
        return [main_menu(ctx, "symptoms.desk.closed_already", id=data.report)]
    if claim.mine:
        return [main_menu(ctx, "symptoms.desk.already_yours", id=data.report)]
    return [main_menu(ctx, "symptoms.desk.already_taken", id=data.report,
                      name=claim.handler_name)]


async def on_close(ctx: Context, data: Close) -> list[Reply]:
    report, allowed = await _report_in_scope(ctx, data.report)
    if report is None:
        return [main_menu(ctx, "symptoms.desk.gone")]
    if not allowed:
        return [main_menu(ctx, "symptoms.desk.not_allowed")]
    if report.status == "done":
        return [main_menu(ctx, "symptoms.desk.closed_already", id=report.id)]
    ctx.use(SymptomDesk).close(report)
    return [say("symptoms.desk.closed", [[button("common.back", Reports().pack())],
                                         menu_row()], id=report.id)]


async def on_note(ctx: Context, data: AddNote) -> list[Reply]:
    report, allowed = await _report_in_scope(ctx, data.report)
    if report is None:
        return [main_menu(ctx, "symptoms.desk.gone")]
    if not allowed:
        return [main_menu(ctx, "symptoms.desk.not_allowed")]
    NOTE.start(ctx, "note", report=report.id)
    return [await NOTE.ask(ctx)]


def ask_note(ctx: Context) -> Reply:
    return say("symptoms.desk.note_prompt", [NOTE.cancel_row()],
               id=ctx.conv.data.get("report"))


async def take_note(ctx: Context) -> list[Reply]:
    text = ctx.event.text.strip()
    if len(text) > NOTE_LIMIT:
        return await NOTE.again(ctx, "symptoms.desk.note_too_long", length=len(text))
    report_id = int(ctx.conv.data.get("report", 0))
    report, allowed = await _report_in_scope(ctx, report_id)
    ctx.conv.clear()
    if report is None:
        return [main_menu(ctx, "symptoms.desk.gone")]
    if not allowed:
        return [main_menu(ctx, "symptoms.desk.not_allowed")]
    await ctx.use(SymptomDesk).note(report_id, text)
    return [say("symptoms.desk.note_saved", [[button("common.back", Reports().pack())],
                                             menu_row()], id=report_id)]


async def export_reports(ctx: Context) -> list[Reply]:
    """A CSV of the reports shared with the person's area, as a document."""
    ctx.conv.clear()
    what = ctx.event.args.strip().lower()
    if what in ("relawan", "volunteers"):
        from bot.handlers.callouts import export_volunteers
        return await export_volunteers(ctx)
    if what not in ("", "laporan", "reports", "gejala", "symptoms"):
        return [main_menu(ctx, "symptoms.desk.export_what")]
    desk = ctx.use(SymptomDesk)
    scope = await desk.scope(Action.REPORTS_EXPORT)
    if not scope.allowed:
        return [main_menu(ctx, "symptoms.desk.not_allowed")]
    found = await desk.all_reports(scope)
    label = _scope_label(ctx, scope)
    if not found:
        return [main_menu(ctx, "symptoms.desk.export_empty", scope=label)]
    tz = ctx.services.settings.timezone
    now = ctx.services.clock.now().astimezone(tz)
    data = export.reports_csv(found, ctx.areas, tz)
    name = f"laporan-gejala-{now:%Y%m%d-%H%M}.csv"
    from bot.broadcasting.schedule import format_local
    caption = say("symptoms.desk.export_caption", count=len(found), scope=label,
                  at=format_local(now, tz))
    return [Reply(caption.text, (tuple(menu_row()),), Media("document", name=name, data=data))]


async def stats(ctx: Context) -> list[Reply]:
    """A chart of the last 30 days' reports by risk level, with a one-line summary."""
    ctx.conv.clear()
    desk = ctx.use(SymptomDesk)
    scope = await desk.scope(Action.STATS_VIEW)
    if not scope.allowed:
        return [main_menu(ctx, "symptoms.desk.not_allowed")]
    counts, first, last = await desk.daily(scope)
    label = _scope_label(ctx, scope)
    total = chart.summary(counts)
    if 0 < total.total < MINIMUM:  # a chart of one or two reports could point to someone
        return [main_menu(ctx, "symptoms.desk.stats_too_few", scope=label, minimum=MINIMUM)]
    words = _words(ctx)
    names = {level: words(t(f"symptoms.level.{level}")) for level in ("low", "moderate",
                                                                         "high")}
    png = await asyncio.to_thread(chart.daily_chart, counts, first, last, ctx.lang,
                                  words(t("symptoms.desk.chart_title", scope=label)), names)
    rows = []
    for row in chart.by_rt(counts, ctx.areas, MINIMUM):
        if not row.folded:
            area: object = ctx.areas.label(row.code)
        elif ctx.areas.rw(row.code):
            area = t("symptoms.desk.stats_other_rts", rw=ctx.areas.label(row.code))
        else:
            area = t("symptoms.desk.stats_other_areas", area=ctx.areas.label(row.code) or "")
        rows.append({"label": area, "reports": row.reports})
    hidden = sum(r["reports"] for r in rows) < total.total  # type: ignore[misc]
    caption = say("symptoms.desk.stats_caption", scope=label, total=total.total,
                  high=total.high, urgent=total.urgent, fast=total.handled_fast,
                  rows=rows if len(scope.rts) > 1 else [], hidden=hidden and
                  len(scope.rts) > 1, minimum=MINIMUM)
    return [Reply(caption.text, (tuple(menu_row()),),
                  Media("photo", name=f"statistik-{last:%Y%m%d}.png", data=png))]


def _words(ctx: Context):  # type: ignore[no-untyped-def]
    from bot.broadcasting.notices import plain_renderer
    renderer = plain_renderer(ctx.services.content)
    return lambda text: renderer.render(text, ctx.lang)


NOTE = Flow("symptom-note", {"note": Step(ask=ask_note, typed=take_note)},
            on_cancel=reports)

FEATURE = Feature(
    "health_desk",
    commands=(
        Command("laporan", reports, alias="reports", who=Who.STAFF),
        Command("ekspor", export_reports, alias="export", who=Who.STAFF),
        Command("statistik", stats, alias="stats", who=Who.STAFF),
    ),
    buttons=(On(Handle, on_handle), On(Close, on_close), On(AddNote, on_note),
             On(Reports, reports)),
    flows=(NOTE,),
)
