"""The run's settings, built and checked in one place for both fronts.

``comms-contract run`` and the pytest plugin (``--comms-*`` options) declare their options
from ``SETTINGS`` and build the ``RunConfig`` with ``build_run_config``, so both accept and
refuse the same things, with the same one-line messages, before any request is sent.

Sources, first wins: the command line; the environment (``COMMS_BASE_URL``,
``COMMS_ACCOUNT_ID``, ``COMMS_AUTH_TOKEN``); a settings file (``--config PATH``, else
``comms-contract.toml`` or ``[tool.comms-contract]`` in ``pyproject.toml`` in the working
directory); the defaults below. List settings (``downgrade``, ``clause``) add up across the
file and the command line. Credentials never come from a file.

A team keeps its decisions beside its pipeline: which MUST clauses it downgrades to
advisory while a fix is pending, its profile, its budget.
"""

from __future__ import annotations

import math
import os
import re
import sys
import tempfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from comms_contract.http import ConfigError
from comms_contract.lanes import DEFAULT_REMOTE_WORKERS
from comms_contract.profiles import DEFAULT_PROFILE, PROFILES

if TYPE_CHECKING:
    from comms_contract.session import RunConfig

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

MAX_SECONDS = 3600.0  # a longer per-request timeout or Retry-After wait is a typo, not a plan


class ConfigFileError(ConfigError):
    """The configuration file is unreadable, or names an unknown, secret or mistyped setting."""


@dataclass(frozen=True)
class Setting:
    """One run setting: its name (the file key; ``--NAME`` / ``--comms-NAME`` on a command
    line), its kind, its default and its help text (which states the default and units)."""

    name: str
    kind: str  # text | int | seconds | rate | flag | list | choice
    help: str
    default: Any = None
    low: float | None = None  # inclusive lower bound for int and seconds
    high: float | None = None  # inclusive upper bound
    positive: bool = False  # seconds strictly greater than zero
    env: str | None = None
    in_file: bool = True
    metavar: str | None = None
    choices: tuple[str, ...] = ()

    @property
    def attr(self) -> str:
        return self.name.replace("-", "_")

    def option_kwargs(self) -> dict[str, Any]:
        """argparse / ``pytest.Parser.addoption`` keyword arguments (values arrive as text and
        are converted and range-checked by ``build_run_config``, the same for both fronts)."""
        if self.kind == "flag":
            return {"action": "store_true", "default": None, "help": self.help}
        if self.kind == "list":
            return {"action": "append", "default": [], "metavar": "ID", "help": self.help}
        kwargs: dict[str, Any] = {"default": None, "help": self.help}
        kwargs["metavar"] = self.metavar or self.name.split("-")[-1].upper()
        return kwargs


