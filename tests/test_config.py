"""Settings: defaults, TOML file, environment overrides, one clear line on bad values."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.config import ConfigError, load_settings
from tests.conftest import ROOT, make_settings

TOKEN = "123456:abcdefghijklmnopqrstuvwxyz"


def test_example_file_gives_working_defaults(tmp_path: Path) -> None:
    s = make_settings(tmp_path)
    assert not s.telegram.enabled
    assert s.telegram.base_url == "https://api.telegram.org/bot"
    assert s.http_port == 8080
    assert str(s.timezone) == "Asia/Jakarta"
    assert s.contacts.ambulance == "119" and s.contacts.health_info == "1500-567"


def test_environment_overrides_file(tmp_path: Path) -> None:
    s = make_settings(tmp_path, TELEGRAM_BOT_TOKEN=TOKEN, SIAGA_HTTP_PORT="9000",
                      TELEGRAM_BASE_URL="http://127.0.0.1:5555/bot",
                      SIAGA_TIMEZONE="Asia/Jayapura")
    assert s.telegram.enabled and s.http_port == 9000
    assert s.telegram.base_url == "http://127.0.0.1:5555/bot"
    assert str(s.timezone) == "Asia/Jayapura"

HOOK_SECRET = "s3cret-0123456789abcdefghijklmnopqrstuv"


@pytest.mark.parametrize(
    ("env", "names"),
    [
        ({"SIAGA_HTTP_PORT": "eighty"}, "SIAGA_HTTP_PORT"),
        ({"SIAGA_HTTP_PORT": "70000"}, "SIAGA_HTTP_PORT"),
        ({"TELEGRAM_BASE_URL": "ftp://x"}, "TELEGRAM_BASE_URL"),
        ({"SIAGA_TIMEZONE": "Mars/Olympus"}, "SIAGA_TIMEZONE"),
        ({"TELEGRAM_WEBHOOK_URL": "https://bot.example.org/wh", "TELEGRAM_BOT_TOKEN": TOKEN},
         "TELEGRAM_WEBHOOK_SECRET"),
        ({"TELEGRAM_WEBHOOK_URL": "http://bot.example.org/wh", "TELEGRAM_BOT_TOKEN": TOKEN,
          "TELEGRAM_WEBHOOK_SECRET": HOOK_SECRET}, "TELEGRAM_WEBHOOK_URL"),
        ({"SIAGA_CONFIG": "/nonexistent/settings.toml"}, "SIAGA_CONFIG"),
        ({"TELEGRAM_WEBHOOK_URL": "https://bot.example.org:8080/wh", "TELEGRAM_BOT_TOKEN": TOKEN,
          "TELEGRAM_WEBHOOK_SECRET": HOOK_SECRET}, "TELEGRAM_WEBHOOK_URL"),
    ],
)
def test_bad_values_name_the_setting(tmp_path: Path, env: dict, names: str) -> None:
    with pytest.raises(ConfigError) as err:
        make_settings(tmp_path, **env)
    message = str(err.value)
    assert message.startswith(names) and "\n" not in message


@pytest.mark.parametrize("secret", ["x", "short-secret", "has spaces in it but is long enough ok",
                                    "a" * 31])
def test_a_weak_webhook_secret_is_refused_with_how_to_make_one(tmp_path: Path,
                                                                secret: str) -> None:
    with pytest.raises(ConfigError) as err:
        make_settings(tmp_path, TELEGRAM_WEBHOOK_URL="https://bot.example.org/wh",
                      TELEGRAM_BOT_TOKEN=TOKEN, TELEGRAM_WEBHOOK_SECRET=secret)
    message = str(err.value)
    assert message.startswith("TELEGRAM_WEBHOOK_SECRET: must be 32-256 characters")
    assert "secrets.token_urlsafe(32)" in message and secret not in message


def test_a_generated_webhook_secret_is_accepted(tmp_path: Path) -> None:
    import secrets

    s = make_settings(tmp_path, TELEGRAM_WEBHOOK_URL="https://bot.example.org/wh",
                      TELEGRAM_BOT_TOKEN=TOKEN, TELEGRAM_WEBHOOK_SECRET=secrets.token_urlsafe(32))
    assert s.telegram.webhook


def test_hardening_settings_have_defaults_and_are_checked(tmp_path: Path) -> None:
    s = make_settings(tmp_path)
    assert s.privacy.audit_retention_days == 730
    assert s.outbox.give_up_after.total_seconds() == 24 * 3600
    assert (s.intake.per_person_per_minute, s.intake.per_person_burst) == (30, 10)
    for name in ("SIAGA_AUDIT_RETENTION_DAYS", "SIAGA_OUTBOX_GIVE_UP_AFTER_HOURS",
                 "SIAGA_PER_PERSON_PER_MINUTE", "SIAGA_MAX_BACKLOG"):
        with pytest.raises(ConfigError) as err:
            make_settings(tmp_path, **{name: "0"})
        assert str(err.value).startswith(name)
    with pytest.raises(ConfigError) as err:
        make_settings(tmp_path, SIAGA_PSEUDONYM_KEY="tooshort")
    assert str(err.value).startswith("SIAGA_PSEUDONYM_KEY") and "tooshort" not in str(err.value)


def test_secret_token_is_never_echoed(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as err:
        make_settings(tmp_path, TELEGRAM_BOT_TOKEN="not-a-token-SECRETVALUE")
    assert "TELEGRAM_BOT_TOKEN" in str(err.value)
    assert "SECRETVALUE" not in str(err.value)


def test_unknown_key_in_file_is_named(tmp_path: Path) -> None:
    bad = tmp_path / "s.toml"
    bad.write_text('[telegram]\nbot_tokn = "x"\n')
    with pytest.raises(ConfigError, match=r"telegram\.bot_tokn"):
        load_settings({"SIAGA_CONFIG": str(bad)})


def test_cli_stops_with_one_line(tmp_path: Path, capsys, monkeypatch) -> None:
    from bot.__main__ import main

    monkeypatch.setenv("SIAGA_CONFIG", str(ROOT / "config" / "settings.example.toml"))
    monkeypatch.setenv("SIAGA_HTTP_PORT", "nope")
    assert main(["run"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err == ["Configuration error: SIAGA_HTTP_PORT: must be a whole number (got 'nope')"]


def test_no_single_emergency_number_and_the_spo2_limit_in_the_file(tmp_path: Path) -> None:
    example = (ROOT / "config" / "settings.example.toml").read_text(encoding="utf-8")
    assert 'emergency = "112"' in example and "spo2_limit = 94" in example
    path = tmp_path / "settings.toml"
    path.write_text(example.replace('emergency = "112"', 'emergency = ""')
                    .replace("spo2_limit = 94", "spo2_limit = 92"), encoding="utf-8")
    s = make_settings(tmp_path, SIAGA_CONFIG=str(path))
    assert s.contacts.emergency == "" and s.contacts.ambulance == "119"
    assert s.health.spo2_limit == 92
    path.write_text(example.replace("spo2_limit = 94", "spo2_limit = 100"), encoding="utf-8")
    with pytest.raises(ConfigError, match=r"health\.spo2_limit"):
        make_settings(tmp_path, SIAGA_CONFIG=str(path))
