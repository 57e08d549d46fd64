"""The feature registry, typed button data, shared flows and the module boundaries."""

from __future__ import annotations

import ast
import dataclasses
from dataclasses import dataclass
from pathlib import Path

import pytest

from bot import callbacks
from bot.callbacks import Callback, CallbackError, decode
from bot.context import Context, Services
from bot.events import Reply, button, say
from bot.feature import Catalog, CatalogError, Command, Feature, On
from bot.flow import Flow, Step
from bot.registry import FEATURES, catalog
from tests.chat import Chat

ROOT = Path(__file__).resolve().parent.parent


# --- typed button data -----------------------------------------------------------------------


def _example(kind: type[Callback]) -> Callback:
    """One instance of ``kind`` with the longest values its fields accept."""
    values = {}
    for name, field_type in kind._spec():
        args = getattr(field_type, "__args__", None)
        if args:
            values[name] = max(args, key=len)
        elif field_type is int:
            values[name] = 999_999_999_999
        else:
            values[name] = "cimuncang-rw02-rt03"
    return kind(**values)


@pytest.mark.parametrize("kind", sorted(callbacks.kinds().values(), key=lambda k: k.prefix),
                         ids=lambda k: k.prefix)
def test_every_button_kind_round_trips_within_64_bytes(kind: type[Callback]) -> None:
    data = _example(kind)
    payload = data.pack()
    assert len(payload.encode()) <= 64
    assert decode(payload) == data


@pytest.mark.parametrize("payload", [
    "", "topic", "topic:", "topic:a:b", "lang:fr", "bc:cancel!:²", "bc:cancel!:-1",
    "rt:cimuncang-rw01-rt01'; DROP TABLE person;--", "del:yes", "nothing:at:all",
    "mod:ok:" + "9" * 13, "x" * 65,
])
def test_forged_or_malformed_data_decodes_to_nothing(payload: str) -> None:
    assert decode(payload) is None


def test_data_that_cannot_be_sent_is_refused_when_built() -> None:
    @dataclass(frozen=True)
    class Toy(Callback, prefix="test:toy"):
        word: str

    with pytest.raises(CallbackError):
        Toy("has space").pack()
    with pytest.raises(CallbackError):
        Toy("x" * 60).pack()  # over 64 bytes with its prefix


# --- the catalog -----------------------------------------------------------------------------


def test_the_registry_has_one_command_per_name_and_every_menu_item_runs_one() -> None:
    found = catalog()
    names = [n for f in FEATURES for c in f.commands for n in (c.name, c.alias) if n]
    assert len(names) == len(set(names))
    assert [i.command for i in found.menu_items] == [
        "info", "gejala", "relawan", "hoaks", "cekfakta", "pengumuman", "darurat", "pengaturan"]
    public = [(c.name, c.alias) for c in found.public_commands()]
    assert ("siaran", "broadcast") not in public and ("hapusdata", "deletemydata") in public


def test_a_button_cannot_name_a_step_its_flow_does_not_have() -> None:
    @dataclass(frozen=True)
    class Typo(Callback, prefix="test:typo"):
        pass

    async def press(ctx: Context, data: Typo) -> list[Reply]:
        return []

    flow = Flow("typo", {"one": Step(ask=lambda ctx: say("raw", value="?"))})
    with pytest.raises(CatalogError):
        Catalog([Feature("typo", buttons=(On(Typo, press, "typo", ("onne",)),), flows=(flow,))])
    astray = Flow("astray", {"one": Step(ask=lambda ctx: say("raw", value="?"), next="two")})
    with pytest.raises(CatalogError):
        Catalog([Feature("astray", flows=(astray,))])


def test_two_features_cannot_claim_one_command() -> None:
    async def nothing(ctx: Context) -> list[Reply]:
        return []

    twice = (Feature("a", commands=(Command("sama", nothing),)),
             Feature("b", commands=(Command("lain", nothing, alias="sama"),)))
    with pytest.raises(CatalogError):
        Catalog(twice)


def test_the_router_and_the_menu_name_no_feature() -> None:
    for module in ("bot/router.py", "bot/menu.py", "bot/core.py", "bot/flow.py"):
        tree = ast.parse((ROOT / module).read_text())
        imported = {n.module for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)}
        assert not {m for m in imported if m and m.startswith("bot.handlers")}, module


# --- module boundaries -----------------------------------------------------------------------


def _imports(path: Path) -> set[str]:
    """Every module ``path`` imports, anywhere in the file except under TYPE_CHECKING."""
    tree = ast.parse(path.read_text())
    skip = {id(n) for node in ast.walk(tree) if isinstance(node, ast.If)
            and "TYPE_CHECKING" in ast.unparse(node.test) for n in ast.walk(node)}
    found = set()
    for node in ast.walk(tree):
        if id(node) in skip:
            continue
        if isinstance(node, ast.Import):
            found |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
            found |= {f"{node.module}.{a.name}" for a in node.names}
    return found


def _modules(*folders: str) -> dict[str, Path]:
    out = {}
    for folder in folders:
        for path in (ROOT / folder).rglob("*.py"):
            name = ".".join(path.relative_to(ROOT).with_suffix("").parts)
            out[name.removesuffix(".__init__")] = path
    return out


def test_handlers_reach_no_repository_or_connection_and_only_db_imports_the_driver() -> None:
    for name, path in _modules("bot").items():
        imported = _imports(path)
        if name.startswith("bot.handlers"):  # the records (dataclasses) are fine to name
            assert not {m for m in imported if m in {"db.store", "db.database"}
                        or (m.startswith("db.") and m.endswith("Repo"))}, name
        assert not {m for m in imported if m.split(".")[0] == "aiosqlite"}, name
        channel_libs = {m for m in imported if m.split(".")[0] in {"telegram", "pywa"}}
        assert not channel_libs or name.startswith("bot.channels"), name


