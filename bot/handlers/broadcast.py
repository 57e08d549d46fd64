"""/siaran (/broadcast): a coordinator writes a notice, picks who gets it and when, sees it as
residents will, and sends it; they also manage the ones still waiting or scheduled.

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
                 │                          monthly──► MONTHDAY (typed) ──► TIME
                 │                   END ──bc:end:none or a typed date──► PREVIEW
                 │                 PREVIEW ──bc:send──► submitted (approval) or sent / scheduled
                 └─bc:list──► LIST: bc:pause|resume|cancel:<id> (cancel asks bc:cancel!:<id>)

Every area in the audience is checked against the coordinator's own grants when picked and
again, with an audit row, when the notice is submitted, so a forged button cannot widen it.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from bot.areas import RT
from bot.authz import Action, Role
from bot.broadcasting import notices as svc
from bot.broadcasting.schedule import DAY_NAMES, WEEKDAYS, format_date, format_local
from bot.context import Context
from bot.events import Button, Kind, Reply, Text, button, raw_button, say, t
from bot.handlers.menu import main_menu
from db.repositories.notices import OPEN_STATUSES, Notice
from db.store import Tx

FLOW = "broadcast"
TEXT_STEPS = {"body", "at", "monthday", "time", "end"}
MAX_AHEAD = timedelta(days=366)


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
    tx = ctx.services.store.reads
    rows: list[list[Button]] = []
    mine = await tx.notices.open_by(ctx.person.identity)
    if scopes:
        rows.append([button("broadcast.new", "bc:new")])
        rows.append([button("broadcast.mine", "bc:list", n=len(mine))])
    waiting = 0
    if moderator:
        waiting = len(await tx.notices.awaiting_approval())
        rows.append([button("broadcast.to_review", "bc:review", n=waiting)])
    rows.append([button("common.menu", "menu")])
    return [say("broadcast.home", rows, coordinator=bool(scopes), moderator=moderator,
                waiting=waiting, approval=ctx.services.settings.broadcast.requires_approval)]


async def start_new(ctx: Context) -> list[Reply]:
    """Start a new notice: ask for its text (or a photo / PDF with a caption)."""
    if not await _scopes(ctx):
        return await home(ctx)
    ctx.conv.go(FLOW, "body")
    return [prompt(ctx)]


# --- prompts --------------------------------------------------------------------------------


def _cancel_row() -> list[Button]:
    return [button("broadcast.cancel_draft", "bc:abort")]


def prompt(ctx: Context) -> Reply:
    """The question of the step the coordinator is on."""
    step, data = ctx.conv.step, ctx.conv.data
    if step == "body":
        return say("broadcast.ask_body", [_cancel_row()], limit=svc.TEXT_LIMIT)
    if step == "audience":
        return say("broadcast.ask_audience", [*_audience_rows(ctx), _cancel_row()])
    if step == "pick":
        return say("broadcast.ask_pick", [*_pick_rows(ctx), _cancel_row()])
    if step == "segment":
        return say("broadcast.ask_segment", [
            [button("broadcast.segment_all", "bc:seg:all")],
            [button("broadcast.segment_volunteers", "bc:seg:volunteers")], _cancel_row()])
    if step == "category":
        return say("broadcast.ask_category", [
            [button("broadcast.category_regular", "bc:cat:regular")],
            [button("broadcast.category_urgent", "bc:cat:urgent")], _cancel_row()],
            quiet_start=_hm(ctx.services.settings.broadcast.quiet_start),
            quiet_end=_hm(ctx.services.settings.broadcast.quiet_end))
    if step == "when":
        return say("broadcast.ask_when", [
            [button("broadcast.when_now_button", "bc:when:now")],
            [button("broadcast.when_once_button", "bc:when:once")],
            [button("broadcast.when_repeat_button", "bc:when:repeat")], _cancel_row()])
    if step == "at":
        example = _example_time(ctx)
        return say("broadcast.ask_at", [_cancel_row()], example=example,
                   zone=_zone(ctx))
    if step == "repeat":
        return say("broadcast.ask_repeat", [
            [button("broadcast.repeat_daily", "bc:rep:daily")],
            [button("broadcast.repeat_weekly", "bc:rep:weekly")],
            [button("broadcast.repeat_monthly", "bc:rep:monthly")], _cancel_row()])
    if step == "days":
        chosen = set(data.get("weekdays", []))
        names = DAY_NAMES.get(ctx.lang, DAY_NAMES["id"])
        rows = [[raw_button(("✅ " if d in chosen else "") + names[i], f"bc:wd:{d}")
                 for i, d in enumerate(WEEKDAYS[j:j + 4], start=j)] for j in (0, 4)]
        return say("broadcast.ask_days",
                   [*rows, [button("broadcast.done", "bc:wd:done")], _cancel_row()])
    if step == "monthday":
        return say("broadcast.ask_monthday", [_cancel_row()])
    if step == "time":
        return say("broadcast.ask_time", [_cancel_row()], zone=_zone(ctx))
    if step == "end":
        return say("broadcast.ask_end", [[button("broadcast.end_none", "bc:end:none")],
                                         _cancel_row()])
    if step == "preview":
        return say("broadcast.ask_confirm", _preview_rows(data), sendable=data.get("sendable"))
    return say("broadcast.ask_body", [_cancel_row()], limit=svc.TEXT_LIMIT)


def _hm(value: time) -> str:
    return f"{value:%H.%M}"


def _zone(ctx: Context) -> str:
    from bot.broadcasting.schedule import zone_name

    return zone_name(ctx.services.settings.timezone, ctx.services.clock.now())


def _example_time(ctx: Context) -> str:
    local = (ctx.services.clock.now() + timedelta(days=1)).astimezone(
        ctx.services.settings.timezone)
    return f"{local:%d-%m-%Y} " + ("07.00" if ctx.lang == "id" else "07:00")


# --- audience -------------------------------------------------------------------------------


def _allowed(ctx: Context, scopes: list[str], code: str) -> bool:
    return ctx.areas.get(code) is not None and any(ctx.areas.covers(s, code) for s in scopes)


def _audience_rows(ctx: Context) -> list[list[Button]]:
    scopes: list[str] = ctx.conv.data.get("scopes", [])
    rows = [[button("broadcast.audience_whole", f"bc:aud:{code}",
                    area=svc.area_label(ctx.areas, code))] for code in scopes]
    if len(svc.rt_codes(ctx.areas, scopes)) > 1:
        rows.append([button("broadcast.audience_pick", "bc:pick")])
    return rows


def _pick_rows(ctx: Context) -> list[list[Button]]:
    scopes: list[str] = ctx.conv.data.get("scopes", [])
    chosen = set(ctx.conv.data.get("areas", []))
    buttons = [raw_button(("✅ " if code in chosen else "") + svc.area_label(ctx.areas, code),
                          f"bc:rt:{code}") for code in svc.rt_codes(ctx.areas, scopes)]
    rows = [buttons[i:i + 2] for i in range(0, len(buttons), 2)]
    rows.append([button("broadcast.done", "bc:picked")])
    return rows


async def _after_body(ctx: Context) -> list[Reply]:
    scopes = await _scopes(ctx)
    ctx.conv.data["scopes"] = scopes
    if len(scopes) == 1 and isinstance(ctx.areas.get(scopes[0]), RT):
        ctx.conv.data["areas"] = [scopes[0]]  # an RT coordinator's only audience
        ctx.conv.step = "segment"
    else:
        ctx.conv.step = "audience"
    return [prompt(ctx)]


async def _outside(ctx: Context, code: str) -> list[Reply]:
    """Refuse an area outside the coordinator's scope (audited) and ask again."""
    await ctx.services.authz.authorize(ctx.person.identity, Action.BROADCAST_SEND, code,
                                       detail="audience outside scope")
    return [say("broadcast.outside_scope"), prompt(ctx)]