SETTINGS: tuple[Setting, ...] = (
    Setting(
        "base-url",
        "text",
        "API root to test, e.g. https://comms.twilio.com (env COMMS_BASE_URL); default: the "
        "embedded reference server, in-process",
        env="COMMS_BASE_URL",
        metavar="URL",
    ),
    Setting(
        "account-id",
        "text",
        "HTTP Basic user (env COMMS_ACCOUNT_ID); default: the embedded server's own",
        env="COMMS_ACCOUNT_ID",
        metavar="ID",
    ),
    Setting(
        "auth-token",
        "text",
        "HTTP Basic secret (env COMMS_AUTH_TOKEN; prefer the environment: argv is visible to "
        "ps); never printed",
        env="COMMS_AUTH_TOKEN",
        in_file=False,
        metavar="TOKEN",
    ),
    Setting(
        "profile",
        "choice",
        f"how hard to try: {', '.join(PROFILES)} (default {DEFAULT_PROFILE})",
        default=DEFAULT_PROFILE,
        choices=tuple(PROFILES),
    ),
    Setting(
        "seed",
        "int",
        "seed for every generated case; same seed, same requests (default 1)",
        default=1,
        low=0,
        high=2**32 - 1,
    ),
    Setting("strict", "flag", "no unknown fields allowed: EXTRA-FIELDS becomes MUST"),
    Setting(
        "downgrade",
        "list",
        "report MUST clause ID as advisory, not failing the run (repeatable or "
        "comma-separated; case-insensitive)",
    ),
    Setting(
        "clause",
        "list",
        "run only the checks of clause ID (repeatable or comma-separated; case-insensitive)",
    ),
    Setting(
        "max-requests",
        "int",
        "request budget for the whole run; checks beyond it are skipped (default: no limit)",
        low=1,
        metavar="N",
    ),
    Setting(
        "rate-limit",
        "rate",
        "client-side request rate, e.g. 10/s or 120/min (default: no limit)",
        metavar="RATE",
    ),
    Setting(
        "max-wait",
        "seconds",
        f"cap for one Retry-After wait, in seconds, 0-{MAX_SECONDS:g} (default 60)",
        default=60.0,
        low=0,
        high=MAX_SECONDS,
        metavar="SECONDS",
    ),
    Setting(
        "timeout",
        "seconds",
        f"seconds for a whole exchange (connect, headers, body), > 0 and at most "
        f"{MAX_SECONDS:g} (default 30)",
        default=30.0,
        low=0,
        high=MAX_SECONDS,
        positive=True,
        metavar="SECONDS",
    ),
    Setting(
        "workers",
        "int",
        "concurrent lanes: independent requests and walks in parallel, within the same "
        "--rate-limit and --max-requests (default: 1 in-process, "
        f"{DEFAULT_REMOTE_WORKERS} against a base URL; 1 = strictly one request at a time)",
        low=1,
        high=64,
        metavar="N",
    ),
    Setting(
        "allow-insecure-http",
        "flag",
        "allow sending credentials over plain http:// to a host that is not loopback "
        "(default: refused; loopback hosts are always allowed)",
    ),
    Setting(
        "probe-methods",
        "flag",
        "also send POST/PUT/PATCH/DELETE to check 405 (METHODS); off by default: a server "
        "that ignores the method could act on them",
    ),
    Setting(
        "report-json",
        "text",
        "write the JSON report to PATH (checked writable before the run)",
        metavar="PATH",
    ),
    Setting(
        "junit-xml",
        "text",
        "write JUnit XML (one testcase per clause) to PATH (checked writable before the run)",
        metavar="PATH",
    ),
    Setting(
        "report-html",
        "text",
        "write a self-contained HTML report to PATH (checked writable before the run)",
        metavar="PATH",
    ),
)
BY_NAME = {s.name: s for s in SETTINGS}
# said once the run is over (the CLI, on stderr) or in pytest's warnings (the plugin)
CREDENTIALS_ON_ARGV = (
    "--auth-token on the command line is visible to ps and shell history; prefer "
    "COMMS_AUTH_TOKEN (it is masked in every report either way)"
)
SECRETS = {"auth-token", "auth_token", "password", "token", "secret"}
TYPE_NAMES = {
    "text": "a string",
    "int": "a whole number",
    "seconds": "a number of seconds",
    "rate": 'a rate such as "10/s" or a number of requests per second',
    "flag": "true or false",
    "list": "a list of clause ids",
    "choice": "a string",
}


# ---- the settings file ----------------------------------------------------------------------
def find(explicit: str | None, cwd: Path | None = None) -> tuple[Path, dict[str, Any]] | None:
    """The settings table and where it came from, or None when there is no file."""
    try:
        here = cwd or Path.cwd()
    except FileNotFoundError:
        # the working directory was deleted: an explicit path still works, a default one
        # cannot be there (before: a traceback, breaker 2026-11-30)
        if not explicit:
            return None
        here = Path("/")
    if explicit:
        path = Path(explicit)
        if path.is_dir():
            raise ConfigFileError(
                f"configuration file {explicit} is a folder: name the file itself "
                "(comms-contract.toml, or a pyproject.toml with [tool.comms-contract])"
            )
        if not path.exists():
            raise ConfigFileError(f"configuration file {explicit} does not exist")
        if not path.is_file():  # /dev/null, a pipe, a socket
            raise ConfigFileError(
                f"configuration file {explicit} is not a regular file: name a TOML file"
            )
        return path, _table(path)
    own = here / "comms-contract.toml"
    if own.is_file():
        return own, _table(own)
    pyproject = here / "pyproject.toml"
    if pyproject.is_file():
        tool = _load(pyproject).get("tool", {})
        table = tool.get("comms-contract") if isinstance(tool, dict) else None
        if table is not None:
            return pyproject, _check(pyproject, table, "[tool.comms-contract]")
    return None


def _load(path: Path) -> dict[str, Any]:
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise ConfigFileError(f"cannot read {path}: {exc}") from None
    except RecursionError:  # tomllib parses nested arrays recursively (breaker: 1,000 deep)
        raise ConfigFileError(f"cannot read {path}: values nested too deeply") from None


