"""Onboarding: language, consent, then the person's RT (from an invite link or by buttons).

    /start [invite] ──► LANGUAGE ──lang:id|en──► CONSENT ──consent:yes──► (invite?) ──► MENU
                                                   │                          │ no
                                                   └─consent:no──► MENU       ▼
                                              KELURAHAN ──kel:──► RW ──rw:──► RT ──rt:──► MENU
                                                   ◄────────back────────┘◄──back──┘
    Already registered + another RT's invite ──► CONFIRM_MOVE ──join:<rt>|join:no──► MENU

The same area steps serve Settings → Change RT (``purpose="change"``).
"""

from __future__ import annotations

from bot.areas import RT, RW
from bot.context import Context
from bot.events import Reply, button, raw_button, say
from bot.handlers import settings
from bot.handlers.language import is_language, language_reply
from bot.handlers.menu import area_label, main_menu

FLOW = "onboarding"
CONSENT_VERSION = "2026-11-29"


def consent_reply(ctx: Context) -> Reply:
    s = ctx.services.settings
    return say("consent.text", [[button("consent.agree", "consent:yes"),
                                 button("consent.not_now", "consent:no")]],
               operator=s.operator, deployment=s.deployment_name,
               retention=s.unconsented_retention_days)


def kelurahan_reply(ctx: Context) -> Reply:
    rows = [[raw_button(f"{k.name} ({k.kecamatan}, {k.kota})", f"kel:{k.code}")]
            for k in ctx.areas.kelurahan]
    return say("area.pick_kelurahan", [*rows, [button("common.menu", "menu")]])


def _unit_grid(key: str, kind: str, units: tuple[RW, ...] | tuple[RT, ...],
               **params: str) -> Reply:
    """A question with one button per RW or RT, three to a row, and Back."""
    buttons = [button(f"area.{kind}_label", f"{kind}:{u.code}", number=u.number) for u in units]
    rows = [buttons[i:i + 3] for i in range(0, len(buttons), 3)]
    return say(key, [*rows, [button("common.back", "back")]], **params)


def rw_reply(ctx: Context, kel_code: str) -> Reply:
    kel = ctx.areas.kel(kel_code)
    assert kel is not None
    return _unit_grid("area.pick_rw", "rw", kel.rws, kelurahan=kel.name)


def rt_reply(ctx: Context, rw_code: str) -> Reply:
    rw = ctx.areas.rw(rw_code)
    assert rw is not None
    return _unit_grid("area.pick_rt", "rt", rw.rts, rw=rw.number)


def prompt(ctx: Context) -> Reply:
    """The question of the step the person is on (to ask again after odd input)."""
    step, data = ctx.conv.step, ctx.conv.data
    if step == "language":
        return language_reply(ctx, "onboarding.language")
    if step == "consent":
        return consent_reply(ctx)
    if step == "rw":
        return rw_reply(ctx, data["kelurahan"])
    if step == "rt":
        return rt_reply(ctx, data["rw"])
    if step == "confirm_move":
        return confirm_move_reply(ctx, data["invite_rt"])
    return kelurahan_reply(ctx)


def confirm_move_reply(ctx: Context, rt_code: str) -> Reply:
    return say("onboarding.confirm_move",
               [[button("onboarding.move_yes", f"join:{rt_code}"),
                 button("onboarding.move_no", "join:no")]],
               current=area_label(ctx), new=_label(ctx, rt_code))


def _label(ctx: Context, rt_code: str) -> str:
    kel, rw, rt = ctx.areas.chain(rt_code)  # type: ignore[misc]
    return f"RT {rt.number} / RW {rw.number}, {kel.name}"


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
            ctx.conv.go(FLOW, "confirm_move", invite_rt=invite.code)
            return [*replies, confirm_move_reply(ctx, invite.code)]
        ctx.conv.clear()
        key = "onboarding.already_here" if invite else "onboarding.welcome_back"
        return [*replies, main_menu(ctx, key)]
    data = {"invite_rt": invite.code} if invite else {}
    if p.consented:  # agreed before but has no RT (e.g. the RT was removed from the areas file)
        return [*replies, *_after_consent(ctx, data)]
    ctx.conv.go(FLOW, "language", **data)
    greeting = "onboarding.welcome_invite" if invite else "onboarding.welcome"
    params = {"area": _label(ctx, invite.code)} if invite else {}
    # one message: the greeting carries the language question and its buttons
    return [*replies, language_reply(ctx, greeting,
                                     deployment=ctx.services.settings.deployment_name, **params)]


