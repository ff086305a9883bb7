"""Run settings from a file: ``comms-contract.toml`` or ``[tool.comms-contract]`` in
``pyproject.toml`` (in the working directory), or ``--config PATH``.

A team keeps its decisions beside its pipeline: which MUST clauses it downgrades to
advisory while a fix is pending, its profile, its budget. Command-line options win over the
file; list options (``downgrade``, ``clause``) add to it. Credentials never come from a file.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

KEYS = {
    "base-url": str,
    "account-id": str,
    "profile": str,
    "seed": int,
    "strict": bool,
    "downgrade": list,
    "clause": list,
    "max-requests": int,
    "rate-limit": str,
    "max-wait": float,
    "timeout": float,
    "allow-insecure-http": bool,
    "probe-methods": bool,
    "report-json": str,
    "junit-xml": str,
    "report-html": str,
}
TYPE_NAMES = {
    str: "a string",
    int: "a whole number",
    float: "a number",
    bool: "true or false",
    list: "a list",
}
SECRETS = {"auth-token", "auth_token", "password", "token"}


class ConfigFileError(ValueError):
    """The configuration file is unreadable or names an unknown or secret setting."""


def find(explicit: str | None, cwd: Path | None = None) -> tuple[Path, dict[str, Any]] | None:
    """The settings table and where it came from, or None when there is no file."""
    here = cwd or Path.cwd()
    if explicit:
        path = Path(explicit)
        if not path.is_file():
            raise ConfigFileError(f"configuration file {explicit} does not exist")
        return path, _table(path)
    own = here / "comms-contract.toml"
    if own.is_file():
        return own, _table(own)
    pyproject = here / "pyproject.toml"
    if pyproject.is_file():
        table = _load(pyproject).get("tool", {}).get("comms-contract")
        if table is not None:
            return pyproject, _check(pyproject, table)
    return None


def _load(path: Path) -> dict[str, Any]:
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise ConfigFileError(f"cannot read {path}: {exc}") from None


def _table(path: Path) -> dict[str, Any]:
    data = _load(path)
    return _check(path, data.get("comms-contract", data))


def _check(path: Path, table: dict[str, Any]) -> dict[str, Any]:
    for key, value in table.items():
        if key in SECRETS:
            raise ConfigFileError(
                f"{path}: '{key}' must not be kept in a file; use the COMMS_AUTH_TOKEN environment "
                "variable (from your CI's secret store)"
            )
        if key not in KEYS:
            raise ConfigFileError(f"{path}: unknown setting '{key}' (known: {', '.join(KEYS)})")
        want = KEYS[key]
        ok = isinstance(value, want) or (want is float and isinstance(value, int))
        if not ok or (want is int and isinstance(value, bool)):
            raise ConfigFileError(f"{path}: '{key}' must be {TYPE_NAMES[want]}, not {value!r}")
        if want is list and not all(isinstance(v, str) for v in value):
            raise ConfigFileError(f"{path}: '{key}' must be a list of clause ids")
    return table


def merge(args: argparse.Namespace, table: dict[str, Any], defaults: dict[str, Any]) -> None:
    """Fill ``args`` from the file where the command line left a setting unset."""
    for key, value in table.items():
        attr = key.replace("-", "_")
        current = getattr(args, attr, None)
        if KEYS[key] is list:
            setattr(args, attr, [*value, *(current or [])])
        elif current is None or current is False:
            setattr(args, attr, value)
    for attr, value in defaults.items():
        if getattr(args, attr, None) is None:
            setattr(args, attr, value)