def _table(path: Path) -> dict[str, Any]:
    data = _load(path)
    if "comms-contract" in data:
        return _check(path, data["comms-contract"], "[comms-contract]")
    return _check(path, data, "the file")


def _check(path: Path, table: Any, what: str) -> dict[str, Any]:
    if not isinstance(table, dict):
        raise ConfigFileError(
            f'{path}: {what} must be a table of settings (e.g. profile = "quick"), not '
            f"{_shown(table)}"
        )
    for key, value in table.items():
        if key in SECRETS or key.replace("_", "-") in SECRETS:
            raise ConfigFileError(
                f"{path}: '{key}' must not be kept in a file; use the COMMS_AUTH_TOKEN environment "
                "variable (from your CI's secret store)"
            )
        setting = BY_NAME.get(key)
        if setting is None or not setting.in_file:
            known = ", ".join(s.name for s in SETTINGS if s.in_file)
            raise ConfigFileError(f"{path}: unknown setting '{key}' (known: {known})")
        if not _file_type_ok(setting, value):
            raise ConfigFileError(
                f"{path}: '{key}' must be {TYPE_NAMES[setting.kind]}, not {_shown(value)}"
            )
    return table


def _file_type_ok(setting: Setting, value: Any) -> bool:
    number = isinstance(value, (int, float)) and not isinstance(value, bool)
    return {
        "text": isinstance(value, str),
        "choice": isinstance(value, str),
        "int": isinstance(value, int) and not isinstance(value, bool),
        "seconds": number,
        "rate": isinstance(value, str) or number,
        "flag": isinstance(value, bool),
        "list": isinstance(value, list) and all(isinstance(v, str) for v in value),
    }[setting.kind]