# --- buttons --------------------------------------------------------------------------------


async def on_button(ctx: Context, arg: str) -> list[Reply] | None:
    """Handle a ``bc:`` button; None when it does not belong to the current step."""
    action, _, value = arg.partition(":")
    if action == "new":
        return await start_new(ctx)
    if action == "list":
        return await list_mine(ctx)
    if action == "review":
        from bot.handlers.moderation import queue

        return await queue(ctx)
    if action in {"pause", "resume", "cancel", "cancel!"}:
        return await manage(ctx, action, value)
    if ctx.conv.flow != FLOW:
        return None
    if action == "abort":
        ctx.conv.clear()
        return [main_menu(ctx, "broadcast.aborted")]
    step, data = ctx.conv.step, ctx.conv.data
    scopes: list[str] = data.get("scopes", [])
    if step == "audience" and action == "aud":
        if value not in scopes or not _allowed(ctx, scopes, value):
            return await _outside(ctx, value)
        data["areas"] = [value]
        ctx.conv.step = "segment"
        return [prompt(ctx)]
    if step == "audience" and action == "pick":
        data["areas"] = []
        ctx.conv.step = "pick"
        return [prompt(ctx)]
    if step == "pick" and action == "rt":
        if not isinstance(ctx.areas.get(value), RT) or not _allowed(ctx, scopes, value):
            return await _outside(ctx, value)
        chosen = list(data.get("areas", []))
        chosen.remove(value) if value in chosen else chosen.append(value)
        data["areas"] = chosen
        return [prompt(ctx)]
    if step == "pick" and action == "picked":
        if not data.get("areas"):
            return [say("broadcast.pick_none"), prompt(ctx)]
        ctx.conv.step = "segment"
        return [prompt(ctx)]
    if step == "segment" and action == "seg" and value in {"all", "volunteers"}:
        data["segment"] = value
        ctx.conv.step = "category"
        return [prompt(ctx)]
    if step == "category" and action == "cat" and value in {"regular", "urgent"}:
        data["category"] = value
        ctx.conv.step = "when"
        return [prompt(ctx)]
    if step == "when" and action == "when":
        if value == "now":
            data["repeat"] = "now"
            return await preview(ctx)
        if value in {"once", "repeat"}:
            ctx.conv.step = "at" if value == "once" else "repeat"
            return [prompt(ctx)]
    if step == "repeat" and action == "rep" and value in {"daily", "weekly", "monthly"}:
        data["repeat"] = value
        ctx.conv.step = {"daily": "time", "weekly": "days", "monthly": "monthday"}[value]
        return [prompt(ctx)]
    if step == "days" and action == "wd":
        if value == "done":
            if not data.get("weekdays"):
                return [say("broadcast.days_none"), prompt(ctx)]
            ctx.conv.step = "time"
            return [prompt(ctx)]
        if value in WEEKDAYS:
            days = list(data.get("weekdays", []))
            days.remove(value) if value in days else days.append(value)
            data["weekdays"] = [d for d in WEEKDAYS if d in days]
            return [prompt(ctx)]
    if step == "end" and action == "end" and value == "none":
        data["end_date"] = None
        return await preview(ctx)
    if step == "preview" and action == "send":
        return await submit(ctx)
    if step == "preview" and action == "edit":
        ctx.conv.step = "audience" if len(scopes) > 1 or not isinstance(
            ctx.areas.get(scopes[0] if scopes else None), RT) else "segment"
        return [prompt(ctx)]
    return None