async def join(ctx: Context) -> list[Reply]:
    """Start registration from the menu's Join button: consent if needed, then the RT."""
    if not ctx.person.consented:
        ctx.conv.go(FLOW, "consent")
        return [consent_reply(ctx)]
    return _after_consent(ctx, {})


async def change_area(ctx: Context) -> list[Reply]:
    """Settings → Change RT: pick kelurahan, RW and RT again (consent first if missing)."""
    if not ctx.person.consented:
        ctx.conv.go(FLOW, "consent")
        return [consent_reply(ctx)]
    ctx.conv.go(FLOW, "kelurahan", purpose="change")
    return [kelurahan_reply(ctx)]


async def on_language(ctx: Context, code: str) -> list[Reply] | None:
    """Save the chosen language, then ask for consent."""
    if ctx.conv.flow != FLOW or ctx.conv.step != "language" or not is_language(code):
        return None
    ctx.person.language = code
    if ctx.person.consented:
        return _after_consent(ctx, ctx.conv.data)
    ctx.conv.step = "consent"
    return [consent_reply(ctx)]


async def on_consent(ctx: Context, answer: str) -> list[Reply] | None:
    """Record consent and go on to the RT, or go to the menu without registering."""
    if ctx.conv.flow != FLOW or ctx.conv.step != "consent" or answer not in {"yes", "no"}:
        return None
    if answer == "no":
        ctx.conv.clear()
        return [main_menu(ctx, "consent.declined")]
    ctx.person.consent_version = CONSENT_VERSION
    ctx.person.consent_at = ctx.services.clock.now()
    return _after_consent(ctx, ctx.conv.data)


def _after_consent(ctx: Context, data: dict) -> list[Reply]:
    invite = data.get("invite_rt")
    if invite and ctx.areas.rt(invite):
        return _place(ctx, invite, data.get("purpose"))
    ctx.conv.go(FLOW, "kelurahan", **{k: v for k, v in data.items() if k == "purpose"})
    return [kelurahan_reply(ctx)]


def _place(ctx: Context, rt_code: str, purpose: str | None) -> list[Reply]:
    ctx.person.area_code = rt_code
    ctx.conv.clear()
    if purpose == "change":
        return [*settings.settings_replies(ctx, "settings.area_changed")]
    return [main_menu(ctx, "onboarding.done")]


async def on_area(ctx: Context, kind: str, code: str) -> list[Reply] | None:
    """Take a kelurahan, RW or RT button and move one step down (or back up)."""
    conv, areas = ctx.conv, ctx.areas
    if conv.flow != FLOW or not ctx.person.consented:
        return None
    purpose = conv.data.get("purpose")
    extra = {"purpose": purpose} if purpose else {}
    if kind == "kel" and conv.step == "kelurahan" and areas.kel(code):
        conv.go(FLOW, "rw", kelurahan=code, **extra)
        return [rw_reply(ctx, code)]
    if kind == "rw" and conv.step == "rw":
        rw = areas.rw(code)
        if rw and rw.kelurahan_code == conv.data.get("kelurahan"):
            conv.go(FLOW, "rt", kelurahan=rw.kelurahan_code, rw=code, **extra)
            return [rt_reply(ctx, code)]
    if kind == "rt" and conv.step == "rt":
        rt = areas.rt(code)
        if rt and rt.rw_code == conv.data.get("rw"):
            return _place(ctx, code, purpose)
    if kind == "back" and conv.step == "rt":
        conv.go(FLOW, "rw", kelurahan=conv.data["kelurahan"], **extra)
        return [rw_reply(ctx, conv.data["kelurahan"])]
    if kind == "back" and conv.step == "rw":
        conv.go(FLOW, "kelurahan", **extra)
        return [kelurahan_reply(ctx)]
    return None


async def on_join(ctx: Context, code: str) -> list[Reply] | None:
    """Answer 'move to the RT of this invite?'."""
    conv = ctx.conv
    if conv.flow != FLOW or conv.step != "confirm_move":
        return None
    if code == "no":
        conv.clear()
        return [main_menu(ctx, "onboarding.move_cancelled")]
    if code != conv.data.get("invite_rt") or ctx.areas.rt(code) is None:
        return None
    ctx.person.area_code = code
    conv.clear()
    return [main_menu(ctx, "onboarding.moved")]


async def on_text(ctx: Context) -> list[Reply]:
    """Typed text during onboarding: an invite code is accepted, anything else re-asks."""
    invite = ctx.areas.by_invite(ctx.event.text)
    if invite and ctx.conv.step in {"kelurahan", "rw", "rt"} and ctx.person.consented:
        return _place(ctx, invite.code, ctx.conv.data.get("purpose"))
    return [say("fallback.use_buttons"), prompt(ctx)]
