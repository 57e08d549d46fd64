"""The moderators' desk for hoax reports: the queue of open cases with their local spread,
one case with its reports (never who sent them), holding a case, writing and publishing the
verdict, a clarification to the RWs where the claim spread, merge, split and mute.

    /moderasi ──► QUEUE (most reporters first, then most recent; 10 a page)
                    ──hx-case:<id>──► CASE ──hx-hold──► held by me (moderation.claim_minutes)
    CASE (held by me) ──hx-decide──► LABEL ──► EXPLANATION (typed) ──► SOURCES (typed, one
        URL a line; may be skipped for "belum") ──► PREVIEW ──📢──► published: N told
                                                      └─ the hold was lost: the draft stays,
                                                         "✋ Ambil lagi" holds it again
    CASE (held by me) ──hx-merge / hx-split / hx-mute──► done or why not
    CASE (published) ──hx-clarify──► a notice to the RWs, waiting for another moderator

Every command and button asks ``HoaxDesk.allowed`` first (moderators and admins; audited):
a resident or coordinator gets a refusal. Reporters are shown only as counts per area.
"""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass

from bot.broadcasting.schedule import format_local
from bot.callbacks import Callback
from bot.context import Context
from bot.events import Button, Media, Reply, Text, button, say, t
from bot.feature import Command, Feature, On, Who
from bot.flow import Flow, Step
from bot.hoax import service as svc
from bot.hoax.callbacks import (
    Clarify,
    Decide,
    Hold,
    Merge,
    Mute,
    OpenCase,
    Queue,
    Release,
    Split,
)
from bot.hoax.desk import HoaxDesk, Spread
from bot.menu import main_menu, menu_row
from db.repositories.hoax import VERDICTS, Case

PAGE = 10  # cases a page of the queue
REPORTS_SHOWN = 10  # reports listed on a case
EXPLANATION_LIMIT = 1500  # characters of an explanation (the notice body is cut at 3500)
SOURCES_MAX = 5  # source links a verdict
SOURCE_LIMIT = 300  # characters of one link
_URL = re.compile(r"https?://[^\s/]+\.[^\s/]+\S*", re.I)


@dataclass(frozen=True)
class QueuePage(Callback, prefix="hxm-page"):
    """Another page of the queue, from ``offset``."""

    offset: int


@dataclass(frozen=True)
class Label(Callback, prefix="hxm-label"):
    """The verdict's label, chosen on the LABEL step."""

    verdict: str


@dataclass(frozen=True)
class NoSource(Callback, prefix="hxm-nosrc"):
    """No source (only for "belum"), on the SOURCES step."""


@dataclass(frozen=True)
class PublishDraft(Callback, prefix="hxm-publish"):
    """Publish the draft, on the PREVIEW step."""


@dataclass(frozen=True)
class HoldAgain(Callback, prefix="hxm-regrab"):
    """Hold the case again (the hold expired while writing), on the PREVIEW step."""


# --- shared pieces ---------------------------------------------------------------------------


async def _refused(ctx: Context, detail: str) -> list[Reply] | None:
    """None if I may moderate; else the refusal (the check is audited)."""
    if await ctx.use(HoaxDesk).allowed(detail):
        return None
    if ctx.conv.flow == FLOW.name:
        ctx.conv.clear()
    return [_menu(ctx, "hoax.mod.not_moderator")]


def _menu(ctx: Context, key: str, **params: object) -> Reply:
    return main_menu(ctx, key, **params)


def _menu_row() -> list[Button]:
    return menu_row()


def _queue_row() -> list[Button]:
    return [button("hoax.mod.queue_button", Queue().pack())]


def _when(ctx: Context, at: object) -> Text:
    return format_local(at, ctx.services.settings.timezone)  # type: ignore[arg-type]


def _mine(ctx: Context, case: Case) -> bool:
    return case.claimed(ctx.services.clock.now()) and case.claimed_by == ctx.person.identity


def _holder(ctx: Context, case: Case) -> dict[str, object] | None:
    """Who holds the case now ("me" or "other", never a name) and until when."""
    if not case.claimed(ctx.services.clock.now()):
        return None
    return {"mine": case.claimed_by == ctx.person.identity,
            "until": _when(ctx, case.claimed_until)}


