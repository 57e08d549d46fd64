"""/relawan (/volunteer): residents sign up as volunteers (gotong royong), pause, resume,
see their tasks, stop; any registered resident asks for help; volunteers answer call-outs.

A coordinator who sends /relawan gets the coordinators' volunteer home instead
(``bot/handlers/callouts.py``, reached through the catalog by its button ``cx-home``), which
offers this module's sign-up (``SignUp``).

    /relawan ──► not a volunteer: what a volunteer does ──vl-signup──► SIGN-UP
             │                                          └─vl-help:0──► HELP
             └─► a volunteer: profile ── edit (SIGN-UP with the current answers)
                                      ├─ pause (PAUSE) / resume
                                      ├─ my tasks (give a place back, help task done)
                                      ├─ request help (HELP), my requests (done / cancel)
                                      └─ stop (confirm; places given back)

    SIGN-UP:  NAME (typed, 2–60) ──► PHONE (share my number | skip) ──► SKILLS (several,
              at least one) ──► AVAILABILITY (several, at least one) ──► AREA (my RT |
              my whole RW) ──► CONSENT (Setuju) ──► saved, the profile shown

    PAUSE:    CHOOSE (1 week | 2 weeks | until I resume | until a date…) ──► DATE (typed)

    HELP:     KIND (groceries, medicine, transport, other) ──► NOTE (typed, or skip)
              ──► SHARE CONTACT (yes / no) ──► CONFIRM ──► the RT coordinator is alerted

Back returns to the question before, Cancel keeps nothing. Call-out buttons (Accept,
Decline, GiveBack) and a help request's "done" (RequestDone) arrive from messages the
service queued (``bot/volunteers/service.py``); every outcome of a race is read from the
desk's answer, never assumed.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Literal

from bot.broadcasting.dates import Unreadable, format_day, read_date
from bot.broadcasting.schedule import format_local
from bot.callbacks import Callback, decode
from bot.context import Context
from bot.events import Button, Reply, Text, button, contact_button, say, t
from bot.feature import Command, Feature, MenuItem, On
from bot.flow import Flow, Step
from bot.menu import main_menu, menu_row
from bot.symptoms.desk import SymptomDesk
from bot.volunteers.callbacks import Accept, Decline, GiveBack, RequestDone
from bot.volunteers.desk import VolunteerDesk
from bot.volunteers.model import AVAILABILITY, HELP_KINDS, SKILLS, Callout, HelpRequest, Volunteer

SIGNUP = "volunteer-signup"
PAUSE = "volunteer-pause"
HELP = "volunteer-help"
NAME_MIN, NAME_MAX = 2, 60
NOTE_MAX = 300
PAUSE_AHEAD = timedelta(days=366)  # a pause ends within a year
# the button of the coordinators' volunteer home (bot/handlers/callouts.py), which /relawan
# opens for a coordinator
COORDINATOR_HOME = "cx-home"


# --- buttons -------------------------------------------------------------------------------


@dataclass(frozen=True)
class SignUp(Callback, prefix="vl-signup"):
    """Sign up as a volunteer (or change the sign-up): works for anyone, from anywhere."""


@dataclass(frozen=True)
class Home(Callback, prefix="vl-home"):
    """The resident's own volunteer page (profile, or what a volunteer does)."""


@dataclass(frozen=True)
class Keep(Callback, prefix="vl-keep"):
    """Editing: keep the current name or phone number."""

    what: Literal["name", "phone"]


@dataclass(frozen=True)
class NoPhone(Callback, prefix="vl-nophone"):
    """Sign up without a phone number."""


@dataclass(frozen=True)
class Skill(Callback, prefix="vl-skill"):
    key: str  # a key of SKILLS, or "done"


@dataclass(frozen=True)
class Avail(Callback, prefix="vl-avail"):
    key: str  # a key of AVAILABILITY, or "done"


@dataclass(frozen=True)
class HelpArea(Callback, prefix="vl-area"):
    scope: Literal["rt", "rw"]


@dataclass(frozen=True)
class Agree(Callback, prefix="vl-agree"):
    """Consent to the sign-up's sharing (version CONSENT_VERSION)."""


