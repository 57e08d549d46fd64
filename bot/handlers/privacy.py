"""/hapusdata: erase everything the bot keeps about the person, after a confirmation.

    /hapusdata ──► CONFIRM ──del:yes:<nonce>──► erased (nothing kept)
                       └──del:no──► MENU
"""

from __future__ import annotations

import hashlib
import secrets

from bot.context import Context
from bot.events import Reply, button, say
from bot.handlers.menu import main_menu
from db.store import Tx

FLOW = "erase"


async def ask(ctx: Context) -> list[Reply]:
    """Say what would be erased and ask to confirm."""
    if ctx.is_new:
        ctx.erased = True  # nothing stored, and nothing will be stored by this command
        return [say("erase.nothing")]
    ctx.conv.go(FLOW, "confirm", nonce=secrets.token_hex(4))
    return [await confirm_reply(ctx)]


async def confirm_reply(ctx: Context) -> Reply:
    """The confirmation question, with buttons bound to this confirmation only."""
    nonce = ctx.conv.data["nonce"]
    grants = await ctx.services.store.reads.roles.grants_of(ctx.person.identity)
    return say("erase.confirm",
               [[button("erase.yes", f"del:yes:{nonce}"), button("erase.no", "del:no")]],
               has_roles=bool(grants))


def pseudonym(identity: str) -> str:
    return "erased:" + hashlib.sha256(identity.encode()).hexdigest()[:12]


async def on_answer(ctx: Context, answer: str) -> list[Reply] | None:
    """Erase on a confirmed yes; keep everything on no."""
    if ctx.conv.flow != FLOW or ctx.conv.step != "confirm":
        return None
    if answer == "no":
        ctx.conv.clear()
        return [main_menu(ctx, "erase.cancelled")]
    if answer != f"yes:{ctx.conv.data.get('nonce')}":
        return None
    identity = ctx.person.identity
    had = {"language": ctx.person.language is not None, "consent": ctx.person.consented,
           "area": ctx.person.area_code is not None}

    roles = len(await ctx.services.store.reads.roles.grants_of(identity))

    async def erase(tx: Tx) -> None:
        # runs in the same commit that marks this update done, after the reply went out,
        # so a crash in between repeats the confirmation instead of greeting a newcomer
        if ctx.person.id is not None:  # messages queued to them, and their volunteer record
            await tx.outbox.forget_person(ctx.person.id)
            await tx.notices.forget_volunteer(ctx.person.id)
        await tx.notices.forget_author(identity, pseudonym(identity))
        await tx.people.erase(identity)
        await tx.inbox.forget_sender(identity)
        await tx.roles.revoke_all(identity)
        await tx.audit.forget_actor(identity, pseudonym(identity))

    ctx.on_commit.append(erase)
    ctx.erased = True
    return [say("erase.done", roles=roles, **had)]
