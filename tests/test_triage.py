"""Triage from the rules file: every branch of the default rules (read from the same
config/triage.toml the bot uses), an edited file, and invalid files stopping start-up with
one line that names the file and the problem."""

from __future__ import annotations

import asyncio
import itertools
import os
import sys
from pathlib import Path

import pytest

from bot.config import ConfigError
from bot.symptoms.model import AGE_GROUPS, CONDITIONS, CONTACT, SYMPTOMS, Answers, Level
from bot.symptoms.triage import Rules, TriageError, check_rules, load_rules
from tests.conftest import ROOT, make_settings

RULES_FILE = ROOT / "config" / "triage.toml"
DEFAULT = RULES_FILE.read_text(encoding="utf-8")
CORE = ("fever", "cough", "sore_throat", "breathless", "smell_taste")
OTHER = ("diarrhoea", "aches", "tired", "runny_nose", "headache")  # never counted
HIGH, MODERATE, LOW = Level.HIGH, Level.MODERATE, Level.LOW


@pytest.fixture(scope="module")
def rules() -> Rules:
    return load_rules(RULES_FILE)


def answers(n: int, contact: str = "no", age: str = "18_39", conditions: tuple[str, ...] = (),
            pregnant: bool | None = None, other: int = 0) -> Answers:
    """n core symptoms (and ``other`` non-core ones) answered yes."""
    return Answers(age_group=age, symptoms=frozenset(CORE[:n] + OTHER[:other]),
                   close_contact=contact, conditions=frozenset(conditions),
                   pregnant=pregnant)


# (core symptoms, close contact, age group, long-term conditions) -> level, deciding rule
BRANCHES = [
    # n >= 3: high whatever else
    (5, "no", "18_39", (), HIGH, "core3"),
    (4, "no", "lt18", (), HIGH, "core3"),
    (3, "no", "18_39", (), HIGH, "core3"),
    (3, "yes", "60plus", ("diabetes",), HIGH, "core3"),
    (3, "unsure", "40_59", (), HIGH, "core3"),
    # n = 2: high with close contact, age 60+ or a long-term condition, else moderate
    (2, "yes", "18_39", (), HIGH, "core2-risk"),
    (2, "no", "60plus", (), HIGH, "core2-risk"),
    (2, "no", "40_59", ("hypertension",), HIGH, "core2-risk"),
    (2, "no", "18_39", ("kidney", "heart"), HIGH, "core2-risk"),
    (2, "yes", "60plus", ("lung",), HIGH, "core2-risk"),
    (2, "no", "40_59", (), MODERATE, "core2"),
    (2, "no", "lt18", (), MODERATE, "core2"),
    (2, "unsure", "18_39", (), MODERATE, "core2"),  # "not sure" is not close contact
    # n = 1: high with close contact, else moderate (age and conditions do not count)
    (1, "yes", "18_39", (), HIGH, "core1-contact"),
    (1, "yes", "lt18", (), HIGH, "core1-contact"),
    (1, "no", "60plus", ("immune",), MODERATE, "core1"),
    (1, "no", "18_39", (), MODERATE, "core1"),
    (1, "unsure", "40_59", (), MODERATE, "core1"),
    # n = 0: moderate with close contact, else low
    (0, "yes", "18_39", (), MODERATE, "core0-contact"),
    (0, "yes", "60plus", ("diabetes",), MODERATE, "core0-contact"),
    (0, "no", "60plus", ("diabetes", "heart"), LOW, "core0"),
    (0, "no", "18_39", (), LOW, "core0"),
    (0, "unsure", "40_59", (), LOW, "core0"),
]


@pytest.mark.parametrize(("n", "contact", "age", "conditions", "level", "rule"), BRANCHES)
def test_every_branch_of_the_default_rules(rules, n, contact, age, conditions, level, rule
                                           ) -> None:
    found = rules.assess(answers(n, contact, age, conditions))
    assert (found.level, found.rule, found.core) == (level, rule, n)
    assert found.version == rules.version


def issue_10(n: int, contact: bool, age_60_plus: bool, condition: bool) -> Level:
    """The rules as issue 10 words them (Praekelt HealthCheck, adapted)."""
    if n >= 3:
        return HIGH
    if n == 2:
        return HIGH if contact or age_60_plus or condition else MODERATE
    if n == 1:
        return HIGH if contact else MODERATE
    return MODERATE if contact else LOW


