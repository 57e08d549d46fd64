"""/siaran (/broadcast): a coordinator writes a notice, picks who gets it and when, sees it as
residents will, and sends it. "My notices" and moderation are their own features.

    /siaran ──► HOME ──bc:new──► BODY (text, or a photo / PDF with a caption)
                 │                 └─► AUDIENCE (an RT coordinator skips it: their RT)
                 │                      ├─bc:aud:<code>──► SEGMENT
                 │                      └─bc:pick──► PICK (bc:rt:<code> toggles, bc:picked)
                 │                 SEGMENT ──bc:seg:all|volunteers──► CATEGORY
                 │                 CATEGORY ──bc:cat:regular|urgent──► WHEN
                 │                 WHEN ──bc:when:now──────────────────────────► PREVIEW
                 │                   ├─bc:when:once──► AT (date and time typed) ──► PREVIEW
                 │                   └─bc:when:repeat──► REPEAT ──daily──► TIME ──► END
                 │                          weekly──► DAYS (bc:wd:<day>, bc:wd:done) ──► TIME
                 │                          monthly──► MONTHDAY (1-28 typed, bc:lastday) ─► TIME
                 │                   END ──bc:end:none or a typed date──► PREVIEW
                 │                 PREVIEW ──bc:send──► submitted (approval) or sent / scheduled
                 │                    └─bc:edit──► AUDIENCE      every step ──cancel──► MENU
                 ├─bc:list──► my notices (handlers/my_notices.py)
                 └─bc:review──► the review list (handlers/moderation.py)

Dates and times are typed the way people say them ("besok jam 7 pagi", "Senin depan 08.00",
"tgl 5 jam 16.00", "tomorrow 7am": bot/broadcasting/dates.py); one that cannot be used is
refused with its reason ("31 Februari 2027 tidak ada"), and the preview shows the moment in
full ("Rabu, 2 Des 2026 07.00 WIB") before anything is scheduled. A monthly notice on day 29-31
is refused (not every month has one) with the offer of the last day of every month.

Every area in the audience is checked against the coordinator's own grants when picked and
again, with an audit row, when the notice is submitted, so a forged button cannot widen it.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from typing import Literal

from bot.areas import RT
from bot.authz import Action, Role
from bot.broadcasting import notices as svc
from bot.broadcasting.dates import Unreadable, read_date, read_datetime, read_time, weekday_names
from bot.broadcasting.desk import NoticeDesk
from bot.broadcasting.schedule import LAST_DAY, WEEKDAYS, format_local, zone_name
from bot.broadcasting.views import MyNotices, NewNotice, ReviewQueue
from bot.callbacks import Callback
from bot.channels.traits import notice_limits
from bot.context import Context
from bot.events import Button, Kind, Reply, Text, button, say, t
from bot.feature import Command, Feature, On, Who
from bot.flow import Flow, Step
from bot.menu import main_menu, menu_row
from db.repositories.notices import Notice

MAX_AHEAD = timedelta(days=366)
# typed at the day-of-month step for "the last day of every month"
_LAST_DAY_WORDS = re.compile(r"(hari |tanggal |tgl )?(ter)?akhir( bulan| tiap bulan)?|akhir bulan"
                             r"|(the )?last( day)?( of (the|every) month)?")


@dataclass(frozen=True)
class Aud(Callback, prefix="bc:aud"):
    code: str


@dataclass(frozen=True)
class Pick(Callback, prefix="bc:pick"):
    pass


@dataclass(frozen=True)
class PickRt(Callback, prefix="bc:rt"):
    code: str


@dataclass(frozen=True)
class Picked(Callback, prefix="bc:picked"):
    pass


@dataclass(frozen=True)
class Segment(Callback, prefix="bc:seg"):
    value: Literal["all", "volunteers"]


@dataclass(frozen=True)
class Category(Callback, prefix="bc:cat"):
    value: Literal["regular", "urgent"]


@dataclass(frozen=True)
class When(Callback, prefix="bc:when"):
    value: Literal["now", "once", "repeat"]


@dataclass(frozen=True)
class Repeat(Callback, prefix="bc:rep"):
    value: Literal["daily", "weekly", "monthly"]


@dataclass(frozen=True)
class Day(Callback, prefix="bc:wd"):
    day: Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]


@dataclass(frozen=True)
class DaysDone(Callback, prefix="bc:wd:done"):
    pass


@dataclass(frozen=True)
class LastDay(Callback, prefix="bc:lastday"):
    """A monthly notice on the last day of every month."""


@dataclass(frozen=True)
class NoEnd(Callback, prefix="bc:end:none"):
    pass


@dataclass(frozen=True)
class Send(Callback, prefix="bc:send"):
    pass


@dataclass(frozen=True)
class EditAudience(Callback, prefix="bc:edit"):
    pass


# --- entry and home -------------------------------------------------------------------------


async def _scopes(ctx: Context) -> list[str]:
    return await ctx.services.authz.scopes(ctx.person.identity)


async def _is_moderator(ctx: Context) -> bool:
    grants = await ctx.services.authz.grants(ctx.person.identity)
    return any(g.role in {Role.MODERATOR, Role.ADMIN} for g in grants)


async def home(ctx: Context) -> list[Reply]:
    """Show what a coordinator (or moderator) can do with notices."""
    ctx.conv.clear()
    scopes = await _scopes(ctx)
    moderator = await _is_moderator(ctx)
    if not scopes and not moderator:
        await ctx.services.authz.authorize(ctx.person.identity, Action.BROADCAST_SEND,
                                           ctx.person.area_code)  # the refusal is audited
        return [main_menu(ctx, "broadcast.not_coordinator")]
    desk = ctx.use(NoticeDesk)
    rows: list[list[Button]] = []
    if scopes:
        mine = await desk.mine()
        rows.append([button("broadcast.new", NewNotice().pack())])
        rows.append([button("broadcast.mine", MyNotices().pack(), n=len(mine))])
    waiting = 0
    if moderator:
        waiting = len(await desk.awaiting_approval())
        rows.append([button("broadcast.to_review", ReviewQueue().pack(), n=waiting)])
    rows.append(menu_row())
    return [say("broadcast.home", rows, coordinator=bool(scopes), moderator=moderator,
                waiting=waiting, approval=ctx.services.settings.broadcast.requires_approval)]


async def start_new(ctx: Context, _: NewNotice | None = None) -> list[Reply]:
    """Start a new notice: ask for its text (or a photo / PDF with a caption)."""
    if not await _scopes(ctx):
        return await home(ctx)
    FLOW.start(ctx, "body")
    return [await FLOW.ask(ctx)]


# --- questions ------------------------------------------------------------------------------


def _cancel_row() -> list[Button]:
    return FLOW.cancel_row("broadcast.cancel_draft")


def _ask(key: str, *choices: tuple[str, Callback], **params: object) -> Reply:
    """A question with one button a row and Cancel."""
    rows = [[button(label, data.pack())] for label, data in choices]
    return say(key, [*rows, _cancel_row()], **params)


def _limits(ctx: Context) -> tuple[int, int]:
    text, caption, _ = notice_limits(ctx.services.channels.values())
    return text, caption


def _hm(value: time) -> Text:
    return t("time.clock", hour=value.hour, minute=value.minute)


def _zone(ctx: Context) -> str:
    return zone_name(ctx.services.settings.timezone, ctx.services.clock.now())


def _example_time(ctx: Context) -> Text:
    local = (ctx.services.clock.now() + timedelta(days=1)).astimezone(
        ctx.services.settings.timezone)
    return t("broadcast.example_time", date=f"{local:%d-%m-%Y}",
             clock=t("time.clock", hour=7, minute=0))


def ask_body(ctx: Context) -> Reply:
    return say("broadcast.ask_body", [_cancel_row()], limit=_limits(ctx)[0])


def ask_audience(ctx: Context) -> Reply:
    scopes: list[str] = ctx.conv.data.get("scopes", [])
    rows = [[button("broadcast.audience_whole", Aud(code).pack(),
                    area=ctx.areas.label(code))] for code in scopes]
    if len(svc.rt_codes(ctx.areas, scopes)) > 1:
        rows.append([button("broadcast.audience_pick", Pick().pack())])
    return say("broadcast.ask_audience", [*rows, _cancel_row()])


def ask_pick(ctx: Context) -> Reply:
    scopes: list[str] = ctx.conv.data.get("scopes", [])
    chosen = set(ctx.conv.data.get("areas", []))
    buttons = [button("common.toggle", PickRt(code).pack(), on=code in chosen,
                      value=ctx.areas.label(code)) for code in svc.rt_codes(ctx.areas, scopes)]
    rows = [buttons[i:i + 2] for i in range(0, len(buttons), 2)]
    rows.append([button("broadcast.done", Picked().pack())])
    return say("broadcast.ask_pick", [*rows, _cancel_row()])


def ask_category(ctx: Context) -> Reply:
    b = ctx.services.settings.broadcast
    return _ask("broadcast.ask_category",
                ("broadcast.category_regular", Category("regular")),
                ("broadcast.category_urgent", Category("urgent")),
                quiet_start=_hm(b.quiet_start), quiet_end=_hm(b.quiet_end))


def ask_days(ctx: Context) -> Reply:
    chosen = set(ctx.conv.data.get("weekdays", []))
    rows = [[button("common.toggle", Day(d).pack(), on=d in chosen,  # type: ignore[arg-type]
                    value=t("dates.weekday", name=weekday_names(i)))
             for i, d in enumerate(WEEKDAYS[j:j + 4], start=j)] for j in (0, 4)]
    return say("broadcast.ask_days",
               [*rows, [button("broadcast.done", DaysDone().pack())], _cancel_row()])


def ask_confirm(ctx: Context) -> Reply:
    data = ctx.conv.data
    return say("broadcast.ask_confirm", _preview_rows(data), sendable=data.get("sendable"))


def _preview_rows(data: dict) -> list[list[Button]]:
    rows: list[list[Button]] = []
    if data.get("sendable"):
        rows.append([button("broadcast.submit" if data.get("needs") else "broadcast.send",
                            Send().pack())])
    rows.append([button("broadcast.edit_audience", EditAudience().pack())])
    rows.append(_cancel_row())
    return rows


# --- answers by button ----------------------------------------------------------------------


def _allowed(ctx: Context, code: str) -> bool:
    scopes: list[str] = ctx.conv.data.get("scopes", [])
    return ctx.areas.get(code) is not None and any(ctx.areas.covers(s, code) for s in scopes)


async def _outside(ctx: Context, code: str) -> list[Reply]:
    """Refuse an area outside the coordinator's scope (audited) and ask again."""
    await ctx.services.authz.authorize(ctx.person.identity, Action.BROADCAST_SEND, code,
                                       detail="audience outside scope")
    return await FLOW.again(ctx, "broadcast.outside_scope")