def _area_name(ctx: Context, code: str) -> Text:
    rt = ctx.areas.rt(code)
    if rt is not None:
        return t("hoax.mod.rt", number=rt.number)
    return ctx.areas.label(code) or t("hoax.mod.unknown_area")


def _spread(ctx: Context, spread: list[Spread]) -> list[Text]:
    """Reporters per RW ("RW 02: 5 (RT 03: 3, RT 01: 2)"), counts only."""
    return [t("hoax.mod.spread",
              rw=ctx.areas.label(s.rw_code) if ctx.areas.rw(s.rw_code)
              else t("hoax.mod.unknown_area"),
              reporters=s.reporters,
              rts=[{"rt": _area_name(ctx, code), "reporters": n}
                   for code, n in sorted(s.rts, key=lambda r: (-r[1], r[0]))])
            for s in spread]


def _short(text: str, limit: int = 100) -> str:
    return svc.snippet(text, limit)


# --- the queue -------------------------------------------------------------------------------


async def queue(ctx: Context, data: Queue | QueuePage | None = None) -> list[Reply]:
    """The open cases, most reporters first then the most recent, 10 a page."""
    ctx.conv.clear()
    if (refusal := await _refused(ctx, "queue")) is not None:
        return refusal
    desk = ctx.use(HoaxDesk)
    offset = data.offset if isinstance(data, QueuePage) else 0
    cases, total = await desk.queue(offset + PAGE)  # the desk pages from the top only
    page = cases[offset:offset + PAGE]
    if not page and offset:
        offset, page = 0, cases[:PAGE]
    if not page:
        return [_menu(ctx, "hoax.mod.queue_empty")]
    items = []
    for case in page:
        items.append({"id": case.id, "claim": _short(case.claim), "reporters": case.reporters,
                      "spread": _spread(ctx, await desk.spread(case.id)),
                      "first": _when(ctx, case.first_at), "last": _when(ctx, case.last_at),
                      "holder": _holder(ctx, case), "reopened": case.reopened_at is not None,
                      "photo": case.has_thumbnail})
    opens = [button("hoax.mod.open_button", OpenCase(c.id).pack(), id=c.id) for c in page]
    rows = [opens[i:i + 2] for i in range(0, len(opens), 2)]
    paging = []
    if offset:
        paging.append(button("hoax.mod.previous", QueuePage(max(offset - PAGE, 0)).pack()))
    if offset + PAGE < total:
        paging.append(button("hoax.mod.next", QueuePage(offset + PAGE).pack()))
    return [say("hoax.mod.queue", [*rows, paging, _menu_row()], items=items, total=total,
                start=offset + 1, end=offset + len(page))]


# --- one case --------------------------------------------------------------------------------


