"""Erasing a person: the service behind /hapusdata (``ctx.use(PersonalData)``)."""

from __future__ import annotations

import hashlib

from bot.context import Context
from db.store import Tx


def pseudonym(identity: str) -> str:
    return "erased:" + hashlib.sha256(identity.encode()).hexdigest()[:12]


class PersonalData:
    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx

    async def role_count(self) -> int:
        """How many roles (coordinator, moderator, ...) the person holds."""
        return len(await self.ctx.services.authz.grants(self.ctx.person.identity))

    def erase(self) -> None:
        """Erase everything kept about the person, in the commit that ends this update.

        It runs after the reply went out, so a crash in between repeats the confirmation
        instead of greeting a newcomer. Nothing about them is saved afterwards."""
        person = self.ctx.person
        identity = person.identity

        async def write(tx: Tx) -> None:
            if person.id is not None:  # messages queued to them, and their volunteer record
                await tx.outbox.forget_person(person.id)
                await tx.notices.forget_volunteer(person.id)
            await tx.notices.forget_author(identity, pseudonym(identity))
            await tx.people.erase(identity)
            await tx.inbox.forget_sender(identity)
            await tx.roles.revoke_all(identity)
            await tx.audit.forget_actor(identity, pseudonym(identity))

        self.ctx.later(write)
        self.ctx.erased = True
