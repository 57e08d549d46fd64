"""Typed settings from a TOML file with environment-variable overrides.

Every setting is declared once in ``FIELDS``: where it lives in the TOML file, which
environment variable overrides it, its type, default and check. A wrong or missing value
stops start-up with one line naming the setting (``ConfigError``); secrets are never echoed.
"""

from __future__ import annotations

import os
import re
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import time, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlparse
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

DEFAULT_CONFIG_PATH = Path("config/settings.toml")
SUPPORTED_LANGUAGES = ("id", "en")


class ConfigError(Exception):
    """A setting is missing or wrong; the message is one line that names it."""


@dataclass(frozen=True)
class Field:
    key: str  # "section.name" in the TOML file
    env: str  # environment variable that overrides it
    kind: str  # str | int | float | bool | url | timezone | language | path
    default: Any = None
    secret: bool = False
    check: Callable[[Any], str | None] | None = None  # returns an error text or None


def _token(value: str) -> str | None:
    if not re.fullmatch(r"\d{3,}:[A-Za-z0-9_-]{20,}", value):
        return "is not a bot token of the form 123456789:ABC... (from @BotFather)"
    return None


GENERATE_SECRET = "python -c 'import secrets; print(secrets.token_urlsafe(32))'"


def _secret(value: str) -> str | None:
    if not re.fullmatch(r"[A-Za-z0-9_-]{32,256}", value):
        return ("must be 32-256 characters of A-Z, a-z, 0-9, _ and - (generate one with: "
                f"{GENERATE_SECRET})")
    return None


def _key(value: str) -> str | None:
    if len(value) < 32:
        return f"must be at least 32 characters (generate one with: {GENERATE_SECRET})"
    return None


def _clock_time(value: str) -> str | None:
    if not re.fullmatch(r"([01]\d|2[0-3]):[0-5]\d", value):
        return "must be a time of day as HH:MM, e.g. 21:00"
    return None


def _rate(value: float) -> str | None:
    return None if 0 < value <= 1000 else "must be more than 0 and at most 1000"


def _not_negative(value: float) -> str | None:
    return None if value >= 0 else "must be 0 or more"


def _port(value: int) -> str | None:
    return None if 0 <= value <= 65535 else "must be a port number between 0 and 65535"


def _positive(value: int) -> str | None:
    return None if value > 0 else "must be greater than 0"


def _spo2(value: int) -> str | None:
    return None if 80 <= value <= 99 else "must be a percentage between 80 and 99"


def _fraction(value: float) -> str | None:
    return None if 0 < value <= 1 else "must be a number above 0 and at most 1, e.g. 0.875"


def _day_list(value: str) -> str | None:
    parts = [p.strip() for p in value.split(",") if p.strip()]
    if not all(p.isdigit() and 1 <= int(p) <= 60 for p in parts):
        return 'must be whole days from 1 to 60, separated by commas, e.g. "2,5" ("" for none)'
    return None


