"""The area directory: kelurahan -> RW -> RT, with contacts and invite codes, from config/."""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from bot.config import ConfigError
from bot.events import Text, t

_INVITE = re.compile(r"[A-Za-z0-9_-]{4,64}")
# contact roles the bot can name in every language; any other role is shown as written
_ROLE_KEYS = {"puskesmas": "area.role_puskesmas", "rumah sakit": "area.role_hospital",
              "rsud": "area.role_hospital", "kelurahan": "area.role_kelurahan",
              "kantor kelurahan": "area.role_kelurahan", "desa": "area.role_desa",
              "kantor desa": "area.role_desa"}
_ROLE_HEAD = re.compile(r"ketua\s+(rt|rw)\s*(\d{1,3})?", re.I)


@dataclass(frozen=True)
class Contact:
    name: str
    phone: str
    role: str = ""

    def role_label(self) -> Text:
        """The role in the reader's language for the roles the bot knows ("Rumah sakit",
        "Ketua RT 01" ...); any other role as the data file writes it."""
        role = " ".join(self.role.split())
        key = _ROLE_KEYS.get(role.lower())
        if key:
            return t(key)
        head = _ROLE_HEAD.fullmatch(role)
        if head:
            return t(f"area.role_{head[1].lower()}_head", number=head[2] or "")
        return t("raw", value=self.role)


@dataclass(frozen=True)
class RT:
    code: str  # "cimuncang-rw02-rt03"
    number: str  # "03"
    rw_code: str
    invite: str
    contacts: tuple[Contact, ...] = ()


@dataclass(frozen=True)
class RW:
    code: str
    number: str
    kelurahan_code: str
    rts: tuple[RT, ...] = ()
    contacts: tuple[Contact, ...] = ()


@dataclass(frozen=True)
class Kelurahan:
    code: str
    name: str
    kecamatan: str
    kota: str
    rws: tuple[RW, ...] = ()
    contacts: tuple[Contact, ...] = ()  # puskesmas, hospital, kelurahan office


@dataclass
class Areas:
    kelurahan: tuple[Kelurahan, ...]
    demo: bool = False
    _by_code: dict[str, Kelurahan | RW | RT] = field(default_factory=dict)
    _by_invite: dict[str, RT] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for kel in self.kelurahan:
            self._add(kel.code, kel)
            for rw in kel.rws:
                self._add(rw.code, rw)
                for rt in rw.rts:
                    self._add(rt.code, rt)
                    if rt.invite in self._by_invite:
                        raise ConfigError(f"areas: invite code {rt.invite!r} is used twice")
                    self._by_invite[rt.invite] = rt

    def _add(self, code: str, unit: Kelurahan | RW | RT) -> None:
        if code in self._by_code:
            raise ConfigError(f"areas: area code {code!r} is used twice")
        self._by_code[code] = unit

    def get(self, code: str | None) -> Kelurahan | RW | RT | None:
        return self._by_code.get(code or "")

    def rt(self, code: str | None) -> RT | None:
        unit = self.get(code)
        return unit if isinstance(unit, RT) else None

    def rw(self, code: str | None) -> RW | None:
        unit = self.get(code)
        return unit if isinstance(unit, RW) else None

    def kel(self, code: str | None) -> Kelurahan | None:
        unit = self.get(code)
        return unit if isinstance(unit, Kelurahan) else None

    def by_invite(self, invite: str) -> RT | None:
        return self._by_invite.get(invite.strip())

    def chain(self, rt_code: str) -> tuple[Kelurahan, RW, RT] | None:
        """Return (kelurahan, RW, RT) for an RT code."""
        rt = self.rt(rt_code)
        if rt is None:
            return None
        rw = self.rw(rt.rw_code)
        assert rw is not None
        kel = self.kel(rw.kelurahan_code)
        assert kel is not None
        return kel, rw, rt

    def label(self, code: str | None, *, full: bool = False) -> Text | None:
        """The one way an area is named (words from content): "RT 03 / RW 02", "RW 02",
        "Kel. Cimuncang"; ``full`` adds the kelurahan to an RT ("RT 03 / RW 02, Cimuncang")."""
        unit = self.get(code)
        if isinstance(unit, RT):
            rw = self.rw(unit.rw_code)
            kel = self.kel(rw.kelurahan_code) if rw else None
            return t("area.label_rt", rt=unit.number, rw=rw.number if rw else "",
                     kelurahan=kel.name if kel and full else "")
        if isinstance(unit, RW):
            return t("area.label_rw", rw=unit.number)
        if isinstance(unit, Kelurahan):
            return t("area.label_kelurahan", name=unit.name)
        return None

    def labels(self, codes: tuple[str, ...] | list[str]) -> Text:
        """Several areas in one line: "RT 01 / RW 02, RT 03 / RW 02"."""
        return t("area.list", items=[self.label(c) or c for c in codes])

    def covers(self, scope_code: str, target_code: str) -> bool:
        """True if the unit ``scope_code`` contains (or is) the unit ``target_code``."""
        if not scope_code or self.get(scope_code) is None:
            return False
        code: str | None = target_code
        while code:
            if code == scope_code:
                return True
            unit = self.get(code)
            if isinstance(unit, RT):
                code = unit.rw_code
            elif isinstance(unit, RW):
                code = unit.kelurahan_code
            else:
                code = None
        return False

    def rts_within(self, code: str) -> list[RT]:
        unit = self.get(code)
        if isinstance(unit, RT):
            return [unit]
        if isinstance(unit, RW):
            return list(unit.rts)
        if isinstance(unit, Kelurahan):
            return [rt for rw in unit.rws for rt in rw.rts]
        return []

    def all_rts(self) -> list[RT]:
        return [rt for kel in self.kelurahan for rw in kel.rws for rt in rw.rts]


