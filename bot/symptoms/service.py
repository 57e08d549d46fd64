"""What the symptom feature writes and who it tells: reports stored under consent (or only
counted), alerts to the RT/RW coordinators and the puskesmas, the claim on a report,
escalation, check-ins, withdrawal, erasure and retention.

Health data is specific personal data (UU No. 27/2022). A report is kept with its reporter
only when they chose to share it, with the consent text, its version, time and channel as
proof; otherwise only a count per RT, day and risk level is kept. Every read of an identified
report (an alert, the list, the export) writes an audit row.

Everything here runs inside a write (``tx``): the questionnaire's writes join the commit that
saves the person's state (``ctx.later``); the follow-up worker runs its own writes.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.broadcasting.notices import notify, notify_role
from bot.broadcasting.schedule import format_date, format_local
from bot.context import Services
from bot.events import Reply, button, reply_to_json, say, t
from bot.symptoms.callbacks import CheckinAnswer, Handle
from bot.symptoms.model import Answers, Level
from db.repositories.audit import AuditEntry
from db.repositories.outbox import REGULAR
from db.repositories.symptoms import NewReport, SymptomReport
from db.store import Tx

log = logging.getLogger(__name__)

CONSENT_VERSION = "2"  # change it whenever the text of symptoms.consent or urgent_share changes
ESCALATE_RW, ESCALATE_ADMINS = 1, 2  # the stages after the first alert
DRAFT_KEPT = timedelta(hours=24)  # an unfinished questionnaire's answers, then dropped


def local_day(services: Services, when: datetime) -> str:
    return when.astimezone(services.settings.timezone).date().isoformat()


def alerts_now(level: str, answers_urgent: bool) -> bool:
    """A high or red-flag report that the resident shared alerts their RT and RW at once."""
    return answers_urgent or level == Level.HIGH


# --- storing a report ------------------------------------------------------------------------


@dataclass(frozen=True)
class Report:
    """A finished questionnaire, ready to store."""

    identity: str
    channel: str
    lang: str
    area_code: str
    answers: Answers
    level: Level
    rules_version: str
    share: bool
    consent_text: str = ""  # the consent as the resident read it (when they shared)
    consent_kind: str = "consent"  # which text: "consent" or "urgent_share"

    @property
    def consent_version(self) -> str:
        """E.g. "gejala-2-consent-id": the version, the text and its language."""
        return f"gejala-{CONSENT_VERSION}-{self.consent_kind}-{self.lang}"


async def store(services: Services, tx: Tx, report: Report, now: datetime) -> int | None:
    """Store the report (with the consent) or only count it; alert and plan check-ins.
    Returns the report's id, None when it was only counted."""
    day = local_day(services, now)
    a = report.answers
    if not report.share:
        await tx.symptoms.count(day, report.area_code, report.level, urgent=a.urgent)
        return None
    consent = await tx.symptoms.add_consent(report.identity, report.consent_version,
                                            report.consent_text, report.lang, report.channel,
                                            now)
    urgent = alerts_now(report.level, a.urgent)
    rid = await tx.symptoms.add(NewReport(
        identity=report.identity, consent_id=consent, area_code=report.area_code, day=day,
        subject=a.subject, age_group=a.age_group, red_flags=tuple(sorted(a.red_flags)),
        symptoms=tuple(sorted(a.symptoms)), close_contact=a.close_contact,
        conditions=tuple(sorted(a.conditions)), pregnant=a.pregnant, level=report.level,
        rules_version=report.rules_version, created_at=now,
        escalate_at=now + services.settings.symptoms.escalate_after if urgent else None))
    if report.level in (Level.MODERATE, Level.HIGH):
        for days in services.settings.symptoms.checkin_days:
            await tx.symptoms.add_checkin(rid, now + timedelta(days=days))
    if urgent:
        stored = await tx.symptoms.get(rid)
        assert stored is not None
        await alert(services, tx, stored, 0, now)
    return rid


# --- alerts ----------------------------------------------------------------------------------


