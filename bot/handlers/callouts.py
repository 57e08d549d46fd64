"""The coordinator's side of volunteers: who helps in their area, call-outs (/panggilrelawan,
/callvolunteers) with a live roster, help requests to assign, and the CSV (/ekspor relawan).

    /relawan (a coordinator) ──► HOME: volunteers by skill and availability (no phones)
        ├─cx-new──► the call-out flow below
        ├─cx-req──► open help requests ──vo-pick:<req>──► helpers ──vo-assign:<req>:<person>
        ├─cx-csv──► the CSV of /ekspor relawan
        ├─cx-mine──► my call-outs not started ──vo-roster / vo-cancel
        └─vl-signup──► sign up as a volunteer (handlers/volunteers.py)

    /panggilrelawan ──► AREA (an RT coordinator skips it: their RT; an RW coordinator: the
                        │      whole RW or one of its RTs, cx-area:<code>)
                        └─► TITLE (typed, 3-80) ──► AT (typed date and time, future, ≤ 60 days)
                            ──► PLACE (typed, ≤ 120) ──► SKILLS (cx-skill:<key> toggles,
                            cx-any "anyone", cx-skills) ──► NEEDED (typed 1-50)
                            ──► NOTE (typed, cx-skip) ──► URGENCY (cx-urg:regular|urgent)
                            ──► PREVIEW (the offer as volunteers see it, how many match)
                                 ├─cx-send──► sent: "#id to N volunteers" (roster, cancel)
                                 ├─cx-edit:skills──► SKILLS ──► PREVIEW
                                 └─cx-edit:at──► AT ──► PREVIEW
                        Back returns to the step before; Cancel everywhere keeps nothing.

    vo-roster:<id> ──► accepted (with phone), declined, no answer, given back, delivery
    vo-cancel:<id> ──► "sure?" ──cx-cancel:<id>──► cancelled (the accepted are told)

Every step is authorised through ``VolunteerDesk`` (``bot/authz.py``, audited): the area of
a draft is checked when picked, at every answer and again when it is sent, so a forged
button cannot reach another area; a roster, a cancellation, a help request and an
assignment are checked against the area of the call-out or request each time.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Literal

from bot.areas import RT, RW, Kelurahan
from bot.authz import Action
from bot.broadcasting.dates import Unreadable, format_day, read_datetime
from bot.broadcasting.notices import quiet_hours
from bot.broadcasting.schedule import format_local, zone_name
from bot.callbacks import Callback
from bot.context import Context
from bot.events import Button, Media, Reply, Text, button, say, t
from bot.feature import Command, Feature, On, Who
from bot.flow import Flow, Step
from bot.menu import main_menu, menu_row
from bot.volunteers import service as svc
from bot.volunteers.callbacks import Assign, CancelCallout, PickHelper, Roster
from bot.volunteers.desk import Draft, VolunteerDesk
from bot.volunteers.model import AVAILABILITY, SKILLS, Callout, HelpRequest, Volunteer

FLOW_NAME = "callout"
TITLE_MIN, TITLE_MAX = 3, 80
PLACE_MAX = 120
NOTE_MAX = 300
NEEDED_MAX = 50
MAX_AHEAD = timedelta(days=60)
NAMES_SHOWN = 15  # names a skill group lists on the home page before "and N more"


@dataclass(frozen=True)
class Home(Callback, prefix="cx-home"):
    """The coordinator's volunteer page."""


@dataclass(frozen=True)
class NewCall(Callback, prefix="cx-new"):
    pass


@dataclass(frozen=True)
class Requests(Callback, prefix="cx-req"):
    pass


@dataclass(frozen=True)
class ExportCsv(Callback, prefix="cx-csv"):
    pass


@dataclass(frozen=True)
class MyCalls(Callback, prefix="cx-mine"):
    pass


@dataclass(frozen=True)
class Area(Callback, prefix="cx-area"):
    code: str


@dataclass(frozen=True)
class Skill(Callback, prefix="cx-skill"):
    key: str  # a key of SKILLS


