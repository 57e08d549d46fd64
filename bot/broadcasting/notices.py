"""Notices from coordinators: who they reach, how residents see them, and what happens when
one is submitted, approved, rejected, started, paused or cancelled.

Every function here runs inside a database write (it gets the connection) so a decision and
the messages it causes (outbox rows) are committed together.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

from bot.areas import RT, RW, Areas
from bot.authz import Action, decide
from bot.broadcasting.dates import weekday_names
from bot.broadcasting.schedule import (
    WEEKDAYS,
    QuietHours,
    format_date,
    format_local,
    latest_missed,
    next_occurrence,
)
from bot.broadcasting.views import review_buttons
from bot.channels.traits import CONSOLE, ChannelTraits, notice_limits
from bot.content import Content
from bot.context import Services
from bot.events import Media, Reply, Text, reply_to_json, say, t
from bot.render import Renderer
from db.repositories.audit import AuditEntry
from db.repositories.notices import OPEN_STATUSES, GroupLink, Notice, Run
from db.repositories.outbox import SYSTEM
from db.repositories.roles import Grant
from db.store import Tx


def quiet_hours(services: Services) -> QuietHours:
    b = services.settings.broadcast
    return QuietHours(b.quiet_start, b.quiet_end, services.settings.timezone)


def rt_codes(areas: Areas, codes: tuple[str, ...] | list[str]) -> list[str]:
    """Every RT code inside the given RT, RW or kelurahan codes."""
    out: list[str] = []
    for code in codes:
        for rt in areas.rts_within(code):
            if rt.code not in out:
                out.append(rt.code)
    return out


async def signature(services: Services, tx: Tx, identity: str,
                    scope: str) -> str:
    """"Ketua RT 03 / RW 02 — Pak Ahmad": the role over ``scope`` and the grant's name.

    It is part of the notice's text, so it is written once, in the deployment's language;
    the " — " before the name is how erasure finds the name to remove."""
    unit = services.areas.get(scope)
    if isinstance(unit, (RT, RW)):
        words = Renderer(services.content, "console", services.settings.default_language)
        title = words.render(t("notice.signature_title", area=services.areas.label(scope)),
                             None)
    else:
        title = services.settings.deployment_name
    name = await tx.roles.display_name(identity)
    return f"{title} — {name}" if name else title


def compose(services: Services, notice: Notice, lang: str, sent_at: datetime) -> Reply:
    """The notice exactly as a resident sees it."""
    when = format_local(sent_at, services.settings.timezone, lang)
    media = Media(notice.media_kind, notice.media_ref, notice.media_name or "") \
        if notice.media_kind and notice.media_ref else None
    return Reply(t("notice.message", urgent=notice.urgent, body=notice.body,
                   signature=notice.signature, when=when), media=media)


def whatsapp_copy(services: Services, renderer: Renderer, notice: Notice, lang: str,
                  sent_at: datetime) -> str:
    """The notice in WhatsApp markup (``renderer``), for pasting into the RT's group."""
    return renderer.render(compose(services, notice, lang, sent_at).text, lang)


async def record(tx: Tx, actor: str, action: str, notice: Notice,
                 now: datetime, detail: str = "") -> None:
    """Write a decision about a notice to the audit log (in the same commit as the decision)."""
    await tx.audit.add(AuditEntry(at=now, actor=actor, action=action,
                                         target=f"notice:{notice.id}", outcome="done",
                                         detail=detail))


# --- messages to people by identity ----------------------------------------------------------


LANGUAGES = ("id", "en")  # the languages of bot/content: a waiting message is kept in each


async def notify(tx: Tx, identity: str,
                 reply: Reply | Callable[[str], Reply | list[Reply]], now: datetime,
                 kind: str = "text", ref_id: int | None = None,
                 languages: tuple[str, ...] = LANGUAGES) -> bool:
    """Queue ``reply`` to a person; a callable gets their language and may return several
    replies. False if the person cannot be reached now: someone who has not started the bot
    yet gets it when they do (kept in each of ``languages``, the first for a person who has
    not chosen one), someone who blocked the bot does not."""
    person = await tx.people.get(identity)
    if person is None:
        payloads = {}
        for lang in languages:
            built = reply(lang) if callable(reply) else reply
            payloads[lang] = [reply_to_json(one)
                              for one in (built if isinstance(built, list) else [built])]
        await tx.people.wait(identity, payloads, now, kind, ref_id)
        return False
    if not person.active:
        return False
    lang = person.language or "id"
    built = reply(lang) if callable(reply) else reply
    for one in built if isinstance(built, list) else [built]:
        await tx.outbox.enqueue(
            channel=person.channel, address=person.address, person_id=person.id, lang=lang,
            kind=kind, ref_id=ref_id, payload=reply_to_json(one), priority=SYSTEM, now=now)
    return True