async def case_view(ctx: Context, case_id: int, heading: Text | None = None) -> list[Reply]:
    """A case as moderators see it: the claim (and its picture), reporters per area, when,
    similar cases, notes, the reports without their senders, and what I may do with it."""
    desk = ctx.use(HoaxDesk)
    case = await desk.case(case_id)
    if case is None:
        return [_menu(ctx, "hoax.mod.gone", id=case_id)]
    mine = _mine(ctx, case)
    holder = _holder(ctx, case)
    similar = await desk.similar(case) if case.status == "open" else []
    reports = await desk.reports(case.id)
    notes = await desk.notes(case.id) if case.reopened_at is not None else []
    shown = reports[:REPORTS_SHOWN]
    params = dict(
        heading=heading, id=case.id, asked=case_id, claim=case.claim, status=case.status,
        label=t(f"hoax.label.{case.verdict}") if case.verdict in VERDICTS else None,
        published=_when(ctx, case.published_at) if case.published_at else None,
        reporters=case.reporters, spread=_spread(ctx, await desk.spread(case.id)),
        first=_when(ctx, case.first_at), last=_when(ctx, case.last_at), holder=holder,
        minutes=ctx.services.settings.hoax.claim_minutes,
        reopened=case.reopened_at is not None,
        notes=[{"text": _short(n.text, 300), "at": _when(ctx, n.created_at)} for n in notes],
        similar=[{"id": other.id, "score": round(found.score * 100), "claim": _short(
            other.claim, 80), "published": other.status == "published"}
            for found, other in similar],
        reports=[{"n": i, "area": ctx.areas.label(r.area_code) or t("hoax.mod.unknown_area"),
                  "at": _when(ctx, r.created_at), "text": _short(r.text, 120),
                  "photo": bool(r.photo_hash)} for i, r in enumerate(shown, 1)],
        more=len(reports) - len(shown))
    rows: list[list[Button]] = []
    if case.status == "open":
        if mine:
            rows.append([button("hoax.mod.decide_button", Decide(case.id).pack()),
                         button("hoax.mod.release_button", Release(case.id).pack())])
            rows += [[button("hoax.mod.merge_button", Merge(case.id, other.id).pack(),
                             id=other.id)] for _, other in similar]
            for i, r in enumerate(shown, 1):
                row = [button("hoax.mod.mute_button", Mute(r.id, "7").pack(), n=i)]
                if len(reports) > 1:
                    row.insert(0, button("hoax.mod.split_button", Split(case.id, r.id).pack(),
                                         n=i))
                rows.append(row)
        elif holder is None:
            rows.append([button("hoax.mod.hold_button", Hold(case.id).pack())])
    elif case.status == "published":
        rows.append([button("hoax.mod.clarify_button", Clarify(case.id).pack())])
    rows += [[button("hoax.mod.open_button", OpenCase(s["id"]).pack(), id=s["id"])
              for s in params["similar"]]] if not mine else []  # type: ignore[union-attr,index]
    rows += [_queue_row(), _menu_row()]
    replies = []
    if case.has_thumbnail:
        picture = await desk.thumbnail(case.id)
        if picture:
            replies.append(Reply(t("hoax.mod.photo_caption", id=case.id),
                                 media=Media("photo", name=f"kasus-{case.id}.jpg",
                                             data=picture)))
    replies.append(say("hoax.mod.case", rows, **params))
    return replies


async def on_open(ctx: Context, data: OpenCase) -> list[Reply]:
    ctx.conv.clear()
    if (refusal := await _refused(ctx, f"open case {data.case}")) is not None:
        return refusal
    return await case_view(ctx, data.case)


async def on_hold(ctx: Context, data: Hold) -> list[Reply]:
    """Hold a case to work on it (one moderator at a time; it expires)."""
    if (refusal := await _refused(ctx, f"hold case {data.case}")) is not None:
        return refusal
    desk = ctx.use(HoaxDesk)
    current = await desk.case(data.case)
    if current is None:
        return [_menu(ctx, "hoax.mod.gone", id=data.case)]
    held = await desk.hold(current.id)
    if held is not None:
        return await case_view(ctx, held.id, t("hoax.mod.holding", id=held.id,
                                                until=_when(ctx, held.claimed_until)))
    return await case_view(ctx, current.id, await _why_not_held(ctx, current.id))


async def _why_not_held(ctx: Context, case_id: int) -> Text:
    case = await ctx.use(HoaxDesk).case(case_id)
    if case is None or case.status != "open":
        return t("hoax.mod.not_open", id=case_id,
                 status=case.status if case else "")
    if case.claimed(ctx.services.clock.now()) and case.claimed_by != ctx.person.identity:
        return t("hoax.mod.held_by_other", id=case.id, until=_when(ctx, case.claimed_until),
                 minutes=ctx.services.settings.hoax.claim_minutes)
    return t("hoax.mod.hold_failed", id=case.id)


async def on_release(ctx: Context, data: Release) -> list[Reply]:
    if (refusal := await _refused(ctx, f"release case {data.case}")) is not None:
        return refusal
    desk = ctx.use(HoaxDesk)
    case = await desk.case(data.case)
    if case is None:
        return [_menu(ctx, "hoax.mod.gone", id=data.case)]
    if not _mine(ctx, case):
        return [say("hoax.mod.not_holding", [[button("hoax.mod.back_to_case",
                                                     OpenCase(case.id).pack(), id=case.id)],
                                             _queue_row(), _menu_row()], id=case.id)]
    desk.release(case.id)
    if ctx.conv.flow == FLOW.name:
        ctx.conv.clear()
    return [say("hoax.mod.released", [_queue_row(), _menu_row()], id=case.id)]