@dataclass(frozen=True)
class PauseStart(Callback, prefix="vl-pause"):
    pass


@dataclass(frozen=True)
class PauseFor(Callback, prefix="vl-pausefor"):
    choice: Literal["week", "two_weeks", "open", "date"]


@dataclass(frozen=True)
class ResumeNow(Callback, prefix="vl-resume"):
    pass


@dataclass(frozen=True)
class MyTasks(Callback, prefix="vl-tasks"):
    pass


@dataclass(frozen=True)
class Quit(Callback, prefix="vl-quit"):
    """Stop being a volunteer: ``ask`` shows the confirmation, ``sure`` withdraws."""

    step: Literal["ask", "sure"]


@dataclass(frozen=True)
class HelpFor(Callback, prefix="vl-help"):
    """Ask for help, linked to symptom report ``report`` (0: not linked to a report)."""

    report: int


@dataclass(frozen=True)
class HelpKind(Callback, prefix="vl-hkind"):
    kind: str  # a key of HELP_KINDS


@dataclass(frozen=True)
class HelpNoNote(Callback, prefix="vl-hnonote"):
    pass


@dataclass(frozen=True)
class HelpShare(Callback, prefix="vl-hshare"):
    answer: Literal["yes", "no"]


@dataclass(frozen=True)
class HelpSend(Callback, prefix="vl-hsend"):
    pass


@dataclass(frozen=True)
class MyRequests(Callback, prefix="vl-reqs"):
    pass


@dataclass(frozen=True)
class CancelRequest(Callback, prefix="vl-reqcancel"):
    request: int


# --- shared pieces -----------------------------------------------------------------------------


def _today(ctx: Context) -> date:
    return ctx.services.clock.now().astimezone(ctx.services.settings.timezone).date()


def _paused_label(ctx: Context, until: date | None) -> Text | str:
    """"" when not paused (or the pause is over), else the day or "until I resume"."""
    if until is None or until < _today(ctx):
        return ""
    return t("volunteers.until_resumed") if until == date.max else format_day(until)


def _area_scope(ctx: Context, area_code: str) -> str:
    return "rw" if ctx.areas.rw(area_code) else "rt"


def _profile(ctx: Context, *, name: str, phone: str, skills: list[str] | tuple[str, ...],
             availability: list[str] | tuple[str, ...], area_code: str,
             paused_until: date | None) -> dict[str, object]:
    """The params of ``volunteers.profile_body``."""
    return dict(name=name, phone=phone,
                skills=[t(f"volunteers.skill.{k}") for k in SKILLS if k in skills],
                availability=[t(f"volunteers.availability.{k}") for k in AVAILABILITY
                              if k in availability],
                area=ctx.areas.label(area_code) or area_code,
                paused=_paused_label(ctx, paused_until))


def _volunteer_profile(ctx: Context, v: Volunteer) -> Text:
    return t("volunteers.profile_body", **_profile(
        ctx, name=v.name, phone=v.phone, skills=v.skills, availability=v.availability,
        area_code=v.area_code, paused_until=v.paused_until))


def _when(ctx: Context, c: Callout) -> Text:
    return format_local(c.starts_at, ctx.services.settings.timezone)


def _home_row() -> list[Button]:
    return [button("volunteers.home_button", Home().pack())]


def _no_area(ctx: Context) -> list[Reply]:
    ctx.conv.clear()
    return [main_menu(ctx, "volunteers.no_area")]


# --- /relawan ----------------------------------------------------------------------------------


async def command(ctx: Context) -> list[Reply]:
    """/relawan: a coordinator's volunteer home, or the resident's own page."""
    if await ctx.services.authz.scopes(ctx.person.identity):
        # answered as the coordinators' own "home" button is, through the catalog: that
        # module imports this one's SignUp, so importing it here would make a cycle
        data = decode(COORDINATOR_HOME)
        features = ctx.services.features
        on = features.handler_for(data, ctx) if data is not None and features else None
        replies = await on.press(ctx, data) if on is not None else None
        if replies is not None:
            return replies
    return await resident_home(ctx)