def test_there_are_no_import_cycles() -> None:
    modules = _modules("bot", "db", "bench")
    graph = {name: {m for m in _imports(path) if m in modules and m != name}
             for name, path in modules.items()}
    for name in graph:  # a package imports its __init__; that is not a cycle
        graph[name] = {m for m in graph[name] if not name.startswith(m + ".")}
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> None:
        state[node] = 1
        stack.append(node)
        for nxt in graph[node]:
            if state.get(nxt) == 1:
                cycle = [*stack[stack.index(nxt):], nxt]
                raise AssertionError("import cycle: " + " -> ".join(cycle))
            if nxt not in state:
                visit(nxt)
        stack.pop()
        state[node] = 2

    for node in sorted(graph):
        if node not in state:
            visit(node)


# --- flows and buttons as a person meets them ------------------------------------------------


async def test_a_forged_button_is_answered_before_any_handler_runs(services: Services,
                                                                   monkeypatch) -> None:
    chat = Chat(services, "forger")
    await chat.register()
    called = []
    real = Catalog.handler_for

    def spy(self: Catalog, data: Callback, ctx: Context) -> On | None:
        called.append(data)
        return real(self, data, ctx)

    monkeypatch.setattr(Catalog, "handler_for", spy)
    for payload in ("bc:cancel!:²", "set:everything", "mod:ok:1:2", "topic:../etc"):
        texts = await chat.forge(payload)
        assert "Tombol itu sudah tidak berlaku" in texts[0]
    assert called == []


async def test_a_button_of_another_step_re_asks_the_current_question(services: Services
                                                                    ) -> None:
    chat = Chat(services, "langkah")
    await chat.send("/start")
    await chat.press("Bahasa Indonesia")  # now on the consent step
    texts = await chat.forge("rt:cimuncang-rw02-rt03")  # the RT step's button, too early
    assert "sudah tidak berlaku" in texts[0]
    assert "✅ Setuju" in chat.labels  # the consent question again


async def test_back_and_cancel_behave_the_same_in_every_flow(services: Services) -> None:
    chat = Chat(services, "kembali")
    await chat.register()
    await chat.send("/pengaturan")
    await chat.press("Ganti RT")
    await chat.press("Cimuncang")
    await chat.press("RW 01")
    await chat.press("Kembali")  # RT step -> RW step
    assert "RW 01" in chat.labels and "RT 01" not in chat.labels
    await chat.press("Kembali")  # RW step -> kelurahan step
    assert any("Cimuncang" in label for label in chat.labels)
    await chat.send("stiker?")
    assert "pilih salah satu tombol" in chat.texts[0]  # typed text: the question again
    await chat.send("/tidakada")
    assert "/tidakada" in chat.texts[0] and any("Cimuncang" in x for x in chat.labels)


async def test_a_new_feature_is_one_module_and_one_registry_line(services: Services) -> None:
    """The walk-through of README "How to add a feature", with a small real feature."""

    @dataclass(frozen=True)
    class Size(Callback, prefix="test:size"):
        people: int

    async def start(ctx: Context) -> list[Reply]:
        FLOW.start(ctx, "name")
        return [await FLOW.ask(ctx)]

    async def take_name(ctx: Context) -> list[Reply]:
        ctx.conv.data["name"] = ctx.event.text.strip()
        return await FLOW.advance(ctx)

    async def on_size(ctx: Context, data: Size) -> list[Reply]:
        name = ctx.conv.data.get("name", "")
        ctx.conv.clear()
        return [say("raw", value=f"{name}: {data.people} orang")]

    FLOW = Flow("toy", {
        "name": Step(ask=lambda ctx: say("raw", value="Nama posko?"), typed=take_name,
                     next="size"),
        "size": Step(ask=lambda ctx: say("raw", [
            [button("raw", Size(n).pack(), value=str(n)) for n in (5, 10)],
            FLOW.back_row(ctx)], value="Berapa orang?")),
    })
    toy = Feature("toy", commands=(Command("posko", start, alias="post"),),
                  buttons=(On(Size, on_size, "toy", ("size",)),), flows=(FLOW,))
    extended = dataclasses.replace(services, features=Catalog((*FEATURES, toy)))
    chat = Chat(extended, "posko")
    await chat.register()
    await chat.send("/post")
    assert chat.texts == ["Nama posko?"]
    await chat.send("Posko Banjir")
    assert chat.texts == ["Berapa orang?"] and chat.labels == ["5", "10", "⬅️ Kembali"]
    await chat.send("sepuluh")  # typed where a button is wanted: asked again
    assert chat.texts[-1] == "Berapa orang?"
    await chat.press("Kembali")  # the shared Back goes to the step the person came from
    assert chat.texts == ["Nama posko?"]
    await chat.forge("back:toy:size")  # that Back again, from an older message: stale
    assert "sudah tidak berlaku" in chat.texts[0] and chat.texts[-1] == "Nama posko?"
    await chat.send("Posko Banjir")
    await chat.forge("test:size:7")  # not one of the offered sizes, but a valid kind
    assert chat.texts == ["Posko Banjir: 7 orang"]
    await chat.forge("test:size:5")  # the flow is over: its buttons are stale now
    assert "sudah tidak berlaku" in chat.texts[0]
