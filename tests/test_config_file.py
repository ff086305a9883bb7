"""Settings from comms-contract.toml / [tool.comms-contract]: downgrades by id, merging with
the command line, and refusal of secrets and unknown keys."""

from __future__ import annotations

import json

import pytest
from loopback import serve
from mutants_core import ClampsPageSize

from comms_contract.cli import main
from comms_contract.server.app import Credentials

CREDS = Credentials()


def run_cli(tmp_path, base: str, *extra: str) -> tuple[int, dict]:
    report = tmp_path / "run.json"
    argv = [
        "run",
        "--base-url",
        base,
        "--account-id",
        CREDS.account_id,
        "--auth-token",
        CREDS.auth_token,
        "--clause",
        "SIZE-RANGE",
        "--report-json",
        str(report),
        *extra,
    ]
    code = main(argv)
    return code, json.loads(report.read_text())


def test_downgrade_in_configuration_turns_a_must_failure_into_an_advisory(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with serve(ClampsPageSize(seed=1)) as base:
        code, doc = run_cli(tmp_path, base, "--profile", "quick")
        assert code == 1
        (tmp_path / "comms-contract.toml").write_text('downgrade = ["SIZE-RANGE"]\n')
        code, doc = run_cli(tmp_path, base, "--profile", "quick")
    clause = next(c for c in doc["clauses"] if c["id"] == "SIZE-RANGE")
    assert code == 0
    assert clause["status"] == "advisory" and clause["downgraded"] is True
    assert "downgraded" in clause["message"]


def test_pyproject_table_and_command_line_precedence(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "pyproject.toml").write_text(
        '[tool.comms-contract]\nprofile = "thorough"\nseed = 5\n'
    )
    with serve(ClampsPageSize(seed=1)) as base:
        code, doc = run_cli(tmp_path, base, "--profile", "quick")
    assert code == 1
    assert doc["profile"] == "quick"  # the command line wins
    assert doc["seed"] == 5  # the file fills what the command line left unset


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('auth-token = "s3cret"\n', "must not be kept in a file"),
        ('profle = "quick"\n', "unknown setting 'profle'"),
        ('seed = "one"\n', "'seed' must be a whole number"),
        ("downgrade = [\n", "cannot read"),
    ],
)
def test_bad_configuration_is_one_clear_line(tmp_path, monkeypatch, capsys, text, message):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "comms-contract.toml").write_text(text)
    assert main(["run"]) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err and len(err.strip().splitlines()) == 1
    assert "s3cret" not in err


def test_the_plugin_reads_and_checks_the_same_settings_file(pytester: pytest.Pytester):
    """One builder: the plugin refuses a bad file value with the same message as ``run``."""
    pytester.makefile(".toml", **{"comms-contract": "timeout = -1\n"})
    result = pytester.runpytest_inprocess(
        "-p", "no:cacheprovider", "--pyargs", "comms_contract.contracts"
    )
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    assert "comms-contract.toml: 'timeout' must be a number of seconds > 0" in result.stderr.str()


def test_the_plugin_takes_its_settings_from_the_file(pytester: pytest.Pytester):
    from comms_contract.plugin import build_config

    pytester.makefile(".toml", **{"comms-contract": 'profile = "quick"\nmax-requests = 40\n'})
    config = pytester.parseconfigure("-p", "no:cacheprovider")
    run_config = build_config(config)
    assert run_config.profile.name == "quick" and run_config.client.max_requests == 40


@pytest.mark.parametrize("where", ["file", "env"])
def test_a_base_url_with_credentials_is_refused_even_when_overridden(
    tmp_path, monkeypatch, capsys, where: str
):
    """Breaker, 2026-11-30: a settings file (or COMMS_BASE_URL) holding user:secret@host was
    checked only when its value was the one used; overridden by --base-url it passed unseen."""
    monkeypatch.chdir(tmp_path)
    leaky = "https://AC1:hunter2-secret-value@staging.example"
    if where == "file":
        (tmp_path / "comms-contract.toml").write_text(f'base-url = "{leaky}"\n')
    else:
        monkeypatch.setenv("COMMS_BASE_URL", leaky)
    argv = ["run", "--base-url", "http://127.0.0.1:9", "--account-id", "AC1"]
    code = main([*argv, "--auth-token", "a-token-of-20-chars!"])
    out, err = capsys.readouterr()
    assert code == 2 and err.count("\n") == 1, err
    assert "must not carry credentials" in err and "hunter2" not in out + err