def test_the_default_file_gives_the_issues_level_for_every_possible_answer(rules) -> None:
    """All combinations: core and non-core symptoms, contact, age, conditions, pregnancy."""
    seen = set()
    for n, other, contact, age, cond, preg in itertools.product(
            range(6), (0, 5), CONTACT, AGE_GROUPS, ((), CONDITIONS), (None, False, True)):
        found = rules.assess(answers(n, contact, age, cond, preg, other))
        assert found.core == n
        assert found.level == issue_10(n, contact == "yes", age == "60plus", bool(cond))
        seen.add(found.rule)
    assert seen == {r.id for r in rules.rules}  # every rule is used


def test_the_default_file_names_its_sources_and_core_symptoms(rules) -> None:
    assert rules.core_symptoms == CORE
    assert set(CORE) <= set(SYMPTOMS)
    assert rules.unsure_contact_counts is False
    assert rules.version
    for source in ("Praekelt", "WHO", "KMK HK.01.07/MENKES/413/2020", "Kemenkes"):
        assert source in DEFAULT


def write(tmp_path: Path, text: str, name: str = "triage.toml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


HEADER, _, BODY = DEFAULT.partition("\nversion = ")
BODY = "version = " + BODY


def edit(old: str, new: str) -> str:
    """The default file with its first ``old`` below the header comments made ``new``."""
    assert old in BODY, old
    return HEADER + "\n" + BODY.replace(old, new, 1)


RISK = 'any_of = ["close_contact", "age_60_plus", "condition"]'


def test_a_health_office_edit_changes_the_assessment(tmp_path) -> None:
    """The health office decides that n = 2 with a long-term condition alone is moderate."""
    path = write(tmp_path, edit(RISK, 'any_of = ["close_contact", "age_60_plus"]').replace(
        'version = "2026-12-01 praekelt-healthcheck-adapted-1"',
        'version = "dinkes-banten-2"'))
    edited = load_rules(path)
    found = edited.assess(answers(2, conditions=("diabetes",)))
    assert (found.level, found.rule, found.version) == (MODERATE, "core2", "dinkes-banten-2")
    assert edited.assess(answers(2, "yes", conditions=("diabetes",))).level == HIGH
    assert edited.assess(answers(2, age="60plus", conditions=("diabetes",))).level == HIGH
    assert load_rules(RULES_FILE).assess(answers(2, conditions=("diabetes",))).level == HIGH


def test_unsure_contact_counts_when_the_file_says_so(tmp_path) -> None:
    strict = load_rules(write(tmp_path, edit("unsure_contact_counts = false",
                                             "unsure_contact_counts = true")))
    assert strict.unsure_contact_counts
    assert strict.assess(answers(0, "unsure")).level == MODERATE
    assert strict.assess(answers(1, "unsure")).level == HIGH
    assert strict.assess(answers(2, "unsure")).rule == "core2-risk"
    assert strict.assess(answers(0, "no")).level == LOW


def test_a_catch_all_last_rule_and_pregnancy_are_allowed(tmp_path) -> None:
    text = edit('id = "core0"\nlevel = "low"\nwhen = { core_max = 0 }',
                'id = "pregnant-contact"\nlevel = "high"\n'
                'when = { core_max = 0, pregnant = true, close_contact = false }\n\n'
                '[[rule]]\nid = "rest"\nlevel = "low"')
    found = load_rules(write(tmp_path, text))
    assert found.assess(answers(0, pregnant=True)).rule == "pregnant-contact"
    assert found.assess(answers(0, pregnant=None)).rule == "rest"
    assert found.assess(answers(0, pregnant=False)).level == LOW


def swap_core2_rules() -> str:
    risk = ('[[rule]]\nid = "core2-risk"\nlevel = "high"\n'
            f'when = {{ core_min = 2, core_max = 2, {RISK} }}\n')
    plain = '[[rule]]\nid = "core2"\nlevel = "moderate"\nwhen = { core_min = 2, core_max = 2 }\n'
    return edit(risk, "@@RISK@@").replace(plain, risk).replace("@@RISK@@", plain)


# (what is wrong, the file's text, words the one-line message must contain)
INVALID = [
    ("invalid TOML", edit('level = "high"', 'level = "high'), "not valid TOML"),
    ("unknown key", edit("unsure_contact_counts = false", "unsure_contacts_count = true"),
     "unknown key 'unsure_contacts_count'"),
    ("unknown rule key", edit('level = "low"', 'levl = "low"'),
     "unknown key 'levl' in rule 7 ('core0')"),
    ("unknown symptom", edit('"smell_taste"]', '"smell"]'),
     "unknown symptom 'smell' in core_symptoms"),
    ("unknown level", edit('level = "low"', 'level = "rendah"'),
     "rule 7 ('core0'): unknown level 'rendah' (use low, moderate, high)"),
    ("unknown fact", edit(RISK, 'any_of = ["close_contact", "elderly"]'),
     "rule 2 ('core2-risk'): unknown fact 'elderly' in any_of"),
    ("unknown condition", edit("when = { core_min = 3 }", "when = { fever = true }"),
     "rule 1 ('core3'): unknown condition 'fever' in when"),
    ("count out of range", edit("when = { core_min = 3 }", "when = { core_min = 6 }"),
     "rule 1 ('core3'): core_min must be a whole number from 0 to 5"),
    ("not true or false", edit("close_contact = true }", 'close_contact = "yes" }'),
     "rule 4 ('core1-contact'): close_contact must be true or false"),
    ("id used twice", edit('id = "core2"', 'id = "core1"'), "the id 'core1' is used twice"),
    ("no version", edit('version = "2026-12-01 praekelt-healthcheck-adapted-1"', ""),
     "version is missing"),
    ("no rules", HEADER + "\n" + BODY.split("# n >= 3")[0], "no rules"),
    ("a branch leads nowhere", edit('[[rule]]\nid = "core0"\nlevel = "low"\n'
                                    "when = { core_max = 0 }", ""),
     "a branch leads nowhere: no rule matches 0 core symptoms, close contact 'no', age group "
     "'lt18', long-term condition no, pregnant not asked"),
    ("a rule no answer reaches", swap_core2_rules(),
     "rule 3 ('core2-risk') can never match: the rules above it ('core2') already take "
     "every answer it matches"),
    ("no conditions, not last", edit("[[rule]]", '[[rule]]\nid = "all"\nlevel = "low"\n\n'
                                                 "[[rule]]"),
     "rule 2 ('core3') can never match: rule 'all' above it has no conditions"),
    ("conditions that never hold", edit("[[rule]]", '[[rule]]\nid = "never"\nlevel = "high"\n'
                                        "when = { core_min = 3, core_max = 1 }\n\n[[rule]]"),
     "rule 1 ('never') can never match: its conditions never hold together"),
]


@pytest.mark.parametrize(("text", "expected"), [case[1:] for case in INVALID],
                         ids=[case[0] for case in INVALID])
def test_an_invalid_file_is_one_line_naming_the_file_and_the_problem(tmp_path, text,
                                                                     expected) -> None:
    path = write(tmp_path, text)
    with pytest.raises(TriageError) as caught:
        load_rules(path)
    message = str(caught.value)
    assert message.startswith(f"triage rules {path}: ")
    assert expected in message
    assert "\n" not in message
    assert isinstance(caught.value, ConfigError)  # `python -m bot` prints it, exit code 2


def test_a_missing_file_names_the_setting(tmp_path) -> None:
    path = tmp_path / "nowhere.toml"
    with pytest.raises(TriageError, match=r"nowhere\.toml: file not found .*SIAGA_TRIAGE_FILE"):
        load_rules(path)


def test_check_rules_reads_the_configured_file(tmp_path, monkeypatch) -> None:
    monkeypatch.chdir(ROOT)  # the default path is relative, like config/areas.demo.toml
    assert check_rules(make_settings(tmp_path)).rules == load_rules(RULES_FILE).rules
    bad = write(tmp_path, edit('level = "low"', 'level = "none"'), "bad.toml")
    with pytest.raises(TriageError, match=r"bad\.toml: rule 7"):
        check_rules(make_settings(tmp_path, SIAGA_TRIAGE_FILE=str(bad)))


async def test_the_bot_refuses_to_start_with_an_invalid_rules_file(tmp_path) -> None:
    bad = write(tmp_path, edit('[[rule]]\nid = "core0"\nlevel = "low"\n'
                               "when = { core_max = 0 }", ""))
    env = {**os.environ, "SIAGA_DB": str(tmp_path / "s.db"),
           "SIAGA_CONFIG": str(ROOT / "config" / "settings.example.toml"),
           "SIAGA_TRIAGE_FILE": str(bad)}
    env.pop("TELEGRAM_BOT_TOKEN", None)
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", "run", cwd=ROOT, env=env, stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    _, err = await asyncio.wait_for(proc.communicate(), 60)
    lines = [line for line in err.decode().splitlines() if line.strip()]
    assert proc.returncode == 2
    assert lines[-1].startswith(f"Configuration error: triage rules {bad}: a branch leads "
                                "nowhere: no rule matches 0 core symptoms")
    assert "Traceback" not in err.decode()
