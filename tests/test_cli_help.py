"""The command line as a new user meets it (issue 13 items 5 and 6): help texts with defaults
and units, the exit-code table, ``serve`` binding before its banner, clause ids typed in any
case with a suggestion on a typo, and a missing ``rfc3339-validator`` refused up front."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time

import pytest
from jsonschema import Draft202012Validator

from comms_contract import cli
from comms_contract.catalog import Policy, resolve
from comms_contract.config import SETTINGS, build_run_config


def help_text(capsys, *argv: str) -> str:
    with pytest.raises(SystemExit) as exc:
        cli.build_parser().parse_args([*argv, "--help"])
    assert exc.value.code == 0
    return " ".join(capsys.readouterr().out.split())  # argparse wraps lines: compare words


def test_top_level_help_has_no_raw_markup(capsys):
    text = help_text(capsys)
    assert "``" not in text
    for command in ("run", "serve", "check-client", "clauses"):
        assert command in text


def test_run_help_gives_every_default_and_unit_and_the_exit_codes(capsys):
    text = help_text(capsys, "run")
    assert "``" not in text
    for needle in (
        "(default ci)",
        "(default 1)",
        "seconds for a whole exchange (connect, headers, body)",
        "(default 30)",
        "Retry-After wait, in seconds",
        "(default 60)",
        "request budget for the whole run",
        "(default: no limit)",
        "e.g. 10/s or 120/min",
        "--allow-insecure-http allow sending credentials over plain http://",
        "--report-json PATH write the JSON report",
        "--junit-xml PATH write JUnit XML",
        "--report-html PATH write a self-contained HTML report",
        "env COMMS_BASE_URL",
        "env COMMS_AUTH_TOKEN",
    ):
        assert needle in text, needle
    for code in ("0 no MUST clause violated", "1 at least one MUST", "2 usage", "130", "143"):
        assert code in text, code
    assert "128+N" in text


def test_every_run_option_has_help():
    for setting in SETTINGS:
        assert setting.help and len(setting.help) > 20, setting.name
        default = setting.default
        if default is not None and setting.kind != "flag":
            shown = f"{default:g}" if isinstance(default, float) else str(default)
            assert f"(default {shown})" in setting.help, setting.name


def test_serve_help_shows_credentials_and_port_defaults(capsys):
    text = help_text(capsys, "serve")
    from comms_contract.server.app import Credentials

    creds = Credentials()
    assert f"(default {creds.account_id})" in text
    assert "(default reference- auth-token)" in text or f"(default {creds.auth_token})" in text
    assert "(default 8080)" in text and "0 picks a free one" in text
    assert "(default 127.0.0.1)" in text and "(default 160)" in text


def test_check_client_help_shows_the_timeout_default(capsys):
    assert "--timeout SECONDS seconds per scenario" in help_text(capsys, "check-client")
    assert "(default 30)" in help_text(capsys, "check-client")


def test_readme_has_the_exit_code_table():
    from pathlib import Path

    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")
    for row in ("| 0 ", "| 1 ", "| 2 ", "| 130 ", "| 143 "):
        assert row in readme, row


# ---- serve ----------------------------------------------------------------------------------
def start_serve(*argv: str) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "comms_contract", "serve", *argv],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def banner_url(proc: subprocess.Popen) -> str:
    deadline = time.monotonic() + 60
    assert proc.stdout is not None
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        m = re.search(r"base URL:\s+(\S+)", line)
        if m:
            return m[1]
        assert line or proc.poll() is None, proc.stderr.read() if proc.stderr else ""
    raise AssertionError("no banner")


def stop(proc: subprocess.Popen) -> None:
    proc.terminate()
    try:
        proc.communicate(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.communicate()


def answers(url: str) -> int:
    import httpx

    from comms_contract.server.app import Credentials

    creds = Credentials()
    auth = (creds.account_id, creds.auth_token)
    return httpx.get(f"{url}/v1/PushNotifications/Operations", auth=auth, timeout=10).status_code


def test_serve_port_0_prints_the_bound_port():
    proc = start_serve("--port", "0", "--count", "3")
    try:
        url = banner_url(proc)
        port = int(url.rsplit(":", 1)[1])
        assert port != 0 and url == f"http://127.0.0.1:{port}"
        assert answers(url) == 200
    finally:
        stop(proc)


def test_serve_a_scenario_on_port_0_prints_the_bound_port():
    proc = start_serve("--scenario", "multi-page", "--port", "0")
    try:
        url = banner_url(proc)
        assert not url.endswith(":0") and answers(url) == 200
    finally:
        stop(proc)


def _ipv6_loopback() -> bool:
    try:
        with socket.socket(socket.AF_INET6) as s:
            s.bind(("::1", 0))
        return True
    except OSError:
        return False


@pytest.mark.skipif(not _ipv6_loopback(), reason="no IPv6 loopback")
def test_serve_on_ipv6_prints_a_pasteable_url():
    proc = start_serve("--host", "::1", "--port", "0", "--count", "3")
    try:
        url = banner_url(proc)
        assert re.fullmatch(r"http://\[::1\]:\d+", url), url
        assert answers(url) == 200
    finally:
        stop(proc)


def test_serve_on_a_busy_port_is_one_line_without_banner(capsys):
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen(1)
        port = busy.getsockname()[1]
        code = cli.main(["serve", "--port", str(port)])
    out, err = capsys.readouterr()
    assert code == 2 and out == ""
    assert err.strip().splitlines() == [
        f"comms-contract: error: port {port} on 127.0.0.1 is already in use; choose another "
        "with --port (--port 0: any free port)"
    ]


@pytest.mark.parametrize(
    ("argv", "needle"),
    [
        (["--port", "99999"], "--port must be a whole number >= 0 and <= 65535"),
        (["--port", "-1"], "--port must be a whole number >= 0"),
        (["--port", "http"], "--port must be a whole number, not 'http'"),
        (["--count", "-1"], "--count must be a whole number >= 0"),
        (["--seed", "x"], "--seed must be a whole number"),
        (["--host", "no such host.invalid"], "cannot listen on host"),
        (["--scenario", "nope"], "unknown scenario 'nope'"),
        (["--request-log", "x.log"], "--request-log needs --scenario"),
        (["--scenario", "multi-page", "--request-log", "/proc/x.log"], "cannot be written"),
    ],
)
def test_serve_bad_input_is_one_line(capsys, argv, needle):
    code = cli.main(["serve", *argv])
    out, err = capsys.readouterr()
    assert code == 2 and out == "" and "Traceback" not in err
    assert len(err.strip().splitlines()) == 1 and needle in err, err


# ---- clause ids -----------------------------------------------------------------------------
def test_clause_ids_are_case_insensitive():
    assert resolve("size-range") == resolve(" Size-Range ") == "SIZE-RANGE"
    cfg = build_run_config({"clause": ["size-range,ct"], "downgrade": ["no-5xx"]}, environ={})
    assert cfg.selected == {"SIZE-RANGE", "CT"}
    assert cfg.policy.downgraded == {"NO-5XX"}


@pytest.mark.parametrize(
    ("option", "typo", "suggestion"),
    [
        ("--clause", "SIZE-RANG", "SIZE-RANGE"),
        ("--downgrade", "walk-exactly-one", "WALK-EXACTLY-ONCE"),
    ],
)
def test_a_typo_gets_a_suggestion(capsys, option, typo, suggestion):
    code = cli.main(["run", f"{option}={typo}"])
    err = capsys.readouterr().err
    assert code == 2 and len(err.strip().splitlines()) == 1
    assert f"did you mean {suggestion}?" in err and option in err


@pytest.mark.parametrize("unknown", ["zzzz", "nope"])  # "nope" was "did you mean ENVELOPE?"
def test_an_unknown_id_without_a_close_match_names_the_catalog(capsys, unknown):
    assert cli.main(["run", "--clause", unknown]) == 2
    err = capsys.readouterr().err
    assert f"unknown clause id {unknown!r}" in err and "comms-contract clauses" in err
    assert "did you mean" not in err


@pytest.mark.parametrize(("clause", "level"), [("METHODS", "SHOULD"), ("TOKEN-EMPTY", "FREE")])
def test_downgrading_a_clause_that_is_not_must_is_an_error(capsys, clause, level):
    assert cli.main(["run", "--downgrade", clause.lower()]) == 2
    err = capsys.readouterr().err
    assert f"cannot downgrade {clause}: it is {level}" in err and len(err.splitlines()) == 1


def test_strict_mode_makes_extra_fields_downgradable():
    with pytest.raises(ValueError, match="cannot downgrade EXTRA-FIELDS: it is FREE"):
        Policy.build(False, ["EXTRA-FIELDS"])
    assert Policy.build(True, ["extra-fields"]).downgraded == {"EXTRA-FIELDS"}


# ---- rfc3339-validator ----------------------------------------------------------------------
def test_missing_rfc3339_validator_stops_the_run_naming_the_package(capsys, monkeypatch):
    checkers = dict(Draft202012Validator.FORMAT_CHECKER.checkers)
    checkers.pop("date-time")
    monkeypatch.setattr(Draft202012Validator.FORMAT_CHECKER, "checkers", checkers)
    assert cli.main(["run"]) == 2
    out, err = capsys.readouterr()
    assert out == "" and len(err.strip().splitlines()) == 1
    assert "pip install rfc3339-validator" in err and "format-nongpl" not in err


@pytest.mark.parametrize("argv", [["clauses"], ["check-client", "--list"]])
def test_listings_fit_the_terminal_width(capsys, monkeypatch, argv):
    monkeypatch.setenv("COLUMNS", "80")
    assert cli.main(argv) == 0
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) > 10 and max(len(line) for line in lines) <= 80


def test_a_users_clause_marker_in_any_case(pytester: pytest.Pytester):
    pytester.makepyfile(
        """
