"""/hoaks (/hoax) and /cekfakta (/factcheck): a resident reports a suspicious message and
hears what became of it; anyone reads and searches the fact-check library.

    /hoaks ──► PIECE (text, a link, a photo with or without caption)
                 ├─ published case ──► the verdict at once
                 ├─ open case ──► "N other residents reported this too"; the verdict later
                 ├─ no match ──► a new case for the moderators; the verdict later
                 └─ reported before ──► the verdict later (or now, if published)
               pieces within ``PIECES_WITHIN`` of the report join it ("➕ added");
               a piece after that is a new report (the step stays open)
    /cekfakta [words] ──► LIBRARY (latest verdicts, "more"; typed words search)
                            └─hx-show:<case>──► the verdict
    verdict ──hx-more:<case>──► NOTE (typed) ──► the case is reopened for the moderators

Reports and notes are limited (``HoaxDesk.limit``: muted by a moderator, or over
``hoax.reports_per_hour``). Reporting needs the person's consent (it keeps who reported until
the verdict reached them); reading the library does not, so /cekfakta works before
onboarding. The moderators' side is another module (``/moderasi``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from bot.broadcasting.schedule import format_date, format_local
from bot.callbacks import Callback
from bot.context import Context
from bot.events import Button, Kind, Reply, button, say, t
from bot.feature import Command, Feature, MenuItem, On, Who
from bot.flow import Flow, Step
from bot.hoax import service as svc
from bot.hoax.callbacks import MoreInfo, Verdict
from bot.hoax.desk import HoaxDesk, Limit, Photo
from bot.menu import OpenItem, main_menu, menu_row
from db.repositories.hoax import Case

FLOW_NAME = "hoax"
LIBRARY_FLOW = "factcheck"
PAGE = 5  # verdicts a page of the library shows
NOTE_MAX = 1000  # characters of a note on a verdict


@dataclass(frozen=True)
class Library(Callback, prefix="hx-list"):
    """The fact-check library from the ``offset``-th latest verdict."""

    offset: int


# --- shared ------------------------------------------------------------------------------


def _answer_rows() -> list[list[Button]]:
    """Report another, check facts, menu: under every answer to a report."""
    return [[button("hoax.report_another", OpenItem("hoaks").pack()),
             button("hoax.factcheck_button", OpenItem("cekfakta").pack())], menu_row()]


def _with_rows(reply: Reply, rows: list[list[Button]]) -> Reply:
    return Reply(reply.text, reply.buttons + tuple(tuple(r) for r in rows if r), reply.media)


def _limit_reply(ctx: Context, limit: Limit) -> Reply:
    if limit.reason == "muted" and limit.until is not None:
        return main_menu(ctx, "hoax.muted",
                         until=format_local(limit.until, ctx.services.settings.timezone))
    return main_menu(ctx, "hoax.rate_limited",
                     per_hour=ctx.services.settings.hoax.reports_per_hour)


async def _needs_consent(ctx: Context) -> list[Reply] | None:
    """Reporting keeps who reported (to tell them the verdict): consent first."""
    if ctx.person.consented:
        return None
    from bot.handlers import onboarding

    return await onboarding.join(ctx)


def _verdict(ctx: Context, case: Case) -> Reply:
    return svc.verdict_reply(ctx.services, case)


# --- /hoaks: a report --------------------------------------------------------------------


async def start(ctx: Context) -> list[Reply]:
    """Ask for the suspicious message (a fresh report)."""
    refused = await _needs_consent(ctx)
    if refused is not None:
        return refused
    limit = await ctx.use(HoaxDesk).limit()
    if limit is not None:
        ctx.conv.clear()
        return [_limit_reply(ctx, limit)]
    FLOW.start(ctx, "piece")
    return [await FLOW.ask(ctx)]


def ask_piece(ctx: Context) -> Reply:
    if ctx.conv.data.get("case"):  # after an answer: ready for another report
        return say("hoax.ask_next", _answer_rows())
    return say("hoax.ask", [FLOW.cancel_row()])


def _is_photo(ctx: Context) -> bool:
    event = ctx.event
    return event.media_type == "photo" or (
        event.media_type == "document" and event.media_mime.startswith("image/"))


def _within(ctx: Context, now: datetime) -> bool:
    """Whether this piece belongs to the report just made."""
    at = ctx.conv.data.get("at")
    return bool(at) and now - datetime.fromisoformat(at) <= svc.PIECES_WITHIN


async def take_piece(ctx: Context) -> list[Reply]:
    """A piece of the suspicious message: a new report, or part of the one just made."""
    desk = ctx.use(HoaxDesk)
    event, data = ctx.event, ctx.conv.data
    now = ctx.services.clock.now()
    joins = _within(ctx, now)
    limit = await desk.limit()
    if limit is not None and (limit.reason == "muted" or not joins):
        ctx.conv.clear()
        return [_limit_reply(ctx, limit)]
    text = event.text.strip()
    photo: Photo | None = None
    notes: list[Reply] = []
    if event.kind == Kind.MEDIA:
        if not _is_photo(ctx):
            return await FLOW.again(ctx, "hoax.text_or_photo")
        photo = await desk.photo()
        if photo is None:
            if not text:
                return await FLOW.again(ctx, "hoax.photo_unreadable")
            notes.append(say("hoax.photo_unreadable_caption"))
    if not text and photo is None:
        return [await FLOW.ask(ctx)]
    if len(text) > svc.MAX_TEXT:
        text = text[:svc.MAX_TEXT]
        notes.append(say("hoax.cut", limit=svc.MAX_TEXT))
    if joins:
        if data.get("report"):
            await desk.extend(data["report"], data["case"], text, photo)
        return [*notes, say("hoax.added", _answer_rows())]
    received = await desk.report(text, photo)
    ctx.conv.data.update(case=received.case.id, report=received.report_id,
                         at=now.isoformat())
    return [*notes, _answer(ctx, received)]


def _answer(ctx: Context, received: svc.Received) -> Reply:
    case, rows = received.case, _answer_rows()
    if received.outcome == "published" or (received.outcome == "already"
                                           and case.status == "published"):
        return _with_rows(_verdict(ctx, case), rows)
    if received.outcome == "open":
        return say("hoax.answer_open", rows, id=case.id, others=received.others)
    if received.outcome == "already":
        return say("hoax.answer_already", rows, id=case.id, others=received.others)
    return say("hoax.answer_new", rows, id=case.id)


# --- "I have more information" -------------------------------------------------------------


async def on_more_info(ctx: Context, data: MoreInfo) -> list[Reply] | None:
    """Ask for the note on a verdict."""
    refused = await _needs_consent(ctx)
    if refused is not None:
        return refused
    desk = ctx.use(HoaxDesk)
    case = await desk.case(data.case)
    if case is None:
        return None
    limit = await desk.limit()
    if limit is not None:
        ctx.conv.clear()
        return [_limit_reply(ctx, limit)]
    FLOW.start(ctx, "note", note_case=case.id)
    return [await FLOW.ask(ctx)]


def ask_note(ctx: Context) -> Reply:
    return say("hoax.ask_note", [FLOW.cancel_row()], max=NOTE_MAX)


async def take_note(ctx: Context) -> list[Reply]:
    text = ctx.event.text.strip()
    if len(text) > NOTE_MAX:
        return await FLOW.again(ctx, "hoax.note_too_long", length=len(text), max=NOTE_MAX)
    desk = ctx.use(HoaxDesk)
    limit = await desk.limit()
    if limit is not None:
        ctx.conv.clear()
        return [_limit_reply(ctx, limit)]
    desk.add_note(int(ctx.conv.data["note_case"]), text)
    ctx.conv.clear()
    return [main_menu(ctx, "hoax.note_thanks")]


async def cancelled(ctx: Context) -> list[Reply]:
    return [main_menu(ctx, "hoax.cancelled")]


# --- /cekfakta: the library ---------------------------------------------------------------


def _item(ctx: Context, n: int, case: Case) -> dict[str, object]:
    # examples of the seed library are dated by month in their explanation: no day here
    day = case.published_at.astimezone(ctx.services.settings.timezone).date().isoformat() \
        if case.published_at and not case.example else ""
    return dict(n=n, label=t(f"hoax.label.{case.verdict or 'belum'}"),
                claim=svc.snippet(case.claim, 120), date=format_date(day) if day else "",
                example=case.example)


def _item_rows(cases: list[Case], first: int) -> list[list[Button]]:
    return [[button("hoax.item_button", Verdict(c.id).pack(), n=first + i,
                    claim=svc.snippet(c.claim, 40), example=c.example)]
            for i, c in enumerate(cases)]


def _library_rows(ctx: Context) -> list[list[Button]]:
    rows = [[button("hoax.report_button", OpenItem("hoaks").pack())], menu_row()]
    return rows if ctx.person.consented else rows[1:]


async def ask_library(ctx: Context) -> Reply:
    """The latest verdicts from the offset kept in the flow, or the last search's results."""
    desk, data = ctx.use(HoaxDesk), ctx.conv.data
    words = data.get("words", "")
    if words:
        found = await desk.search(words, PAGE)
        if not found:
            return say("hoax.search_none", _library_rows(ctx), words=words)
        return say("hoax.search_results",
                   [*_item_rows(found, 1), *_library_rows(ctx)], words=words,
                   items=[_item(ctx, i + 1, c) for i, c in enumerate(found)])
    offset = int(data.get("offset", 0))
    cases = await desk.published(PAGE + 1, offset)
    more, cases = len(cases) > PAGE, cases[:PAGE]
    if not cases:
        return say("hoax.library_empty", _library_rows(ctx), offset=offset)
    rows = _item_rows(cases, offset + 1)
    if more:
        rows.append([button("hoax.more_button", Library(offset + PAGE).pack())])
    return say("hoax.library", [*rows, *_library_rows(ctx)], offset=offset,
               items=[_item(ctx, offset + i + 1, c) for i, c in enumerate(cases)])


