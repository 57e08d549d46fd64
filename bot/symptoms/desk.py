"""The symptom desk: what the symptom handlers may read and decide for one update
(``ctx.use(SymptomDesk)``), for the resident (report, check-in, own data) and for the RT/RW
coordinators and health workers (alerts, list, export, figures).

Writes join the commit that saves the person's state (``ctx.later``), except the claim on a
report: two coordinators may press "I'll handle it" at the same moment, and the reply must
say who won, so that write is committed on its own before the reply.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from bot.authz import Action
from bot.broadcasting.notices import notify, plain_renderer
from bot.context import Context
from bot.events import Text, say
from bot.symptoms import service as svc
from bot.symptoms.model import Answers, Level
from db.repositories.audit import AuditEntry
from db.repositories.symptoms import DayCount, SymptomReport
from db.store import Tx


@dataclass(frozen=True)
class Scope:
    """The areas whose reports a person may see (RT codes), and how to name them."""

    codes: list[str]  # the area codes of their grants, each authorised (and audited)
    rts: list[str]

    @property
    def allowed(self) -> bool:
        return bool(self.rts)


class SymptomDesk:
    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx
        self.services = ctx.services
        self.reads = ctx.services.store.reads
        self.me = ctx.person.identity

    def now(self) -> datetime:
        return self.services.clock.now()

    # --- the resident ------------------------------------------------------------------------

    def submit(self, answers: Answers, level: Level, rules_version: str, share: bool,
               consent: Text | None = None) -> None:
        """Store the report (shared: with the consent text as the resident read it) or only
        count it, in this update's commit; alerts and check-ins follow from it."""
        ctx = self.ctx
        text = plain_renderer(self.services.content).render(consent, ctx.lang) \
            if share and consent is not None else ""
        report = svc.Report(identity=self.me, channel=ctx.event.channel, lang=ctx.lang,
                            area_code=ctx.person.area_code or "", answers=answers, level=level,
                            rules_version=rules_version, share=share, consent_text=text,
                            consent_kind=consent.key.rsplit(".", 1)[-1] if consent else "")
        now = self.now()

        async def write(tx: Tx) -> None:
            await svc.store(self.services, tx, report, now)

        ctx.later(write, "outbox")

    async def who_is_alerted(self) -> str:
        """Who an alert about this person's RT reaches now: "area" (their RT/RW
        coordinators or the puskesmas), "admins" (none of those has started the bot: the
        deployment's admins) or "" (nobody)."""
        chain = self.services.areas.chain(self.ctx.person.area_code or "")
        if chain is not None:
            kel, rw, rt = chain
            local = await self.reads.roles.holders_in("coordinator", [rt.code, rw.code])
            local += await self.reads.roles.holders_in("health_worker", [kel.code])
            if local:
                return "area" if await self._reachable(local) else ""
        return "admins" if await self._reachable(await self.reads.roles.holders("admin")) \
            else ""

    async def _reachable(self, identities: list[str]) -> bool:
        for identity in identities:
            person = await self.reads.people.get(identity)
            if person is not None and person.active:
                return True
        return False

    async def my_reports(self) -> list[SymptomReport]:
        return await self.reads.symptoms.of_person(self.me)

    async def has_consent(self) -> bool:
        return await self.reads.symptoms.has_consent(self.me)

    async def consent(self) -> datetime | None:
        """When the consent still in force was given, if any."""
        found = await self.reads.symptoms.latest_consent(self.me)
        return found[1] if found else None

    def withdraw(self) -> None:
        """Withdraw the health-data consent in this update's commit."""
        now = self.now()

        async def write(tx: Tx) -> None:
            await svc.withdraw(self.services, tx, self.me, now)

        self.ctx.later(write)

    async def checkin(self, checkin_id: int) -> tuple[int, SymptomReport] | None:
        """The check-in and its report, if it was sent to me and is not answered yet."""
        found = await self.reads.symptoms.get_checkin(checkin_id)
        if found is None or found.sent_at is None or found.answer is not None:
            return None
        report = await self.reads.symptoms.get(found.report_id)
        if report is None or report.identity != self.me:
            return None
        return found.id, report

    def answer_checkin(self, checkin_id: int, report: SymptomReport, answer: str) -> None:
        """Record the answer: well stops the check-ins; worse makes the report high again
        and alerts the coordinators."""
        now, services = self.now(), self.services

        async def write(tx: Tx) -> None:
            if not await tx.symptoms.answer_checkin(checkin_id, answer, now):
                return
            if answer == "well":
                await tx.symptoms.mark_well(report.id, now)
                await tx.symptoms.stop_checkins([report.id])
            elif answer == "worse":
                await tx.symptoms.worsened(report.id, now,
                                           now + services.settings.symptoms.escalate_after)
                fresh = await tx.symptoms.get(report.id)
                if fresh is None:
                    return
                if fresh.status == "handling" and fresh.handler:  # theirs: tell them
                    await svc.alert(services, tx, fresh, 0, now, only=[fresh.handler])
                else:
                    await svc.alert(services, tx, fresh, 0, now)

        self.ctx.later(write, "outbox")

    # --- coordinators and health workers -----------------------------------------------------

    async def scope(self, action: Action) -> Scope:
        """The areas where I may do ``action``: each grant's area authorised (and audited);
        someone with none gets one refused (audited) attempt on their own area."""
        authz, areas = self.services.authz, self.services.areas
        codes = await authz.health_scopes(self.me)
        allowed = [c for c in codes if await authz.authorize(self.me, action, c)]
        if not codes:
            await authz.authorize(self.me, action, self.ctx.person.area_code)
        rts = list(dict.fromkeys(rt.code for c in allowed for rt in areas.rts_within(c)))
        return Scope(allowed, rts)

    async def may_see(self, report: SymptomReport) -> bool:
        return await self.services.authz.authorize(self.me, Action.REPORTS_VIEW,
                                                   report.area_code,
                                                   detail=f"report:{report.id}")

    async def get(self, report_id: int) -> SymptomReport | None:
        return await self.reads.symptoms.get(report_id)

    async def open_reports(self, scope: Scope, limit: int = 10
                           ) -> tuple[list[SymptomReport], int]:
        """The newest open reports in scope (at most ``limit``) and how many more there are;
        the read is audited."""
        found = await self.reads.symptoms.in_areas(scope.rts, limit=500)
        shown = found[:limit]
        await self._audit_read("symptoms.list", shown)
        return shown, len(found) - len(shown)

    async def all_reports(self, scope: Scope) -> list[SymptomReport]:
        """Every identified report in scope, for the export (audited)."""
        found = await self.reads.symptoms.in_areas(scope.rts, ("new", "handling", "done"),
                                                   limit=100_000)
        await self._audit_read("symptoms.export", found)
        return found

    async def daily(self, scope: Scope, days: int = 30) -> tuple[list[DayCount], date, date]:
        """Reports per day, RT and level over the last ``days`` days (anonymous counts
        included); no identified report is read."""
        today = self.now().astimezone(self.services.settings.timezone).date()
        first = today - timedelta(days=days - 1)
        return await self.reads.symptoms.daily(scope.rts, first.isoformat()), first, today

    async def _audit_read(self, action: str, reports: list[SymptomReport]) -> None:
        now = self.now()

        async def write(tx: Tx) -> None:
            await svc.audit_read(tx, self.me, action, reports, now)

        await self.services.store.write(write)

    async def claim(self, report_id: int) -> svc.Claim:
        """Take the report (committed now: the reply says who won)."""
        now = self.now()

        async def write(tx: Tx) -> svc.Claim:
            return await svc.claim(self.services, tx, report_id, self.me, now)

        claim = await self.services.store.write(write)
        if claim.mine:
            self.services.signals.outbox()
        return claim

    async def handler_name(self, identity: str | None) -> str:
        if not identity:
            return ""
        return await self.reads.roles.display_name(identity) or identity

    def close(self, report: SymptomReport) -> None:
        """Mark the report done; a handler who is someone else is told who closed it."""
        now = self.now()

        async def write(tx: Tx) -> None:
            if not await tx.symptoms.close(report.id, self.me, now):
                return
            await tx.symptoms.drop_waiting_alerts(report.id)
            if report.handler and report.handler != self.me:
                await notify(tx, report.handler,
                             say("symptoms.desk.closed_by_other", id=report.id,
                                 name=await svc.name_of(tx, self.me)),
                             now, kind="symptom_alert", ref_id=report.id)
            await tx.audit.add(AuditEntry(at=now, actor=self.me, action="symptoms.close",
                                              target=f"report:{report.id}", outcome="done"))

        self.ctx.later(write, "outbox")

    async def note(self, report_id: int, text: str) -> None:
        """Add a note, signed with my name and the time."""
        now, tz = self.now(), self.services.settings.timezone
        name = await self.handler_name(self.me)
        line = f"{now.astimezone(tz):%d/%m %H.%M} {name}: {text}"

        async def write(tx: Tx) -> None:
            await tx.symptoms.add_note(report_id, line)
            await tx.audit.add(AuditEntry(at=now, actor=self.me, action="symptoms.note",
                                              target=f"report:{report_id}", outcome="done"))

        self.ctx.later(write)