async def on_home(ctx: Context, _: Home) -> list[Reply]:
    return await resident_home(ctx)


async def resident_home(ctx: Context) -> list[Reply]:
    """The person's own volunteer page: what a volunteer does (with sign-up and asking for
    help), or their profile with what they can do."""
    ctx.conv.clear()
    desk = ctx.use(VolunteerDesk)
    mine = await desk.mine()
    requests = await desk.my_requests()
    help_row = [button("volunteers.request_help_button", HelpFor(0).pack())]
    if requests:
        help_row.append(button("volunteers.my_requests_button", MyRequests().pack()))
    if mine is None:
        return [say("volunteers.intro", [
            [button("volunteers.signup_button", SignUp().pack())], help_row, menu_row()])]
    paused = bool(_paused_label(ctx, mine.paused_until))
    pause_row = [button("volunteers.pause_button", PauseStart().pack())]
    if paused:
        pause_row.append(button("volunteers.resume_button", ResumeNow().pack()))
    rows = [[button("volunteers.edit_button", SignUp().pack()),
             button("volunteers.tasks_button", MyTasks().pack())],
            pause_row, help_row,
            [button("volunteers.quit_button", Quit("ask").pack())], menu_row()]
    return [say("volunteers.home", rows, profile=_volunteer_profile(ctx, mine))]


# --- sign-up -----------------------------------------------------------------------------------


def _nav(ctx: Context, flow: Flow) -> list[Button]:
    return flow.back_row(ctx) + flow.cancel_row()


async def on_signup(ctx: Context, _: SignUp | None = None) -> list[Reply]:
    """Begin the sign-up; a volunteer goes through it with their current answers chosen."""
    rt = ctx.areas.rt(ctx.person.area_code)
    if rt is None:
        return _no_area(ctx)
    mine = await ctx.use(VolunteerDesk).mine()
    if mine is None:
        SIGNUP_FLOW.start(ctx, "name", skills=[], availability=[])
    else:
        SIGNUP_FLOW.start(ctx, "name", editing=True, name=mine.name, phone=mine.phone,
                          skills=list(mine.skills), availability=list(mine.availability),
                          area=_area_scope(ctx, mine.area_code))
    return [await SIGNUP_FLOW.ask(ctx)]


def ask_name(ctx: Context) -> Reply:
    d = ctx.conv.data
    keep = [[button("volunteers.keep_name_button", Keep("name").pack())]] \
        if d.get("editing") and d.get("name") else []
    return say("volunteers.ask_name", [*keep, _nav(ctx, SIGNUP_FLOW)],
               current=d.get("name", "") if d.get("editing") else "", min=NAME_MIN,
               max=NAME_MAX)


async def take_name(ctx: Context) -> list[Reply]:
    name = " ".join(ctx.event.text.split())
    if len(name) < NAME_MIN:
        return await SIGNUP_FLOW.again(ctx, "volunteers.name_short", min=NAME_MIN)
    if len(name) > NAME_MAX:
        return await SIGNUP_FLOW.again(ctx, "volunteers.name_long", max=NAME_MAX,
                                       length=len(name))
    if not any(ch.isalpha() for ch in name):
        return await SIGNUP_FLOW.again(ctx, "volunteers.name_letters")
    ctx.conv.data["name"] = name
    return await SIGNUP_FLOW.go(ctx, "phone")


def ask_phone(ctx: Context) -> Reply:
    d = ctx.conv.data
    rows = [[contact_button("volunteers.share_phone")]]
    if d.get("editing") and d.get("phone"):
        rows.append([button("volunteers.keep_phone_button", Keep("phone").pack())])
    rows.append([button("volunteers.skip_phone", NoPhone().pack())])
    return say("volunteers.ask_phone", [*rows, _nav(ctx, SIGNUP_FLOW)],
               current=d.get("phone", "") if d.get("editing") else "")


async def take_phone(ctx: Context) -> list[Reply]:
    number = ctx.event.text
    if not number:  # someone else's contact card
        return await SIGNUP_FLOW.again(ctx, "volunteers.phone_not_own")
    ctx.conv.data["phone"] = number
    return await SIGNUP_FLOW.go(ctx, "skills")