@dataclass(frozen=True)
class AnySkill(Callback, prefix="cx-any"):
    pass


@dataclass(frozen=True)
class SkillsDone(Callback, prefix="cx-skills"):
    pass


@dataclass(frozen=True)
class SkipNote(Callback, prefix="cx-skip"):
    pass


@dataclass(frozen=True)
class Urgency(Callback, prefix="cx-urg"):
    value: Literal["regular", "urgent"]


@dataclass(frozen=True)
class Send(Callback, prefix="cx-send"):
    pass


@dataclass(frozen=True)
class Edit(Callback, prefix="cx-edit"):
    what: Literal["skills", "at"]


@dataclass(frozen=True)
class ConfirmCancel(Callback, prefix="cx-cancel"):
    callout: int


# --- the coordinator's home ---------------------------------------------------------------


def _signup_button() -> list[Button]:
    """The volunteers feature's sign-up button (its module may not be there yet)."""
    try:
        from bot.handlers.volunteers import SignUp  # type: ignore[attr-defined]
    except ImportError:
        return []
    return [button("callouts.home_signup", SignUp().pack())]


def _paused(v: Volunteer) -> Text | None:
    if v.paused_until is None:
        return None
    if v.paused_until == date.max:
        return t("callouts.paused_open")
    return t("callouts.paused_until", day=format_day(v.paused_until, with_weekday=False))


def _groups(found: list[Volunteer], today: date) -> list[dict[str, object]]:
    groups = []
    for key in SKILLS:
        members = [v for v in found if key in v.skills]
        if not members:
            continue
        people = [{"name": v.name,
                   "when": [t(f"callouts.avail.{a}") for a in AVAILABILITY
                            if a in v.availability],
                   "paused": _paused(v) if v.paused_on(today) else None}
                  for v in members[:NAMES_SHOWN]]
        groups.append({"skill": t(f"volunteers.skill.{key}"), "count": len(members),
                       "people": people, "more": len(members) - len(people)})
    return groups


def _home_rows() -> list[list[Button]]:
    rows = [[button("callouts.home_call", NewCall().pack())],
            [button("callouts.home_requests", Requests().pack()),
             button("callouts.home_export", ExportCsv().pack())],
            [button("callouts.home_mine", MyCalls().pack())]]
    signup = _signup_button()
    if signup:
        rows.append(signup)
    rows.append(menu_row())
    return rows


async def coordinator_home(ctx: Context, _: Home | None = None) -> list[Reply]:
    """The volunteers of the coordinator's areas by skill and availability (never their
    phone), with the call-out, help requests, CSV and "my call-outs" buttons."""
    ctx.conv.clear()
    desk = ctx.use(VolunteerDesk)
    scope = await desk.scope(Action.VOLUNTEERS_VIEW)
    if not scope:
        return [main_menu(ctx, "callouts.not_coordinator")]
    found = await desk.volunteers_in(scope)
    paused = sum(1 for v in found if v.paused_on(desk.today()))
    return [say("callouts.home", _home_rows(), scope=ctx.areas.labels(scope),
                total=len(found), paused=paused, groups=_groups(found, desk.today()))]


# --- the call-out flow: entry and questions ----------------------------------------------


def _choices(ctx: Context, scope: list[str]) -> list[str]:
    """The areas a call-out may go to: an RT coordinator's RT; an RW coordinator's whole RW
    and each of its RTs; an admin's RWs."""
    found: list[str] = []
    for code in scope:
        unit = ctx.areas.get(code)
        if isinstance(unit, RT):
            found.append(code)
        elif isinstance(unit, RW):
            found += [code, *(rt.code for rt in unit.rts)]
        elif isinstance(unit, Kelurahan):
            found += [rw.code for rw in unit.rws]
    return list(dict.fromkeys(found))