def _shown(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


# ---- values: conversion and range checks ----------------------------------------------------
def parse_rate(text: str) -> float:
    """``10/s``, ``120/min`` or a bare number (per second) -> requests per second."""
    m = re.fullmatch(r"\s*([0-9]*\.?[0-9]+)\s*(?:/\s*(s|sec|second|m|min|minute))?\s*", text)
    if not m:
        raise ValueError("use e.g. 10/s or 120/min")
    value = float(m[1])
    return value / 60 if (m[2] or "s").startswith("m") else value


def convert(setting: Setting, value: Any, where: str) -> Any:
    """A command-line string or a (type-checked) file value -> the setting's value, in range."""
    kind = setting.kind
    if kind in ("flag", "list") or value is None:
        return value
    if kind == "text":
        return value
    if kind == "choice":
        if value not in setting.choices:
            raise ConfigError(
                f"{where} must be one of {', '.join(setting.choices)}, not {_shown(value)}"
            )
        return value
    if kind == "rate":
        try:
            rate = parse_rate(value) if isinstance(value, str) else float(value)
        except ValueError:
            raise ConfigError(
                f"{where} must be a rate such as 10/s or 120/min, not {_shown(value)}"
            ) from None
        if not (math.isfinite(rate) and rate > 0):
            raise ConfigError(f"{where} must be a positive rate, not {_shown(value)}")
        return rate
    if kind == "int":
        try:
            if isinstance(value, str) and not _ASCII_INTEGER.fullmatch(value.strip()):
                raise ValueError(value)  # int() also reads 1_000 and non-ASCII digits (٣)
            number: float = int(value, 10) if isinstance(value, str) else int(value)
        except ValueError:
            raise ConfigError(f"{where} must be a whole number, not {_shown(value)}") from None
    else:
        try:
            number = float(value)
        except ValueError:
            raise ConfigError(f"{where} must be a number of seconds, not {_shown(value)}") from None
    low, high = setting.low, setting.high
    in_range = math.isfinite(number) and (low is None or number >= low)
    in_range = (
        in_range and (high is None or number <= high) and not (setting.positive and number <= 0)
    )
    if not in_range:
        raise ConfigError(f"{where} must be {_range_text(setting)}, not {_shown(value)}")
    return number


_ASCII_INTEGER = re.compile(r"[+-]?[0-9]+")


def _range_text(setting: Setting) -> str:
    unit = "a whole number" if setting.kind == "int" else "a number of seconds"
    low = f"> {_number(setting.low)}" if setting.positive else f">= {_number(setting.low)}"
    if setting.low is not None and setting.high is not None:
        return f"{unit} {low} and <= {_number(setting.high)}"
    if setting.low is not None:
        return f"{unit} {low}"
    return unit


def _number(value: float | None) -> str:
    """4294967295, not 4.29497e+09; 0.5 as 0.5."""
    if value is None:
        return ""
    return str(int(value)) if float(value).is_integer() else f"{value:g}"


# ---- report paths -------------------------------------------------------------------------
def check_report_path(path: str, where: str) -> None:
    """Refuse a report path that cannot be written, before the run (not after an hour of it).

    The parent folder is created as the writers would; a probe file is created and removed
    in it; an existing file is opened for appending (its content is kept). Anything but a
    regular file (a folder, a device such as /dev/full, a pipe) is refused.
    """
    if not path:
        raise ConfigError(f"{where} is empty; give a file path")
    target = Path(path)
    problem = None
    if target.is_dir():
        problem = "is a directory"
    elif target.exists() and not target.is_file():
        problem = "is not a regular file"
    else:
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            if target.exists():
                with target.open("ab"):
                    pass
            else:
                with tempfile.NamedTemporaryFile(dir=target.parent, prefix=".comms-contract-"):
                    pass
        except OSError as exc:
            problem = f"cannot be written ({exc.strerror or exc})"
    if problem:
        raise ConfigError(f"{where} {path!r} {problem}; give a writable file path")


def _check_rfc3339_validator() -> None:
    from comms_contract.schemas import format_checking_active

    if not format_checking_active():
        raise ConfigError(
            "the 'rfc3339-validator' package is missing, so dates could not be checked; "
            "install it: pip install rfc3339-validator"
        )


# ---- the builder ----------------------------------------------------------------------------
def build_run_config(
    given: Mapping[str, Any],
    *,
    prefix: str = "--",
    config_file: str | None = None,
    app_spec: str | None = None,
    environ: Mapping[str, str] | None = None,
    cwd: Path | None = None,
) -> RunConfig:
    """The checked ``RunConfig`` for the command-line values ``given`` (keyed by attribute
    name, e.g. ``max_requests``; None or absent = not given).

    ``prefix`` is how the front spells its options (``--`` for ``comms-contract run``,
    ``--comms-`` for the plugin), so messages name the option the user typed. Raises
    ``ConfigError`` (one line, never a secret, never a query string) on any bad input.
    """
    from comms_contract import catalog
    from comms_contract.baseurl import check_base_url, check_plain_http
    from comms_contract.catalog import Policy
    from comms_contract.http import ClientSettings, Target
    from comms_contract.redact import REDACTOR
    from comms_contract.session import RunConfig, load_app

    env = os.environ if environ is None else environ
    found = find(config_file, cwd)
    path, table = found if found else (None, {})
    values: dict[str, Any] = {}
    for s in SETTINGS:
        flag = f"{prefix}{s.name}"
        cli = given.get(s.attr)
        if s.kind == "list":  # clause ids: case-insensitive, a typo gets a suggestion
            values[s.attr] = [
                *(
                    catalog.resolve(c, flag=f"{path}: '{s.name}'")
                    for c in _ids(table.get(s.name, []))
                ),
                *(catalog.resolve(c, flag=flag) for c in _ids(cli or [])),
            ]
            continue
        if s.kind == "flag":
            values[s.attr] = bool(cli) or bool(table.get(s.name, False))
            continue
        if cli is not None:
            values[s.attr] = convert(s, cli, flag)
        elif s.env and s.env in env:
            values[s.attr] = convert(s, env[s.env], s.env)
        elif s.name in table:
            values[s.attr] = convert(s, table[s.name], f"{path}: '{s.name}'")
        else:
            values[s.attr] = s.default

    # known to the redactor before any message could quote it (a token in a URL path)
    REDACTOR.add(values.get("account_id") or "", values.get("auth_token") or "")
    base_url = values["base_url"]
    base_source = _source("base-url", given, env, path, prefix)
    for source, other in (
        ("COMMS_BASE_URL", env.get("COMMS_BASE_URL")),
        (f"{path}: 'base-url'", table.get("base-url")),
    ):
        # a value overridden by a stronger source still sits in a file or a CI secret: one
        # holding user:secret@host is refused wherever it is, not only when it is used
        if isinstance(other, str) and other != base_url and "@" in other:
            raise ConfigError(
                f"{source} must not carry credentials (user:secret@host), even when another "
                "source overrides it; give them with --account-id and COMMS_AUTH_TOKEN instead"
            )
    if base_url is not None and not app_spec:
        parts = check_base_url(base_url, source=base_source)
        check_plain_http(
            parts,
            allow_insecure_http=values["allow_insecure_http"],
            flag=f"{prefix}allow-insecure-http",
        )
    reports = {
        name: values[name.replace("-", "_")]
        for name in ("report-json", "junit-xml", "report-html")
        if values[name.replace("-", "_")] is not None
    }
    for name, report_path in reports.items():
        check_report_path(report_path, _source(name, given, env, path, prefix))
    if len({os.path.abspath(p) for p in reports.values()}) < len(reports):
        raise ConfigError("two reports are given the same path; give each its own file")

    selected = set(values["clause"])
    if selected == {"METHODS"} and not values["probe_methods"]:  # with others: a skipped row
        raise ConfigError(
            f"{prefix}clause METHODS needs {prefix}probe-methods: METHODS is checked by "
            "sending POST/PUT/PATCH/DELETE, which a default (read-only) run never does"
        )
    policy = Policy.build(values["strict"], values["downgrade"])
    _check_rfc3339_validator()

    embedded = base_url is None
    if embedded:
        from comms_contract.server.app import Credentials

        defaults = Credentials()
        account = values["account_id"] or defaults.account_id
        token = values["auth_token"] or defaults.auth_token
    else:
        account, token = values["account_id"] or "", values["auth_token"] or ""
    for label, value in (("account id", account), ("auth token", token)):
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:  # a byte the locale could not decode (os.environ, argv)
            raise ConfigError(
                f"the {label} is not UTF-8 text (it holds a byte the locale could not decode): "
                "HTTP Basic sends credentials as UTF-8 (RFC 7617); check how it is set"
            ) from None
    if ":" in account:
        # RFC 7617: the user-id of HTTP Basic cannot contain a colon
        raise ConfigError("the account id must not contain ':' (HTTP Basic cannot carry it)")
    target = Target(base_url, account, token)
    if not app_spec:
        target.validate(allow_insecure_http=values["allow_insecure_http"])
    try:
        app = load_app(app_spec) if app_spec else None
    except (ImportError, AttributeError) as exc:
        raise ConfigError(f"cannot load the ASGI app {app_spec!r}: {exc}") from None
    return RunConfig(
        target=target,
        profile=PROFILES[values["profile"]],
        seed=values["seed"],
        policy=policy,
        selected=frozenset(selected) or None,
        client=ClientSettings(
            timeout=values["timeout"],
            max_requests=values["max_requests"],
            rate_limit=values["rate_limit"],
            max_wait=values["max_wait"],
            workers=values["workers"],
        ),
        allow_insecure_http=values["allow_insecure_http"],
        probe_methods=values["probe_methods"],
        app=app,
        app_spec=app_spec or None,
        report_json=values["report_json"],
        junit_xml=values["junit_xml"],
        report_html=values["report_html"],
    )


def _ids(items: list[str]) -> list[str]:
    """Clause ids from repeatable, comma-separated values; an empty value (``--clause ''``,
    ``--clause ,``) is a mistake, not "every clause"."""
    ids = [c.strip() for item in items for c in item.split(",") if c.strip()]
    if any(not item.replace(",", "").strip() for item in items):
        raise ConfigError("an empty clause id was given (see 'comms-contract clauses')")
    return ids


def _source(
    name: str, given: Mapping[str, Any], env: Mapping[str, str], path: Path | None, prefix: str
) -> str:
    """Where the value of setting ``name`` came from, as the user would recognise it."""
    setting = BY_NAME[name]
    if given.get(setting.attr) is not None:
        return f"{prefix}{name}"
    if setting.env and setting.env in env:
        return setting.env
    return f"{path}: '{name}'" if path else f"{prefix}{name}"


def values_from(namespace: Any, getter: Callable[[str], Any] | None = None) -> dict[str, Any]:
    """The command-line values of every setting, from an argparse namespace or through
    ``getter`` (pytest's ``config.getoption`` with the plugin's ``comms_`` prefix)."""
    if getter is not None:
        return {s.attr: getter(s.attr) for s in SETTINGS}
    return {s.attr: getattr(namespace, s.attr, None) for s in SETTINGS}