# --- typed answers --------------------------------------------------------------------------


async def on_message(ctx: Context) -> list[Reply]:
    """Take the typed (or sent) answer of the current step; explain and ask again if wrong."""
    event, step, data = ctx.event, ctx.conv.step, ctx.conv.data
    if step == "body":
        return await _on_body(ctx)
    if event.kind != Kind.TEXT or step not in TEXT_STEPS:
        return [say("fallback.use_buttons"), prompt(ctx)]
    text = event.text.strip()
    tz = ctx.services.settings.timezone
    now = ctx.services.clock.now()
    if step == "at":
        at = parse_datetime(text, now, tz)
        if at is None:
            return [say("broadcast.bad_datetime", example=_example_time(ctx)), prompt(ctx)]
        if at <= now:
            return [say("broadcast.past_datetime"), prompt(ctx)]
        if at - now > MAX_AHEAD:
            return [say("broadcast.too_far"), prompt(ctx)]
        data["repeat"], data["start_at"] = "once", at.isoformat()
        return await preview(ctx)
    if step == "monthday":
        if not re.fullmatch(r"[0-9]{1,2}", text) or not 1 <= int(text) <= 28:
            return [say("broadcast.bad_monthday"), prompt(ctx)]
        data["month_day"] = int(text)
        ctx.conv.step = "time"
        return [prompt(ctx)]
    if step == "time":
        parsed = parse_time(text)
        if parsed is None:
            return [say("broadcast.bad_time"), prompt(ctx)]
        data["at_time"] = parsed
        ctx.conv.step = "end"
        return [prompt(ctx)]
    # step == "end"
    end = parse_date(text, now, tz)
    if end is None:
        return [say("broadcast.bad_date"), prompt(ctx)]
    if end < now.astimezone(tz).date():
        return [say("broadcast.past_date"), prompt(ctx)]
    data["end_date"] = end.isoformat()
    return await preview(ctx)