async def notify_role(services: Services, tx: Tx, holders: list[str],
                      reply: Callable[[str, str | None], Reply | list[Reply]], now: datetime,
                      kind: str = "text", ref_id: int | None = None) -> list[str]:
    """Alert everyone in ``holders`` (a role's holders): ``reply`` gets the language and the
    channel (None for someone who has not started the bot). Those who have not started the
    bot get it when they do. Returns who could be reached now."""
    default = services.settings.default_language
    languages = (default, *(lang for lang in LANGUAGES if lang != default))
    reached: list[str] = []
    for identity in holders:
        person = await tx.people.get(identity)
        channel = person.channel if person else None
        if await notify(tx, identity, lambda lang, channel=channel: reply(lang, channel),
                        now, kind, ref_id, languages):
            reached.append(identity)
    return reached


async def moderators(tx: Tx) -> list[str]:
    """Who reviews notices: the moderators, or the admins when there are none."""
    roles = tx.roles
    return await roles.holders("moderator") or await roles.holders("admin")


def review_replies(services: Services, notice: Notice, reach: int, key: str, lang: str,
                   channel: str | None = None) -> list[Reply]:
    """What a moderator sees: a notice with a photo or PDF as residents will see it, then
    author, audience, reach and timing with Approve / Reject (or Reviewed).

    The message is made to fit ``channel``'s text limit (the strictest configured channel's
    when not given): a long audience is summarised (``fit_review``)."""
    # already sent without approval: reviewed, or stopped if still going
    buttons = review_buttons(notice, after=key == "broadcast.review_after")
    replies = []
    if notice.media_kind and notice.media_ref:
        replies.append(compose(services, notice, lang, notice.start_at or notice.created_at))
    params = fit_review(services, key, lang, _traits(services, channel), notice, dict(
        id=notice.id, author=notice.signature, reach=reach, urgent=notice.urgent,
        media=notice.media_kind or "", when=when_text(services, notice, lang)))
    replies.append(say(key, buttons, **params))
    return replies


def _traits(services: Services, channel: str | None) -> ChannelTraits:
    """The channel's traits, or the strictest of the configured channels."""
    found = services.channels.get(channel or "")
    if found is not None:
        return found
    everyone = list(services.channels.values())
    if not everyone:
        return CONSOLE
    limit = min(c.text_limit for c in everyone)
    _, _, length = notice_limits(everyone)
    return ChannelTraits("strictest", limit, min(c.caption_limit for c in everyone),
                         min(c.buttons_per_message for c in everyone), False, length)


_PLAIN: dict[int, tuple[Content, Renderer]] = {}


def plain_renderer(content: Content) -> Renderer:
    """Text as people read it, without markup: what channels count against their limits."""
    found = _PLAIN.get(id(content))
    if found is None or found[0] is not content:
        found = _PLAIN[id(content)] = (content, Renderer(content, "console"))
    return found[1]


def audience_summary(areas: Areas, codes: tuple[str, ...] | list[str], *, rws: bool = True
                     ) -> Text:
    """A long audience in a few words: "12 RT di RW 01, 02" per kelurahan (the kelurahan
    named when there are several), or without ``rws`` "200 RT di Kel. Sukamaju"; RW and
    kelurahan codes keep their names."""
    named: list[Text | str] = []
    by_kel: dict[str, list[RT]] = {}
    for code in codes:
        unit = areas.get(code)
        if isinstance(unit, RT):
            rw = areas.rw(unit.rw_code)
            by_kel.setdefault(rw.kelurahan_code if rw else "", []).append(unit)
        else:
            named.append(areas.label(code) or code)
    for kel_code, rts in by_kel.items():
        kel = areas.kel(kel_code)
        name = kel.name if kel else kel_code
        if not rws:
            named.append(t("broadcast.audience_kelurahan", n=len(rts), kelurahan=name))
            continue
        numbers = sorted({rw.number for rw in (areas.rw(rt.rw_code) for rt in rts) if rw})
        named.append(t("broadcast.audience_rts", n=len(rts), rws=numbers,
                       kelurahan=name if len(by_kel) > 1 else ""))
    return t("broadcast.audience_summary", items=named)