async def start(ctx: Context, _: NewCall | None = None) -> list[Reply]:
    """Start a call-out: the area first (unless there is only one), else the title."""
    ctx.conv.clear()
    desk = ctx.use(VolunteerDesk)
    scope = await desk.scope(Action.VOLUNTEERS_CALL)
    choices = _choices(ctx, scope)
    if not choices:
        return [main_menu(ctx, "callouts.not_coordinator")]
    FLOW.start(ctx, "area", choices=choices)
    if len(choices) == 1:
        ctx.conv.data["area"] = choices[0]
        ctx.conv.step = "title"
    return [await FLOW.ask(ctx)]


def _nav(ctx: Context) -> list[list[Button]]:
    return [FLOW.back_row(ctx) + FLOW.cancel_row()]


def _area_label(ctx: Context) -> Text | str:
    code = ctx.conv.data.get("area", "")
    return ctx.areas.label(code) or code


def ask_area(ctx: Context) -> Reply:
    rows = []
    for code in ctx.conv.data.get("choices", []):
        key = "callouts.area_rw" if ctx.areas.rw(code) else "callouts.area_rt"
        rows.append([button(key, Area(code).pack(), area=ctx.areas.label(code))])
    return say("callouts.ask_area", [*rows, FLOW.cancel_row()])


def ask_title(ctx: Context) -> Reply:
    return say("callouts.ask_title", _nav(ctx), area=_area_label(ctx), low=TITLE_MIN,
               high=TITLE_MAX)


def _example(ctx: Context) -> str:
    local = (ctx.services.clock.now() + timedelta(days=1)).astimezone(
        ctx.services.settings.timezone)
    return f"{local:%d-%m-%Y} 07.00"


def ask_at(ctx: Context) -> Reply:
    tz = ctx.services.settings.timezone
    return say("callouts.ask_at", _nav(ctx), example=_example(ctx),
               zone=zone_name(tz, ctx.services.clock.now()), days=MAX_AHEAD.days)


def ask_place(ctx: Context) -> Reply:
    return say("callouts.ask_place", _nav(ctx), limit=PLACE_MAX)


def ask_skills(ctx: Context) -> Reply:
    chosen = set(ctx.conv.data.get("skills", []))
    toggles = [button("common.toggle", Skill(k).pack(), on=k in chosen,
                      value=t(f"volunteers.skill.{k}")) for k in SKILLS]
    rows = [toggles[i:i + 2] for i in range(0, len(toggles), 2)]
    last = [button("callouts.skills_done", SkillsDone().pack())] if chosen else []
    return say("callouts.ask_skills", [*rows, [button("callouts.skills_any",
                                                      AnySkill().pack()), *last],
                                       *_nav(ctx)], chosen=len(chosen))


def ask_needed(ctx: Context) -> Reply:
    return say("callouts.ask_needed", _nav(ctx), high=NEEDED_MAX)


def ask_note(ctx: Context) -> Reply:
    return say("callouts.ask_note", [[button("callouts.note_skip", SkipNote().pack())],
                                     *_nav(ctx)], limit=NOTE_MAX)


def ask_urgency(ctx: Context) -> Reply:
    b = ctx.services.settings.broadcast
    return say("callouts.ask_urgency",
               [[button("callouts.urgency_regular", Urgency("regular").pack()),
                 button("callouts.urgency_urgent", Urgency("urgent").pack())], *_nav(ctx)],
               quiet_start=t("time.clock", hour=b.quiet_start.hour,
                             minute=b.quiet_start.minute),
               quiet_end=t("time.clock", hour=b.quiet_end.hour, minute=b.quiet_end.minute))


def _draft(ctx: Context) -> Draft:
    d = ctx.conv.data
    return Draft(area_code=d["area"], title=d["title"],
                 starts_at=datetime.fromisoformat(d["at"]), place=d["place"],
                 skills=tuple(k for k in SKILLS if k in d.get("skills", [])),
                 needed=int(d["needed"]), note=d.get("note", ""),
                 urgent=bool(d.get("urgent")))


