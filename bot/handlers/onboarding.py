"""Onboarding: language, consent, then the person's RT (from an invite link or by buttons).

    /start [invite] ──► LANGUAGE ──lang:id|en──► CONSENT ──consent:yes──► (invite?) ──► MENU
                                                   │                          │ no
                                                   └─consent:no──► MENU       ▼
                                              KELURAHAN ──kel:──► RW ──rw:──► RT ──rt:──► MENU
                                                   ◄────────back────────┘◄──back──┘
    Already registered + another RT's invite ──► CONFIRM_MOVE ──move:<rt>|move:no──► MENU

The same area steps serve Settings → Change RT (``purpose="change"``). On the area steps, a
typed invite code places the person in that RT.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from bot.areas import RT, RW
from bot.callbacks import Callback
from bot.context import Context
from bot.events import Reply, button, say
from bot.feature import Command, Feature, On, Who
from bot.flow import Flow, Step
from bot.handlers.language import Lang, language_reply
from bot.menu import Join, main_menu, menu_row, person_area
from bot.settings_page import settings_replies

CONSENT_VERSION = "2026-11-29"


@dataclass(frozen=True)
class Consent(Callback, prefix="consent"):
    answer: Literal["yes", "no"]


@dataclass(frozen=True)
class Kel(Callback, prefix="kel"):
    code: str


@dataclass(frozen=True)
class Rw(Callback, prefix="rw"):
    code: str


@dataclass(frozen=True)
class Rt(Callback, prefix="rt"):
    code: str


@dataclass(frozen=True)
class MoveTo(Callback, prefix="move"):
    code: str


@dataclass(frozen=True)
class Stay(Callback, prefix="move:no"):
    pass


# --- questions ------------------------------------------------------------------------------


def consent_reply(ctx: Context) -> Reply:
    s = ctx.services.settings
    return say("consent.text", [[button("consent.agree", Consent("yes").pack()),
                                 button("consent.not_now", Consent("no").pack())]],
               operator=s.operator, deployment=s.deployment_name,
               retention=s.unconsented_retention_days)


def kelurahan_reply(ctx: Context) -> Reply:
    rows = [[button("area.label_kelurahan_button", Kel(k.code).pack(), name=k.name,
                    kecamatan=k.kecamatan, kota=k.kota)] for k in ctx.areas.kelurahan]
    return say("area.pick_kelurahan", [*rows, menu_row()])


def _unit_grid(ctx: Context, key: str, kind: type[Rw] | type[Rt], label: str,
               units: tuple[RW, ...] | tuple[RT, ...], **params: str) -> Reply:
    """A question with one button per RW or RT, three to a row, and Back."""
    buttons = [button(label, kind(u.code).pack(), number=u.number) for u in units]
    rows = [buttons[i:i + 3] for i in range(0, len(buttons), 3)]
    return say(key, [*rows, FLOW.back_row(ctx)], **params)


def rw_reply(ctx: Context) -> Reply:
    kel = ctx.areas.kel(ctx.conv.data.get("kelurahan"))
    if kel is None:
        return kelurahan_reply(ctx)
    return _unit_grid(ctx, "area.pick_rw", Rw, "area.rw_label", kel.rws, kelurahan=kel.name)


def rt_reply(ctx: Context) -> Reply:
    rw = ctx.areas.rw(ctx.conv.data.get("rw"))
    if rw is None:
        return kelurahan_reply(ctx)
    return _unit_grid(ctx, "area.pick_rt", Rt, "area.rt_label", rw.rts, rw=rw.number)


def confirm_move_reply(ctx: Context) -> Reply:
    code = ctx.conv.data.get("invite_rt", "")
    return say("onboarding.confirm_move",
               [[button("onboarding.move_yes", MoveTo(code).pack()),
                 button("onboarding.move_no", Stay().pack())]],
               current=person_area(ctx), new=ctx.areas.label(code, full=True))


# --- entry points ---------------------------------------------------------------------------


async def start(ctx: Context) -> list[Reply]:
    """Greet, then ask the language (newcomer) or show the menu (registered person)."""
    args = ctx.event.args.strip()
    invite = ctx.areas.by_invite(args) if args else None
    replies: list[Reply] = []
    if args and invite is None:
        replies.append(say("onboarding.bad_invite"))
    p = ctx.person
    if p.consented and p.area_code:
        if invite and invite.code != p.area_code:
            FLOW.start(ctx, "confirm_move", invite_rt=invite.code)
            return [*replies, confirm_move_reply(ctx)]
        ctx.conv.clear()
        key = "onboarding.already_here" if invite else "onboarding.welcome_back"
        return [*replies, main_menu(ctx, key)]
    data = {"invite_rt": invite.code} if invite else {}
    if p.consented:  # agreed before but has no RT (e.g. the RT was removed from the areas file)
        return [*replies, *_after_consent(ctx, data)]
    FLOW.start(ctx, "language", **data)
    greeting = "onboarding.welcome_invite" if invite else "onboarding.welcome"
    params = {"area": ctx.areas.label(invite.code, full=True)} if invite else {}
    # one message: the greeting carries the language question and its buttons
    return [*replies, language_reply(ctx, greeting,
                                     deployment=ctx.services.settings.deployment_name, **params)]


async def join(ctx: Context, _: Join | None = None) -> list[Reply]:
    """Start registration from the menu's Join button: consent if needed, then the RT."""
    if not ctx.person.consented:
        FLOW.start(ctx, "consent")
        return [consent_reply(ctx)]
    return _after_consent(ctx, {})


