"""What hoax reports write and who they tell: a report joins a known case (or starts one),
moderators hold, merge, split and publish cases, every reporter hears the verdict once, notes
reopen a verdict, abusive reporters are muted, and a clarification can go to the RWs where
the claim spread as a notice.

Everything here runs inside a write (``tx``) unless it only reads. Moderators see reporters
only as counts per area: no function here returns who reported.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.broadcasting.notices import moderators, notify, request_review
from bot.broadcasting.schedule import format_date
from bot.context import Services
from bot.events import Reply, button, say, t
from bot.hoax.book import ClaimBook, Found
from bot.hoax.callbacks import MoreInfo
from db.repositories.audit import AuditEntry
from db.repositories.hoax import VERDICTS, Case
from db.repositories.notices import Notice
from db.store import Tx

MAX_TEXT = 2000  # characters of a report kept (a longer one is cut, and the reporter told)
PIECES_WITHIN = timedelta(seconds=10)  # pieces sent this close form one report
NEEDS_SOURCE = frozenset(VERDICTS) - {"belum"}  # every label but "not verified yet"


@dataclass(frozen=True)
class Received:
    """What became of a report: ``outcome`` is "published" (a verdict exists: shown at
    once), "open" (joined a case under review), "new" (a new case) or "already" (this person
    reported this case before)."""

    outcome: str
    case: Case
    others: int  # other people who reported the same case
    report_id: int | None = None


async def receive(services: Services, tx: Tx, book: ClaimBook, identity: str,
                  area_code: str, text: str, photo_hash: str, thumbnail: bytes | None,
                  now: datetime) -> Received:
    """Match a report against the known cases and file it (see ``Received``)."""
    found = await book.find(tx, text, photo_hash)
    case = await tx.hoax.live(found.case_id) if found and found.automatic else None
    if case is not None and case.status != "merged":
        if await tx.hoax.reported_by(case.id, identity):
            return Received("already", case, max(case.reporters - 1, 0))
        published = case.status == "published"
        report_id = await tx.hoax.add_report(case.id, identity, area_code, text, photo_hash,
                                             now, told=published)
        fresh = await tx.hoax.case(case.id)
        assert fresh is not None
        return Received("published" if published else "open", fresh,
                        max(fresh.reporters - 1, 0), report_id)
    case_id = await tx.hoax.add_case(text, book.fingerprint(text), photo_hash, thumbnail, now)
    report_id = await tx.hoax.add_report(case_id, identity, area_code, text, photo_hash, now)
    book.add(case_id, text, photo_hash)
    fresh = await tx.hoax.case(case_id)
    assert fresh is not None
    return Received("new", fresh, 0, report_id)


async def extend(tx: Tx, book: ClaimBook, report_id: int, case_id: int, text: str,
                 photo_hash: str) -> None:
    """A piece sent right after a report (a photo's caption, a second part) joins it; a
    case it started learns the piece too."""
    await tx.hoax.extend_report(report_id, text, photo_hash)
    case = await tx.hoax.case(case_id)
    if case is not None and case.reporters == 1 and case.status == "open":
        book.add(case_id, text, photo_hash)


def verdict_params(services: Services, case: Case) -> dict[str, object]:
    return dict(id=case.id, label=t(f"hoax.label.{case.verdict or 'belum'}"),
                verdict=case.verdict or "belum", claim=snippet(case.claim),
                explanation=case.explanation, sources=list(case.sources),
                # examples of the seed library are dated by month in their explanation
                date=format_date(case.published_at.astimezone(
                    services.settings.timezone).date().isoformat())
                if case.published_at and not case.example else "",
                team=services.settings.deployment_name, example=case.example)


def verdict_reply(services: Services, case: Case) -> Reply:
    """A published verdict as a resident reads it, with "I have more information"."""
    return say("hoax.verdict", [[button("hoax.more_info", MoreInfo(case.id).pack())]],
               **verdict_params(services, case))


def snippet(text: str, limit: int = 160) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[:limit].rsplit(" ", 1)[0] + " …"


# --- moderation ---------------------------------------------------------------------------------


def problems(verdict: str, explanation: str, sources: list[str]) -> list[str]:
    """Why a verdict cannot be published yet (content keys; empty: it can)."""
    found = []
    if verdict not in VERDICTS:
        found.append("hoax.mod.bad_label")
    words = explanation.split()
    if len(words) < 4 or not any(explanation.rstrip().endswith(p) for p in ".!?"):
        found.append("hoax.mod.bad_explanation")
    if verdict in NEEDS_SOURCE and not any(s.startswith(("http://", "https://"))
                                           for s in sources):
        found.append("hoax.mod.needs_source")
    return found


async def hold(services: Services, tx: Tx, case_id: int, moderator: str, now: datetime
               ) -> Case | None:
    """Hold the case for ``moderation.claim_minutes``; the case if I hold it now, else None."""
    until = now + timedelta(minutes=services.settings.hoax.claim_minutes)
    if not await tx.hoax.claim(case_id, moderator, until, now):
        return None
    await _audit(tx, moderator, "hoax.claim", case_id, now)
    return await tx.hoax.case(case_id)


async def publish(services: Services, tx: Tx, case_id: int, moderator: str, verdict: str,
                  explanation: str, sources: list[str], now: datetime) -> int | None:
    """Publish the verdict (only by the moderator holding the case) and tell every reporter
    who has not been told, through the outbox, in this same write: a restart can neither
    lose nor repeat it. How many were told; None if the case is not mine to publish."""
    if not await tx.hoax.publish(case_id, moderator, verdict, explanation, sources, now):
        return None
    case = await tx.hoax.case(case_id)
    assert case is not None
    told = 0
    for _, identity in await tx.hoax.untold(case_id):
        await notify(tx, identity, verdict_reply(services, case), now, kind="hoax_verdict",
                     ref_id=case_id)
        await tx.hoax.mark_told(case_id, identity, now)
        told += 1
    await _audit(tx, moderator, "hoax.publish", case_id, now,
                 f"{verdict}; {told} reporters told")
    return told


async def add_note(services: Services, tx: Tx, case_id: int, identity: str, text: str,
                   now: datetime) -> bool:
    """More information on a published verdict: the case is open again for moderators
    (who are told), and its reporters will hear the new verdict."""
    case = await tx.hoax.live(case_id)
    if case is None:
        return False
    await tx.hoax.add_note(case.id, identity, text[:MAX_TEXT], now)
    if case.status == "published":
        await tx.hoax.reopen(case.id, now)
        await tx.hoax.untell(case.id)
    for moderator in await moderators(tx):
        await notify(tx, moderator, say("hoax.mod.reopened", id=case.id,
                                        claim=snippet(case.claim)),
                     now, kind="hoax_mod", ref_id=case.id)
    return True


async def merge(services: Services, tx: Tx, source: int, target: int, moderator: str,
                now: datetime) -> bool:
    """Merge case ``source`` (held by me) into ``target``: its reporters will hear
    ``target``'s verdict (at once if it is published)."""
    held = await tx.hoax.case(source)
    other = await tx.hoax.live(target)
    if (held is None or other is None or other.id == source or held.claimed_by != moderator
            or not held.claimed(now)):
        return False
    if not await tx.hoax.merge(source, other.id):
        return False
    if other.status == "published":  # the verdict reaches the newcomers now
        for _, identity in await tx.hoax.untold(other.id):
            await notify(tx, identity, verdict_reply(services, other), now,
                         kind="hoax_verdict", ref_id=other.id)
            await tx.hoax.mark_told(other.id, identity, now)
    await _audit(tx, moderator, "hoax.merge", source, now, f"into case {other.id}")
    return True


async def split(tx: Tx, case_id: int, report_id: int, moderator: str, now: datetime
                ) -> int | None:
    """Take a report out of the case I hold into a case of its own (its id)."""
    held = await tx.hoax.case(case_id)
    if held is None or held.claimed_by != moderator or not held.claimed(now):
        return None
    if report_id not in {r.id for r in await tx.hoax.reports(case_id)}:
        return None
    new = await tx.hoax.split(report_id, now)
    if new is not None:
        await _audit(tx, moderator, "hoax.split", case_id, now, f"report {report_id} -> case "
                                                                 f"{new}")
    return new


async def mute(services: Services, tx: Tx, report_id: int, days: int, moderator: str,
               now: datetime) -> datetime | None:
    """Mute the person behind a report for ``days`` (the moderator never learns who);
    until when, or None if there is nobody to mute (erased)."""
    identity = await tx.hoax.reporter_of(report_id)
    if identity is None:
        return None
    until = now + timedelta(days=days)
    await tx.hoax.mute(identity, until, moderator, f"report {report_id}", now)
    await tx.audit.add(AuditEntry(at=now, actor=moderator, action="hoax.mute",
                                  target=services.pseudonyms(identity), outcome="done",
                                  detail=f"{days} days, for report {report_id}"))
    return until


async def clarify(services: Services, tx: Tx, case_id: int, moderator: str, lang: str,
                  now: datetime) -> Notice | None:
    """Send the verdict as a notice to the RWs where the claim spread, through the notice
    pipeline (approval by another moderator, quiet hours, report). None if the case is not
    published or came from no known area."""
    case = await tx.hoax.case(case_id)
    if case is None or case.status != "published":
        return None
    rws = sorted({rt.rw_code for code, _ in await tx.hoax.spread(case_id)
                  if (rt := services.areas.rt(code)) is not None})
    if not rws:
        return None
    from bot.broadcasting.notices import plain_renderer

    body = plain_renderer(services.content).render(
        t("hoax.clarification", **verdict_params(services, case)), lang)
    notice = Notice(author=moderator, author_lang=lang,
                    signature=plain_renderer(services.content).render(
                        t("hoax.mod.team", team=services.settings.deployment_name), lang),
                    segment="all", category="regular", body=body[:3500], repeat="now",
                    status="pending", created_at=now, updated_at=now, areas=tuple(rws),
                    purpose="clarification")
    await tx.notices.create(notice)
    await _audit(tx, moderator, "hoax.clarify", case_id, now, f"notice {notice.id} to "
                                                               f"{', '.join(rws)}")
    await request_review(services, tx, notice, "broadcast.review", now)
    return notice


async def _audit(tx: Tx, moderator: str, action: str, case_id: int, now: datetime,
                 detail: str = "") -> None:
    await tx.audit.add(AuditEntry(at=now, actor=moderator, action=action,
                                  target=f"case:{case_id}", outcome="done", detail=detail))


async def forget(services: Services, tx: Tx, identity: str) -> None:
    """Erasure: their reports stay as anonymous counts of their cases."""
    await tx.hoax.forget(identity, services.pseudonyms(identity))


REPORTERS_KEPT = timedelta(days=7)  # after the verdict reached them
REPORTERS_KEPT_AT_MOST = timedelta(days=90)  # a case still open after this: counts only


async def expire(tx: Tx, now: datetime) -> int:
    """Reporters are kept only to tell them the verdict: 7 days after it reached them, and
    90 days after they reported at most, their reports are counts per area."""
    return await tx.hoax.forget_reporters(now - REPORTERS_KEPT, now - REPORTERS_KEPT_AT_MOST)


async def found_similar(tx: Tx, book: ClaimBook, case: Case) -> list[Found]:
    """Other open or published cases like this one (for moderators), best first."""
    return [f for f in await book.similar(tx, case.claim, case.photo_hash)
            if f.case_id != case.id]