async def library(ctx: Context) -> list[Reply]:
    """The latest verdicts, or the verdicts matching the words after the command."""
    words = " ".join(ctx.event.args.split()) if ctx.event.kind == Kind.COMMAND else ""
    LIBRARY.start(ctx, "list", words=words, offset=0)
    return [await LIBRARY.ask(ctx)]


async def on_library(ctx: Context, data: Library) -> list[Reply]:
    LIBRARY.start(ctx, "list", words="", offset=data.offset)
    return [await LIBRARY.ask(ctx)]


async def take_words(ctx: Context) -> list[Reply]:
    """Words typed at the library: search."""
    ctx.conv.data.update(words=" ".join(ctx.event.text.split())[:200], offset=0)
    return [await LIBRARY.ask(ctx)]


async def on_verdict(ctx: Context, data: Verdict) -> list[Reply] | None:
    """One verdict of the library, in full."""
    case = await ctx.use(HoaxDesk).case(data.case)
    if case is None:
        return None
    back = [[button("hoax.library_button", Library(0).pack())], menu_row()]
    if case.status != "published":
        return [say("hoax.under_review", back, id=case.id)]
    return [_with_rows(_verdict(ctx, case), back)]


FLOW = Flow(FLOW_NAME, {
    "piece": Step(ask=ask_piece, typed=take_piece, media=True),
    "note": Step(ask=ask_note, typed=take_note),
}, on_cancel=cancelled, first="piece")

LIBRARY = Flow(LIBRARY_FLOW, {
    "list": Step(ask=ask_library, typed=take_words),
}, first="list")

# two features, because a feature has one main-menu item: the library, and the report
FACTCHECK = Feature(
    "factcheck",
    commands=(Command("cekfakta", library, alias="factcheck", who=Who.EVERYONE,
                      public=True),),
    buttons=(On(Verdict, on_verdict), On(Library, on_library)),
    flows=(LIBRARY,),
    menu=MenuItem(50, "menu.factcheck", "cekfakta"),
)
FEATURE = Feature(
    "hoax",
    commands=(Command("hoaks", start, alias="hoax", public=True),),
    buttons=(On(MoreInfo, on_more_info),),
    flows=(FLOW,),
    menu=MenuItem(40, "menu.hoax", "hoaks"),
)
