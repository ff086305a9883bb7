"""The machine, not the target: trouble in the user's environment ends a run with one clear
line (exit 2, before the first request) or leaves its verdict alone, never with a traceback.

Each case is from a breaker's round (2026-11-30). Before: ``SSL_CERT_FILE`` pointing nowhere or
a SOCKS proxy without ``socksio`` gave INTERNALERROR and "result: PASS  32 skipped" (and one
request had gone out); a non-UTF-8 byte in the token an unclear error (CLI) or INTERNALERROR
(plugin); a dead proxy was reported as a dead server; ``-p no:schemathesis`` an internal error
in the fuzzer; the plugin's own warnings, under a user's ``filterwarnings = error``, an
INTERNALERROR before any test ran.
"""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from loopback import free_port, serve
from test_cli_errors import assert_clear_error, run_cli

from comms_contract import cli
from comms_contract.paths import contracts_dir
from comms_contract.server.app import Credentials, ReferenceServer


class Counting(ReferenceServer):
    def respond(self, request):
        self.seen = getattr(self, "seen", 0) + 1
        return super().respond(request)


@pytest.mark.parametrize(
    ("name", "value", "needle"),
    [
        ("SSL_CERT_FILE", "/nonexistent/ca.pem", "SSL_CERT_FILE"),
        ("ALL_PROXY", "socks5://127.0.0.1:9", "socks"),
        ("HTTP_PROXY", "garbage://:::", "HTTP_PROXY"),
    ],
)
def test_an_http_setup_the_environment_breaks_is_one_line_before_any_request(
    capsys, monkeypatch, name, value, needle
):
    monkeypatch.setenv(name, value)
    app = Counting(credentials=Credentials("ACclierrors", "cli-errors-token"))
    with serve(app) as url:
        code, out, err, elapsed = run_cli(capsys, "--base-url", url, "--profile", "quick")
    assert_clear_error(code, out, err, elapsed, needle)
    assert "PASS" not in out and getattr(app, "seen", 0) == 0, (out, err)


def test_a_dead_proxy_is_named_as_the_proxy(capsys, monkeypatch):
    dead = f"http://127.0.0.1:{free_port()}"
    monkeypatch.setenv("HTTP_PROXY", dead)
    monkeypatch.setenv("http_proxy", dead)  # both cases set, as many CI images do: named once
    monkeypatch.delenv("NO_PROXY", raising=False)
    monkeypatch.delenv("no_proxy", raising=False)
    with serve(ReferenceServer()) as url:
        code, out, err, elapsed = run_cli(capsys, "--base-url", url, "--profile", "quick")
    assert_clear_error(code, out, err, elapsed, "HTTP_PROXY")
    assert err.count("HTTP_PROXY") == 1, err


def test_a_token_that_is_not_text_is_named_not_quoted(capsys, monkeypatch):
    with serve(ReferenceServer()) as url:
        token = "sec\udcffret-zq9y8x7w6v"
        code = cli.main(["run", "--base-url", url, "--account-id", "ACx", "--auth-token", token])
    err = capsys.readouterr().err
    assert code == 2 and len(err.strip().splitlines()) == 1, err
    assert "auth token" in err and "UTF-8" in err and "zq9y" not in err, err


def plain_pytest(tmp_path, *args: str, env: dict[str, str] | None = None):
    base = {k: v for k, v in os.environ.items() if not k.startswith(("COMMS_", "PYTEST_"))}
    return subprocess.run(
        [
            sys.executable, "-m", "pytest", "-p", "no:cacheprovider", str(contracts_dir()),
            "--comms-profile", "quick", "--comms-clause", "ENVELOPE", *args,
        ],
        capture_output=True, text=True, env={**base, **(env or {})}, cwd=tmp_path, timeout=300,
    )  # fmt: skip


def test_a_token_that_is_not_text_under_plain_pytest_is_a_usage_error(tmp_path):
    proc = plain_pytest(tmp_path, env={"COMMS_AUTH_TOKEN": "sec\udcffret-zq9y8x7w6v"})
    out = proc.stdout + proc.stderr
    assert proc.returncode == pytest.ExitCode.USAGE_ERROR, out
    assert "INTERNALERROR" not in out and "UTF-8" in out, out


@pytest.mark.parametrize("plugin", ["schemathesis", "hypothesispytest"])
def test_a_disabled_plugin_the_contract_needs_is_a_usage_error(tmp_path, plugin):
    proc = plain_pytest(tmp_path, "-p", f"no:{plugin}")
    out = proc.stdout + proc.stderr
    assert proc.returncode == pytest.ExitCode.USAGE_ERROR, out
    assert f"no:{plugin}" in out and "internal error" not in out, out


