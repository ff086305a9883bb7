"""The caller's pytest environment never changes a run's verdict.

``comms-contract run`` drives pytest in-process. Before 2026-11-30 it read the caller's
pytest settings: ``PYTEST_ADDOPTS="-n 2"`` (a CI job's own pytest-xdist default) or
``"--collect-only"`` made it print ``result: PASS  32 skipped`` and exit 0 without judging a
clause, ``"-k walk"`` quietly dropped half the clauses, and ``PYTEST_DISABLE_PLUGIN_AUTOLOAD=1``
(hermetic CI) made it exit 2 on ``--hypothesis-seed``. Under plain pytest with autoloading off,
``-p comms_contract`` left the fuzzer without its cases: "internal error in test_fuzzed_query".
"""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from harness import run_against

from comms_contract.server.app import ReferenceServer

CLAUSES = ["ENVELOPE", "WALK-EXACTLY-ONCE"]  # two modules' tests: a deselection shows


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("PYTEST_ADDOPTS", "--collect-only"),
        ("PYTEST_ADDOPTS", "-n 2"),
        ("PYTEST_ADDOPTS", "-k walk"),
        ("PYTEST_ADDOPTS", "-p no:hypothesispytest"),
        ("PYTEST_ADDOPTS", "-q --maxfail=1"),
        ("PYTEST_DISABLE_PLUGIN_AUTOLOAD", "1"),
        ("PYTEST_PLUGINS", "no_such_plugin_module"),
    ],
)
def test_the_callers_pytest_environment_changes_no_verdict(monkeypatch, name, value):
    monkeypatch.setenv(name, value)
    out = run_against(ReferenceServer(), clauses=CLAUSES)
    assert out.code == 0, out.explain()
    assert out.statuses == dict.fromkeys(CLAUSES, "pass"), out.explain()
    assert os.environ[name] == value  # given back as it was


def test_plain_pytest_without_autoloading_runs_the_fuzzer(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("COMMS_", "PYTEST_"))}
    env["PYTEST_DISABLE_PLUGIN_AUTOLOAD"] = "1"
    from comms_contract.paths import contracts_dir

    proc = subprocess.run(
        [
            sys.executable, "-m", "pytest", "-p", "comms_contract", "-p", "no:cacheprovider",
            str(contracts_dir()), "--comms-profile", "quick", "--comms-clause", "NO-5XX",
        ],
        capture_output=True, text=True, env=env, cwd=tmp_path, timeout=300,
    )  # fmt: skip
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, out
    assert "internal error" not in out and "Traceback" not in out, out
    assert "PASS     NO-5XX" in out, out


def test_plain_pytest_under_xdist_runs_the_contract_in_one_process(tmp_path):
    """``pytest -n 2`` split the contract tests over two workers: each wrote its own
    ``--comms-report-json`` (the last one won, the other's clauses read "skipped") and the
    per-clause summary was missing. The run now stays in one process, with a warning."""
    from comms_contract.paths import contracts_dir

    env = {k: v for k, v in os.environ.items() if not k.startswith(("COMMS_", "PYTEST_"))}
    report = tmp_path / "run.json"
    proc = subprocess.run(
        [
            sys.executable, "-m", "pytest", "-n", "2", "-p", "no:cacheprovider",
            str(contracts_dir()), "--comms-profile", "quick", "--comms-clause", "AUTH",
            "--comms-clause", "WALK-EXACTLY-ONCE", "--comms-report-json", str(report),
        ],
        capture_output=True, text=True, env=env, cwd=tmp_path, timeout=300,
    )  # fmt: skip
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, out
    assert "comms-contract clauses" in out and "one process" in out, out
    import json

    statuses = {c["id"]: c["status"] for c in json.loads(report.read_text())["clauses"]}
    assert statuses["AUTH"] == statuses["WALK-EXACTLY-ONCE"] == "pass", statuses


@pytest.mark.parametrize(
    ("autoload", "form"),
    [
        (True, ["-p", "comms_contract.plugin"]),
        (True, "conftest"),
        # autoloading off: -p comms_contract in test_plain_pytest_without_autoloading_...
        (False, "conftest"),
    ],
    ids=lambda v: "autoload" if v is True else "no-autoload" if v is False else str(v),
)
def test_naming_the_plugin_loads_it_once(tmp_path, autoload, form):
    """Breaker, 2026-11-30: with autoloading on, ``-p comms_contract.plugin`` or
    ``pytest_plugins = ["comms_contract.plugin"]`` in a conftest (the usual way to enable a
    plugin) died with pluggy's "Plugin already registered under a different name" and a dump
    of every plugin (exit 3, or 1: "violations"): the entry point had another name."""
    from comms_contract.paths import contracts_dir

    env = {k: v for k, v in os.environ.items() if not k.startswith(("COMMS_", "PYTEST_"))}
    if not autoload:
        env["PYTEST_DISABLE_PLUGIN_AUTOLOAD"] = "1"
    args = list(form) if isinstance(form, list) else []
    if form == "conftest":
        (tmp_path / "conftest.py").write_text('pytest_plugins = ["comms_contract.plugin"]\n')
        (tmp_path / "test_mine.py").write_text("def test_mine():\n    pass\n")
        args = ["test_mine.py"]
    proc = subprocess.run(
        [
            sys.executable, "-m", "pytest", "-p", "no:cacheprovider", *args,
            str(contracts_dir()), "--comms-profile", "quick", "--comms-clause", "ENVELOPE",
        ],
        capture_output=True, text=True, env=env, cwd=tmp_path, timeout=300,
    )  # fmt: skip
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, out
    assert "already registered" not in out and out.count("PASS     ENVELOPE") == 1, out