def fit_review(services: Services, key: str, lang: str, traits: ChannelTraits, notice: Notice,
               params: dict[str, object]) -> dict[str, object]:
    """``params`` with the audience and body of ``notice`` that make ``key`` fit the
    channel's text limit, counted the channel's way.

    The moderator must see everything residents will get, so the body stays whole and the
    audience is said more briefly until it fits: every area, then RTs counted per RW and
    kelurahan, per kelurahan, or in all. Only a body too long even then (longer than a
    notice may be) is cut, with a note."""
    plain = plain_renderer(services.content)
    limit, length = traits.text_limit, traits.length

    def size(audience: Text, body: str, shortened: bool = False) -> int:
        return length(plain.render(t(key, **params, audience=audience, body=body,
                                     shortened=shortened), lang))

    areas = services.areas
    audiences = [areas.labels(notice.areas), audience_summary(areas, notice.areas),
                 audience_summary(areas, notice.areas, rws=False),
                 t("broadcast.audience_count", n=len(rt_codes(areas, notice.areas)))]
    for audience in audiences:
        if size(audience, notice.body) <= limit:
            return {**params, "audience": audience, "body": notice.body, "shortened": False}
    audience = audiences[-1]
    room = limit - size(audience, "", True) - length("…")
    body = _cut(notice.body, max(room, 0), length)
    while body and size(audience, body + "…", True) > limit:  # the count was off: cut more
        body = _cut(body, length(body) - 1, length)
    return {**params, "audience": audience, "body": body.rstrip() + "…", "shortened": True}


def _cut(text: str, room: int, length: Callable[[str], int]) -> str:
    """The longest start of ``text`` that is at most ``room`` long by ``length``."""
    low, high = 0, len(text)
    while low < high:
        mid = (low + high + 1) // 2
        if length(text[:mid]) <= room:
            low = mid
        else:
            high = mid - 1
    return text[:low]


async def request_review(services: Services, tx: Tx, notice: Notice, key: str,
                         now: datetime) -> list[str]:
    """Ask every moderator to approve (``broadcast.review``) or review afterwards
    (``broadcast.review_after``) a notice, each in their language and channel's limits; a
    moderator who has not started the bot gets it when they do. When there are moderators
    but none of them other than the author (who may not decide their own notice) can be
    reached now, the author is told so. Returns who was reached now."""
    reach = await reach_of(services, tx, notice)
    holders = await moderators(tx)
    reached = await notify_role(services, tx, holders, lambda lang, channel: review_replies(
        services, notice, reach, key, lang, channel), now)
    if holders and not [who for who in reached if who != notice.author]:
        await notify(tx, notice.author, say("broadcast.no_reviewer_reachable", id=notice.id,
                                            after=key == "broadcast.review_after"), now)
    return reached


def when_text(services: Services, notice: Notice, lang: str) -> Text:
    """How a notice's timing is described to coordinators and moderators, in ``lang``."""
    tz = services.settings.timezone
    if notice.repeat == "now":
        return t("broadcast.when_now")
    if notice.repeat == "once" and notice.start_at:
        return t("broadcast.when_once", at=format_local(notice.start_at, tz, lang))
    hour, minute = (int(part) for part in (notice.at_time or "07:00").split(":"))
    return t(f"broadcast.when_{notice.repeat}", time=t("time.clock", hour=hour, minute=minute),
             days=[weekday_names(WEEKDAYS.index(d)) for d in (notice.weekdays or "").split(",")
                   if d in WEEKDAYS],
             day=notice.month_day or 0,
             until=format_date(notice.end_date, lang) if notice.end_date else "")


async def reach_of(services: Services, tx: Tx, notice: Notice) -> int:
    reach, _ = await tx.notices.reach(rt_codes(services.areas, notice.areas),
                                             notice.segment, notice.category)
    return reach


# --- lifecycle ------------------------------------------------------------------------------


def first_run(services: Services, notice: Notice, now: datetime) -> datetime | None:
    """When a newly approved notice is first due."""
    if notice.repeat == "now":
        return now
    if notice.repeat == "once":
        return notice.start_at
    return next_occurrence(notice.repeat, notice.at_time or "07:00", services.settings.timezone,
                           now, weekdays=notice.weekdays, month_day=notice.month_day,
                           end_date=notice.end_date, inclusive=True)


def needs_approval(services: Services, notice: Notice, scope_is_rw: bool) -> bool:
    b = services.settings.broadcast
    if not b.requires_approval:
        return False
    # only an urgent notice sent right now may skip approval: a scheduled or repeating one can
    # wait for a moderator
    return not (notice.urgent and scope_is_rw and b.urgent_skips_approval
                and notice.repeat == "now")