async def _after_body(ctx: Context) -> list[Reply]:
    scopes = await _scopes(ctx)
    ctx.conv.data["scopes"] = scopes
    if len(scopes) == 1 and isinstance(ctx.areas.get(scopes[0]), RT):
        ctx.conv.data["areas"] = [scopes[0]]  # an RT coordinator's only audience
        return await FLOW.go(ctx, "segment")
    return await FLOW.go(ctx, "audience")


async def on_audience(ctx: Context, data: Aud) -> list[Reply]:
    if data.code not in ctx.conv.data.get("scopes", []) or not _allowed(ctx, data.code):
        return await _outside(ctx, data.code)
    ctx.conv.data["areas"] = [data.code]
    return await FLOW.go(ctx, "segment")


async def on_pick(ctx: Context, _: Pick) -> list[Reply]:
    ctx.conv.data["areas"] = []
    return await FLOW.go(ctx, "pick")


async def on_pick_rt(ctx: Context, data: PickRt) -> list[Reply]:
    if not isinstance(ctx.areas.get(data.code), RT) or not _allowed(ctx, data.code):
        return await _outside(ctx, data.code)
    FLOW.toggle(ctx, "areas", data.code)
    return [await FLOW.ask(ctx)]


async def on_picked(ctx: Context, _: Picked) -> list[Reply]:
    if not ctx.conv.data.get("areas"):
        return await FLOW.again(ctx, "broadcast.pick_none")
    return await FLOW.advance(ctx)