async def on_no_phone(ctx: Context, _: NoPhone) -> list[Reply]:
    ctx.conv.data["phone"] = ""
    return await SIGNUP_FLOW.go(ctx, "skills")


async def on_keep(ctx: Context, data: Keep) -> list[Reply] | None:
    d = ctx.conv.data
    if not d.get("editing") or not d.get(data.what) or ctx.conv.step != data.what:
        return None
    return await SIGNUP_FLOW.go(ctx, "phone" if data.what == "name" else "skills")


def _toggles(chosen: list[str], keys: tuple[str, ...], group: str, kind: type[Callback]
             ) -> list[list[Button]]:
    found = [button("common.toggle", kind(k).pack(), on=k in chosen,  # type: ignore[call-arg]
                    value=t(f"volunteers.{group}.{k}")) for k in keys]
    return [found[i:i + 2] for i in range(0, len(found), 2)]


def ask_skills(ctx: Context) -> Reply:
    chosen = ctx.conv.data.get("skills", [])
    done = [[button("volunteers.next_button", Skill("done").pack())]] if chosen else []
    return say("volunteers.ask_skills",
               [*_toggles(chosen, SKILLS, "skill", Skill), *done, _nav(ctx, SIGNUP_FLOW)],
               chosen=len(chosen))


async def _several(ctx: Context, field: str, key: str, keys: tuple[str, ...],
                   empty: str, then: str) -> list[Reply] | None:
    """A several-at-once step: toggle ``key``; "done" goes on to ``then`` once at least
    one is chosen (else says ``empty`` and asks again)."""
    if key in keys:
        SIGNUP_FLOW.toggle(ctx, field, key)
        return [await SIGNUP_FLOW.ask(ctx)]
    if key != "done":
        return None
    if not ctx.conv.data.get(field):
        return await SIGNUP_FLOW.again(ctx, empty)
    return await SIGNUP_FLOW.go(ctx, then)


async def on_skill(ctx: Context, data: Skill) -> list[Reply] | None:
    return await _several(ctx, "skills", data.key, SKILLS, "volunteers.pick_one_skill",
                          "availability")


def ask_availability(ctx: Context) -> Reply:
    chosen = ctx.conv.data.get("availability", [])
    done = [[button("volunteers.next_button", Avail("done").pack())]] if chosen else []
    return say("volunteers.ask_availability",
               [*_toggles(chosen, AVAILABILITY, "availability", Avail), *done,
                _nav(ctx, SIGNUP_FLOW)], chosen=len(chosen))


async def on_avail(ctx: Context, data: Avail) -> list[Reply] | None:
    return await _several(ctx, "availability", data.key, AVAILABILITY,
                          "volunteers.pick_one_time", "area")


def ask_area(ctx: Context) -> Reply:
    rt = ctx.areas.rt(ctx.person.area_code)
    rw = ctx.areas.rw(rt.rw_code) if rt else None
    chosen = ctx.conv.data.get("area")
    rows = [[button("volunteers.area_rt_button", HelpArea("rt").pack(), on=chosen == "rt",
                    area=ctx.areas.label(rt.code) if rt else "")],
            [button("volunteers.area_rw_button", HelpArea("rw").pack(), on=chosen == "rw",
                    rw=rw.number if rw else "")]]
    return say("volunteers.ask_area", [*rows, _nav(ctx, SIGNUP_FLOW)])


async def on_area(ctx: Context, data: HelpArea) -> list[Reply]:
    if ctx.areas.rt(ctx.person.area_code) is None:
        return _no_area(ctx)
    ctx.conv.data["area"] = data.scope
    return await SIGNUP_FLOW.go(ctx, "consent")


def _area_code(ctx: Context) -> str:
    rt = ctx.areas.rt(ctx.person.area_code)
    assert rt is not None
    return rt.rw_code if ctx.conv.data.get("area") == "rw" else rt.code


def ask_consent(ctx: Context) -> Reply:
    d = ctx.conv.data
    return say("volunteers.consent", [
        [button("volunteers.agree_button", Agree().pack())], _nav(ctx, SIGNUP_FLOW)],
        area=ctx.areas.label(_area_code(ctx)), phone=d.get("phone", ""))