async def recipients(services: Services, tx: Tx, report: SymptomReport, stage: int
                     ) -> list[str]:
    """Who is alerted at ``stage``: first the RT and RW coordinators and the kelurahan's
    health workers; then (nobody took it) the RW coordinators and health workers again; then
    the deployment's admins."""
    chain = services.areas.chain(report.area_code)
    found: list[str] = []
    if chain is not None and stage < ESCALATE_ADMINS:
        kel, rw, rt = chain
        codes = [rt.code, rw.code] if stage == 0 else [rw.code]
        found += await tx.roles.holders_in("coordinator", codes)
        found += await tx.roles.holders_in("health_worker", [kel.code])
    if stage >= ESCALATE_ADMINS or not found:
        found += await tx.roles.holders("admin")
    return list(dict.fromkeys(found))


def report_params(services: Services, report: SymptomReport) -> dict[str, object]:
    """What a coordinator reads about a report (alert, list): never more than this."""
    return _params(services, report)


def _params(services: Services, report: SymptomReport) -> dict[str, object]:
    return dict(
        id=report.id, level=t(f"symptoms.level.{report.level}"), high=report.level == "high",
        urgent=report.urgent,
        flags=[t(f"symptoms.flag_short.{k}") for k in report.red_flags],
        symptoms=[t(f"symptoms.symptom_short.{k}") for k in report.symptoms],
        age=t(f"symptoms.age.{report.age_group}") if report.age_group else "",
        subject=t(f"symptoms.subject.{report.subject}") if report.subject else "",
        contact_case=report.close_contact,
        conditions=[t(f"symptoms.condition_short.{k}") for k in report.conditions],
        pregnant=report.pregnant,
        area=services.areas.label(report.area_code, full=True) or report.area_code,
        contact=report.identity, status=t(f"symptoms.status.{report.status}"),
        note=report.note, worsened=report.worsened_at is not None,
        at=format_local(report.created_at, services.settings.timezone))