# --- merge, split, mute, clarify -------------------------------------------------------------


async def on_merge(ctx: Context, data: Merge) -> list[Reply]:
    if (refusal := await _refused(ctx, f"merge case {data.case} into {data.into}")) is not None:
        return refusal
    desk = ctx.use(HoaxDesk)
    case = await desk.case(data.case)
    if case is None:
        return [_menu(ctx, "hoax.mod.gone", id=data.case)]
    if not _mine(ctx, case):
        return await case_view(ctx, case.id, t("hoax.mod.hold_first", id=case.id))
    if not await desk.merge(case.id, data.into):
        return await case_view(ctx, case.id, t("hoax.mod.merge_failed", id=case.id,
                                                into=data.into))
    target = await desk.case(data.into)
    into = target.id if target else data.into
    return [say("hoax.mod.merged",
                [[button("hoax.mod.open_button", OpenCase(into).pack(), id=into)],
                 _queue_row(), _menu_row()],
                id=case.id, into=into, published=bool(target and target.status == "published"))]


async def on_split(ctx: Context, data: Split) -> list[Reply]:
    if (refusal := await _refused(ctx, f"split report {data.report} of case {data.case}")
            ) is not None:
        return refusal
    desk = ctx.use(HoaxDesk)
    case = await desk.case(data.case)
    if case is None:
        return [_menu(ctx, "hoax.mod.gone", id=data.case)]
    if not _mine(ctx, case):
        return await case_view(ctx, case.id, t("hoax.mod.hold_first", id=case.id))
    new = await desk.split(case.id, data.report)
    if new is None:
        return await case_view(ctx, case.id, t("hoax.mod.split_failed", id=case.id))
    return [say("hoax.mod.split_done",
                [[button("hoax.mod.open_button", OpenCase(new).pack(), id=new),
                  button("hoax.mod.open_button", OpenCase(case.id).pack(), id=case.id)],
                 _queue_row(), _menu_row()], id=case.id, new=new)]


async def on_mute(ctx: Context, data: Mute) -> list[Reply]:
    """Mute the person behind a report (the moderator never learns who)."""
    if (refusal := await _refused(ctx, f"mute report {data.report}")) is not None:
        return refusal
    until = await ctx.use(HoaxDesk).mute(data.report, int(data.days))
    if until is None:
        return [say("hoax.mod.mute_failed", [_queue_row(), _menu_row()])]
    return [say("hoax.mod.muted", [_queue_row(), _menu_row()], days=int(data.days),
                until=_when(ctx, until))]


async def on_clarify(ctx: Context, data: Clarify) -> list[Reply]:
    """Send the published verdict as a notice to the RWs where it spread (approved by
    another moderator, held by quiet hours like any notice)."""
    if (refusal := await _refused(ctx, f"clarify case {data.case}")) is not None:
        return refusal
    desk = ctx.use(HoaxDesk)
    case = await desk.case(data.case)
    if case is None:
        return [_menu(ctx, "hoax.mod.gone", id=data.case)]
    rows = [[button("hoax.mod.back_to_case", OpenCase(case.id).pack(), id=case.id)],
            _queue_row(), _menu_row()]
    if case.status != "published":
        return [say("hoax.mod.clarify_not_published", rows, id=case.id)]
    notice = await desk.clarify(case.id)
    if notice is None:
        return [say("hoax.mod.clarify_no_area", rows, id=case.id)]
    areas = list(getattr(notice, "areas", ()))
    return [say("hoax.mod.clarify_sent", rows, id=case.id, notice=getattr(notice, "id", None),
                areas=[ctx.areas.label(code) or code for code in areas])]


# --- the verdict -----------------------------------------------------------------------------


async def on_decide(ctx: Context, data: Decide) -> list[Reply]:
    """Start writing the verdict of a case I hold."""
    if (refusal := await _refused(ctx, f"decide case {data.case}")) is not None:
        return refusal
    case = await ctx.use(HoaxDesk).case(data.case)
    if case is None:
        return [_menu(ctx, "hoax.mod.gone", id=data.case)]
    if case.status != "open":
        return await case_view(ctx, case.id, t("hoax.mod.not_open", id=case.id,
                                                status=case.status))
    if not _mine(ctx, case):
        return await case_view(ctx, case.id, t("hoax.mod.hold_first", id=case.id))
    FLOW.start(ctx, "label", case=case.id, claim=_short(case.claim, 200))
    return [await FLOW.ask(ctx)]