async def on_segment(ctx: Context, data: Segment) -> list[Reply]:
    ctx.conv.data["segment"] = data.value
    return await FLOW.advance(ctx)


async def on_category(ctx: Context, data: Category) -> list[Reply]:
    ctx.conv.data["category"] = data.value
    return await FLOW.advance(ctx)


async def on_when(ctx: Context, data: When) -> list[Reply]:
    if data.value == "now":
        ctx.conv.data["repeat"] = "now"
        return await preview(ctx)
    return await FLOW.go(ctx, "at" if data.value == "once" else "repeat")


async def on_repeat(ctx: Context, data: Repeat) -> list[Reply]:
    ctx.conv.data["repeat"] = data.value
    return await FLOW.go(ctx, {"daily": "time", "weekly": "days",
                               "monthly": "monthday"}[data.value])


async def on_day(ctx: Context, data: Day) -> list[Reply]:
    days = list(ctx.conv.data.get("weekdays", []))
    days.remove(data.day) if data.day in days else days.append(data.day)
    ctx.conv.data["weekdays"] = [d for d in WEEKDAYS if d in days]
    return [await FLOW.ask(ctx)]


async def on_days_done(ctx: Context, _: DaysDone) -> list[Reply]:
    if not ctx.conv.data.get("weekdays"):
        return await FLOW.again(ctx, "broadcast.days_none")
    return await FLOW.advance(ctx)


