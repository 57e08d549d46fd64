"""/gejala (/symptoms): a resident reports symptoms; danger signs first, then one question a
message, triage from the rules file, advice, and who may see the report.

    /gejala (a questionnaire already open: Lanjutkan / Mulai lagi)
        ──► FLAGS ──sx-flag:<sign>──► URGENT (advice, 119, local contacts)
                  │                          └─sx-share:share|anonymous──► stored / counted
                  └─sx-flag:none──► SUBJECT ──► AGE ──► SYMPTOM 1 … 10 (yes/no)
                                                          ──► CONTACT ──► CONDITIONS (several)
                                   (not 60+) PREGNANT ◄──────────────────────┘
                                        └──► RESULT (advice) + CONSENT
                                                 └─sx-share:share|anonymous──► stored / counted

Back returns to the question before, Cancel keeps nothing; the answers live in the person's
saved conversation, so a restart in the middle loses none. Check-ins (2 and 5 days later by
default) ask Better / Same / Worse / Well; Settings → My health data withdraws the consent.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from bot.broadcasting.schedule import format_local
from bot.callbacks import Callback
from bot.context import Context
from bot.events import Reply, Text, button, say, t
from bot.feature import Command, Feature, MenuItem, On
from bot.flow import TRAIL, Flow, Step
from bot.handlers.info import page_text
from bot.menu import main_menu, menu_buttons, menu_row, person_area
from bot.symptoms.callbacks import CheckinAnswer, MyHealthData, Withdraw
from bot.symptoms.desk import SymptomDesk
from bot.symptoms.model import AGE_GROUPS, CONDITIONS, RED_FLAGS, SYMPTOMS, Answers, Level

FLOW_NAME = "symptoms"


@dataclass(frozen=True)
class Flag(Callback, prefix="sx-flag"):
    sign: str  # a key of RED_FLAGS, or "none"


@dataclass(frozen=True)
class Subject(Callback, prefix="sx-who"):
    who: Literal["self", "household"]


@dataclass(frozen=True)
class Age(Callback, prefix="sx-age"):
    group: str  # a key of AGE_GROUPS


@dataclass(frozen=True)
class Has(Callback, prefix="sx-has"):
    symptom: str  # a key of SYMPTOMS
    answer: Literal["yes", "no"]


@dataclass(frozen=True)
class Contact(Callback, prefix="sx-contact"):
    answer: Literal["yes", "no", "unsure"]


@dataclass(frozen=True)
class Condition(Callback, prefix="sx-cond"):
    key: str  # a key of CONDITIONS, "none" or "done"


@dataclass(frozen=True)
class Pregnant(Callback, prefix="sx-preg"):
    answer: Literal["yes", "no", "na"]


@dataclass(frozen=True)
class Share(Callback, prefix="sx-share"):
    choice: Literal["share", "anonymous"]


@dataclass(frozen=True)
class AskHelp(Callback, prefix="sx-help"):
    """Ask for help after a moderate or high report (groceries, medicine, transport)."""


@dataclass(frozen=True)
class Resume(Callback, prefix="sx-resume"):
    choice: Literal["on", "again"]


# --- questions -------------------------------------------------------------------------------


def _nav(ctx: Context) -> list[list]:
    return [FLOW.back_row(ctx) + FLOW.cancel_row()]


def _subject(ctx: Context) -> str:
    return ctx.conv.data.get("subject", "self")


def ask_flags(ctx: Context) -> Reply:
    rows = [[button(f"symptoms.flag.{k}", Flag(k).pack())] for k in RED_FLAGS]
    rows.append([button("symptoms.flag_none", Flag("none").pack())])
    return say("symptoms.flags", [*rows, FLOW.cancel_row()])


def ask_urgent_share(ctx: Context) -> Reply:
    text = consent_text(ctx)
    return say(text.key, [[button("symptoms.urgent_yes", Share("share").pack())],
                          [button("symptoms.urgent_no", Share("anonymous").pack())],
                          *_nav(ctx)], **text.params)


def ask_subject(ctx: Context) -> Reply:
    return say("symptoms.subject_question",
               [[button("symptoms.subject_self_button", Subject("self").pack()),
                 button("symptoms.subject_household_button", Subject("household").pack())],
                *_nav(ctx)])


def ask_age(ctx: Context) -> Reply:
    buttons = [button(f"symptoms.age.{g}", Age(g).pack()) for g in AGE_GROUPS]
    return say("symptoms.age_question", [buttons[:2], buttons[2:], *_nav(ctx)],
               subject=_subject(ctx))


def ask_symptom(key: str):  # type: ignore[no-untyped-def]
    def ask(ctx: Context) -> Reply:
        return say("symptoms.symptom_question",
                   [[button("symptoms.yes", Has(key, "yes").pack()),
                     button("symptoms.no", Has(key, "no").pack())], *_nav(ctx)],
                   number=SYMPTOMS.index(key) + 1, total=len(SYMPTOMS),
                   symptom=t(f"symptoms.symptom.{key}"), subject=_subject(ctx))
    return ask


def ask_contact(ctx: Context) -> Reply:
    return say("symptoms.contact_question",
               [[button("symptoms.contact_yes", Contact("yes").pack()),
                 button("symptoms.contact_no", Contact("no").pack()),
                 button("symptoms.contact_unsure", Contact("unsure").pack())], *_nav(ctx)],
               subject=_subject(ctx))


def ask_conditions(ctx: Context) -> Reply:
    chosen = set(ctx.conv.data.get("conditions", []))
    toggles = [button("common.toggle", Condition(k).pack(), on=k in chosen,
                      value=t(f"symptoms.condition.{k}")) for k in CONDITIONS]
    rows = [toggles[i:i + 2] for i in range(0, len(toggles), 2)]
    last = button("symptoms.conditions_done", Condition("done").pack()) if chosen else \
        button("symptoms.conditions_none", Condition("none").pack())
    return say("symptoms.conditions_question", [*rows, [last], *_nav(ctx)],
               subject=_subject(ctx))


def ask_pregnant(ctx: Context) -> Reply:
    return say("symptoms.pregnant_question",
               [[button("symptoms.pregnant_yes", Pregnant("yes").pack()),
                 button("symptoms.pregnant_no", Pregnant("no").pack()),
                 button("symptoms.pregnant_na", Pregnant("na").pack())], *_nav(ctx)],
               subject=_subject(ctx))


def ask_consent(ctx: Context) -> Reply:
    text = consent_text(ctx)
    return say(text.key, [[button("symptoms.share", Share("share").pack())],
                          [button("symptoms.anonymous", Share("anonymous").pack())],
                          *_nav(ctx)], **text.params)


def consent_text(ctx: Context) -> Text:
    """The consent as the resident reads it (stored with a shared report as proof)."""
    s = ctx.services.settings.symptoms
    minutes = int(s.escalate_after.total_seconds() // 60)
    if ctx.conv.step == "urgent":
        return t("symptoms.urgent_share", days=s.retention_days, minutes=minutes)
    return t("symptoms.consent", days=s.retention_days, minutes=minutes)


# --- answers -----------------------------------------------------------------------------


def answers(ctx: Context) -> Answers:
    d = ctx.conv.data
    pregnant = d.get("pregnant")
    return Answers(
        red_flags=frozenset([d["flag"]] if d.get("flag") else []),
        subject=d.get("subject", "" if d.get("flag") else "self"), age_group=d.get("age", ""),
        symptoms=frozenset(d.get("symptoms", [])),
        close_contact=d.get("contact", "" if d.get("flag") else "no"),
        conditions=frozenset(d.get("conditions", [])),
        pregnant=None if pregnant in (None, "na") else pregnant == "yes")


def _page(ctx: Context, slug: str) -> Text | str:
    """The advice page ``slug`` as the Info menu shows a page (review line and sources)."""
    page = ctx.services.content.page(ctx.lang, slug)
    return page_text(ctx.services, ctx.lang, page) if page is not None else ""


def local_contacts(ctx: Context) -> list[dict[str, object]]:
    """The puskesmas, hospital and other contacts of the person's kelurahan and RW."""
    chain = ctx.areas.chain(ctx.person.area_code or "")
    found: list[dict[str, object]] = []
    for unit in chain[:2] if chain else ():
        found += [{"role": c.role_label(), "name": c.name, "phone": c.phone}
                  for c in unit.contacts]
    return found