async def _on_body(ctx: Context) -> list[Reply]:
    event, data = ctx.event, ctx.conv.data
    if event.kind == Kind.TEXT:
        body = event.text.strip()
        if _length(body) > svc.TEXT_LIMIT:
            return [say("broadcast.too_long", limit=svc.TEXT_LIMIT, length=_length(body)),
                    prompt(ctx)]
        data.update(body=body, media_kind=None, media_ref=None, media_name=None)
        return await _after_body(ctx)
    if event.kind == Kind.MEDIA and event.media_ref and (
            event.media_type == "photo"
            or (event.media_type == "document" and (
                event.media_mime == "application/pdf"
                or event.media_name.lower().endswith(".pdf")))):
        caption = event.text.strip()
        if not caption:
            return [say("broadcast.need_caption"), prompt(ctx)]
        if _length(caption) > svc.CAPTION_LIMIT - 200:
            return [say("broadcast.too_long", limit=svc.CAPTION_LIMIT - 200,
                        length=_length(caption)), prompt(ctx)]
        data.update(body=caption, media_kind=event.media_type, media_ref=event.media_ref,
                    media_name=event.media_name or None)
        return await _after_body(ctx)
    return [say("broadcast.bad_media"), prompt(ctx)]


def _length(text: str) -> int:
    """Length as Telegram counts it (UTF-16 code units: an emoji may count twice)."""
    return len(text.encode("utf-16-le")) // 2


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


# --- preview and submit ---------------------------------------------------------------------


def _draft(ctx: Context, signature: str) -> Notice:
    data, now = ctx.conv.data, ctx.services.clock.now()
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


async def preview(ctx: Context) -> list[Reply]:
    """Show the notice exactly as residents will see it, its reach, and Send / Cancel."""
    ctx.conv.step = "preview"
    data, services = ctx.conv.data, ctx.services
    tx = services.store.reads
    areas: list[str] = data.get("areas", [])
    scope = _scope_for(ctx, areas) or (areas[0] if areas else "")
    notice = _draft(ctx, await svc.signature(services, tx, ctx.person.identity, scope))
    now = services.clock.now()
    first = svc.first_run(services, notice, now)
    if first is None:
        ctx.conv.step = "end"
        return [say("broadcast.no_occurrence"), prompt(ctx)]
    rts = svc.rt_codes(ctx.areas, areas)
    reach, opted_out = await tx.notices.reach(rts, notice.segment, notice.category)
    groups = len(await tx.notices.groups_for(rts)) if notice.segment == "all" else 0
    quiet = svc.quiet_hours(services)
    deferred = "" if notice.urgent or not quiet.active(first) else \
        format_local(quiet.ends_after(first), services.settings.timezone, ctx.lang)
    needs = svc.needs_approval(services, notice, _is_rw(ctx, scope))
    data["sendable"], data["needs"] = bool(reach or groups), needs
    rows = _preview_rows(data)
    summary = say("broadcast.summary", rows, reach=reach, opted_out=opted_out, groups=groups,
                  audience=svc.audience_label(ctx.areas, areas),
                  segment=t(f"broadcast.segment_{notice.segment}"),
                  category=t(f"broadcast.category_{notice.category}"),
                  when=svc.when_text(services, notice, ctx.lang), deferred=deferred,
                  approval=needs, volunteers=notice.segment == "volunteers")
    return [svc.compose(services, notice, ctx.lang, first), summary]