def alert_replies(services: Services, report: SymptomReport, stage: int) -> list[Reply]:
    minutes = int(services.settings.symptoms.escalate_after.total_seconds() // 60)
    return [say("symptoms.desk.alert", [[button("symptoms.desk.take", Handle(report.id).pack())]],
                stage=stage, minutes=minutes * stage, **report_params(services, report))]


async def alert(services: Services, tx: Tx, report: SymptomReport, stage: int,
                now: datetime, only: list[str] | None = None) -> list[str]:
    """Alert the ``stage`` recipients (or ``only`` these people; urgent: no quiet hours);
    each alert is audited as a read of the report. Returns who could be reached now."""
    holders = only if only is not None else await recipients(services, tx, report, stage)
    reached = await notify_role(services, tx, holders,
                                lambda lang, channel: alert_replies(services, report, stage),
                                now, kind="symptom_alert", ref_id=report.id)
    for holder in holders:
        await tx.audit.add(AuditEntry(
            at=now, actor=holder, action="symptoms.alert", target=f"report:{report.id}",
            outcome="sent" if holder in reached else "waiting", detail=f"stage {stage}"))
    if not reached:
        log.warning("symptom report %d: nobody could be alerted at stage %d", report.id,
                    stage)
    return reached


async def audit_read(tx: Tx, actor: str, action: str, reports: list[SymptomReport],
                     now: datetime, detail: str = "") -> None:
    """One audit row for one read of identified reports (a list, an export)."""
    ids = ",".join(str(r.id) for r in reports) or "none"
    await tx.audit.add(AuditEntry(at=now, actor=actor, action=action,
                                  target=f"reports:{len(reports)}", outcome="read",
                                  detail=detail or f"reports {ids}"))


# --- the claim ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Claim:
    report: SymptomReport | None  # None: no such report (any more)
    mine: bool  # this person owns it now
    handler_name: str = ""  # who owns it, when someone else does


async def name_of(tx: Tx, identity: str) -> str:
    return await tx.roles.display_name(identity) or identity


async def claim(services: Services, tx: Tx, report_id: int, actor: str, now: datetime
                ) -> Claim:
    """The first to press "I'll handle it" owns the report; the others alerted are told."""
    report = await tx.symptoms.get(report_id)
    if report is None:
        return Claim(None, False)
    fast = (now - report.created_at) <= timedelta(hours=1)
    if await tx.symptoms.claim(report_id, actor, now, fast):
        await tx.symptoms.drop_waiting_alerts(report_id)
        name = await name_of(tx, actor)
        stage_holders: list[str] = []
        for stage in range(report.escalation + 1):
            stage_holders += await recipients(services, tx, report, stage)
        others = [h for h in dict.fromkeys(stage_holders) if h != actor]
        for other in others:
            await notify(tx, other, say("symptoms.desk.taken_by_other", id=report.id, name=name),
                         now, kind="symptom_alert", ref_id=report.id)
        await tx.audit.add(AuditEntry(at=now, actor=actor, action="symptoms.handle",
                                      target=f"report:{report_id}", outcome="done"))
        return Claim(await tx.symptoms.get(report_id), True)
    handler = report.handler or ""
    return Claim(report, handler == actor, await name_of(tx, handler) if handler else "")


# --- check-ins and escalation (the follow-up worker) ------------------------------------------


def checkin_reply(checkin_id: int, report: SymptomReport) -> Reply:
    rows = [[button("symptoms.checkin.better", CheckinAnswer(checkin_id, "better").pack()),
             button("symptoms.checkin.same", CheckinAnswer(checkin_id, "same").pack())],
            [button("symptoms.checkin.worse", CheckinAnswer(checkin_id, "worse").pack())],
            [button("symptoms.checkin.well", CheckinAnswer(checkin_id, "well").pack())]]
    return say("symptoms.checkin.question", rows, subject=report.subject,
               day=format_date(report.day))


@dataclass(frozen=True)
class Due:
    checkins: int = 0
    escalations: int = 0


async def run_due(services: Services, now: datetime | None = None) -> Due:
    """Send the check-ins that are due (held by quiet hours like regular notices) and move
    untaken alerts up a stage. Safe with several workers: each row is claimed in the write."""
    now = now or services.clock.now()
    after = services.settings.symptoms.escalate_after

    async def write(tx: Tx) -> Due:
        sent = escalated = 0
        for c in await tx.symptoms.due_checkins(now):
            if not await tx.symptoms.mark_checkin_sent(c.id, now):
                continue
            report = await tx.symptoms.get(c.report_id)
            person = await tx.people.get(report.identity) if report else None
            if report is None or report.well_at or person is None or not person.active:
                continue
            await tx.outbox.enqueue(
                channel=person.channel, address=person.address, person_id=person.id,
                lang=person.language or services.settings.default_language, kind="checkin",
                ref_id=c.id, payload=reply_to_json(checkin_reply(c.id, report)),
                priority=REGULAR, quiet=True, now=now)
            sent += 1
        for report in await tx.symptoms.due_escalations(now):
            stage = report.escalation + 1
            if stage > ESCALATE_ADMINS or report.escalate_at is None:
                continue
            following = now + after if stage < ESCALATE_ADMINS else None
            if await tx.symptoms.escalate(report.id, stage, report.escalate_at, following):
                await alert(services, tx, report, stage, now)
                escalated += 1
        return Due(sent, escalated)

    due = await services.store.write(write)
    if due.checkins or due.escalations:
        services.signals.outbox()
    return due

# --- withdrawal, erasure, retention ---------------------------------------------------------


async def withdraw(services: Services, tx: Tx, identity: str, now: datetime) -> int:
    """The resident withdraws their consent: their identified reports become anonymous
    counts (their check-ins stop); the consent proofs stay, withdrawn, under a pseudonym.
    Returns how many reports were made anonymous."""
    reports = await tx.symptoms.of_person(identity)
    await tx.symptoms.forget_consents(identity, services.pseudonyms(identity), now)
    await tx.symptoms.anonymise(reports, services.pseudonyms)
    return len(reports)


async def forget(services: Services, tx: Tx, identity: str, now: datetime) -> int:
    """Erasure: their reports become counts, the consent proofs stay (withdrawn) under a
    pseudonym, and reports they handled as a coordinator name them by pseudonym."""
    pseudonym = services.pseudonyms(identity)
    reports = await tx.symptoms.of_person(identity)
    await tx.symptoms.forget_consents(identity, pseudonym, now)
    await tx.symptoms.anonymise(reports, services.pseudonyms)
    await tx.symptoms.forget_handler(identity, pseudonym)
    return len(reports)


async def expire(services: Services, tx: Tx, now: datetime) -> int:
    """Identified reports older than ``symptoms.retention_days`` become anonymous counts."""
    cutoff = now - timedelta(days=services.settings.symptoms.retention_days)
    total = 0
    while batch := await tx.symptoms.older_than(cutoff):
        total += await tx.symptoms.anonymise(batch, services.pseudonyms)
    # questionnaires left unfinished hold health answers nobody agreed to keep
    await tx.symptoms.forget_stale_drafts(now - DRAFT_KEPT)
    return total