async def start(ctx: Context) -> list[Reply]:
    """Begin a report with the danger-sign question (or offer to go on with an unfinished
    one)."""
    if not ctx.areas.rt(ctx.person.area_code):
        ctx.conv.clear()
        return [main_menu(ctx, "symptoms.no_area")]
    if ctx.conv.flow == FLOW_NAME and ctx.conv.step not in (None, "flags", "resume"):
        ctx.conv.data["paused_at"] = ctx.conv.step
        return await FLOW.go(ctx, "resume")
    FLOW.start(ctx, "flags")
    return [await FLOW.ask(ctx)]


def ask_resume(ctx: Context) -> Reply:
    return say("symptoms.resume", [[button("symptoms.resume_go_on", Resume("on").pack())],
                                   [button("symptoms.resume_again", Resume("again").pack())],
                                   FLOW.cancel_row()])


async def on_resume(ctx: Context, data: Resume) -> list[Reply]:
    if data.choice == "again":
        FLOW.start(ctx, "flags")
        return [await FLOW.ask(ctx)]
    step = ctx.conv.data.pop("paused_at", "flags")
    trail = ctx.conv.data.get(TRAIL, [])
    if trail and trail[-1] == step:
        trail.pop()
    ctx.conv.step = step if step in FLOW.steps else "flags"
    return [await FLOW.ask(ctx)]