async def activate(services: Services, tx: Tx, notice: Notice,
                   now: datetime, start: bool = True) -> Run | None:
    """Make an approved notice live: start it now if due (unless not ``start``: the caller
    fires it), else leave it to the scheduler.

    A one-off notice approved after its time (and the grace period) is marked missed."""
    notice.status = "active"
    notice.next_run_at = first_run(services, notice, now)
    notice.updated_at = now
    if notice.next_run_at is None:
        notice.status = "done"
    elif notice.repeat == "once" and now - notice.next_run_at > grace(services):
        notice.status, notice.next_run_at = "missed", None
    await tx.notices.save(notice)
    if start and notice.next_run_at is not None and notice.next_run_at <= now:
        return await fire(services, tx, notice, notice.next_run_at, now)
    return None


def grace(services: Services) -> timedelta:
    """How late a due notice may still go out (never less than a minute: the scheduler's
    own wake-up takes a moment)."""
    return max(services.settings.broadcast.missed_grace, timedelta(minutes=1))


async def still_allowed(services: Services, tx: Tx, notice: Notice
                        ) -> bool:
    """Whether the author may still send to every area of the notice (grants can be revoked
    between scheduling and sending)."""
    grants = await tx.roles.grants_of(notice.author)
    if notice.purpose == "clarification":  # a hoax verdict: the moderators' to send
        return decide(grants, Action.HOAX_REVIEW, None, services.areas).allowed
    return all(decide(grants, Action.BROADCAST_SEND, code, services.areas).allowed
               for code in notice.areas)


async def fire(services: Services, tx: Tx, notice: Notice,
               planned_at: datetime, now: datetime) -> Run | None:
    """Start one occurrence: fan out to the outbox, open the author's progress message and
    move the notice to its next occurrence (or finish it). A notice whose author no longer
    coordinates its areas is cancelled instead (None)."""
    repo = tx.notices
    if not await still_allowed(services, tx, notice):
        notice.status, notice.next_run_at, notice.updated_at = "cancelled", None, now
        await repo.save(notice)
        await record(tx, "system", "notice.cancel", notice, now,
                     "the author no longer coordinates its audience")
        await notify(tx, notice.author, say("broadcast.author_revoked", id=notice.id), now)
        return None
    rts = rt_codes(services.areas, notice.areas)
    if notice.segment == "all":  # groups are posted to: their linkers must still be in office
        await drop_stale_links(services, tx, await repo.links_for(rts), "system", now)
    qh = quiet_hours(services)
    quiet_until = qh.ends_after(now) if qh.active(now) else None
    run = await repo.start_run(notice, rts, planned_at, now,
                               services.settings.default_language, quiet_until)
    await notify(tx, notice.author, say("broadcast.progress", id=notice.id, sent=0,
                                          total=run.total), now, kind="progress", ref_id=run.id)
    if notice.recurring:
        notice.next_run_at = next_occurrence(
            notice.repeat, notice.at_time or "07:00", services.settings.timezone, now,
            weekdays=notice.weekdays, month_day=notice.month_day, end_date=notice.end_date)
        if notice.next_run_at is None:
            notice.status = "done"
    else:
        notice.next_run_at = None
        notice.status = "done"
    notice.updated_at = now
    await repo.save(notice)
    return run


# --- linked groups whose linker lost the role -----------------------------------------------


def may_link(services: Services, grants: list[Grant], rt_code: str) -> bool:
    """Whether someone holding ``grants`` may keep a group linked to ``rt_code``."""
    return decide(grants, Action.BROADCAST_SEND, rt_code, services.areas).allowed


async def drop_stale_links(services: Services, tx: Tx, links: list[GroupLink], actor: str,
                           now: datetime) -> list[tuple[GroupLink, int]]:
    """Unlink every one of ``links`` whose linker no longer coordinates its RT, and stop
    the posts queued to those groups for RTs they are no longer linked to (audited as
    ``actor``). Returns each link dropped with the number of posts stopped."""
    grants: dict[str, list[Grant]] = {}
    dropped: list[tuple[GroupLink, int]] = []
    for link in links:
        if link.linked_by not in grants:
            grants[link.linked_by] = await tx.roles.grants_of(link.linked_by)
        if may_link(services, grants[link.linked_by], link.area_code):
            continue
        if not await tx.notices.unlink_area(link):
            continue
        stopped = await stop_unlinked_posts(services, tx, link, now)
        await tx.audit.add(AuditEntry(
            at=now, actor=actor, action="group.unlink",
            target=f"group:{link.channel}:{link.address}", outcome="done",
            detail=f"{link.area_code}: the coordinator who linked it no longer coordinates "
                   f"it; {stopped} queued posts stopped"))
        dropped.append((link, stopped))
    return dropped