def _contacts(items: object, where: str) -> tuple[Contact, ...]:
    if items is None:
        return ()
    if not isinstance(items, list):
        raise ConfigError(f"areas: {where}.contacts must be a list")
    out = []
    for i, item in enumerate(items):
        if not isinstance(item, dict) or not item.get("name") or not item.get("phone"):
            raise ConfigError(f"areas: {where}.contacts[{i}] needs a name and a phone")
        out.append(Contact(str(item["name"]), str(item["phone"]), str(item.get("role", ""))))
    return tuple(out)


def _number(value: object, where: str) -> str:
    text = str(value).strip()
    if not text.isdigit():
        raise ConfigError(f"areas: {where} number must be digits, got {value!r}")
    return text.zfill(2)


def load_areas(path: Path) -> Areas:
    """Read and check the areas file; ConfigError names the first problem."""
    if not path.is_file():
        raise ConfigError(f"SIAGA_AREAS_FILE: file not found: {path}")
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"SIAGA_AREAS_FILE: {path} is not valid TOML: {exc}") from None
    kels = []
    for k, kel in enumerate(data.get("kelurahan", [])):
        where = f"kelurahan[{k}]"
        code = str(kel.get("code", "")).strip()
        if not re.fullmatch(r"[a-z0-9-]{2,30}", code):
            raise ConfigError(f"areas: {where}.code must be 2-30 of a-z, 0-9 and -")
        rws = []
        for w, rw in enumerate(kel.get("rw", [])):
            rw_where = f"{where}.rw[{w}]"
            rw_number = _number(rw.get("number", ""), rw_where)
            rw_code = f"{code}-rw{rw_number}"
            rts = []
            for r, rt in enumerate(rw.get("rt", [])):
                rt_where = f"{rw_where}.rt[{r}]"
                rt_number = _number(rt.get("number", ""), rt_where)
                invite = str(rt.get("invite", "")).strip()
                if not _INVITE.fullmatch(invite):
                    raise ConfigError(
                        f"areas: {rt_where}.invite must be 4-64 of A-Z, a-z, 0-9, _ and -"
                    )
                rts.append(RT(f"{rw_code}-rt{rt_number}", rt_number, rw_code, invite,
                              _contacts(rt.get("contacts"), rt_where)))
            rws.append(RW(rw_code, rw_number, code, tuple(rts),
                          _contacts(rw.get("contacts"), rw_where)))
        for field_name in ("name", "kecamatan", "kota"):
            if not kel.get(field_name):
                raise ConfigError(f"areas: {where}.{field_name} is missing")
        kels.append(Kelurahan(code, str(kel["name"]), str(kel["kecamatan"]), str(kel["kota"]),
                              tuple(rws), _contacts(kel.get("contacts"), where)))
    if not kels:
        raise ConfigError(f"SIAGA_AREAS_FILE: {path} defines no kelurahan")
    return Areas(tuple(kels), demo=bool(data.get("demo", False)))