FIELDS: tuple[Field, ...] = (
    Field("telegram.bot_token", "TELEGRAM_BOT_TOKEN", "str", None, secret=True, check=_token),
    Field("telegram.base_url", "TELEGRAM_BASE_URL", "url", "https://api.telegram.org/bot"),
    Field("telegram.webhook_url", "TELEGRAM_WEBHOOK_URL", "url", None),
    Field("telegram.webhook_secret", "TELEGRAM_WEBHOOK_SECRET", "str", None, secret=True,
          check=_secret),
    Field("telegram.bot_username", "TELEGRAM_BOT_USERNAME", "str", None),
    Field("telegram.max_concurrent", "TELEGRAM_MAX_CONCURRENT", "int", 16, check=_positive),
    Field("telegram.poll_timeout", "TELEGRAM_POLL_TIMEOUT", "int", 30, check=_positive),
    Field("telegram.send_rate", "TELEGRAM_SEND_RATE", "float", 25.0, check=_rate),
    Field("telegram.per_chat_interval", "TELEGRAM_PER_CHAT_INTERVAL", "float", 1.0,
          check=_not_negative),
    Field("telegram.group_per_minute", "TELEGRAM_GROUP_PER_MINUTE", "int", 20,
          check=_positive),
    Field("http.host", "SIAGA_HTTP_HOST", "str", "127.0.0.1"),
    Field("http.port", "SIAGA_HTTP_PORT", "int", 8080, check=_port),
    Field("database.path", "SIAGA_DB", "path", "var/siaga.db"),
    Field("deployment.name", "SIAGA_DEPLOYMENT_NAME", "str", "Siaga Warga"),
    Field("deployment.operator", "SIAGA_OPERATOR", "str",
          "Dinas Kominfo Provinsi Banten (demo)"),
    Field("deployment.timezone", "SIAGA_TIMEZONE", "timezone", "Asia/Jakarta"),
    Field("deployment.default_language", "SIAGA_DEFAULT_LANGUAGE", "language", "id"),
    Field("deployment.areas_file", "SIAGA_AREAS_FILE", "path", "config/areas.demo.toml"),
    Field("contacts.ambulance", "SIAGA_CONTACT_AMBULANCE", "str", "119"),
    Field("contacts.emergency", "SIAGA_CONTACT_EMERGENCY", "str", "112"),
    # a short note on the emergency number, one text per language (e.g. where 112 works)
    Field("contacts.emergency_note", "SIAGA_CONTACT_EMERGENCY_NOTE", "str", ""),
    Field("contacts.emergency_note_en", "SIAGA_CONTACT_EMERGENCY_NOTE_EN", "str", ""),
    Field("contacts.health_info", "SIAGA_CONTACT_HEALTH_INFO", "str", "1500-567"),
    # oxygen saturation (%) below which the health pages send people to the IGD; national
    # sources differ (95/94/93/90): the deployment's clinician chooses. 94: Menkes, Aug 2021
    Field("health.spo2_limit", "SIAGA_SPO2_LIMIT", "int", 94, check=_spo2),
    # the symptom report's triage rules (a health office edits this file; see README)
    Field("symptoms.triage_file", "SIAGA_TRIAGE_FILE", "path", "config/triage.toml"),
    Field("symptoms.escalate_after_minutes", "SIAGA_SYMPTOMS_ESCALATE_AFTER_MINUTES", "int",
          60, check=_positive),
    Field("symptoms.retention_days", "SIAGA_SYMPTOMS_RETENTION_DAYS", "int", 30,
          check=_positive),
    Field("symptoms.checkin_days", "SIAGA_SYMPTOMS_CHECKIN_DAYS", "str", "2,5",
          check=_day_list),
    # accepted volunteers are reminded this many hours before a call-out starts
    Field("volunteers.reminder_hours", "SIAGA_VOLUNTEERS_REMINDER_HOURS", "int", 2,
          check=_not_negative),
    # hoax reports: matching thresholds (after Meedan Check) and moderation limits
    Field("hoax.similar_threshold", "SIAGA_HOAX_SIMILAR_THRESHOLD", "float", 0.70,
          check=_fraction),
    Field("hoax.auto_threshold", "SIAGA_HOAX_AUTO_THRESHOLD", "float", 0.875,
          check=_fraction),
    Field("hoax.photo_distance", "SIAGA_HOAX_PHOTO_DISTANCE", "int", 10, check=_not_negative),
    Field("moderation.claim_minutes", "SIAGA_MODERATION_CLAIM_MINUTES", "int", 30,
          check=_positive),
    Field("moderation.reports_per_hour", "SIAGA_MODERATION_REPORTS_PER_HOUR", "int", 10,
          check=_positive),
    Field("broadcast.requires_approval", "SIAGA_BROADCAST_REQUIRES_APPROVAL", "bool", True),
    Field("broadcast.urgent_skips_approval", "SIAGA_BROADCAST_URGENT_SKIPS_APPROVAL", "bool",
          False),
    Field("broadcast.quiet_start", "SIAGA_QUIET_START", "str", "21:00", check=_clock_time),
    Field("broadcast.quiet_end", "SIAGA_QUIET_END", "str", "06:00", check=_clock_time),
    Field("broadcast.missed_grace_minutes", "SIAGA_MISSED_GRACE_MINUTES", "int", 60,
          check=_not_negative),
    Field("privacy.inbox_retention_days", "SIAGA_INBOX_RETENTION_DAYS", "int", 7,
          check=_positive),
    Field("privacy.unconsented_retention_days", "SIAGA_UNCONSENTED_RETENTION_DAYS", "int", 30,
          check=_positive),
    Field("privacy.audit_retention_days", "SIAGA_AUDIT_RETENTION_DAYS", "int", 730,
          check=_positive),
    # the key of the pseudonyms in the audit log; generated into secret_file when not given
    Field("privacy.pseudonym_key", "SIAGA_PSEUDONYM_KEY", "str", None, secret=True,
          check=_key),
    Field("privacy.secret_file", "SIAGA_SECRET_FILE", "path", None),
    Field("outbox.give_up_after_hours", "SIAGA_OUTBOX_GIVE_UP_AFTER_HOURS", "int", 24,
          check=_positive),
    Field("intake.per_person_per_minute", "SIAGA_PER_PERSON_PER_MINUTE", "int", 30,
          check=_positive),
    Field("intake.per_person_burst", "SIAGA_PER_PERSON_BURST", "int", 10, check=_positive),
    Field("intake.max_backlog", "SIAGA_MAX_BACKLOG", "int", 2000, check=_positive),
)