import pytest
from comms_contract.judge import judge

@pytest.mark.clause("filter-sound")
def test_completed_only(comms):
    judge(comms, comms.get({"status": "COMPLETED", "pageSize": "10"}))
"""
    )
    result = pytester.runpytest_inprocess("-p", "no:cacheprovider", "--comms-profile", "quick")
    result.assert_outcomes(passed=1)


def test_a_typo_in_a_users_clause_marker_is_one_line_with_a_suggestion(pytester: pytest.Pytester):
    pytester.makepyfile(
        """
import pytest

@pytest.mark.clause("FILTER-SOUN")
def test_x(comms):
    pass
"""
    )
    result = pytester.runpytest_inprocess("-p", "no:cacheprovider", "--comms-profile", "quick")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    err = result.stderr.str()
    assert "did you mean FILTER-SOUND" in err and "Traceback" not in err


@pytest.mark.parametrize("argv", [["clauses"], ["check-client", "--list"]])
def test_a_closed_pipe_ends_quietly(argv):
    """``comms-contract clauses | head -1``: no traceback, the exit status of a tool killed by
    SIGPIPE (141), never a verdict."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "comms_contract", *argv],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env={**os.environ, "COLUMNS": "40"},
    )
    assert proc.stdout is not None
    proc.stdout.readline()
    proc.stdout.close()  # the reader goes away before the listing is written
    err = proc.stderr.read().decode() if proc.stderr else ""
    assert proc.wait(timeout=60) in (0, 141), err
    assert "Traceback" not in err and "BrokenPipe" not in err, err
