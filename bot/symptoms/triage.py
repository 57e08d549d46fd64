"""Triage of a symptom report from a rules file (``config/triage.toml``), not from code.

A health office edits the file; its format is documented in the file's header. The rules are
tried in order and the first whose conditions all hold gives the level (low, moderate, high).
``load_rules`` checks the whole file before the bot starts: a wrong key, name or level, a
combination of answers that no rule matches ("a branch leads nowhere") or a rule that can
never match stops start-up with ``TriageError``, one line naming the file and the problem.

Red flags are not triage rules: any red flag is handled before (call 119 / go to the IGD).
"""

from __future__ import annotations

import itertools
import re
import tomllib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bot.config import ConfigError, Settings
from bot.symptoms.model import AGE_GROUPS, CONDITIONS, CONTACT, SYMPTOMS, Answers, Level

# the yes/no facts a rule may test, besides the core count
FACTS = ("close_contact", "age_60_plus", "condition", "pregnant")
_COUNTS = ("core_min", "core_max")
_CONDITION_KEYS = (*_COUNTS, *FACTS, "any_of")
_TOP_KEYS = ("version", "core_symptoms", "unsure_contact_counts", "rule")
_RULE_KEYS = ("id", "level", "when")
_ID = re.compile(r"[A-Za-z0-9_-]{1,40}")
_LEVELS = tuple(level.value for level in Level)


class TriageError(ConfigError):
    """The rules file is unusable; the message is one line naming the file and the problem
    (a ``ConfigError``, so ``python -m bot`` prints it as a configuration error, exit 2)."""

    def __init__(self, path: Path, problem: str) -> None:
        super().__init__(" ".join(f"triage rules {path}: {problem}".split()))


@dataclass(frozen=True)
class Facts:
    """What the rules see of one report."""

    core: int  # how many core symptoms were answered yes
    close_contact: bool
    age_60_plus: bool
    condition: bool  # any long-term condition
    pregnant: bool  # answered yes (no or not asked: False)


@dataclass(frozen=True)
class Rule:
    id: str
    level: Level
    core_min: int | None = None
    core_max: int | None = None
    require: tuple[tuple[str, bool], ...] = ()  # fact = true/false
    any_of: tuple[str, ...] = ()

    @property
    def unconditional(self) -> bool:
        return (self.core_min is None and self.core_max is None and not self.require
                and not self.any_of)

    def matches(self, facts: Facts) -> bool:
        if self.core_min is not None and facts.core < self.core_min:
            return False
        if self.core_max is not None and facts.core > self.core_max:
            return False
        if any(getattr(facts, name) is not want for name, want in self.require):
            return False
        return not self.any_of or any(getattr(facts, name) for name in self.any_of)


@dataclass(frozen=True)
class Assessment:
    level: Level
    rule: str  # the id of the rule that decided, as written in the file
    core: int  # how many core symptoms were answered yes
    version: str = ""  # the rules file's version (stored with the report)


@dataclass(frozen=True)
class Rules:
    path: Path
    version: str
    core_symptoms: tuple[str, ...]
    unsure_contact_counts: bool
    rules: tuple[Rule, ...]

    def facts(self, answers: Answers) -> Facts:
        contact = answers.close_contact == "yes" or (
            self.unsure_contact_counts and answers.close_contact == "unsure")
        return Facts(core=len(answers.symptoms & frozenset(self.core_symptoms)),
                     close_contact=contact,
                     age_60_plus=answers.age_group == "60plus",
                     condition=bool(answers.conditions & frozenset(CONDITIONS)),
                     pregnant=answers.pregnant is True)

    def first(self, facts: Facts) -> Rule | None:
        return next((rule for rule in self.rules if rule.matches(facts)), None)

    def assess(self, answers: Answers) -> Assessment:
        """The level of the first rule that matches (red flags are not looked at)."""
        facts = self.facts(answers)
        rule = self.first(facts)
        if rule is None:  # load_rules proved every combination is matched
            raise RuntimeError(f"triage rules {self.path}: no rule matches {facts}")
        return Assessment(rule.level, rule.id, facts.core, self.version)


def check_rules(settings: Settings) -> Rules:
    """The deployment's rules (``symptoms.triage_file``); TriageError stops start-up."""
    return load_rules(settings.symptoms.triage_file)