@dataclass(frozen=True)
class TelegramSettings:
    bot_token: str | None
    base_url: str
    webhook_url: str | None
    webhook_secret: str | None
    bot_username: str | None
    max_concurrent: int
    poll_timeout: int
    send_rate: float = 25.0  # outbox messages per second, all chats together
    per_chat_interval: float = 1.0  # seconds between two outbox messages to one chat
    group_per_minute: int = 20  # outbox messages per minute to one group

    @property
    def enabled(self) -> bool:
        return self.bot_token is not None

    @property
    def webhook(self) -> bool:
        return self.webhook_url is not None


@dataclass(frozen=True)
class Contacts:
    ambulance: str
    emergency: str  # "" where the deployment's area has no single emergency number (112)
    emergency_note: str  # Indonesian
    health_info: str
    emergency_note_en: str = ""

    def note(self, lang: str) -> str:
        """The note on the emergency number in ``lang`` (the Indonesian one if none)."""
        return (self.emergency_note_en if lang == "en" else "") or self.emergency_note


@dataclass(frozen=True)
class HealthSettings:
    spo2_limit: int = 94  # SpO2 below this (%) is a danger sign: IGD or the ambulance


@dataclass(frozen=True)
class SymptomSettings:
    triage_file: Path = Path("config/triage.toml")
    escalate_after: timedelta = timedelta(minutes=60)  # an alert nobody takes goes up
    retention_days: int = 30  # identified reports become anonymous counts after this
    checkin_days: tuple[int, ...] = (2, 5)  # check-ins after a moderate or high report


@dataclass(frozen=True)
class VolunteerSettings:
    reminder: timedelta = timedelta(hours=2)  # before a call-out starts (0: no reminder)


@dataclass(frozen=True)
class HoaxSettings:
    similar_threshold: float = 0.70  # shown to moderators as a similar case
    auto_threshold: float = 0.875  # a report joins the case by itself
    photo_distance: int = 10  # Hamming distance of two photo hashes that match
    claim_minutes: int = 30  # a moderator's hold on a case expires after this
    reports_per_hour: int = 10  # hoax reports one person may send in an hour


@dataclass(frozen=True)
class BroadcastSettings:
    requires_approval: bool = True
    urgent_skips_approval: bool = False
    quiet_start: time = time(21, 0)
    quiet_end: time = time(6, 0)
    missed_grace: timedelta = timedelta(minutes=60)


@dataclass(frozen=True)
class PrivacySettings:
    audit_retention_days: int = 730
    pseudonym_key: str | None = None  # None: generated once into secret_file
    secret_file: Path | None = None  # None: "siaga.key" beside the database


@dataclass(frozen=True)
class OutboxSettings:
    give_up_after: timedelta = timedelta(hours=24)  # undelivered this long: reported, failed


@dataclass(frozen=True)
class IntakeSettings:
    per_person_per_minute: int = 30  # updates one person may send a minute, sustained
    per_person_burst: int = 10  # ... and at once
    max_backlog: int = 2000  # updates waiting before a channel stops fetching more


@dataclass(frozen=True)
class Settings:
    telegram: TelegramSettings
    http_host: str
    http_port: int
    db_path: Path
    deployment_name: str
    operator: str
    timezone: ZoneInfo
    default_language: str
    areas_file: Path
    contacts: Contacts
    inbox_retention_days: int
    unconsented_retention_days: int
    broadcast: BroadcastSettings = field(default_factory=BroadcastSettings)
    health: HealthSettings = field(default_factory=HealthSettings)
    symptoms: SymptomSettings = field(default_factory=SymptomSettings)
    volunteers: VolunteerSettings = field(default_factory=VolunteerSettings)
    hoax: HoaxSettings = field(default_factory=HoaxSettings)
    privacy: PrivacySettings = field(default_factory=PrivacySettings)
    outbox: OutboxSettings = field(default_factory=OutboxSettings)
    intake: IntakeSettings = field(default_factory=IntakeSettings)
    source: Path | None = field(default=None)

    @property
    def secret_file(self) -> Path:
        """Where the generated pseudonym key is kept (outside the database)."""
        return self.privacy.secret_file or self.db_path.parent / "siaga.key"