async def stop_unlinked_posts(services: Services, tx: Tx, link: GroupLink,
                              now: datetime) -> int:
    """Leave unsent the notices queued to ``link``'s group whose audience no longer has a
    link to it (a group may stay linked to another RT by someone else)."""
    group = (link.channel, link.address)
    still: dict[int, bool] = {}  # run id -> the group is still linked to its audience
    doomed: list[int] = []
    for outbox_id, run_id in await tx.notices.queued_group_posts(*group):
        if run_id not in still:
            run = await tx.notices.run(run_id)
            notice = await tx.notices.get(run.notice_id) if run else None
            rts = rt_codes(services.areas, notice.areas) if notice else []
            still[run_id] = any((g.channel, g.address) == group
                                for g in await tx.notices.groups_for(rts))
        if not still[run_id]:
            doomed.append(outbox_id)
    return await tx.notices.skip_group_posts(doomed, "group unlinked", now)


async def run_due(services: Services, tx: Tx, now: datetime
                  ) -> list[Run]:
    """Start every notice that is due; report missed ones instead of bursting them."""
    repo = tx.notices
    late_ok = grace(services)
    tz = services.settings.timezone
    runs: list[Run] = []
    for notice in await repo.due(now):
        planned = notice.next_run_at
        assert planned is not None
        if notice.recurring:
            latest = latest_missed(notice.repeat, notice.at_time or "07:00", tz, planned, now,
                                   weekdays=notice.weekdays, month_day=notice.month_day,
                                   end_date=notice.end_date)
            if now - latest <= late_ok:
                run = await fire(services, tx, notice, latest, now)
                runs += [run] if run else []
                continue
            notice.next_run_at = next_occurrence(
                notice.repeat, notice.at_time or "07:00", tz, now, weekdays=notice.weekdays,
                month_day=notice.month_day, end_date=notice.end_date)
            notice.status = "active" if notice.next_run_at else "done"
            notice.updated_at = now
            await repo.save(notice)
            await notify(tx, notice.author, say(
                "broadcast.missed_recurring", id=notice.id,
                at=format_local(latest, tz, notice.author_lang),
                next=format_local(notice.next_run_at, tz, notice.author_lang)
                if notice.next_run_at else "-"), now)
        elif now - planned <= late_ok:
            run = await fire(services, tx, notice, planned, now)
            runs += [run] if run else []
        else:
            notice.status, notice.next_run_at, notice.updated_at = "missed", None, now
            await repo.save(notice)
            await notify(tx, notice.author, say(
                "broadcast.missed_once", id=notice.id,
                at=format_local(planned, tz, notice.author_lang)), now)
    return runs


async def cancel(services: Services, tx: Tx, notice_id: int,
                 now: datetime) -> tuple[Notice | None, int]:
    """Cancel a notice: no more occurrences, and nothing more of a run in progress.
    Returns the notice as it now is and how many queued messages were stopped."""
    notice = await tx.notices.get(notice_id)  # read inside the write: never stale
    if notice is None:
        return None, 0
    stopped = 0
    for run in await tx.notices.runs_of(notice_id):
        if run.reported < 2:
            stopped += await tx.outbox.cancel_run(run.id, now)
    if notice.status in OPEN_STATUSES or stopped:
        notice.status, notice.next_run_at, notice.updated_at = "cancelled", None, now
        await tx.notices.save(notice)
    return notice, stopped


async def pause(services: Services, tx: Tx, notice_id: int,
                now: datetime) -> Notice | None:
    """Stop further occurrences until resumed (a run already going out is not held)."""
    notice = await tx.notices.get(notice_id)
    if notice is not None and notice.status == "active":
        notice.status, notice.updated_at = "paused", now
        await tx.notices.save(notice)
    return notice


async def resume(services: Services, tx: Tx, notice_id: int,
                 now: datetime) -> Notice | None:
    """Resume a paused notice from its next occurrence after now (missed ones are skipped;
    a one-off notice whose time passed too long ago is marked missed)."""
    notice = await tx.notices.get(notice_id)
    if notice is None or notice.status != "paused":
        return notice
    notice.status, notice.updated_at = "active", now
    if notice.recurring:
        notice.next_run_at = next_occurrence(
            notice.repeat, notice.at_time or "07:00", services.settings.timezone, now,
            weekdays=notice.weekdays, month_day=notice.month_day, end_date=notice.end_date,
            inclusive=True)
        if notice.next_run_at is None:
            notice.status = "done"
    elif notice.next_run_at is not None and now - notice.next_run_at > grace(services):
        notice.status, notice.next_run_at = "missed", None
    await tx.notices.save(notice)
    return notice