def test_the_plugins_warnings_under_filterwarnings_error_do_not_stop_the_run(tmp_path):
    """Both of its warnings at once: -n ignored, and the token on the command line."""
    (tmp_path / "pytest.ini").write_text("[pytest]\nfilterwarnings =\n    error\n")
    args = ["-n", "2", "--comms-auth-token", "mock-7f3e9c1a5b2d8046"]
    proc = plain_pytest(tmp_path, "-c", str(tmp_path / "pytest.ini"), *args)
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, out
    assert "INTERNALERROR" not in out and "PASS     ENVELOPE" in out, out
    assert "mock-7f3e9c1a5b2d8046" not in out


def test_an_internal_error_is_one_error_line_never_a_pass(capsys):
    """``ulimit -n 12`` (no file descriptor left) had given pytest's INTERNALERROR dump and
    then "result: PASS  32 skipped": any exception that ends pytest's session is a run error."""
    from harness import Outcome
    from test_pytest_environment import CLAUSES  # noqa: F401 - the same small selection

    from comms_contract.catalog import Policy
    from comms_contract.cli import run_suite
    from comms_contract.http import ClientSettings, Target
    from comms_contract.profiles import PROFILES
    from comms_contract.session import RunConfig

    class Boom:
        def pytest_sessionstart(self, session):
            raise OSError(24, "Too many open files")

    creds = Credentials()
    config = RunConfig(
        target=Target(None, creds.account_id, creds.auth_token),
        profile=PROFILES["quick"],
        seed=1,
        policy=Policy.build(False, ()),
        selected=frozenset({"ENVELOPE"}),
        client=ClientSettings(),
        app=ReferenceServer(),
    )
    code, session = run_suite(config, plugins=[Boom()])
    out, err = capsys.readouterr()
    assert code == 2, (out, err)
    assert "INTERNALERROR" not in out + err and "Traceback" not in out + err, (out, err)
    assert any("Too many open files" in e for e in session.errors), session.errors
    assert not any("PASS" in line for line in Outcome(code, session).lines)


def cli_process(
    tmp_path, *python_flags: str, env: dict[str, str] | None = None, every_clause=False, **kwargs
):
    """``python [flags] -m comms_contract run`` (the console script's path), one clause."""
    base = {k: v for k, v in os.environ.items() if not k.startswith(("COMMS_", "PYTEST_"))}
    clause = [] if every_clause else ["--clause", "ENVELOPE"]
    command = [
        sys.executable, *python_flags, "-m", "comms_contract", "run", "--profile", "quick",
        *clause, "--report-json", str(tmp_path / "run.json"),
    ]  # fmt: skip
    kwargs.setdefault("stdout", subprocess.PIPE)
    kwargs.setdefault("cwd", tmp_path)
    return subprocess.Popen(command, stderr=subprocess.PIPE, env={**base, **(env or {})}, **kwargs)


def finished(proc) -> tuple[int, str, str]:
    out, err = proc.communicate(timeout=300)
    return proc.returncode, (out or b"").decode(errors="replace"), err.decode(errors="replace")


def test_a_closed_stdout_keeps_the_verdict(tmp_path):
    code, _, err = finished(cli_process(tmp_path, stdout=None, preexec_fn=lambda: os.close(1)))
    assert code == 0 and "Traceback" not in err, err


def test_a_full_stdout_keeps_the_verdict_with_one_warning(tmp_path):
    with open("/dev/full", "w") as full:
        code, _, err = finished(cli_process(tmp_path, stdout=full))
    assert code == 0 and "Traceback" not in err, err
    assert err.strip().splitlines() == [
        "comms-contract: warning: the report could not be written to stdout: No space left "
        "on device; the exit status is the verdict"
    ], err


def test_a_reader_gone_keeps_the_verdict(tmp_path):
    proc = cli_process(tmp_path)
    proc.stdout.close()  # before the run prints anything: its first write meets EPIPE
    code = proc.wait(timeout=300)
    err = proc.stderr.read().decode(errors="replace")
    assert code == 0 and "Traceback" not in err, err


def test_a_stdout_that_cannot_hold_the_report_characters_keeps_the_verdict(tmp_path):
    proc = cli_process(tmp_path, env={"PYTHONIOENCODING": "ascii"}, every_clause=True)
    code, out, err = finished(proc)  # the whole table: its cut lines end in "…"
    assert code == 0 and "Traceback" not in err, err
    assert out.rstrip().endswith("result: PASS  29 pass, 3 skipped"), out


def test_optimised_python_runs_the_suite(tmp_path):
    """-OO: asserts stripped (as -O: schemathesis' collector) and docstrings gone (the CLI's)."""
    code, out, err = finished(cli_process(tmp_path, "-OO"))
    assert code == 0 and "Traceback" not in err, (out, err)


def test_a_deleted_working_directory_is_no_traceback(tmp_path):
    gone = tmp_path / "gone"
    gone.mkdir()
    proc = cli_process(tmp_path, cwd=gone, preexec_fn=lambda: os.rmdir(gone))
    code, out, err = finished(proc)
    assert code in (0, 2) and "Traceback" not in err, (out, err)
