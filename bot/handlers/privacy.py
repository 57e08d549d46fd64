"""/hapusdata (/deletemydata): erase everything the bot keeps about the person, after a
confirmation.

    /hapusdata ──► CONFIRM ──del:yes:<nonce>──► erased (what stays is named by pseudonym)
                       └──del:no──► MENU

Someone the bot has no record of may still be named somewhere: a refused /hubungkan in a
group leaves an audit row, an operator may have granted them a role. The answer says what
was there: nothing; refused attempts and mentions, erased at once; a role, confirmed first.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from bot.callbacks import Callback
from bot.context import Context
from bot.events import Reply, button, say
from bot.feature import Command, Feature, On, Who
from bot.flow import Flow, Step
from bot.menu import main_menu
from bot.privacy import PersonalData


@dataclass(frozen=True)
class EraseYes(Callback, prefix="del:yes"):
    nonce: str  # binds the button to this one confirmation


@dataclass(frozen=True)
class EraseNo(Callback, prefix="del:no"):
    pass


async def ask(ctx: Context) -> list[Reply]:
    """Say what would be erased and ask to confirm."""
    data = ctx.use(PersonalData)
    if ctx.is_new:
        traces = await data.traces()
        if not traces.any:
            ctx.erased = True  # nothing stored, and nothing will be stored by this command
            return [say("erase.nothing")]
        if not traces.roles:  # only named in the audit log: nothing to lose, erase at once
            data.erase()
            return [say("erase.traces_erased", refused=traces.refused, kept=traces.kept)]
    roles = await data.role_count()
    FLOW.start(ctx, "confirm", nonce=secrets.token_hex(4), roles=roles,
               reports=await data.health_reports())
    return [confirm_reply(ctx)]


def confirm_reply(ctx: Context) -> Reply:
    """The confirmation question, with buttons bound to this confirmation only."""
    data = ctx.conv.data
    return say("erase.confirm", [[button("erase.yes", EraseYes(data["nonce"]).pack()),
                                  button("erase.no", EraseNo().pack())]],
               has_roles=bool(data.get("roles")), reports=data.get("reports", 0))


async def on_yes(ctx: Context, data: EraseYes) -> list[Reply] | None:
    """Erase on a confirmed yes (from this confirmation's own button)."""
    if data.nonce != ctx.conv.data.get("nonce"):
        return None
    person = ctx.person
    had = {"language": person.language is not None, "consent": person.consented,
           "area": person.area_code is not None}
    roles = int(ctx.conv.data.get("roles", 0))
    data = ctx.use(PersonalData)
    kept = (await data.traces()).kept  # what stays under their pseudonym
    reports = await data.health_reports()
    data.erase()
    return [say("erase.done", roles=roles, kept=kept, reports=reports, **had)]


async def on_no(ctx: Context, _: EraseNo) -> list[Reply]:
    """Keep everything."""
    ctx.conv.clear()
    return [main_menu(ctx, "erase.cancelled")]


FLOW = Flow("erase", {"confirm": Step(ask=confirm_reply)}, cancel_key="erase.cancelled")

FEATURE = Feature(
    "privacy",
    commands=(Command("hapusdata", ask, alias="deletemydata", who=Who.EVERYONE, public=True),),
    buttons=(On(EraseYes, on_yes, FLOW.name, ("confirm",)),
             On(EraseNo, on_no, FLOW.name, ("confirm",))),
    flows=(FLOW,),
)
