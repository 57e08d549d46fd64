"""The one place that decides who may do a privileged action, and records that it was asked.

Every privileged action in the bot or the CLI calls ``Authorizer.authorize``; it decides
from the actor's role grants and the target area, and writes an audit-log row either way.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum

from bot.areas import Areas
from bot.clock import Clock
from db.repositories.audit import AuditEntry
from db.repositories.roles import Grant
from db.store import Store


class Role(StrEnum):
    RESIDENT = "resident"
    COORDINATOR = "coordinator"
    MODERATOR = "moderator"
    HEALTH_WORKER = "health_worker"  # puskesmas staff, scoped to one or more kelurahan
    ADMIN = "admin"


class Action(StrEnum):
    # scoped to an area: a coordinator may do these only inside the RT/RW they coordinate
    INVITE_VIEW = "invite.view"
    BROADCAST_SEND = "broadcast.send"
    REPORTS_VIEW = "reports.view"  # symptom reports: alert, list, handle
    REPORTS_EXPORT = "reports.export"
    STATS_VIEW = "stats.view"
    VOLUNTEERS_VIEW = "volunteers.view"  # list, export
    VOLUNTEERS_CALL = "volunteers.call"  # call-outs, assigning help requests
    # deployment-wide
    HOAX_REVIEW = "hoax.review"
    CONTENT_APPROVE = "content.approve"
    ROLES_MANAGE = "roles.manage"
    AUDIT_VIEW = "audit.view"


AREA_ACTIONS = frozenset(
    {Action.INVITE_VIEW, Action.BROADCAST_SEND, Action.REPORTS_VIEW, Action.REPORTS_EXPORT,
     Action.STATS_VIEW, Action.VOLUNTEERS_VIEW, Action.VOLUNTEERS_CALL}
)
# what a health worker may do in the kelurahan they serve (and nothing else)
HEALTH_ACTIONS = frozenset({Action.REPORTS_VIEW, Action.REPORTS_EXPORT, Action.STATS_VIEW})
MODERATOR_ACTIONS = frozenset({Action.HOAX_REVIEW, Action.CONTENT_APPROVE})

# The operator at the server's shell manages the deployment; the CLI acts as this principal.
OPERATOR_GRANTS = (Grant(Role.ADMIN),)


@dataclass(frozen=True)
class Decision:
    allowed: bool
    reason: str  # "admin" | "coordinator of <code>" | "moderator" | "not permitted"


def decide(grants: Iterable[Grant], action: Action, target: str | None, areas: Areas
           ) -> Decision:
    """Decide without side effects: may someone holding ``grants`` do ``action`` on ``target``?"""
    for grant in grants:
        if grant.role == Role.ADMIN:
            return Decision(True, "admin")
    if action in AREA_ACTIONS:
        if target is None or areas.get(target) is None:
            return Decision(False, "unknown area")
        for grant in grants:
            if grant.role == Role.COORDINATOR and areas.covers(grant.area_code, target):
                return Decision(True, f"coordinator of {grant.area_code}")
            if (action in HEALTH_ACTIONS and grant.role == Role.HEALTH_WORKER
                    and areas.covers(grant.area_code, target)):
                return Decision(True, f"health worker of {grant.area_code}")
        return Decision(False, "not permitted")
    if action in MODERATOR_ACTIONS:
        for grant in grants:
            if grant.role == Role.MODERATOR:
                return Decision(True, "moderator")
    return Decision(False, "not permitted")


class Authorizer:
    def __init__(self, store: Store, areas: Areas, clock: Clock) -> None:
        self.store = store
        self.areas = areas
        self.clock = clock

    async def grants(self, identity: str) -> list[Grant]:
        if identity.startswith("cli:"):
            return list(OPERATOR_GRANTS)
        return await self.store.reads.roles.grants_of(identity)

    async def authorize(self, actor: str, action: Action, target: str | None = None,
                        detail: str = "") -> bool:
        """Decide, write the audit row, and return whether ``actor`` may go ahead."""
        decision = decide(await self.grants(actor), action, target, self.areas)
        entry = AuditEntry(
            at=self.clock.now(),
            actor=actor,
            action=str(action),
            target=target or "",
            outcome="allowed" if decision.allowed else "denied",
            detail=detail or decision.reason,
        )
        await self.store.write(lambda tx: tx.audit.add(entry))
        return decision.allowed

    async def scopes(self, identity: str) -> list[str]:
        """Area codes a person coordinates (every RT code for an admin)."""
        grants = await self.grants(identity)
        if any(g.role == Role.ADMIN for g in grants):
            return [kel.code for kel in self.areas.kelurahan]
        return [g.area_code for g in grants if g.role == Role.COORDINATOR and g.area_code]

    async def health_scopes(self, identity: str) -> list[str]:
        """Area codes whose symptom reports a person may see: the RT/RW they coordinate and
        the kelurahan they serve as a health worker (every kelurahan for an admin)."""
        grants = await self.grants(identity)
        if any(g.role == Role.ADMIN for g in grants):
            return [kel.code for kel in self.areas.kelurahan]
        return [g.area_code for g in grants if g.area_code and g.role in
                (Role.COORDINATOR, Role.HEALTH_WORKER)]