def _as_callout(ctx: Context, draft: Draft) -> Callout:
    now = ctx.services.clock.now()
    return Callout(id=0, author=ctx.person.identity, area_code=draft.area_code,
                   title=draft.title, starts_at=draft.starts_at, place=draft.place,
                   skills=draft.skills, needed=draft.needed, note=draft.note,
                   urgent=draft.urgent, status="open", created_at=now)


async def ask_preview(ctx: Context) -> Reply:
    """How many volunteers the call-out reaches, with Send (or what to change if none)."""
    draft = _draft(ctx)
    found = await ctx.use(VolunteerDesk).matching(draft)
    now = ctx.services.clock.now()
    quiet = quiet_hours(ctx.services)
    held = "" if draft.urgent or not quiet.active(now) else \
        format_local(quiet.ends_after(now), ctx.services.settings.timezone)
    rows: list[list[Button]] = []
    if found:
        rows.append([button("callouts.send", Send().pack())])
    rows.append([button("callouts.edit_skills", Edit("skills").pack()),
                 button("callouts.edit_at", Edit("at").pack())])
    return say("callouts.preview", [*rows, *_nav(ctx)], count=len(found),
               area=_area_label(ctx), held=held)


async def preview(ctx: Context) -> list[Reply]:
    """The call-out exactly as the volunteers will read it, then how many it reaches."""
    ctx.conv.data.pop("editing", None)
    shown = say("callouts.offer", **svc.callout_params(ctx.services,
                                                       _as_callout(ctx, _draft(ctx))))
    return [say("callouts.preview_heading"), shown, *await FLOW.go(ctx, "preview")]


# --- answers -----------------------------------------------------------------------------


async def _refuse(ctx: Context) -> list[Reply]:
    """The draft's area is (no longer) the coordinator's: nothing is kept."""
    ctx.conv.clear()
    return [main_menu(ctx, "callouts.outside_scope")]


async def _allowed(ctx: Context, detail: str) -> bool:
    """May the coordinator still call volunteers in the draft's area (audited)."""
    code = ctx.conv.data.get("area")
    return bool(code) and await ctx.use(VolunteerDesk).may(Action.VOLUNTEERS_CALL, code,
                                                           detail)


async def on_area(ctx: Context, data: Area) -> list[Reply]:
    desk = ctx.use(VolunteerDesk)
    offered = data.code in ctx.conv.data.get("choices", [])
    allowed = await desk.may(Action.VOLUNTEERS_CALL, data.code,
                             "call-out area" if offered else "call-out area not offered")
    if not offered or not allowed:
        return await FLOW.again(ctx, "callouts.area_refused")
    if ctx.conv.step != "area":
        return [await FLOW.ask(ctx)]
    ctx.conv.data["area"] = data.code
    return await FLOW.go(ctx, "title")


async def on_title(ctx: Context) -> list[Reply]:
    title = " ".join(ctx.event.text.split())
    if len(title) < TITLE_MIN:
        return await FLOW.again(ctx, "callouts.title_short", low=TITLE_MIN)
    if len(title) > TITLE_MAX:
        return await FLOW.again(ctx, "callouts.title_long", high=TITLE_MAX,
                                over=len(title) - TITLE_MAX)
    if not await _allowed(ctx, "call-out title"):
        return await _refuse(ctx)
    ctx.conv.data["title"] = title
    return await FLOW.go(ctx, "at")


async def on_at(ctx: Context) -> list[Reply]:
    now, tz = ctx.services.clock.now(), ctx.services.settings.timezone
    try:
        at = read_datetime(ctx.event.text, now, tz)
    except Unreadable as problem:
        if problem.reason is None:
            return await FLOW.again(ctx, "callouts.bad_at", example=_example(ctx))
        return await FLOW.again(ctx, problem.reason.key, **problem.reason.params)
    if at <= now:
        return await FLOW.again(ctx, "dates.past", at=format_local(at, tz))
    if at - now > MAX_AHEAD:
        return await FLOW.again(ctx, "callouts.too_far", at=format_local(at, tz),
                                days=MAX_AHEAD.days)
    if not await _allowed(ctx, "call-out time"):
        return await _refuse(ctx)
    ctx.conv.data["at"] = at.isoformat()
    confirmed = say("callouts.at_confirmed", at=format_local(at, tz))
    if ctx.conv.data.get("editing"):
        return [confirmed, *await preview(ctx)]
    return [confirmed, *await FLOW.go(ctx, "place")]