async def change_area(ctx: Context) -> list[Reply]:
    """Settings → Change RT: pick kelurahan, RW and RT again (consent first if missing)."""
    if not ctx.person.consented:
        FLOW.start(ctx, "consent")
        return [consent_reply(ctx)]
    FLOW.start(ctx, "kelurahan", purpose="change")
    return [kelurahan_reply(ctx)]


# --- answers --------------------------------------------------------------------------------


async def on_language(ctx: Context, data: Lang) -> list[Reply]:
    """Save the chosen language, then ask for consent."""
    ctx.person.language = data.code
    if ctx.person.consented:
        return _after_consent(ctx, ctx.conv.data)
    ctx.conv.step = "consent"
    return [consent_reply(ctx)]


async def on_consent(ctx: Context, data: Consent) -> list[Reply]:
    """Record consent and go on to the RT, or go to the menu without registering."""
    if data.answer == "no":
        ctx.conv.clear()
        return [main_menu(ctx, "consent.declined")]
    ctx.person.consent_version = CONSENT_VERSION
    ctx.person.consent_at = ctx.services.clock.now()
    return _after_consent(ctx, ctx.conv.data)


def _after_consent(ctx: Context, data: dict) -> list[Reply]:
    invite = data.get("invite_rt")
    if invite and ctx.areas.rt(invite):
        return _place(ctx, invite, data.get("purpose"))
    FLOW.start(ctx, "kelurahan", **{k: v for k, v in data.items() if k == "purpose"})
    return [kelurahan_reply(ctx)]


def _place(ctx: Context, rt_code: str, purpose: str | None) -> list[Reply]:
    ctx.person.area_code = rt_code
    ctx.conv.clear()
    if purpose == "change":
        return settings_replies(ctx, "settings.area_changed")
    return [main_menu(ctx, "onboarding.done")]


async def on_kelurahan(ctx: Context, data: Kel) -> list[Reply] | None:
    if not ctx.person.consented or ctx.areas.kel(data.code) is None:
        return None
    ctx.conv.data["kelurahan"] = data.code
    return await FLOW.advance(ctx)


async def on_rw(ctx: Context, data: Rw) -> list[Reply] | None:
    rw = ctx.areas.rw(data.code)
    if not ctx.person.consented or rw is None or \
            rw.kelurahan_code != ctx.conv.data.get("kelurahan"):
        return None
    ctx.conv.data["rw"] = data.code
    return await FLOW.advance(ctx)


async def on_rt(ctx: Context, data: Rt) -> list[Reply] | None:
    rt = ctx.areas.rt(data.code)
    if not ctx.person.consented or rt is None or rt.rw_code != ctx.conv.data.get("rw"):
        return None
    return _place(ctx, data.code, ctx.conv.data.get("purpose"))


async def on_move(ctx: Context, data: MoveTo) -> list[Reply] | None:
    """Move to the RT of the invite."""
    if data.code != ctx.conv.data.get("invite_rt") or ctx.areas.rt(data.code) is None:
        return None
    ctx.person.area_code = data.code
    ctx.conv.clear()
    return [main_menu(ctx, "onboarding.moved")]


async def on_stay(ctx: Context, _: Stay) -> list[Reply]:
    ctx.conv.clear()
    return [main_menu(ctx, "onboarding.move_cancelled")]


async def on_typed_area(ctx: Context) -> list[Reply]:
    """Typed text on an area step: an invite code is accepted, anything else re-asks."""
    invite = ctx.areas.by_invite(ctx.event.text)
    if invite and ctx.person.consented:
        return _place(ctx, invite.code, ctx.conv.data.get("purpose"))
    return await FLOW.again(ctx, "fallback.use_buttons")


FLOW = Flow("onboarding", {
    "language": Step(ask=lambda ctx: language_reply(ctx, "onboarding.language")),
    "consent": Step(ask=consent_reply),
    "kelurahan": Step(ask=kelurahan_reply, typed=on_typed_area, next="rw"),
    "rw": Step(ask=rw_reply, typed=on_typed_area, back="kelurahan", next="rt"),
    "rt": Step(ask=rt_reply, typed=on_typed_area, back="rw"),
    "confirm_move": Step(ask=confirm_move_reply),
}, first="kelurahan")

STEP = FLOW.name
FEATURE = Feature(
    "onboarding",
    commands=(Command("start", start, who=Who.EVERYONE, public=True),),
    buttons=(
        On(Join, join),
        On(Lang, on_language, STEP, ("language",)),
        On(Consent, on_consent, STEP, ("consent",)),
        On(Kel, on_kelurahan, STEP, ("kelurahan",)),
        On(Rw, on_rw, STEP, ("rw",)),
        On(Rt, on_rt, STEP, ("rt",)),
        On(MoveTo, on_move, STEP, ("confirm_move",)),
        On(Stay, on_stay, STEP, ("confirm_move",)),
    ),
    flows=(FLOW,),
)