async def on_flag(ctx: Context, data: Flag) -> list[Reply] | None:
    if data.sign == "none":
        ctx.conv.data.pop("flag", None)
        return await FLOW.go(ctx, "subject")
    if data.sign not in RED_FLAGS:
        return None
    ctx.conv.data["flag"] = data.sign
    urgent = say("symptoms.urgent", body=_page(ctx, "advice-urgent"),
                 local=local_contacts(ctx))
    return [urgent, *await FLOW.go(ctx, "urgent")]


async def on_subject(ctx: Context, data: Subject) -> list[Reply]:
    ctx.conv.data["subject"] = data.who
    return await FLOW.go(ctx, "age")


async def on_age(ctx: Context, data: Age) -> list[Reply] | None:
    if data.group not in AGE_GROUPS:
        return None
    ctx.conv.data["age"] = data.group
    return await FLOW.go(ctx, f"s-{SYMPTOMS[0]}")


async def on_has(ctx: Context, data: Has) -> list[Reply] | None:
    if ctx.conv.step != f"s-{data.symptom}":
        return None  # a yes/no of another question (an old message)
    chosen = [s for s in ctx.conv.data.get("symptoms", []) if s != data.symptom]
    if data.answer == "yes":
        chosen.append(data.symptom)
    ctx.conv.data["symptoms"] = chosen
    i = SYMPTOMS.index(data.symptom)
    return await FLOW.go(ctx, f"s-{SYMPTOMS[i + 1]}" if i + 1 < len(SYMPTOMS) else "contact")


async def on_contact(ctx: Context, data: Contact) -> list[Reply]:
    ctx.conv.data["contact"] = data.answer
    return await FLOW.go(ctx, "conditions")


async def on_condition(ctx: Context, data: Condition) -> list[Reply] | None:
    if data.key in CONDITIONS:
        FLOW.toggle(ctx, "conditions", data.key)
        return [await FLOW.ask(ctx)]
    chosen: list[str] = ctx.conv.data.setdefault("conditions", [])
    if data.key not in ("none", "done"):
        return None
    if data.key == "none":
        chosen.clear()
    if ctx.conv.data.get("age") != "60plus":
        return await FLOW.go(ctx, "pregnant")
    ctx.conv.data.pop("pregnant", None)
    return await result(ctx)


async def on_pregnant(ctx: Context, data: Pregnant) -> list[Reply]:
    ctx.conv.data["pregnant"] = data.answer
    return await result(ctx)


async def result(ctx: Context) -> list[Reply]:
    """The risk level with its advice, then the question of who may see the report."""
    rules = ctx.services.triage
    assert rules is not None, "the triage rules are loaded at start-up"
    found = rules.assess(answers(ctx))
    ctx.conv.data["level"] = str(found.level)
    shown = say("symptoms.result", level=t(f"symptoms.level.{found.level}"), core=found.core,
                of=len(rules.core_symptoms), body=_page(ctx, f"advice-{found.level}"))
    return [shown, *await FLOW.go(ctx, "consent")]


async def on_share(ctx: Context, data: Share) -> list[Reply]:
    """Store the report as the resident chose; say what happens next."""
    desk = ctx.use(SymptomDesk)
    rules = ctx.services.triage
    assert rules is not None
    urgent = ctx.conv.step == "urgent"
    given = answers(ctx)
    level = Level.HIGH if urgent else Level(ctx.conv.data.get("level")
                                            or rules.assess(given).level)
    share = data.choice == "share"
    desk.submit(given, level, rules.version, share, consent_text(ctx) if share else None)
    ambulance = ctx.services.settings.contacts.ambulance
    ctx.conv.clear()
    alerts = urgent or level == Level.HIGH
    told = await desk.who_is_alerted() if share and alerts else None
    if urgent:
        key = ("symptoms.urgent_told" if told else "symptoms.urgent_nobody") if share \
            else "symptoms.urgent_kept_anonymous"
        return [main_menu(ctx, key, ambulance=ambulance, told=told or "")]
    if not share:
        return [main_menu(ctx, "symptoms.stored_anonymous", ambulance=ambulance)]
    days = list(ctx.services.settings.symptoms.checkin_days) \
        if level in (Level.MODERATE, Level.HIGH) else []
    rows = menu_buttons(ctx)
    if level in (Level.MODERATE, Level.HIGH):  # an isolating household may need a hand
        rows = [[button("symptoms.ask_help", AskHelp().pack())], *rows]
    return [say("symptoms.stored_shared", rows, area=person_area(ctx), alerted=told,
                ambulance=ambulance, checkin_days=days, subject=given.subject)]