def _describe(f: Field, from_env: bool) -> str:
    return f.env if from_env else f"{f.key} (in the settings file; env {f.env})"


def _convert(f: Field, raw: Any, from_env: bool) -> Any:
    name = _describe(f, from_env)
    shown = "" if f.secret else f" (got {raw!r})"
    if f.kind == "float":
        if isinstance(raw, bool):
            raise ConfigError(f"{name}: must be a number{shown}")
        try:
            value: Any = float(str(raw).strip())
        except ValueError:
            raise ConfigError(f"{name}: must be a number{shown}") from None
    elif f.kind == "int":
        if isinstance(raw, bool):
            raise ConfigError(f"{name}: must be a whole number{shown}")
        try:
            value = int(str(raw).strip())
        except ValueError:
            raise ConfigError(f"{name}: must be a whole number{shown}") from None
    elif f.kind == "bool":
        text = str(raw).strip().lower()
        if text not in {"true", "false", "1", "0", "yes", "no", "on", "off"}:
            raise ConfigError(f"{name}: must be true or false{shown}")
        value = text in {"true", "1", "yes", "on"}
    else:
        if not isinstance(raw, str):
            raise ConfigError(f"{name}: must be text{shown}")
        value = raw.strip()
        if f.kind == "url":
            parsed = urlparse(value)
            if parsed.scheme not in {"http", "https"} or not parsed.netloc:
                raise ConfigError(f"{name}: must be an http(s) URL{shown}")
        elif f.kind == "timezone":
            try:
                value = ZoneInfo(value)
            except (ZoneInfoNotFoundError, ValueError):
                raise ConfigError(
                    f"{name}: unknown timezone{shown}; use Asia/Jakarta (WIB), "
                    "Asia/Makassar (WITA) or Asia/Jayapura (WIT)"
                ) from None
        elif f.kind == "language":
            if value not in SUPPORTED_LANGUAGES:
                choices = ", ".join(SUPPORTED_LANGUAGES)
                raise ConfigError(f"{name}: must be one of {choices}{shown}")
        elif f.kind == "path":
            if not value:
                raise ConfigError(f"{name}: must not be empty")
            value = Path(value)
    if f.check is not None:
        problem = f.check(value)
        if problem:
            raise ConfigError(f"{name}: {problem}{shown}")
    return value


def _lookup(table: Mapping[str, Any], dotted: str) -> Any:
    node: Any = table
    for part in dotted.split("."):
        if not isinstance(node, Mapping) or part not in node:
            return None
        node = node[part]
    return node


def _known_keys() -> set[str]:
    return {f.key for f in FIELDS}


def _check_unknown(table: Mapping[str, Any], path: Path) -> None:
    known = _known_keys()
    sections = {k.split(".")[0] for k in known}
    for section, values in table.items():
        if section not in sections or not isinstance(values, Mapping):
            raise ConfigError(f"{section}: unknown section in {path}")
        for name in values:
            if f"{section}.{name}" not in known:
                raise ConfigError(f"{section}.{name}: unknown setting in {path}")


