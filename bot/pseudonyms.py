"""Keyed pseudonyms: how the audit log, kept notices and the logs name a person.

A pseudonym is ``p:`` and the first 24 hex digits (96 bits) of HMAC-SHA256 of the identity
(``telegram:12345``) under a per-deployment key. Without the key nobody can tell whose it is,
not even by trying every possible chat ID; with the key the operator can check whether a
given identity is behind a pseudonym, and the same identity always gets the same one.

The key is ``privacy.pseudonym_key`` when set, else it is read from ``settings.secret_file``
(default ``siaga.key`` beside the database), generated there on first start: 0600, in a
directory created 0700. It is never printed or logged. Keep it with the backups: with a new
key, people erased from now on get other pseudonyms than before (nothing is revealed).
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import os
import secrets
import stat
from pathlib import Path

from bot.config import ConfigError, Settings

log = logging.getLogger(__name__)

PREFIX = "p:"
LENGTH = 24  # hex digits kept: 96 bits, no collision among any number of residents
MIN_KEY = 32  # characters, as the ``privacy.pseudonym_key`` setting requires


class Pseudonyms:
    """``pseudonyms(identity)``: the keyed pseudonym of an identity."""

    def __init__(self, key: str) -> None:
        if len(key) < MIN_KEY:
            raise ValueError(f"a pseudonym key needs at least {MIN_KEY} characters")
        self._key = key.encode()

    def __call__(self, identity: str) -> str:
        digest = hmac.new(self._key, identity.encode(), hashlib.sha256).hexdigest()
        return PREFIX + digest[:LENGTH]

    def __repr__(self) -> str:  # never show the key
        return "Pseudonyms(<key>)"

    @classmethod
    def ephemeral(cls) -> Pseudonyms:
        """A key for this process only (an in-memory database that dies with it)."""
        return cls(secrets.token_urlsafe(32))

    @classmethod
    def from_settings(cls, settings: Settings) -> Pseudonyms:
        """The deployment's pseudonyms: from the setting, else from (or into) the key file."""
        if settings.privacy.pseudonym_key:
            return cls(settings.privacy.pseudonym_key)
        if str(settings.db_path) == ":memory:" and settings.privacy.secret_file is None:
            return cls.ephemeral()
        return cls(load_or_create_key(settings.secret_file))


def load_or_create_key(path: Path) -> str:
    """Read the key kept in ``path``; create it (0600, new directory 0700) on first start."""
    if not path.exists():
        _create(path)
    mode = stat.S_IMODE(path.stat().st_mode)
    if mode & 0o077:
        os.chmod(path, 0o600)
        log.warning("%s could be read by other users; made it private (chmod 600)", path)
    key = path.read_text(encoding="utf-8").strip()
    if len(key) < MIN_KEY:
        raise ConfigError(f"{path}: the pseudonym key in this file is shorter than {MIN_KEY} "
                          "characters (delete the file to have a new one generated, or set "
                          "privacy.pseudonym_key)")
    return key


def _create(path: Path) -> None:
    parent = path.parent
    if not parent.exists():
        parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        os.chmod(parent, 0o700)  # mkdir's mode is filtered by the umask
    elif parent.stat().st_mode & 0o077:
        log.warning("%s can be read by other users of this machine; chmod 700 it", parent)
    # written whole to a private temporary file, then linked into place: a crash never
    # leaves half a key, and a key another process created first is never overwritten
    temp = parent / f".{path.name}.{secrets.token_hex(6)}"
    fd = os.open(temp, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            out.write(secrets.token_urlsafe(32) + "\n")
            out.flush()
            os.fsync(out.fileno())
        try:
            os.link(temp, path)
        except FileExistsError:
            return
    finally:
        temp.unlink(missing_ok=True)
    log.info("generated the pseudonym key in %s (keep it with the backups)", path)