async def on_last_day(ctx: Context, _: LastDay | None = None) -> list[Reply]:
    ctx.conv.data["month_day"] = LAST_DAY
    return await FLOW.advance(ctx)


async def on_no_end(ctx: Context, _: NoEnd) -> list[Reply]:
    ctx.conv.data["end_date"] = None
    return await preview(ctx)


async def on_edit(ctx: Context, _: EditAudience) -> list[Reply]:
    scopes = ctx.conv.data.get("scopes", [])
    only_rt = len(scopes) == 1 and isinstance(ctx.areas.get(scopes[0]), RT)
    return await FLOW.go(ctx, "segment" if only_rt else "audience")


# --- typed answers --------------------------------------------------------------------------


def _media_ok(ctx: Context) -> bool:
    event = ctx.event
    return bool(event.media_ref) and (event.media_type == "photo" or (
        event.media_type == "document" and (event.media_mime == "application/pdf"
                                            or event.media_name.lower().endswith(".pdf"))))


async def _too_long(ctx: Context, body: str, limit: int, length: Callable[[str], int]
                    ) -> list[Reply]:
    """By how much a body is too long, in the units the channel counts (which people read as
    characters, except that an emoji and some other signs count double on Telegram)."""
    return await FLOW.again(ctx, "broadcast.too_long", limit=limit, over=length(body) - limit,
                            double=length(body) != len(body))


async def on_body(ctx: Context) -> list[Reply]:
    """Take the notice's text, or a photo / PDF with its caption."""
    event, data = ctx.event, ctx.conv.data
    text_limit, caption_limit = _limits(ctx)
    _, _, length = notice_limits(ctx.services.channels.values())
    if event.kind == Kind.TEXT:
        body = event.text.strip()
        if length(body) > text_limit:
            return await _too_long(ctx, body, text_limit, length)
        data.update(body=body, media_kind=None, media_ref=None, media_name=None)
        return await _after_body(ctx)
    if not _media_ok(ctx):
        return await FLOW.again(ctx, "broadcast.bad_media")
    caption = event.text.strip()
    if not caption:
        return await FLOW.again(ctx, "broadcast.need_caption")
    if length(caption) > caption_limit:
        return await _too_long(ctx, caption, caption_limit, length)
    data.update(body=caption, media_kind=event.media_type, media_ref=event.media_ref,
                media_name=event.media_name or None)
    return await _after_body(ctx)


def _now(ctx: Context) -> datetime:
    return ctx.services.clock.now()


async def _refused(ctx: Context, problem: Unreadable, key: str, **params: object
                   ) -> list[Reply]:
    """Say why the typed date or time cannot be used (``key`` when there is no reason beyond
    "not readable"), then ask again."""
    if problem.reason is None:
        return await FLOW.again(ctx, key, **params)
    return await FLOW.again(ctx, problem.reason.key, **problem.reason.params)


async def on_at(ctx: Context) -> list[Reply]:
    now, tz = _now(ctx), ctx.services.settings.timezone
    try:
        at = read_datetime(ctx.event.text, now, tz)
    except Unreadable as problem:
        return await _refused(ctx, problem, "broadcast.bad_datetime", example=_example_time(ctx))
    if at <= now:
        return await FLOW.again(ctx, "dates.past", at=format_local(at, tz))
    if at - now > MAX_AHEAD:
        return await FLOW.again(ctx, "broadcast.too_far")
    ctx.conv.data.update(repeat="once", start_at=at.isoformat())
    return await preview(ctx)