def _preview_rows(data: dict[str, Any]) -> list[list[Button]]:
    rows: list[list[Button]] = []
    if data.get("sendable"):
        rows.append([button("broadcast.submit" if data.get("needs") else "broadcast.send",
                            "bc:send")])
    rows.append([button("broadcast.edit_audience", "bc:edit")])
    rows.append(_cancel_row())
    return rows


def _is_rw(ctx: Context, scope: str) -> bool:
    """Whether the notice is signed at RW level (or above) rather than by one RT."""
    return ctx.areas.get(scope) is not None and not isinstance(ctx.areas.get(scope), RT)


async def submit(ctx: Context) -> list[Reply]:
    """Check every area again (audited), then send, schedule or queue it for approval."""
    services, identity = ctx.services, ctx.person.identity
    areas: list[str] = ctx.conv.data.get("areas", [])
    if not areas:
        ctx.conv.step = "audience"
        return [prompt(ctx)]
    for code in areas:
        if not await services.authz.authorize(identity, Action.BROADCAST_SEND, code,
                                              detail="submit notice"):
            ctx.conv.clear()
            return [main_menu(ctx, "broadcast.outside_scope")]
    scope = _scope_for(ctx, areas) or areas[0]
    signature = await svc.signature(services, services.store.reads, identity, scope)
    notice = _draft(ctx, signature)
    needs = svc.needs_approval(services, notice, _is_rw(ctx, scope))
    skipped = services.settings.broadcast.requires_approval and not needs
    now = services.clock.now()
    ctx.conv.clear()

    async def write(tx: Tx) -> None:
        notice.status = "pending" if needs else "active"
        notice.needs_review = skipped
        await tx.notices.create(notice)
        await svc.record(tx, identity, "notice.submit", notice, now,
                         "urgent, sent without approval" if skipped else notice.status)
        if needs:
            reach = await svc.reach_of(services, tx, notice)
            for moderator in await svc.moderators(tx):
                await svc.notify(tx, moderator, lambda lang: svc.review_replies(
                    services, notice, reach, "broadcast.review", lang), now)
        else:
            await svc.activate(services, tx, notice, now)
            if skipped:
                reach = await svc.reach_of(services, tx, notice)
                for moderator in await svc.moderators(tx):
                    await svc.notify(tx, moderator, lambda lang: svc.review_replies(
                        services, notice, reach, "broadcast.review_after", lang), now)

    ctx.on_commit.append(write)
    ctx.wake.update({"outbox", "schedule"})
    if needs:
        has_moderators = bool(await svc.moderators(services.store.reads))
        return [main_menu(ctx, "broadcast.submitted", moderators=has_moderators)]
    key = "broadcast.sending" if notice.repeat == "now" else "broadcast.scheduled"
    return [main_menu(ctx, key, when=svc.when_text(services, notice, ctx.lang), review=skipped)]


# --- the coordinator's list -----------------------------------------------------------------


async def list_mine(ctx: Context) -> list[Reply]:
    """List the coordinator's waiting, scheduled, recurring, paused and sending notices."""
    ctx.conv.clear()
    services = ctx.services
    mine = await services.store.reads.notices.open_by(ctx.person.identity)
    if not mine:
        return [main_menu(ctx, "broadcast.none_open")]
    replies = []
    for notice in mine[-10:]:
        replies.append(_item_reply(ctx, notice))
    replies.append(say("broadcast.list_footer", [[button("broadcast.new", "bc:new")],
                                                 [button("common.menu", "menu")]],
                       n=len(mine)))
    return replies


def status_text(notice: Notice, listed: bool = False) -> Text:
    """The notice's state; a finished notice still ``listed`` is one whose messages go out."""
    if listed and notice.status == "done":
        return t("broadcast.status_sending")
    return t(f"broadcast.status_{notice.status}")