async def on_ask_help(ctx: Context, _: AskHelp) -> list[Reply]:
    """Help for an isolating household (groceries, medicine, transport), linked to the
    resident's latest moderate or high report."""
    from bot.handlers import volunteers

    mine = [r for r in await ctx.use(SymptomDesk).my_reports()
            if r.level in (Level.MODERATE, Level.HIGH)]
    return await volunteers.start_help(ctx, mine[-1].id if mine else None)


# --- check-ins ---------------------------------------------------------------------------


async def on_checkin(ctx: Context, data: CheckinAnswer) -> list[Reply]:
    """Better / Same / Worse / Well, to a check-in the bot sent."""
    desk = ctx.use(SymptomDesk)
    found = await desk.checkin(data.checkin)
    if found is None:
        return [main_menu(ctx, "symptoms.checkin.old")]
    checkin_id, report = found
    desk.answer_checkin(checkin_id, report, data.answer)
    ambulance = ctx.services.settings.contacts.ambulance
    if data.answer == "worse":
        told = "handler" if report.status == "handling" else await desk.who_is_alerted()
        return [say("symptoms.result", level=t("symptoms.level.high"), core=0, of=0,
                    body=_page(ctx, "advice-high")),
                main_menu(ctx, "symptoms.checkin.worse_told" if told else
                          "symptoms.urgent_nobody", ambulance=ambulance, told=told)]
    key = {"better": "symptoms.checkin.thanks_better", "same": "symptoms.checkin.thanks_same",
           "well": "symptoms.checkin.thanks_well"}[data.answer]
    return [main_menu(ctx, key, ambulance=ambulance)]


# --- my health data (from Settings) -------------------------------------------------------


async def my_data(ctx: Context, _: MyHealthData | None = None) -> list[Reply]:
    """What health data is kept with the person's account, and withdrawing the consent."""
    ctx.conv.clear()
    desk = ctx.use(SymptomDesk)
    reports = await desk.my_reports()
    rows = [[button("symptoms.mine.withdraw", Withdraw("ask").pack())]] \
        if reports or await desk.has_consent() else []
    given = await desk.consent()
    tz = ctx.services.settings.timezone
    return [say("symptoms.mine.page", [*rows, menu_row()], reports=len(reports),
                days=ctx.services.settings.symptoms.retention_days,
                consent=format_local(given, tz) if given else "")]


async def on_withdraw(ctx: Context, data: Withdraw) -> list[Reply]:
    desk = ctx.use(SymptomDesk)
    if data.step == "ask":
        return [say("symptoms.mine.withdraw_confirm",
                    [[button("symptoms.mine.withdraw_yes", Withdraw("sure").pack())],
                     [button("common.cancel", MyHealthData().pack())]])]
    count = len(await desk.my_reports())
    desk.withdraw()
    return [main_menu(ctx, "symptoms.mine.withdrawn", count=count)]


async def cancelled(ctx: Context) -> list[Reply]:
    return [main_menu(ctx, "symptoms.cancelled")]


FLOW = Flow(FLOW_NAME, {
    "flags": Step(ask=ask_flags),
    "resume": Step(ask=ask_resume),
    "urgent": Step(ask=ask_urgent_share, back="flags"),
    "subject": Step(ask=ask_subject, back="flags"),
    "age": Step(ask=ask_age, back="subject"),
    **{f"s-{key}": Step(ask=ask_symptom(key)) for key in SYMPTOMS},
    "contact": Step(ask=ask_contact),
    "conditions": Step(ask=ask_conditions),
    "pregnant": Step(ask=ask_pregnant, back="conditions"),
    "consent": Step(ask=ask_consent, back="conditions"),
}, on_cancel=cancelled, first="flags")

FEATURE = Feature(
    "symptoms",
    commands=(Command("gejala", start, alias="symptoms", public=True),),
    buttons=(
        On(Flag, on_flag, FLOW_NAME, ("flags",)),
        On(Subject, on_subject, FLOW_NAME, ("subject",)),
        On(Age, on_age, FLOW_NAME, ("age",)),
        On(Has, on_has, FLOW_NAME, tuple(f"s-{k}" for k in SYMPTOMS)),
        On(Contact, on_contact, FLOW_NAME, ("contact",)),
        On(Condition, on_condition, FLOW_NAME, ("conditions",)),
        On(Pregnant, on_pregnant, FLOW_NAME, ("pregnant",)),
        On(Share, on_share, FLOW_NAME, ("urgent", "consent")),
        On(Resume, on_resume, FLOW_NAME, ("resume",)),
        On(AskHelp, on_ask_help),
        On(CheckinAnswer, on_checkin),
        On(MyHealthData, my_data),
        On(Withdraw, on_withdraw),
    ),
    flows=(FLOW,),
    menu=MenuItem(20, "menu.symptoms", "gejala"),
)
