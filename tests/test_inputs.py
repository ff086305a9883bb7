"""Inputs checked before any request (issue 9 item 6): every bad option, environment value,
base URL, report path and settings-file value ends the run with exit 2 and one line on
stderr, no Python frame, and no request sent to the target (a loopback server counts them).
The pytest plugin refuses the same inputs through the same builder."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from loopback import free_port, serve
from starlette.responses import JSONResponse

from comms_contract import cli
from comms_contract.config import build_run_config

CREDS = ["--account-id", "ACinputs", "--auth-token", "inputs-s3cret-token"]


class Counter:
    """An ASGI app that counts requests (any request here is a bug: input is checked first)."""

    def __init__(self) -> None:
        self.requests = 0

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            return
        self.requests += 1
        await JSONResponse({})(scope, receive, send)


@pytest.fixture(scope="module")
def target():
    app = Counter()
    with serve(app) as base:
        yield app, base


def refused(capsys, *argv: str, command: str = "run") -> str:
    """Run the CLI; assert exit 2, exactly one stderr line, nothing else; return that line."""
    code = cli.main([command, *argv])
    out, err = capsys.readouterr()
    assert code == 2, (out, err)
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("comms-contract: error: "), err
    assert out == "", out
    assert "Traceback" not in err and 'File "' not in err
    assert "inputs-s3cret-token" not in err
    return lines[0]


@pytest.mark.parametrize(
    ("option", "value", "needle"),
    [
        ("--max-requests", "0", "--max-requests must be a whole number >= 1"),
        ("--max-requests", "-5", "--max-requests must be a whole number >= 1"),
        ("--max-requests", "ten", "--max-requests must be a whole number, not 'ten'"),
        ("--timeout", "-1", "--timeout must be a number of seconds > 0"),
        ("--timeout", "0", "--timeout must be a number of seconds > 0"),
        ("--timeout", "nan", "--timeout must be a number of seconds > 0"),
        ("--timeout", "inf", "--timeout must be a number of seconds > 0"),
        ("--timeout", "1e9", "and <= 3600"),
        ("--timeout", "soon", "--timeout must be a number of seconds, not 'soon'"),
        ("--max-wait", "-1", "--max-wait must be a number of seconds >= 0"),
        ("--max-wait", "nan", "--max-wait must be a number of seconds >= 0"),
        ("--rate-limit", "0", "--rate-limit must be a positive rate"),
        ("--rate-limit", "0/min", "--rate-limit must be a positive rate"),
        ("--rate-limit", "-1/s", "--rate-limit must be a rate such as 10/s"),
        ("--rate-limit", "fast", "--rate-limit must be a rate such as 10/s"),
        ("--seed", "-1", "--seed must be a whole number >= 0"),
        ("--seed", "x", "--seed must be a whole number"),
        # int() reads these; a seed copied into a replay must mean the same everywhere
        ("--seed", "1_000", "--seed must be a whole number, not '1_000'"),
        ("--seed", "\u0663", "--seed must be a whole number, not"),  # ARABIC-INDIC DIGIT THREE
        ("--seed", "99999999999", "<= 4294967295, not '99999999999'"),  # not 4.29497e+09
        ("--profile", "fast", "--profile must be one of quick, ci, thorough"),
    ],
)
def test_numeric_and_choice_options_out_of_range(capsys, target, option, value, needle):
    app, base = target
    line = refused(capsys, "--base-url", base, *CREDS, f"{option}={value}")
    assert needle in line
    assert app.requests == 0


@pytest.mark.parametrize(
    ("url", "needle"),
    [
        ("http://127.0.0.1:abc", "port 'abc' is not a number from 1 to 65535"),
        ("http://127.0.0.1:99999", "port '99999' is not a number from 1 to 65535"),
        ("http://127.0.0.1:0", "port '0' is not a number from 1 to 65535"),
        ("http://127.0.0.1:8080\n", "control character (position 22, U+000A)"),
        ("http://exa\x07mple.com", "control character"),
        ("http://example .com", "space or control character"),
        ("https://" + "a" * 3000 + ".com", "characters long (at most 2048)"),
        ("http://::1:8080", "an IPv6 address must be in brackets, e.g. http://[::1]:8080"),
        ("http://[::g]:8080", "is not a valid URL"),
        ("http://[fe80::1%25eth0]:abc", "port 'abc'"),
        ("http://[::1", "is not a valid URL"),
        ("http://[::1]:abc", "port 'abc' is not a number"),
        ("https://comms..example", "is not a valid host name"),
        ("not a url", "space or control character"),
        # urlsplit read "127.0.0.1" as no scheme and echoed '://127.0.0.1:18000'
        ("127.0.0.1:18000", "'127.0.0.1:18000' has no scheme; write it in full, e.g. http://127"),
        ("comms.example.com", "'comms.example.com' has no scheme"),
        ("//127.0.0.1:18610", "'//127.0.0.1:18610' has no scheme"),  # was '://127.0.0.1:18610'
    ],
)
def test_base_url_parsed_before_any_request(capsys, target, url, needle):
    app, _ = target
    line = refused(capsys, "--base-url", url, *CREDS)
    assert needle in line
    assert app.requests == 0


@pytest.mark.parametrize(
    "url",
    [
        "https://comms.example/?auth=url-s3cret-value",
        "https://comms.example?auth=url-s3cret-value",
        "https://comms.example/#url-s3cret-value",
        "https://AC1:url-s3cret-value@comms.example",
        "http://127.0.0.1:abc/?auth=url-s3cret-value",
        "https://url-s3cret-value@[::1",
        "http://admin:url-s3cret/value@127.0.0.1:39999",  # "/" ends urlsplit's netloc early
        "https://x/?t=url-s3cret-value\n",
    ],
)
def test_a_secret_in_the_url_is_never_echoed(capsys, target, url):
    app, _ = target
    line = refused(capsys, "--base-url", url, *CREDS)
    assert "url-s3cret-value" not in line and "s3cret" not in line
    assert app.requests == 0


def test_an_ipv6_literal_is_accepted(capsys):
    """``[::1]`` passes the checks and goes on to connect (nothing listens on that port)."""
    code = cli.main(["run", "--base-url", f"http://[::1]:{free_port()}", *CREDS])
    err = capsys.readouterr().err
    assert code == 2 and "cannot connect to http://[::1]:" in err, err


def test_empty_comms_base_url_is_an_error_not_the_embedded_server(capsys, monkeypatch):
    monkeypatch.setenv("COMMS_BASE_URL", "")
    line = refused(capsys, *CREDS)
    assert "COMMS_BASE_URL is empty" in line and "unset it" in line


def test_empty_base_url_option_is_an_error(capsys):
    assert "--base-url is empty" in refused(capsys, "--base-url", "", *CREDS)


def _report_cases(tmp_path: Path) -> list[tuple[str, str]]:
    a_file = tmp_path / "file.txt"
    a_file.write_text("x")
    cases = [
        (str(tmp_path), "is a directory"),
        (str(a_file / "report.json"), "cannot be written"),
        ("/proc/comms-contract-report.json", "cannot be written"),
    ]
    if Path("/dev/full").exists():
        cases.append(("/dev/full", "is not a regular file"))
    if os.geteuid() != 0:  # root writes into read-only folders
        locked = tmp_path / "locked"
        locked.mkdir()
        locked.chmod(0o500)
        cases.append((str(locked / "r.json"), "cannot be written"))
    return cases


@pytest.mark.parametrize("option", ["--report-json", "--junit-xml", "--report-html"])
def test_unwritable_report_paths_are_refused_up_front(capsys, target, tmp_path, option):
    app, base = target
    for path, needle in _report_cases(tmp_path):
        line = refused(capsys, "--base-url", base, *CREDS, option, path)
        assert needle in line and option in line, (path, line)
    assert app.requests == 0


def test_two_reports_on_one_path_are_refused(capsys, target, tmp_path):
    app, base = target
    same = str(tmp_path / "r.out")
    line = refused(capsys, "--base-url", base, *CREDS, "--report-json", same, "--junit-xml", same)
    assert "same path" in line and app.requests == 0


def test_a_writable_report_path_is_left_as_it_was(tmp_path):
    """The up-front probe neither creates the report nor leaves a probe file behind."""
    report = tmp_path / "out" / "r.json"
    build_run_config({"report_json": str(report)}, cwd=tmp_path, environ={})
    assert report.parent.is_dir() and list(report.parent.iterdir()) == []


@pytest.mark.parametrize(
    ("file", "text", "needle"),
    [
        ("pyproject.toml", "[tool]\ncomms-contract = 5\n", "must be a table of settings"),
        ("comms-contract.toml", "comms-contract = 5\n", "must be a table of settings"),
        ("comms-contract.toml", 'timeout = "abc"\n', "'timeout' must be a number of seconds"),
        ("comms-contract.toml", "timeout = -1\n", "'timeout' must be a number of seconds > 0"),
        ("comms-contract.toml", "timeout = nan\n", "'timeout' must be a number of seconds > 0"),
        ("comms-contract.toml", "max-requests = 0\n", "'max-requests' must be a whole number >="),
        ("comms-contract.toml", "max-requests = 1.5\n", "'max-requests' must be a whole number"),
        ("comms-contract.toml", "max-wait = -1\n", "'max-wait' must be a number of seconds >= 0"),
        ("comms-contract.toml", 'rate-limit = "fast"\n', "'rate-limit' must be a rate"),
        ("comms-contract.toml", "rate-limit = 0\n", "'rate-limit' must be a positive rate"),
        ("comms-contract.toml", 'downgrade = "SIZE-RANGE"\n', "'downgrade' must be a list"),
        ("comms-contract.toml", "downgrade = [1]\n", "'downgrade' must be a list"),
        ("comms-contract.toml", 'strict = "yes"\n', "'strict' must be true or false"),
        ("comms-contract.toml", "seed = true\n", "'seed' must be a whole number"),
        ("comms-contract.toml", 'profile = "fast"\n', "'profile' must be one of"),
        ("comms-contract.toml", 'base-url = "http://h:abc"\n', "port 'abc'"),
        ("comms-contract.toml", 'report-json = "/dev/full"\n', "is not a regular file"),
        ("comms-contract.toml", 'clause = ["SIZE-RANG"]\n', "did you mean SIZE-RANGE"),
        ("comms-contract.toml", "[comms-contract]\ntimeout = 0\n", "'timeout' must be"),
    ],
)
def test_bad_settings_file_values(capsys, target, tmp_path, monkeypatch, file, text, needle):
    app, base = target
    if "/dev/full" in text and not Path("/dev/full").exists():
        pytest.skip("no /dev/full")
    monkeypatch.chdir(tmp_path)
    (tmp_path / file).write_text(text)
    line = refused(capsys, "--base-url", base, *CREDS) if "base-url" not in text else None
    if line is None:
        line = refused(capsys, *CREDS)
    assert needle in line and file in line, line
    assert app.requests == 0


def test_command_line_wins_over_a_bad_file_value_only_when_given(tmp_path):
    """A file value the command line overrides is still type-checked (the file is wrong)."""
    (tmp_path / "comms-contract.toml").write_text("timeout = 5\n")
    cfg = build_run_config({"timeout": "7"}, cwd=tmp_path, environ={})
    assert cfg.client.timeout == 7.0
    cfg = build_run_config({}, cwd=tmp_path, environ={})
    assert cfg.client.timeout == 5.0


def test_argparse_errors_are_one_line(capsys):
    line = refused(capsys, "--timeout")
    assert "expected one argument" in line and "--help" in line


def test_check_client_timeout_is_range_checked(capsys):
    for value in ("0", "-1", "nan", "inf", "x"):
        line = refused(capsys, "--timeout", value, "--", "true", command="check-client")
        assert "--timeout" in line


# ---- the pytest plugin refuses the same inputs through the same builder ---------------------
@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["--comms-timeout", "nan"], "--comms-timeout must be a number of seconds > 0"),
        (["--comms-max-requests", "0"], "--comms-max-requests must be a whole number >= 1"),
        (["--comms-base-url", "http://127.0.0.1:abc"], "port 'abc'"),
        (["--comms-base-url", "https://h/?auth=plug-s3cret"], "must not have a query string"),
        (["--comms-clause", "size-rang"], "did you mean SIZE-RANGE"),
        (["--comms-downgrade", "METHODS"], "cannot downgrade METHODS: it is SHOULD"),
        (["--comms-report-json", "/proc/comms-contract-r.json"], "cannot be written"),
    ],
)
def test_the_plugin_refuses_the_same_inputs(pytester: pytest.Pytester, args, needle):
    result = pytester.runpytest_inprocess(
        "-p", "no:cacheprovider", "--pyargs", "comms_contract.contracts", *args
    )
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    err = result.stderr.str()
    assert needle in err, err
    assert "plug-s3cret" not in err + result.stdout.str()


def test_the_plugin_refuses_an_empty_comms_base_url(pytester: pytest.Pytester, monkeypatch):
    monkeypatch.setenv("COMMS_BASE_URL", "")
    result = pytester.runpytest_inprocess(
        "-p", "no:cacheprovider", "--pyargs", "comms_contract.contracts"
    )
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    assert "COMMS_BASE_URL is empty" in result.stderr.str()


@pytest.mark.parametrize(
    "argv",
    [
        ["--clause", ""],
        ["--clause", ","],
        ["--downgrade", " "],
        ["--account-id", "AC:x"],
    ],
)
def test_empty_clause_ids_and_a_colon_in_the_account_id_are_refused(capsys, target, argv):
    """An empty --clause is not "every clause"; a ':' cannot travel in a Basic user-id."""
    app, base = target
    code = cli.main(["run", "--base-url", base, *CREDS, *argv])
    err = capsys.readouterr().err
    assert code == 2 and len(err.strip().splitlines()) == 1, err
    assert app.requests == 0


def test_the_quick_start_passes_with_staging_credentials_exported(capsys, monkeypatch):
    """Breaker finding: with COMMS_ACCOUNT_ID/COMMS_AUTH_TOKEN exported for staging (as
    docs/ci.md says), ``comms-contract run`` against the embedded server said "credentials
    rejected". The embedded server takes the run's credentials."""
    from comms_contract import cli

    monkeypatch.setenv("COMMS_ACCOUNT_ID", "ACstaging0000000000000000000000")
    monkeypatch.setenv("COMMS_AUTH_TOKEN", "a3f9c2e41b7d8056f4e2a9c1d3b5e7f0")
    code = cli.main(["run", "--profile", "quick", "--clause", "AUTH"])
    out, err = capsys.readouterr()
    assert code == 0, out + err
    assert "a3f9c2e41b7d8056f4e2a9c1d3b5e7f0" not in out + err