async def on_place(ctx: Context) -> list[Reply]:
    place = " ".join(ctx.event.text.split())
    if len(place) < 2:
        return await FLOW.again(ctx, "callouts.place_short")
    if len(place) > PLACE_MAX:
        return await FLOW.again(ctx, "callouts.place_long", limit=PLACE_MAX,
                                over=len(place) - PLACE_MAX)
    if not await _allowed(ctx, "call-out place"):
        return await _refuse(ctx)
    ctx.conv.data["place"] = place
    return await FLOW.go(ctx, "skills")


async def on_skill(ctx: Context, data: Skill) -> list[Reply] | None:
    if data.key not in SKILLS:
        return None
    FLOW.toggle(ctx, "skills", data.key)
    return [await FLOW.ask(ctx)]


async def _skills_chosen(ctx: Context) -> list[Reply]:
    if not await _allowed(ctx, "call-out skills"):
        return await _refuse(ctx)
    if ctx.conv.data.get("editing"):
        return await preview(ctx)
    return await FLOW.go(ctx, "needed")


async def on_any(ctx: Context, _: AnySkill) -> list[Reply]:
    ctx.conv.data["skills"] = []
    return await _skills_chosen(ctx)


async def on_skills_done(ctx: Context, _: SkillsDone) -> list[Reply]:
    if not ctx.conv.data.get("skills"):
        return await FLOW.again(ctx, "callouts.skills_none")
    return await _skills_chosen(ctx)


async def on_needed(ctx: Context) -> list[Reply]:
    text = ctx.event.text.strip().lower().removesuffix("orang").strip()
    if not re.fullmatch(r"[0-9]{1,6}", text):
        return await FLOW.again(ctx, "callouts.needed_not_number", high=NEEDED_MAX)
    needed = int(text)
    if needed < 1:
        return await FLOW.again(ctx, "callouts.needed_zero")
    if needed > NEEDED_MAX:
        return await FLOW.again(ctx, "callouts.needed_many", high=NEEDED_MAX)
    if not await _allowed(ctx, "call-out size"):
        return await _refuse(ctx)
    ctx.conv.data["needed"] = needed
    return await FLOW.go(ctx, "note")


async def on_note(ctx: Context) -> list[Reply]:
    note = ctx.event.text.strip()
    if len(note) > NOTE_MAX:
        return await FLOW.again(ctx, "callouts.note_long", limit=NOTE_MAX,
                                over=len(note) - NOTE_MAX)
    if not await _allowed(ctx, "call-out note"):
        return await _refuse(ctx)
    ctx.conv.data["note"] = note
    return await FLOW.go(ctx, "urgency")


async def on_skip_note(ctx: Context, _: SkipNote) -> list[Reply]:
    if not await _allowed(ctx, "call-out note"):
        return await _refuse(ctx)
    ctx.conv.data["note"] = ""
    return await FLOW.go(ctx, "urgency")


async def on_urgency(ctx: Context, data: Urgency) -> list[Reply]:
    if not await _allowed(ctx, "call-out urgency"):
        return await _refuse(ctx)
    ctx.conv.data["urgent"] = data.value == "urgent"
    return await preview(ctx)


async def on_edit(ctx: Context, data: Edit) -> list[Reply]:
    ctx.conv.data["editing"] = True
    return await FLOW.go(ctx, data.what)