def _draft(ctx: Context) -> tuple[int, str, str, list[str]]:
    data = ctx.conv.data
    return (int(data.get("case", 0)), str(data.get("verdict", "")),
            str(data.get("explanation", "")), list(data.get("sources", [])))


def ask_label(ctx: Context) -> Reply:
    labels = [button(f"hoax.label.{v}", Label(v).pack()) for v in VERDICTS]
    return say("hoax.mod.ask_label", [labels[:2], labels[2:4], labels[4:],
                                      FLOW.cancel_row()],
               id=ctx.conv.data.get("case"), claim=ctx.conv.data.get("claim", ""))


async def on_label(ctx: Context, data: Label) -> list[Reply]:
    if (refusal := await _refused(ctx, f"label case {ctx.conv.data.get('case')}")) is not None:
        return refusal
    if "hoax.mod.bad_label" in svc.problems(data.verdict, "", []):
        return await FLOW.again(ctx, "hoax.mod.bad_label")
    ctx.conv.data["verdict"] = data.verdict
    return await FLOW.go(ctx, "explanation")


def ask_explanation(ctx: Context) -> Reply:
    return say("hoax.mod.ask_explanation", [FLOW.back_row(ctx), FLOW.cancel_row()],
               label=t(f"hoax.label.{ctx.conv.data.get('verdict', 'belum')}"),
               limit=EXPLANATION_LIMIT)


async def take_explanation(ctx: Context) -> list[Reply]:
    text = ctx.event.text.strip()
    if len(text) > EXPLANATION_LIMIT:
        return await FLOW.again(ctx, "hoax.mod.explanation_long", limit=EXPLANATION_LIMIT,
                                over=len(text) - EXPLANATION_LIMIT)
    _, verdict, _, _ = _draft(ctx)
    if "hoax.mod.bad_explanation" in svc.problems(verdict, text, []):
        return await FLOW.again(ctx, "hoax.mod.bad_explanation")
    ctx.conv.data["explanation"] = text
    return await FLOW.go(ctx, "sources")


def ask_sources(ctx: Context) -> Reply:
    verdict = str(ctx.conv.data.get("verdict", ""))
    optional = verdict not in svc.NEEDS_SOURCE
    rows = [[button("hoax.mod.no_source", NoSource().pack())]] if optional else []
    return say("hoax.mod.ask_sources", [*rows, FLOW.back_row(ctx), FLOW.cancel_row()],
               optional=optional, most=SOURCES_MAX)


async def take_sources(ctx: Context) -> list[Reply]:
    lines = [line.strip() for line in ctx.event.text.splitlines() if line.strip()]
    bad = [line for line in lines if len(line) > SOURCE_LIMIT or not _URL.fullmatch(line)]
    if bad:
        return await FLOW.again(ctx, "hoax.mod.bad_sources", lines=[_short(b, 80) for b in bad])
    if len(lines) > SOURCES_MAX:
        return await FLOW.again(ctx, "hoax.mod.too_many_sources", most=SOURCES_MAX)
    return await _sources_taken(ctx, lines)


async def on_no_source(ctx: Context, _: NoSource) -> list[Reply]:
    return await _sources_taken(ctx, [])


async def _sources_taken(ctx: Context, sources: list[str]) -> list[Reply]:
    _, verdict, _, _ = _draft(ctx)
    if "hoax.mod.needs_source" in svc.problems(verdict, "", sources):
        return await FLOW.again(ctx, "hoax.mod.needs_source")
    ctx.conv.data["sources"] = sources
    return await FLOW.go(ctx, "preview")