def load_rules(path: Path) -> Rules:
    """Read and check the rules file; TriageError names the file and the first problem."""
    path = Path(path)
    if not path.is_file():
        raise TriageError(path, "file not found (set SIAGA_TRIAGE_FILE or [symptoms] "
                                "triage_file)")
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise TriageError(path, f"not valid TOML: {exc}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise TriageError(path, f"cannot be read: {exc}") from None
    return _Checker(path).rules(data)


class _Checker:
    def __init__(self, path: Path) -> None:
        self.path = path

    def fail(self, problem: str) -> TriageError:
        return TriageError(self.path, problem)

    def rules(self, data: dict[str, Any]) -> Rules:
        self.unknown_keys(data, _TOP_KEYS, "")
        version = data.get("version")
        if not isinstance(version, str) or not version.strip():
            raise self.fail('version is missing: write version = "..." (any text, changed '
                            "with every edit)")
        core = self.core_symptoms(data.get("core_symptoms"))
        unsure = data.get("unsure_contact_counts", False)
        if not isinstance(unsure, bool):
            raise self.fail(f"unsure_contact_counts must be true or false, got {unsure!r}")
        raw = data.get("rule")
        if not isinstance(raw, list) or not raw:
            raise self.fail("no rules: write at least one [[rule]] block")
        rules: list[Rule] = []
        for i, entry in enumerate(raw, start=1):
            rules.append(self.rule(i, entry, len(core), {r.id for r in rules}))
        found = Rules(self.path, version.strip(), core, unsure, tuple(rules))
        self.coverage(found)
        return found

    def unknown_keys(self, table: Mapping[str, Any], known: tuple[str, ...], where: str
                     ) -> None:
        for key in table:
            if key not in known:
                raise self.fail(f"unknown key {key!r}{where} (known: {', '.join(known)})")

    def core_symptoms(self, names: object) -> tuple[str, ...]:
        if not isinstance(names, list) or not names:
            raise self.fail("core_symptoms is missing: write core_symptoms = [\"fever\", ...]")
        for name in names:
            if name not in SYMPTOMS:
                raise self.fail(f"unknown symptom {name!r} in core_symptoms (known: "
                                f"{', '.join(SYMPTOMS)})")
        if len(set(names)) != len(names):
            dup = next(n for n in names if names.count(n) > 1)
            raise self.fail(f"symptom {dup!r} is listed twice in core_symptoms")
        return tuple(names)

    def rule(self, i: int, entry: object, n_core: int, seen: set[str]) -> Rule:
        if not isinstance(entry, dict):
            raise self.fail(f"rule {i} must be a [[rule]] table")
        rule_id = entry.get("id")
        if not isinstance(rule_id, str) or not _ID.fullmatch(rule_id):
            raise self.fail(f"rule {i} needs an id of 1-40 letters, digits, - and _ "
                            f"(got {rule_id!r})")
        where = f"rule {i} ({rule_id!r})"
        self.unknown_keys(entry, _RULE_KEYS, f" in {where}")
        if rule_id in seen:
            raise self.fail(f"{where}: the id {rule_id!r} is used twice")
        level = entry.get("level")
        if level not in _LEVELS:
            raise self.fail(f"{where}: unknown level {level!r} (use {', '.join(_LEVELS)})")
        when = entry.get("when", {})
        if not isinstance(when, dict):
            raise self.fail(f"{where}: when must be a table, e.g. when = {{ core_min = 3 }}")
        for key in when:
            if key not in _CONDITION_KEYS:
                raise self.fail(f"{where}: unknown condition {key!r} in when (known: "
                                f"{', '.join(_CONDITION_KEYS)})")
        counts: dict[str, int | None] = {}
        for key in _COUNTS:
            value = when.get(key)
            if value is not None and (type(value) is not int or not 0 <= value <= n_core):
                raise self.fail(f"{where}: {key} must be a whole number from 0 to {n_core} "
                                f"(the number of core symptoms), got {value!r}")
            counts[key] = value
        require = []
        for name in FACTS:
            if name in when:
                if not isinstance(when[name], bool):
                    raise self.fail(f"{where}: {name} must be true or false, got "
                                    f"{when[name]!r}")
                require.append((name, when[name]))
        any_of = when.get("any_of", [])
        if not isinstance(any_of, list) or (not any_of and "any_of" in when):
            raise self.fail(f"{where}: any_of must be a list of facts, e.g. any_of = "
                            f'["close_contact", "condition"]')
        for name in any_of:
            if name not in FACTS:
                raise self.fail(f"{where}: unknown fact {name!r} in any_of (known: "
                                f"{', '.join(FACTS)})")
        return Rule(rule_id, Level(level), counts["core_min"], counts["core_max"],
                    tuple(require), tuple(any_of))

    def coverage(self, rules: Rules) -> None:
        """Every combination of answers reaches a rule; every rule is reached by one."""
        reached: dict[str, set[str]] = {r.id: set() for r in rules.rules}  # rule -> firsts
        for combination in _combinations(len(rules.core_symptoms)):
            facts = _facts(rules, *combination)
            first = rules.first(facts)
            if first is None:
                raise self.fail("a branch leads nowhere: no rule matches "
                                f"{_describe(*combination)}; add a rule for it")
            for rule in rules.rules:
                if rule.matches(facts):
                    reached[rule.id].add(first.id)
        for i, rule in enumerate(rules.rules):
            firsts = reached[rule.id]
            if rule.id in firsts:
                continue
            where = f"rule {i + 1} ({rule.id!r})"
            if not firsts:
                raise self.fail(f"{where} can never match: its conditions never hold "
                                "together")
            catch_all = next((r for r in rules.rules[:i] if r.unconditional), None)
            if catch_all is not None:
                raise self.fail(f"{where} can never match: rule {catch_all.id!r} above it has "
                                "no conditions and takes every answer; move that rule to the "
                                "end")
            above = ", ".join(repr(r.id) for r in rules.rules[:i] if r.id in firsts)
            raise self.fail(f"{where} can never match: the rules above it ({above}) already "
                            "take every answer it matches; remove it or move it up")


def _combinations(n_core: int) -> Iterator[tuple[int, str, str, bool, bool | None]]:
    """Every answer the questionnaire can give, as far as the rules can tell them apart."""
    return itertools.product(range(n_core + 1), CONTACT, AGE_GROUPS, (False, True),
                             (None, False, True))


def _facts(rules: Rules, n: int, contact: str, age: str, condition: bool,
           pregnant: bool | None) -> Facts:
    symptoms = frozenset(rules.core_symptoms[:n])
    answers = Answers(age_group=age, symptoms=symptoms, close_contact=contact,
                      conditions=frozenset(CONDITIONS[:1] if condition else ()),
                      pregnant=pregnant)
    return rules.facts(answers)


def _describe(n: int, contact: str, age: str, condition: bool, pregnant: bool | None
              ) -> str:
    preg = "not asked" if pregnant is None else ("yes" if pregnant else "no")
    return (f"{n} core symptom{'' if n == 1 else 's'}, close contact {contact!r}, age group "
            f"{age!r}, long-term condition {'yes' if condition else 'no'}, pregnant {preg}")
