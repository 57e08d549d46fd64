"""The package metadata builds without deprecation warnings on a current setuptools."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

PYPROJECT = tomllib.loads((Path(__file__).resolve().parent.parent / "pyproject.toml")
                          .read_text(encoding="utf-8"))


def test_license_is_an_spdx_string_and_the_build_backend_reads_it() -> None:
    # the { text = ... } table makes setuptools >= 77 warn on every build
    assert PYPROJECT["project"]["license"] == "MIT"
    (requirement,) = [r for r in PYPROJECT["build-system"]["requires"]
                      if r.startswith("setuptools")]
    found = re.fullmatch(r"setuptools>=(\d+)(\.\d+)*", requirement)
    assert found is not None and int(found.group(1)) >= 77, requirement  # reads SPDX strings