async def ask_preview(ctx: Context) -> Reply:
    """Exactly what reporters will get, and whether I still hold the case."""
    case_id, verdict, explanation, sources = _draft(ctx)
    case = await ctx.use(HoaxDesk).case(case_id)
    now = ctx.services.clock.now()
    if case is None:
        return say("hoax.mod.gone", [FLOW.cancel_row()], id=case_id)
    draft = dataclasses.replace(case, verdict=verdict, explanation=explanation,
                                sources=tuple(sources), status="published", published_at=now)
    mine = _mine(ctx, case)
    rows = [[button("hoax.mod.publish_button", PublishDraft().pack())]] if mine else \
        [[button("hoax.mod.hold_again", HoldAgain().pack())]]
    return say("hoax.mod.preview", [*rows, FLOW.back_row(ctx), FLOW.cancel_row()],
               id=case.id, verdict=t("hoax.verdict", **svc.verdict_params(ctx.services, draft)),
               reporters=case.reporters, mine=mine,
               until=_when(ctx, case.claimed_until) if mine else None,
               holder=_holder(ctx, case))


async def on_hold_again(ctx: Context, _: HoldAgain) -> list[Reply]:
    case_id = int(ctx.conv.data.get("case", 0))
    if (refusal := await _refused(ctx, f"hold case {case_id}")) is not None:
        return refusal
    if await ctx.use(HoaxDesk).hold(case_id) is None:
        return [Reply(await _why_not_held(ctx, case_id)), await FLOW.ask(ctx)]
    return [await FLOW.ask(ctx)]


_STEP_OF = {"hoax.mod.bad_label": "label", "hoax.mod.bad_explanation": "explanation",
            "hoax.mod.needs_source": "sources"}


async def on_publish(ctx: Context, _: PublishDraft) -> list[Reply]:
    case_id, verdict, explanation, sources = _draft(ctx)
    if (refusal := await _refused(ctx, f"publish case {case_id}")) is not None:
        return refusal
    found = svc.problems(verdict, explanation, sources)
    if found:
        replies = [say(key) for key in found]
        return replies + await FLOW.go(ctx, _STEP_OF.get(found[0], "label"))
    desk = ctx.use(HoaxDesk)
    told = await desk.publish(case_id, verdict, explanation, sources)
    if told is None:
        case = await desk.case(case_id)
        if case is None or case.status != "open":
            ctx.conv.clear()
            rows = [[button("hoax.mod.back_to_case", OpenCase(case.id).pack(), id=case.id)]
                    ] if case else []
            return [say("hoax.mod.published_by_other", [*rows, _queue_row(), _menu_row()],
                        id=case_id)]
        return [say("hoax.mod.publish_lost", id=case_id), await FLOW.ask(ctx)]
    ctx.conv.clear()
    return [say("hoax.mod.published",
                [[button("hoax.mod.clarify_button", Clarify(case_id).pack())],
                 [button("hoax.mod.back_to_case", OpenCase(case_id).pack(), id=case_id)],
                 _queue_row(), _menu_row()],
                id=case_id, told=told, label=t(f"hoax.label.{verdict}"))]


async def _cancelled(ctx: Context) -> list[Reply]:
    return [say("hoax.mod.draft_cancelled", [_queue_row(), _menu_row()])]


FLOW = Flow("hoax_verdict", {
    "label": Step(ask=ask_label),
    "explanation": Step(ask=ask_explanation, typed=take_explanation, back="label"),
    "sources": Step(ask=ask_sources, typed=take_sources, back="explanation"),
    "preview": Step(ask=ask_preview, back="sources"),
}, on_cancel=_cancelled, first="label")

FEATURE = Feature(
    "hoax_desk",
    commands=(Command("moderasi", queue, alias="moderate", who=Who.STAFF),),
    buttons=(
        On(Queue, queue), On(QueuePage, queue), On(OpenCase, on_open), On(Hold, on_hold),
        On(Release, on_release), On(Decide, on_decide), On(Merge, on_merge),
        On(Split, on_split), On(Mute, on_mute), On(Clarify, on_clarify),
        On(Label, on_label, FLOW.name, ("label",)),
        On(NoSource, on_no_source, FLOW.name, ("sources",)),
        On(PublishDraft, on_publish, FLOW.name, ("preview",)),
        On(HoldAgain, on_hold_again, FLOW.name, ("preview",)),
    ),
    flows=(FLOW,),
)