async def on_agree(ctx: Context, _: Agree) -> list[Reply]:
    if ctx.areas.rt(ctx.person.area_code) is None:
        return _no_area(ctx)
    d = ctx.conv.data
    desk = ctx.use(VolunteerDesk)
    before = await desk.mine()
    skills = tuple(k for k in SKILLS if k in d.get("skills", []))
    availability = tuple(k for k in AVAILABILITY if k in d.get("availability", []))
    area_code = _area_code(ctx)
    desk.sign_up(name=d["name"], phone=d.get("phone", ""), skills=skills,
                 availability=availability, area_code=area_code)
    profile = t("volunteers.profile_body", **_profile(
        ctx, name=d["name"], phone=d.get("phone", ""), skills=skills,
        availability=availability, area_code=area_code,
        paused_until=before.paused_until if before else None))
    ctx.conv.clear()
    return [say("volunteers.signed_up", [_home_row(), menu_row()], profile=profile,
                edited=before is not None)]


async def signup_cancelled(ctx: Context) -> list[Reply]:
    return [main_menu(ctx, "volunteers.signup_cancelled")]


SIGNUP_FLOW = Flow(SIGNUP, {
    "name": Step(ask=ask_name, typed=take_name),
    "phone": Step(ask=ask_phone, typed=take_phone, contact=True, back="name"),
    "skills": Step(ask=ask_skills, back="phone"),
    "availability": Step(ask=ask_availability, back="skills"),
    "area": Step(ask=ask_area, back="availability"),
    "consent": Step(ask=ask_consent, back="area"),
}, on_cancel=signup_cancelled, first="name")


# --- pause and resume --------------------------------------------------------------------------


async def on_pause_start(ctx: Context, _: PauseStart) -> list[Reply]:
    if await ctx.use(VolunteerDesk).mine() is None:
        return await resident_home(ctx)
    PAUSE_FLOW.start(ctx, "choose")
    return [await PAUSE_FLOW.ask(ctx)]


def ask_pause(ctx: Context) -> Reply:
    return say("volunteers.ask_pause", [
        [button("volunteers.pause_week", PauseFor("week").pack()),
         button("volunteers.pause_two_weeks", PauseFor("two_weeks").pack())],
        [button("volunteers.pause_open", PauseFor("open").pack())],
        [button("volunteers.pause_date", PauseFor("date").pack())],
        _nav(ctx, PAUSE_FLOW)])


def ask_pause_date(ctx: Context) -> Reply:
    return say("volunteers.ask_pause_date", [_nav(ctx, PAUSE_FLOW)],
               example=format_day(_today(ctx) + timedelta(days=14), with_weekday=False))


async def _paused(ctx: Context, until: date) -> list[Reply]:
    desk = ctx.use(VolunteerDesk)
    if await desk.mine() is None:
        return await resident_home(ctx)
    desk.pause(until)
    ctx.conv.clear()
    return [say("volunteers.paused", [_home_row(), menu_row()],
                until=t("volunteers.until_resumed") if until == date.max
                else format_day(until))]


async def on_pause_for(ctx: Context, data: PauseFor) -> list[Reply]:
    today = _today(ctx)
    if data.choice == "date":
        return await PAUSE_FLOW.go(ctx, "date")
    until = {"week": today + timedelta(days=7), "two_weeks": today + timedelta(days=14),
             "open": date.max}[data.choice]
    return await _paused(ctx, until)


async def take_pause_date(ctx: Context) -> list[Reply]:
    now, tz = ctx.services.clock.now(), ctx.services.settings.timezone
    try:
        until = read_date(ctx.event.text, now, tz)
    except Unreadable as problem:
        if problem.reason is None:
            return await PAUSE_FLOW.again(ctx, "volunteers.pause_date_unreadable")
        return await PAUSE_FLOW.again(ctx, problem.reason.key, **problem.reason.params)
    today = _today(ctx)
    if until < today:
        return await PAUSE_FLOW.again(ctx, "volunteers.pause_date_past", day=format_day(until))
    if until - today > PAUSE_AHEAD:
        return await PAUSE_FLOW.again(ctx, "volunteers.pause_date_far", day=format_day(until))
    return await _paused(ctx, until)