async def on_monthday(ctx: Context) -> list[Reply]:
    text = " ".join(ctx.event.text.lower().split()).removeprefix("tgl ").removeprefix(
        "tanggal ")
    if _LAST_DAY_WORDS.fullmatch(text):
        return await on_last_day(ctx)
    if re.fullmatch(r"[0-9]{1,2}", text) and 29 <= int(text) <= 31:
        return await FLOW.again(ctx, "dates.monthday_missing", day=int(text))
    if not re.fullmatch(r"[0-9]{1,2}", text) or not 1 <= int(text) <= 28:
        return await FLOW.again(ctx, "broadcast.bad_monthday")
    ctx.conv.data["month_day"] = int(text)
    return await FLOW.advance(ctx)


async def on_time(ctx: Context) -> list[Reply]:
    try:
        parsed = read_time(ctx.event.text)
    except Unreadable as problem:
        return await _refused(ctx, problem, "broadcast.bad_time")
    ctx.conv.data["at_time"] = parsed
    return await FLOW.advance(ctx)


async def on_end(ctx: Context) -> list[Reply]:
    now, tz = _now(ctx), ctx.services.settings.timezone
    try:
        end = read_date(ctx.event.text, now, tz)
    except Unreadable as problem:
        return await _refused(ctx, problem, "broadcast.bad_date")
    if end < now.astimezone(tz).date():
        return await FLOW.again(ctx, "broadcast.past_date")
    ctx.conv.data["end_date"] = end.isoformat()
    return await preview(ctx)


# --- preview and submit ---------------------------------------------------------------------


def _draft(ctx: Context, signature: str) -> Notice:
    data, now = ctx.conv.data, _now(ctx)
    start = datetime.fromisoformat(data["start_at"]) if data.get("start_at") else None
    return Notice(
        author=ctx.person.identity, author_lang=ctx.lang, signature=signature,
        segment=data.get("segment", "all"), category=data.get("category", "regular"),
        body=data.get("body", ""), repeat=data.get("repeat", "now"), status="draft",
        created_at=now, updated_at=now, areas=tuple(data.get("areas", [])),
        media_kind=data.get("media_kind"), media_ref=data.get("media_ref"),
        media_name=data.get("media_name"), at_time=data.get("at_time"),
        weekdays=",".join(data.get("weekdays", [])) or None, month_day=data.get("month_day"),
        start_at=start, end_date=data.get("end_date"))


def _scope_for(ctx: Context, areas: list[str]) -> str | None:
    """The coordinator's grant that covers the whole audience (it signs the notice)."""
    for scope in ctx.conv.data.get("scopes", []):
        if all(ctx.areas.covers(scope, code) for code in areas):
            return scope
    return None


def _is_rw(ctx: Context, scope: str) -> bool:
    """Whether the notice is signed at RW level (or above) rather than by one RT."""
    return ctx.areas.get(scope) is not None and not isinstance(ctx.areas.get(scope), RT)


async def preview(ctx: Context) -> list[Reply]:
    """Show the notice exactly as residents will see it, its reach, and Send / Cancel."""
    ctx.conv.step = "preview"
    data, services = ctx.conv.data, ctx.services
    desk = ctx.use(NoticeDesk)
    areas: list[str] = data.get("areas", [])
    scope = _scope_for(ctx, areas) or (areas[0] if areas else "")
    notice = _draft(ctx, await desk.signature(scope))
    now = _now(ctx)
    first = svc.first_run(services, notice, now)
    if first is None:
        return [say("broadcast.no_occurrence"), *await FLOW.go(ctx, "end")]
    reach, opted_out, groups = await desk.reach(svc.rt_codes(ctx.areas, areas),
                                                notice.segment, notice.category)
    quiet = svc.quiet_hours(services)
    deferred = "" if notice.urgent or not quiet.active(first) else \
        format_local(quiet.ends_after(first), services.settings.timezone)
    needs = svc.needs_approval(services, notice, _is_rw(ctx, scope))
    data["sendable"], data["needs"] = bool(reach or groups), needs
    when = _when(ctx, notice, first)
    summary = say("broadcast.summary", _preview_rows(data), reach=reach, opted_out=opted_out,
                  groups=groups, audience=ctx.areas.labels(areas),
                  segment=t(f"broadcast.segment_{notice.segment}"),
                  category=t(f"broadcast.category_{notice.category}"),
                  when=when, deferred=deferred,
                  approval=needs, volunteers=notice.segment == "volunteers")
    return [svc.compose(services, notice, ctx.lang, first), summary]


