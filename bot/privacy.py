"""Erasing a person: the service behind /hapusdata (``ctx.use(PersonalData)``), and the same
erasure for the people the retention purge removes.

After an erasure the person's channel identity and chat ID are nowhere in the database, nor
in its files on disk: their record, conversation, role grants, volunteer record, queued and
sent messages and stored updates are deleted; their refused attempts leave the audit log;
what stays for accountability (audit rows of what they were allowed to do or what was done
to them, their notices that went out, the groups they linked) names them by their keyed
pseudonym (``bot/pseudonyms.py``). Deleted content is overwritten (``secure_delete``) and
the write-ahead log is emptied into the database file once the erasure has committed.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from datetime import datetime

from bot.context import Context, Services
from bot.hoax import service as hoax
from bot.symptoms import service as symptoms
from bot.volunteers import service as volunteers
from db.repositories.audit import Mentions
from db.store import Store, Tx

log = logging.getLogger(__name__)

_checkpoints: set[asyncio.Task[None]] = set()


@dataclass(frozen=True)
class Traces:
    """What the bot keeps about someone, besides their own record."""

    roles: int = 0  # role grants (coordinator, moderator, ...)
    refused: int = 0  # refused attempts in the audit log (a /hubungkan in a group, say)
    kept: int = 0  # audit rows kept under their pseudonym after an erasure

    @property
    def any(self) -> bool:
        return bool(self.roles or self.refused or self.kept)


def names_of(identity: str, address: str | None = None) -> list[str]:
    """How the stored data can name a person: the identity, then the bare chat IDs (their
    own part of the identity, and the private address) long enough not to be mistaken."""
    names = [identity]
    for bare in (identity.partition(":")[2], address or ""):
        if len(bare) >= 5 and bare not in names:
            names.append(bare)
    return names


async def forget(tx: Tx, services: Services, identity: str, person_id: int | None = None,
                 address: str | None = None) -> Mentions:
    """Erase ``identity`` in this write (see the module's description)."""
    pseudonym = services.pseudonyms(identity)
    # as a volunteer (places given back, help tasks back to the coordinator), a household
    # asking for help, a coordinator who called volunteers
    await volunteers.forget(services, tx, identity, person_id, services.clock.now())
    await hoax.forget(services, tx, identity)  # their hoax reports: counts per area
    if person_id is not None:  # messages queued or sent to them, and their volunteer record
        await tx.outbox.forget_person(person_id)
        await tx.notices.forget_volunteer(person_id)
    await tx.notices.forget_author(identity, pseudonym)  # kept notices: role only, no name
    # symptom reports become anonymous counts; consent proofs stay, under the pseudonym
    await symptoms.forget(services, tx, identity, services.clock.now())
    await tx.people.erase(identity)
    await tx.inbox.forget_sender(identity)
    await tx.roles.forget(identity, pseudonym)
    return await tx.audit.forget(names_of(identity, address), pseudonym)


def checkpoint_after_commit(store: Store) -> None:
    """From inside a write: empty the write-ahead log once that write has committed.

    The store runs writes and checkpoints in the order they were asked for, so one asked
    for while a write runs comes after its commit."""
    task = asyncio.get_running_loop().create_task(_checkpoint(store), name="checkpoint")
    _checkpoints.add(task)
    task.add_done_callback(_checkpoints.discard)


async def _checkpoint(store: Store) -> None:
    try:
        await store.checkpoint()
    except Exception:
        log.exception("could not empty the write-ahead log after an erasure")


async def key_legacy_pseudonyms(services: Services) -> int:
    """Replace the unkeyed ``erased:…`` pseudonyms an older version wrote (anyone could
    recover the chat ID behind them by trying every ID) by keyed ones. Returns how many."""
    old = await services.store.reads.audit.legacy_pseudonyms()
    if not old:
        return 0

    async def write(tx: Tx) -> None:
        for name in old:
            new = services.pseudonyms(name)
            await tx.notices.forget_author(name, new)
            await tx.roles.forget(name, new)
            await tx.audit.forget([name], new)

    await services.store.write(write)
    await services.store.checkpoint()
    log.info("keyed %d pseudonyms of erased people", len(old))
    return len(old)


async def erase_unconsented(tx: Tx, services: Services, seen_before: datetime) -> int:
    """The retention purge: erase the people who never agreed and have not written since
    ``seen_before``, and the strangers (no record, no role) whose refused attempts are older.
    Returns how many people were erased.

    Someone the operator gave a role keeps it (and the audit trail its use left); only their
    record and conversation go."""
    erased = 0
    for person in await tx.people.unconsented(seen_before):
        if await tx.roles.grants_of(person.identity):
            await tx.people.erase(person.identity)
        else:
            await forget(tx, services, person.identity, person.id, person.address)
        erased += 1
    for identity in await tx.audit.strangers(seen_before):
        await forget(tx, services, identity)
        erased += 1
    return erased


class PersonalData:
    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx

    def _names(self) -> list[str]:
        person, event = self.ctx.person, self.ctx.event
        return names_of(person.identity, None if event.group else person.address)

    async def role_count(self) -> int:
        """How many roles (coordinator, moderator, ...) the person holds."""
        return len(await self.ctx.services.authz.grants(self.ctx.person.identity))

    async def health_reports(self) -> int:
        """How many symptom reports are kept with the person's identity."""
        reads = self.ctx.services.store.reads
        return len(await reads.symptoms.of_person(self.ctx.person.identity))

    async def traces(self) -> Traces:
        """What is kept about the person besides their record (for a newcomer: all of it)."""
        reads = self.ctx.services.store.reads
        mentions = await reads.audit.mentions(self._names())
        return Traces(await self.role_count(), mentions.refused, mentions.kept)

    def erase(self) -> None:
        """Erase everything kept about the person, in the commit that ends this update.

        It runs after the reply went out, so a crash in between repeats the confirmation
        instead of greeting a newcomer. Nothing about them is saved afterwards; once the
        commit is done, the write-ahead log is emptied (no old copy of their data stays)."""
        ctx = self.ctx
        person, services = ctx.person, ctx.services
        address = None if ctx.event.group else person.address

        async def write(tx: Tx) -> None:
            await forget(tx, services, person.identity, person.id, address)
            checkpoint_after_commit(services.store)

        ctx.later(write)
        ctx.erased = True