def _item_reply(ctx: Context, notice: Notice, key: str = "broadcast.item") -> Reply:
    services = ctx.services
    rows: list[Button] = []
    if notice.status == "active" and notice.next_run_at is not None:
        rows.append(button("broadcast.pause", f"bc:pause:{notice.id}"))
    if notice.status == "paused":
        rows.append(button("broadcast.resume", f"bc:resume:{notice.id}"))
    if notice.status in {*OPEN_STATUSES, "done"}:
        rows.append(button("broadcast.cancel", f"bc:cancel:{notice.id}"))
    next_at = format_local(notice.next_run_at, services.settings.timezone, ctx.lang) \
        if notice.next_run_at else ""
    return say(key, [rows], id=notice.id, status=status_text(notice, listed=True),
               when=svc.when_text(services, notice, ctx.lang), next=next_at,
               audience=svc.audience_label(ctx.areas, notice.areas),
               body=short(notice.body), until=format_date(notice.end_date, ctx.lang)
               if notice.end_date else "")


def short(text: str, limit: int = 80) -> str:
    """The start of a notice, to name it in a list or a confirmation."""
    return text if len(text) <= limit else text[:limit - 1] + "…"


def parse_id(value: str) -> int | None:
    """A notice id from callback data; None for anything else (forged, too long, "²")."""
    return int(value) if re.fullmatch(r"[0-9]{1,12}", value) else None


async def manage(ctx: Context, action: str, value: str) -> list[Reply]:
    """Pause, resume or cancel a notice: the author's own; a moderator may cancel any."""
    services, identity = ctx.services, ctx.person.identity
    notice_id = parse_id(value)
    notice = await services.store.reads.notices.get(notice_id) if notice_id else None
    if notice is None:
        return [main_menu(ctx, "broadcast.not_yours")]
    if notice.author != identity:
        if action not in {"cancel", "cancel!"} or not await services.authz.authorize(
                identity, Action.CONTENT_APPROVE, detail=f"cancel notice {notice.id}"):
            return [main_menu(ctx, "broadcast.not_yours")]
    sending = await services.store.reads.notices.has_unfinished_run(notice.id or 0)
    if notice.status not in OPEN_STATUSES and not (action.startswith("cancel") and sending):
        return [main_menu(ctx, "broadcast.already_closed", id=notice.id,
                          status=status_text(notice))]
    if action == "cancel":
        return [say("broadcast.confirm_cancel", [[
            button("broadcast.cancel_yes", f"bc:cancel!:{notice.id}"),
            button("broadcast.cancel_no", "bc:list")]], id=notice.id,
            body=short(notice.body))]
    now = services.clock.now()
    nid = notice.id or 0
    ctx.wake.add("schedule")
    if action in {"pause", "resume"}:
        async def change(tx: Tx) -> Notice | None:
            step = svc.pause if action == "pause" else svc.resume
            changed = await step(services, tx, nid, now)
            if changed is not None:
                await svc.record(tx, identity, f"notice.{action}", changed, now,
                                 changed.status)
            return changed

        changed = await services.store.write(change)
    if action == "pause":
        if changed is not None and changed.status == "paused":
            return [_item_reply(ctx, changed, "broadcast.paused")]
    elif action == "resume":
        if changed is not None and changed.status == "active":
            return [_item_reply(ctx, changed, "broadcast.resumed")]
        if changed is not None and changed.status == "missed":
            return [main_menu(ctx, "broadcast.resume_missed", id=nid)]
    elif action == "cancel!":
        async def cancel(tx: Tx) -> tuple[Notice | None, int]:
            await svc.record(tx, identity, "notice.cancel", notice, now)
            return await svc.cancel(services, tx, nid, now)

        _, stopped = await services.store.write(cancel)
        ctx.wake.add("outbox")
        return [main_menu(ctx, "broadcast.cancelled", id=nid, stopped=stopped)]
    fresh = await services.store.reads.notices.get(nid) or notice
    return [_item_reply(ctx, fresh)]