async def submit(ctx: Context, _: Send | None = None) -> list[Reply]:
    """Check every area again (audited), then send, schedule or queue it for approval."""
    services, identity = ctx.services, ctx.person.identity
    areas: list[str] = ctx.conv.data.get("areas", [])
    if not areas:
        return await FLOW.go(ctx, "audience")
    for code in areas:
        if not await services.authz.authorize(identity, Action.BROADCAST_SEND, code,
                                              detail="submit notice"):
            ctx.conv.clear()
            return [main_menu(ctx, "broadcast.outside_scope")]
    desk = ctx.use(NoticeDesk)
    scope = _scope_for(ctx, areas) or areas[0]
    notice = _draft(ctx, await desk.signature(scope))
    needs = svc.needs_approval(services, notice, _is_rw(ctx, scope))
    skipped = services.settings.broadcast.requires_approval and not needs
    ctx.conv.clear()
    desk.submit(notice, needs, skipped)
    if needs:
        return [main_menu(ctx, "broadcast.submitted", moderators=await desk.has_reviewers())]
    key = "broadcast.sending" if notice.repeat == "now" else "broadcast.scheduled"
    when = _when(ctx, notice, svc.first_run(services, notice, _now(ctx)))
    return [main_menu(ctx, key, when=when, review=skipped)]


def _when(ctx: Context, notice: Notice, first: datetime | None) -> Text:
    """When the notice goes out, in full: a repeating one also says its first time."""
    when = svc.when_text(ctx.services, notice, ctx.lang)
    if not notice.recurring or first is None:
        return when
    return t("dates.first", when=when, first=format_local(first, ctx.services.settings.timezone))


FLOW = Flow("broadcast", {
    "body": Step(ask=ask_body, typed=on_body, media=True),
    "audience": Step(ask=ask_audience),
    "pick": Step(ask=ask_pick, next="segment"),
    "segment": Step(ask=lambda ctx: _ask(
        "broadcast.ask_segment", ("broadcast.segment_all", Segment("all")),
        ("broadcast.segment_volunteers", Segment("volunteers"))), next="category"),
    "category": Step(ask=ask_category, next="when"),
    "when": Step(ask=lambda ctx: _ask(
        "broadcast.ask_when", ("broadcast.when_now_button", When("now")),
        ("broadcast.when_once_button", When("once")),
        ("broadcast.when_repeat_button", When("repeat")))),
    "at": Step(ask=lambda ctx: _ask("broadcast.ask_at", example=_example_time(ctx),
                                    zone=_zone(ctx)), typed=on_at),
    "repeat": Step(ask=lambda ctx: _ask(
        "broadcast.ask_repeat", ("broadcast.repeat_daily", Repeat("daily")),
        ("broadcast.repeat_weekly", Repeat("weekly")),
        ("broadcast.repeat_monthly", Repeat("monthly")))),
    "days": Step(ask=ask_days, next="time"),
    "monthday": Step(ask=lambda ctx: _ask("broadcast.ask_monthday",
                                          ("dates.last_day_button", LastDay())),
                     typed=on_monthday,
                     next="time"),
    "time": Step(ask=lambda ctx: _ask("broadcast.ask_time", zone=_zone(ctx)), typed=on_time,
                 next="end"),
    "end": Step(ask=lambda ctx: _ask("broadcast.ask_end", ("broadcast.end_none", NoEnd())),
                typed=on_end),
    "preview": Step(ask=ask_confirm),
}, cancel_key="broadcast.aborted")

NAME = FLOW.name
FEATURE = Feature(
    "broadcast",
    commands=(Command("siaran", home, alias="broadcast", who=Who.STAFF),),
    buttons=(
        On(NewNotice, start_new),
        On(Aud, on_audience, NAME, ("audience",)),
        On(Pick, on_pick, NAME, ("audience",)),
        On(PickRt, on_pick_rt, NAME, ("pick",)),
        On(Picked, on_picked, NAME, ("pick",)),
        On(Segment, on_segment, NAME, ("segment",)),
        On(Category, on_category, NAME, ("category",)),
        On(When, on_when, NAME, ("when",)),
        On(Repeat, on_repeat, NAME, ("repeat",)),
        On(Day, on_day, NAME, ("days",)),
        On(DaysDone, on_days_done, NAME, ("days",)),
        On(LastDay, on_last_day, NAME, ("monthday",)),
        On(NoEnd, on_no_end, NAME, ("end",)),
        On(Send, submit, NAME, ("preview",)),
        On(EditAudience, on_edit, NAME, ("preview",)),
    ),
    flows=(FLOW,),
)
