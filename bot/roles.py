"""Revoking a role, and everything that went with it, in one write.

``python -m bot admin revoke coordinator telegram:123 --area <code>`` calls ``revoke_role``:

- the grant is removed;
- every Telegram group the person linked (/hubungkan) to an RT they no longer coordinate
  (by any remaining grant) is unlinked, and the notices queued to that group for RTs it is
  no longer linked to are left unsent;
- every notice of theirs that has not gone out, whose audience they no longer fully
  coordinate, is cancelled: waiting for approval, scheduled, recurring, paused, and the
  queued messages of runs in progress;
- they are told once, in their language; each step is audited under the operator's name.

Whatever the revocation leaves behind (say a grant removed by an erasure) is still caught
when a notice goes out: ``notices.fire`` cancels a notice whose author lost the role and
unlinks a group whose linker did.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from bot.broadcasting import notices as svc
from bot.broadcasting.views import short
from bot.context import Services
from bot.events import Text, say, t
from db.repositories.audit import AuditEntry
from db.repositories.notices import GroupLink
from db.repositories.roles import Grant
from db.store import Tx


@dataclass(frozen=True)
class CancelledNotice:
    id: int
    was: str  # pending | active | paused | done (its messages were going out)
    body: str  # its start, to name it
    stopped: int  # queued messages that will not go out


@dataclass
class Revocation:
    """What a revocation did (the operator is shown all of it)."""

    identity: str
    grant: Grant
    revoked: bool  # False: they did not hold the grant (what it left behind is still undone)
    unlinked: list[tuple[GroupLink, int]] = field(default_factory=list)  # posts stopped
    cancelled: list[CancelledNotice] = field(default_factory=list)
    told: bool = False

    @property
    def changed(self) -> bool:
        return self.revoked or bool(self.unlinked or self.cancelled)

    def lines(self) -> list[str]:
        """The report printed to the operator."""
        g = self.grant
        head = "revoked" if self.revoked else "had no such role"
        out = [f"{head}: {self.identity} {g.role} {g.area_code}".rstrip()]
        for link, stopped in self.unlinked:
            title = f'"{link.title}" ' if link.title else ""
            out.append(f"unlinked group {title}({link.channel} {link.address}) from "
                       f"{link.area_code}" + (f"; {_count(stopped, 'queued post')} stopped"
                                              if stopped else ""))
        for n in self.cancelled:
            state = _STATES.get(n.was, n.was)
            stopped = f"; {_count(n.stopped, 'queued message')} stopped" if n.stopped else ""
            out.append(f"cancelled notice #{n.id} ({state}{stopped}): {n.body}")
        if self.changed:
            out.append(f"told {self.identity} in one message" if self.told else
                       f"not told: {self.identity} cannot be reached by the bot")
        return out

    def detail(self) -> str:
        """The same, for the audit row (the identity is the row's target, not repeated)."""
        g = self.grant
        parts = [f"{g.role} {g.area_code}".rstrip() + ("" if self.revoked else " (not held)")]
        if self.unlinked:
            parts.append("unlinked " + ", ".join(
                f"{link.area_code} from group {link.channel}:{link.address}"
                + (f" ({_count(stopped, 'post')} stopped)" if stopped else "")
                for link, stopped in self.unlinked))
        if self.cancelled:
            parts.append("cancelled " + ", ".join(
                f"notice #{n.id} ({n.was}, {_count(n.stopped, 'message')} stopped)"
                for n in self.cancelled))
        parts.append("told" if self.told else "not told")
        return "; ".join(parts)


def _count(n: int, thing: str) -> str:
    return f"{n} {thing}" + ("" if n == 1 else "s")


_STATES = {"pending": "waiting for approval", "active": "scheduled", "paused": "paused",
           "done": "going out"}


async def revoke_role(services: Services, identity: str, grant: Grant, actor: str
                      ) -> Revocation:
    """Revoke ``grant`` from ``identity`` and undo what it allowed (see the module), in one
    write; ``actor`` (the operator) is named in the audit rows."""
    now = services.clock.now()
    done = await services.store.write(
        lambda tx: revoke_in(services, tx, identity, grant, actor, now))
    services.signals.outbox()  # the person's message (and a running sender's cancels)
    services.signals.schedule()  # cancelled notices leave the scheduler
    return done


async def revoke_in(services: Services, tx: Tx, identity: str, grant: Grant, actor: str,
                    now: datetime) -> Revocation:
    """The revocation inside a write (``revoke_role``)."""
    done = Revocation(identity, grant, await tx.roles.revoke(identity, grant))
    if grant.role in ("coordinator", "health_worker"):
        # symptom alerts not yet in their hands name residents they may no longer see
        await tx.symptoms.drop_waiting_alerts(identity=identity)
    # their notices that have not gone out, for an audience they no longer coordinate
    for notice in await tx.notices.open_by(identity):
        if await svc.still_allowed(services, tx, notice):
            continue
        was = notice.status
        _, stopped = await svc.cancel(services, tx, notice.id or 0, now)
        await svc.record(tx, actor, "notice.cancel", notice, now,
                         f"its author's role was revoked; was {was}, {stopped} queued "
                         "messages stopped")
        done.cancelled.append(CancelledNotice(notice.id or 0, was, short(notice.body, 60),
                                              stopped))
    # the groups they linked to RTs they no longer coordinate
    done.unlinked = await svc.drop_stale_links(
        services, tx, await tx.notices.links_by(identity), actor, now)
    if done.changed:
        done.told = await svc.notify(tx, identity, lambda lang: say(
            "revocation.told", role=_role(services, grant),
            cancelled=[f"#{n.id}" for n in done.cancelled],
            groups=[link.title or link.address for link, _ in done.unlinked]), now)
        await tx.audit.add(AuditEntry(at=now, actor=actor, action="roles.revoke",
                                      target=identity, outcome="done", detail=done.detail()))
    return done


def _role(services: Services, grant: Grant) -> Text:
    if grant.area_code:
        return t(f"revocation.role_{grant.role}",
                 area=services.areas.label(grant.area_code) or grant.area_code)
    return t(f"revocation.role_{grant.role}", area="")