def load_settings(env: Mapping[str, str] | None = None) -> Settings:
    """Read settings from ``SIAGA_CONFIG`` (or config/settings.toml) and the environment."""
    env = os.environ if env is None else env
    table: Mapping[str, Any] = {}
    source: Path | None = None
    if env.get("SIAGA_CONFIG"):
        source = Path(env["SIAGA_CONFIG"])
        if not source.is_file():
            raise ConfigError(f"SIAGA_CONFIG: file not found: {source}")
    elif DEFAULT_CONFIG_PATH.is_file():
        source = DEFAULT_CONFIG_PATH
    if source is not None:
        try:
            table = tomllib.loads(source.read_text(encoding="utf-8"))
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"SIAGA_CONFIG: {source} is not valid TOML: {exc}") from None
        _check_unknown(table, source)

    values: dict[str, Any] = {}
    for f in FIELDS:
        raw, from_env = env.get(f.env), True
        if raw is None or raw == "":
            raw, from_env = _lookup(table, f.key), False
        if raw is None:
            raw = f.default
        values[f.key] = None if raw is None else _convert(f, raw, from_env)

    tg = TelegramSettings(
        bot_token=values["telegram.bot_token"],
        base_url=values["telegram.base_url"],
        webhook_url=values["telegram.webhook_url"],
        webhook_secret=values["telegram.webhook_secret"],
        bot_username=values["telegram.bot_username"],
        max_concurrent=values["telegram.max_concurrent"],
        poll_timeout=values["telegram.poll_timeout"],
        send_rate=values["telegram.send_rate"],
        per_chat_interval=values["telegram.per_chat_interval"],
        group_per_minute=values["telegram.group_per_minute"],
    )
    checkins = [int(p) for p in values["symptoms.checkin_days"].split(",") if p.strip()]
    if checkins and max(checkins) >= values["symptoms.retention_days"]:
        raise ConfigError(
            "SIAGA_SYMPTOMS_CHECKIN_DAYS: the last check-in (day "
            f"{max(checkins)}) must come before symptoms.retention_days "
            f"({values['symptoms.retention_days']}), when the report becomes an anonymous "
            "count")
    if values["hoax.similar_threshold"] > values["hoax.auto_threshold"]:
        raise ConfigError("SIAGA_HOAX_SIMILAR_THRESHOLD: must not be above "
                          "hoax.auto_threshold (a similar case is less like it than a match)")
    if tg.webhook_url and not tg.bot_token:
        raise ConfigError("TELEGRAM_BOT_TOKEN: required when TELEGRAM_WEBHOOK_URL is set")
    if tg.webhook_url and not tg.webhook_secret:
        raise ConfigError("TELEGRAM_WEBHOOK_SECRET: required when TELEGRAM_WEBHOOK_URL is set")
    if tg.webhook_url:
        hook = urlparse(tg.webhook_url)
        if hook.scheme != "https":
            raise ConfigError("TELEGRAM_WEBHOOK_URL: Telegram only delivers to https:// URLs")
        try:
            port = hook.port or 443
        except ValueError:
            port = -1
        if port not in {443, 80, 88, 8443}:
            raise ConfigError("TELEGRAM_WEBHOOK_URL: Telegram only delivers to ports 443, 80, "
                              "88 and 8443 (put a reverse proxy in front of SIAGA_HTTP_PORT)")
    return Settings(
        telegram=tg,
        http_host=values["http.host"],
        http_port=values["http.port"],
        db_path=values["database.path"],
        deployment_name=values["deployment.name"],
        operator=values["deployment.operator"],
        timezone=values["deployment.timezone"],
        default_language=values["deployment.default_language"],
        areas_file=values["deployment.areas_file"],
        contacts=Contacts(
            ambulance=values["contacts.ambulance"],
            emergency=values["contacts.emergency"],
            emergency_note=values["contacts.emergency_note"],
            health_info=values["contacts.health_info"],
            emergency_note_en=values["contacts.emergency_note_en"],
        ),
        health=HealthSettings(spo2_limit=values["health.spo2_limit"]),
        symptoms=SymptomSettings(
            triage_file=values["symptoms.triage_file"],
            escalate_after=timedelta(minutes=values["symptoms.escalate_after_minutes"]),
            retention_days=values["symptoms.retention_days"],
            checkin_days=tuple(sorted({int(p) for p in
                                       values["symptoms.checkin_days"].split(",")
                                       if p.strip()})),
        ),
        inbox_retention_days=values["privacy.inbox_retention_days"],
        unconsented_retention_days=values["privacy.unconsented_retention_days"],
        hoax=HoaxSettings(
            similar_threshold=values["hoax.similar_threshold"],
            auto_threshold=values["hoax.auto_threshold"],
            photo_distance=values["hoax.photo_distance"],
            claim_minutes=values["moderation.claim_minutes"],
            reports_per_hour=values["moderation.reports_per_hour"],
        ),
        volunteers=VolunteerSettings(
            reminder=timedelta(hours=values["volunteers.reminder_hours"])),
        broadcast=BroadcastSettings(
            requires_approval=values["broadcast.requires_approval"],
            urgent_skips_approval=values["broadcast.urgent_skips_approval"],
            quiet_start=time.fromisoformat(values["broadcast.quiet_start"]),
            quiet_end=time.fromisoformat(values["broadcast.quiet_end"]),
            missed_grace=timedelta(minutes=values["broadcast.missed_grace_minutes"]),
        ),
        privacy=PrivacySettings(
            audit_retention_days=values["privacy.audit_retention_days"],
            pseudonym_key=values["privacy.pseudonym_key"],
            secret_file=values["privacy.secret_file"],
        ),
        outbox=OutboxSettings(
            give_up_after=timedelta(hours=values["outbox.give_up_after_hours"])),
        intake=IntakeSettings(
            per_person_per_minute=values["intake.per_person_per_minute"],
            per_person_burst=values["intake.per_person_burst"],
            max_backlog=values["intake.max_backlog"],
        ),
        source=source,
    )