async def back_home(ctx: Context) -> list[Reply]:
    return await resident_home(ctx)


PAUSE_FLOW = Flow(PAUSE, {
    "choose": Step(ask=ask_pause),
    "date": Step(ask=ask_pause_date, typed=take_pause_date, back="choose"),
}, on_cancel=back_home, first="choose")


async def on_resume(ctx: Context, _: ResumeNow) -> list[Reply]:
    desk = ctx.use(VolunteerDesk)
    if await desk.mine() is None:
        return await resident_home(ctx)
    desk.pause(None)
    ctx.conv.clear()
    return [say("volunteers.resumed", [_home_row(), menu_row()])]


# --- my tasks, stopping ------------------------------------------------------------------------


async def on_my_tasks(ctx: Context, _: MyTasks) -> list[Reply]:
    desk = ctx.use(VolunteerDesk)
    callouts, requests = await desk.my_callouts(), await desk.my_tasks()
    replies = [say("volunteers.task_callout",
                   [[button("volunteers.give_back_button", GiveBack(c.id).pack())]],
                   title=c.title, at=_when(ctx, c), place=c.place, note=c.note)
               for c in callouts]
    replies += [say("volunteers.task_help",
                    [[button("volunteers.help_done_button", RequestDone(r.id).pack())]],
                    **_request_params(ctx, r, contact=r.share_contact)) for r in requests]
    replies.append(say("volunteers.tasks_end", [_home_row(), menu_row()],
                       count=len(callouts) + len(requests)))
    return replies


async def on_quit(ctx: Context, data: Quit) -> list[Reply]:
    desk = ctx.use(VolunteerDesk)
    if await desk.mine() is None:
        return await resident_home(ctx)
    if data.step == "ask":
        places = len(await desk.my_callouts())
        tasks = len(await desk.my_tasks())
        return [say("volunteers.quit_confirm",
                    [[button("volunteers.quit_yes", Quit("sure").pack())],
                     [button("common.cancel", Home().pack())]], places=places, tasks=tasks)]
    given = await desk.withdraw()
    ctx.conv.clear()
    return [main_menu(ctx, "volunteers.quit_done", given=given)]


# --- help requests -----------------------------------------------------------------------------


def _request_params(ctx: Context, r: HelpRequest, contact: bool) -> dict[str, object]:
    return dict(id=r.id, kind=t(f"volunteers.help.{r.kind}"), note=r.note,
                area=ctx.areas.label(r.area_code, full=True) or r.area_code,
                contact=r.identity if contact else "", status=r.status,
                at=format_local(r.created_at, ctx.services.settings.timezone))


async def start_help(ctx: Context, report_id: int | None = None) -> list[Reply]:
    """Open the help request (linked to symptom report ``report_id`` when given): the
    symptom feature calls this, and ``HelpFor(report)`` buttons lead here."""
    if ctx.areas.rt(ctx.person.area_code) is None:
        ctx.conv.clear()
        return [main_menu(ctx, "volunteers.help_no_area")]
    if report_id and not any(r.id == report_id
                             for r in await ctx.use(SymptomDesk).my_reports()):
        report_id = None  # not a report of theirs (a forged or outdated button): no link
    HELP_FLOW.start(ctx, "kind", report=report_id or 0)
    return [await HELP_FLOW.ask(ctx)]


async def on_help_for(ctx: Context, data: HelpFor) -> list[Reply]:
    return await start_help(ctx, data.report or None)


def ask_help_kind(ctx: Context) -> Reply:
    rows = [[button(f"volunteers.help_button.{k}", HelpKind(k).pack())] for k in HELP_KINDS]
    return say("volunteers.ask_help_kind", [*rows, _nav(ctx, HELP_FLOW)],
               from_report=bool(ctx.conv.data.get("report")))


async def on_help_kind(ctx: Context, data: HelpKind) -> list[Reply] | None:
    if data.kind not in HELP_KINDS:
        return None
    ctx.conv.data["kind"] = data.kind
    return await HELP_FLOW.go(ctx, "note")