async def on_send(ctx: Context, _: Send) -> list[Reply]:
    """Check the area again (audited), then send to every matching volunteer."""
    if not await _allowed(ctx, "send call-out"):
        return await _refuse(ctx)
    draft = _draft(ctx)
    now, tz = ctx.services.clock.now(), ctx.services.settings.timezone
    if draft.starts_at <= now:
        return [say("dates.past", at=format_local(draft.starts_at, tz)),
                *await on_edit(ctx, Edit("at"))]
    desk = ctx.use(VolunteerDesk)
    if not await desk.matching(draft):
        return [await FLOW.ask(ctx)]  # nobody matches any more: the preview says so
    callout_id, asked = await desk.send(draft)
    ctx.conv.clear()
    return [say("callouts.sent", [[button("callouts.roster_button", Roster(callout_id).pack()),
                                   button("callouts.cancel_button",
                                          CancelCallout(callout_id).pack())], menu_row()],
                id=callout_id, count=asked, urgent=draft.urgent)]


async def cancelled(ctx: Context) -> list[Reply]:
    return [main_menu(ctx, "callouts.draft_cancelled")]


# --- roster and cancelling -----------------------------------------------------------------


async def _callout_for(ctx: Context, callout_id: int, action: Action, detail: str
                       ) -> tuple[Callout | None, list[Reply]]:
    """The call-out if the person may act on it (its author, or a coordinator of its
    area; audited), else the answer to give."""
    desk = ctx.use(VolunteerDesk)
    callout = await desk.callout(callout_id)
    if callout is None:
        await desk.may(action, "", f"{detail} callout:{callout_id} unknown")
        return None, [main_menu(ctx, "callouts.gone", id=callout_id)]
    allowed = await desk.may(action, callout.area_code, f"{detail} callout:{callout_id}")
    if not allowed:  # the author too: a coordinator whose role was revoked sees nothing
        return None, [main_menu(ctx, "callouts.not_yours", id=callout_id)]
    return callout, []


def _names(people: list[Volunteer]) -> list[str]:
    return [v.name for v in people]


async def show_roster(ctx: Context, data: Roster) -> list[Reply]:
    """Who said yes (with their phone: they share it for their own task), no, nothing yet,
    or gave their place back; how many offers were delivered."""
    callout, refused = await _callout_for(ctx, data.callout, Action.VOLUNTEERS_VIEW,
                                          "roster")
    if callout is None:
        return refused
    roster = await ctx.use(VolunteerDesk).roster(callout.id)
    started = callout.starts_at <= ctx.services.clock.now()
    rows = [[button("callouts.refresh", Roster(callout.id).pack())]]
    if callout.status != "cancelled" and not started:
        rows[0].append(button("callouts.cancel_button", CancelCallout(callout.id).pack()))
    rows.append(menu_row())
    params = svc.callout_params(ctx.services, callout, taken=len(roster.accepted))
    return [say("callouts.roster", rows, **params, status=callout.status, started=started,
                accepted=[{"name": v.name, "phone": v.phone} for v in roster.accepted],
                declined=_names(roster.declined), waiting=_names(roster.waiting),
                withdrawn=_names(roster.withdrawn), sent=roster.sent, failed=roster.failed)]


async def ask_cancel(ctx: Context, data: CancelCallout) -> list[Reply]:
    callout, refused = await _callout_for(ctx, data.callout, Action.VOLUNTEERS_CALL,
                                          "cancel")
    if callout is None:
        return refused
    if callout.status == "cancelled":
        return [main_menu(ctx, "callouts.already_cancelled", id=callout.id)]
    if callout.starts_at <= ctx.services.clock.now():
        return [main_menu(ctx, "callouts.already_started", id=callout.id)]
    roster = await ctx.use(VolunteerDesk).roster(callout.id)
    return [say("callouts.cancel_confirm",
                [[button("callouts.cancel_yes", ConfirmCancel(callout.id).pack())],
                 [button("callouts.cancel_no", Roster(callout.id).pack())]],
                **svc.callout_params(ctx.services, callout), accepted=len(roster.accepted))]