def ask_help_note(ctx: Context) -> Reply:
    return say("volunteers.ask_help_note",
               [[button("volunteers.skip_note", HelpNoNote().pack())], _nav(ctx, HELP_FLOW)],
               kind=t(f"volunteers.help.{ctx.conv.data.get('kind', 'other')}"), max=NOTE_MAX)


async def take_help_note(ctx: Context) -> list[Reply]:
    note = ctx.event.text.strip()
    if len(note) > NOTE_MAX:
        return await HELP_FLOW.again(ctx, "volunteers.note_long", max=NOTE_MAX,
                                     length=len(note))
    ctx.conv.data["note"] = note
    return await HELP_FLOW.go(ctx, "share")


async def on_help_no_note(ctx: Context, _: HelpNoNote) -> list[Reply]:
    ctx.conv.data["note"] = ""
    return await HELP_FLOW.go(ctx, "share")


def ask_help_share(ctx: Context) -> Reply:
    return say("volunteers.ask_help_share", [
        [button("volunteers.share_yes", HelpShare("yes").pack()),
         button("volunteers.share_no", HelpShare("no").pack())], _nav(ctx, HELP_FLOW)])


async def on_help_share(ctx: Context, data: HelpShare) -> list[Reply]:
    ctx.conv.data["share"] = data.answer == "yes"
    return await HELP_FLOW.go(ctx, "confirm")


def ask_help_confirm(ctx: Context) -> Reply:
    d = ctx.conv.data
    return say("volunteers.ask_help_confirm",
               [[button("volunteers.help_send", HelpSend().pack())], _nav(ctx, HELP_FLOW)],
               kind=t(f"volunteers.help.{d.get('kind', 'other')}"), note=d.get("note", ""),
               share=bool(d.get("share")), area=ctx.areas.label(ctx.person.area_code))


async def on_help_send(ctx: Context, _: HelpSend) -> list[Reply]:
    if ctx.areas.rt(ctx.person.area_code) is None:
        ctx.conv.clear()
        return [main_menu(ctx, "volunteers.help_no_area")]
    d = ctx.conv.data
    desk = ctx.use(VolunteerDesk)
    desk.request_help(d.get("kind", "other"), d.get("note", ""), bool(d.get("share")),
                      d.get("report") or None)
    reachable = await desk.coordinators_reachable()
    ctx.conv.clear()
    return [say("volunteers.help_sent", [
        [button("volunteers.my_requests_button", MyRequests().pack())], menu_row()],
        reachable=reachable, ambulance=ctx.services.settings.contacts.ambulance)]


async def help_cancelled(ctx: Context) -> list[Reply]:
    return [main_menu(ctx, "volunteers.help_cancelled")]


HELP_FLOW = Flow(HELP, {
    "kind": Step(ask=ask_help_kind),
    "note": Step(ask=ask_help_note, typed=take_help_note, back="kind"),
    "share": Step(ask=ask_help_share, back="note"),
    "confirm": Step(ask=ask_help_confirm, back="share"),
}, on_cancel=help_cancelled, first="kind")


async def on_my_requests(ctx: Context, _: MyRequests | None = None) -> list[Reply]:
    """The person's help requests: the open ones each with Done / Cancel, then the rest."""
    requests = await ctx.use(VolunteerDesk).my_requests()
    open_ = [r for r in requests if r.status in ("new", "assigned")]
    closed = [r for r in requests if r.status not in ("new", "assigned")][:5]
    replies = [say("volunteers.request_open", [
        [button("volunteers.help_done_button", RequestDone(r.id).pack()),
         button("volunteers.request_cancel", CancelRequest(r.id).pack())]],
        **_request_params(ctx, r, contact=False)) for r in open_]
    replies.append(say("volunteers.requests_end", [
        [button("volunteers.request_help_button", HelpFor(0).pack())], menu_row()],
        open=len(open_), closed=[_request_params(ctx, r, contact=False) for r in closed]))
    return replies


async def on_cancel_request(ctx: Context, data: CancelRequest) -> list[Reply]:
    outcome = await ctx.use(VolunteerDesk).finish_request(data.request, "cancelled")
    return [say(f"volunteers.request_{outcome}", [menu_row()], status="cancelled",
                id=data.request)]


async def on_request_done(ctx: Context, data: RequestDone) -> list[Reply]:
    outcome = await ctx.use(VolunteerDesk).finish_request(data.request, "done")
    return [say(f"volunteers.request_{outcome}", [menu_row()], status="done",
                id=data.request)]


# --- answers to call-outs ------------------------------------------------------------------


async def on_accept(ctx: Context, data: Accept) -> list[Reply]:
    desk = ctx.use(VolunteerDesk)
    outcome = await desk.accept(data.callout)
    callout = await desk.callout(data.callout)
    if callout is None:
        return [say("volunteers.callout_not_asked", [menu_row()])]
    params = dict(title=callout.title, at=_when(ctx, callout), place=callout.place)
    if outcome in ("accepted", "already"):
        reminder = ctx.services.settings.volunteers.reminder
        hours = int(reminder.total_seconds() // 3600) if reminder else 0
        return [say(f"volunteers.callout_{outcome}",
                    [[button("volunteers.give_back_button", GiveBack(callout.id).pack())],
                     menu_row()], hours=hours, **params)]
    return [say(f"volunteers.callout_{outcome}", [menu_row()], **params)]


async def on_decline(ctx: Context, data: Decline) -> list[Reply]:
    desk = ctx.use(VolunteerDesk)
    answer = await desk.my_answer(data.callout)
    callout = await desk.callout(data.callout)
    if answer is None or callout is None:
        return [say("volunteers.callout_not_asked", [menu_row()])]
    params = dict(title=callout.title, at=_when(ctx, callout), place=callout.place)
    if answer == "accepted":
        return [say("volunteers.decline_but_accepted",
                    [[button("volunteers.give_back_button", GiveBack(callout.id).pack())],
                     menu_row()], **params)]
    if answer == "asked":
        desk.decline(data.callout)
    return [say("volunteers.declined", [menu_row()], **params)]


async def on_give_back(ctx: Context, data: GiveBack) -> list[Reply]:
    desk = ctx.use(VolunteerDesk)
    outcome = await desk.give_back(data.callout)
    callout = await desk.callout(data.callout)
    params = dict(title=callout.title if callout else "",
                  at=_when(ctx, callout) if callout else "")
    return [say(f"volunteers.give_back_{outcome}", [menu_row()], **params)]


FEATURE = Feature(
    "volunteers",
    commands=(Command("relawan", command, alias="volunteer", public=True),),
    buttons=(
        On(SignUp, on_signup),
        On(Home, on_home),
        On(Keep, on_keep, SIGNUP, ("name", "phone")),
        On(NoPhone, on_no_phone, SIGNUP, ("phone",)),
        On(Skill, on_skill, SIGNUP, ("skills",)),
        On(Avail, on_avail, SIGNUP, ("availability",)),
        On(HelpArea, on_area, SIGNUP, ("area",)),
        On(Agree, on_agree, SIGNUP, ("consent",)),
        On(PauseStart, on_pause_start),
        On(PauseFor, on_pause_for, PAUSE, ("choose",)),
        On(ResumeNow, on_resume),
        On(MyTasks, on_my_tasks),
        On(Quit, on_quit),
        On(HelpFor, on_help_for),
        On(HelpKind, on_help_kind, HELP, ("kind",)),
        On(HelpNoNote, on_help_no_note, HELP, ("note",)),
        On(HelpShare, on_help_share, HELP, ("share",)),
        On(HelpSend, on_help_send, HELP, ("confirm",)),
        On(MyRequests, on_my_requests),
        On(CancelRequest, on_cancel_request),
        On(Accept, on_accept),
        On(Decline, on_decline),
        On(GiveBack, on_give_back),
        On(RequestDone, on_request_done),
    ),
    flows=(SIGNUP_FLOW, PAUSE_FLOW, HELP_FLOW),
    menu=MenuItem(30, "menu.volunteer", "relawan"),
)