async def do_cancel(ctx: Context, data: ConfirmCancel) -> list[Reply]:
    callout, refused = await _callout_for(ctx, data.callout, Action.VOLUNTEERS_CALL,
                                          "cancel confirmed")
    if callout is None:
        return refused
    if callout.starts_at <= ctx.services.clock.now() and callout.status != "cancelled":
        return [main_menu(ctx, "callouts.already_started", id=callout.id)]
    desk = ctx.use(VolunteerDesk)
    accepted = len((await desk.roster(callout.id)).accepted)
    if not await desk.cancel(callout.id):
        return [main_menu(ctx, "callouts.already_cancelled", id=callout.id)]
    return [main_menu(ctx, "callouts.cancelled", id=callout.id, title=callout.title,
                      told=accepted)]


async def my_calls(ctx: Context, _: MyCalls | None = None) -> list[Reply]:
    """My call-outs that have not started, each with its roster and cancel buttons."""
    ctx.conv.clear()
    desk = ctx.use(VolunteerDesk)
    found = await desk.my_open_callouts()
    items, rows = [], []
    for c in found:
        taken = len((await desk.roster(c.id)).accepted)
        items.append({**svc.callout_params(ctx.services, c, taken=taken), "status": c.status})
        row = [button("callouts.roster_item", Roster(c.id).pack(), id=c.id)]
        if c.status != "cancelled":
            row.append(button("callouts.cancel_item", CancelCallout(c.id).pack(), id=c.id))
        rows.append(row)
    rows.append([button("callouts.home_call", NewCall().pack())])
    rows.append([button("callouts.home_back", Home().pack()), *menu_row()])
    return [say("callouts.mine", rows, items=items)]


# --- help requests -------------------------------------------------------------------------


async def requests(ctx: Context, _: Requests | None = None) -> list[Reply]:
    """The open help requests of the coordinator's areas, newest first."""
    ctx.conv.clear()
    desk = ctx.use(VolunteerDesk)
    scope = await desk.scope(Action.VOLUNTEERS_CALL)
    if not scope:
        return [main_menu(ctx, "callouts.not_coordinator")]
    found = await desk.requests_in(scope)
    names: dict[int, str] = {}
    for pid in {r.volunteer_id for r in found if r.volunteer_id is not None}:
        helper = await desk.volunteer(pid)
        names[pid] = helper.name if helper else ""
    items, rows = [], []
    for r in found:
        items.append({**svc.request_params(ctx.services, r, contact=False),
                      "status": r.status, "helper": names.get(r.volunteer_id or 0, "")})
        rows.append([button("callouts.pick_item", PickHelper(r.id).pack(), id=r.id)])
    rows.append([button("callouts.home_back", Home().pack()), *menu_row()])
    return [say("callouts.requests", rows, items=items, scope=ctx.areas.labels(scope))]


async def _request_for(ctx: Context, request_id: int, detail: str
                       ) -> tuple[HelpRequest | None, list[Reply]]:
    desk = ctx.use(VolunteerDesk)
    request = await desk.request(request_id)
    if request is None:
        await desk.may(Action.VOLUNTEERS_CALL, "", f"{detail} help:{request_id} unknown")
        return None, [main_menu(ctx, "callouts.request_gone", id=request_id)]
    if not await desk.may(Action.VOLUNTEERS_CALL, request.area_code,
                          f"{detail} help:{request_id}"):
        return None, [main_menu(ctx, "callouts.request_not_yours", id=request_id)]
    if request.status not in ("new", "assigned"):
        return None, [main_menu(ctx, "callouts.request_closed", id=request_id,
                                status=request.status)]
    return request, []


def _helper_label(v: Volunteer) -> Text:
    return t("callouts.helper_button", name=v.name,
             skills=[t(f"volunteers.skill.{k}") for k in v.skills])


async def pick_helper(ctx: Context, data: PickHelper) -> list[Reply]:
    """The volunteers who could take the request, one button each."""
    request, refused = await _request_for(ctx, data.request, "pick helper")
    if request is None:
        return refused
    helpers = await ctx.use(VolunteerDesk).helpers_for(request)
    rows = [[Button(_helper_label(v), Assign(request.id, v.person_id).pack())]
            for v in helpers]
    rows.append([button("callouts.home_requests", Requests().pack()), *menu_row()])
    return [say("callouts.pick", rows, count=len(helpers), status=request.status,
                **svc.request_params(ctx.services, request, contact=False))]


async def assign(ctx: Context, data: Assign) -> list[Reply]:
    request, refused = await _request_for(ctx, data.request, "assign helper")
    if request is None:
        return refused
    desk = ctx.use(VolunteerDesk)
    helper = next((v for v in await desk.helpers_for(request)
                   if v.person_id == data.person), None)
    if helper is None:
        return [main_menu(ctx, "callouts.assign_not_volunteer", id=request.id)]
    outcome = await desk.assign(request.id, helper.person_id)
    rows = [[button("callouts.home_requests", Requests().pack())], menu_row()]
    kind = t(f"volunteers.help.{request.kind}")
    return [say(f"callouts.assign_{outcome}", rows, id=request.id, name=helper.name,
                kind=kind)]


# --- the CSV -----------------------------------------------------------------------------


async def export_volunteers(ctx: Context, _: ExportCsv | None = None) -> list[Reply]:
    """/ekspor relawan: the volunteers of the coordinator's areas as a CSV document."""
    ctx.conv.clear()
    desk = ctx.use(VolunteerDesk)
    scope = await desk.scope(Action.VOLUNTEERS_VIEW)
    if not scope:
        return [main_menu(ctx, "callouts.not_coordinator")]
    data = await desk.export(scope)
    count = max(len(data.decode("utf-8-sig").splitlines()) - 1, 0)
    label = ctx.areas.labels(scope)
    if not count:
        return [main_menu(ctx, "callouts.export_empty", scope=label)]
    tz = ctx.services.settings.timezone
    now = ctx.services.clock.now()
    caption = say("callouts.export_caption", count=count, scope=label,
                  at=format_local(now, tz))
    name = f"relawan-{now.astimezone(tz):%Y%m%d}.csv"
    return [Reply(caption.text, (tuple(menu_row()),), Media("document", name=name, data=data))]


FLOW = Flow(FLOW_NAME, {
    "area": Step(ask=ask_area),
    "title": Step(ask=ask_title, typed=on_title),
    "at": Step(ask=ask_at, typed=on_at),
    "place": Step(ask=ask_place, typed=on_place),
    "skills": Step(ask=ask_skills),
    "needed": Step(ask=ask_needed, typed=on_needed),
    "note": Step(ask=ask_note, typed=on_note),
    "urgency": Step(ask=ask_urgency),
    "preview": Step(ask=ask_preview),
}, on_cancel=cancelled, first="area")

FEATURE = Feature(
    "callouts",
    commands=(Command("panggilrelawan", start, alias="callvolunteers", who=Who.STAFF),),
    buttons=(
        On(Home, coordinator_home),
        On(NewCall, start),
        On(Requests, requests),
        On(ExportCsv, export_volunteers),
        On(MyCalls, my_calls),
        On(Area, on_area, FLOW_NAME),
        On(Skill, on_skill, FLOW_NAME, ("skills",)),
        On(AnySkill, on_any, FLOW_NAME, ("skills",)),
        On(SkillsDone, on_skills_done, FLOW_NAME, ("skills",)),
        On(SkipNote, on_skip_note, FLOW_NAME, ("note",)),
        On(Urgency, on_urgency, FLOW_NAME, ("urgency",)),
        On(Send, on_send, FLOW_NAME, ("preview",)),
        On(Edit, on_edit, FLOW_NAME, ("preview",)),
        On(Roster, show_roster),
        On(CancelCallout, ask_cancel),
        On(ConfirmCancel, do_cancel),
        On(PickHelper, pick_helper),
        On(Assign, assign),
    ),
    flows=(FLOW,),
)
