"""The installed package works from any directory: schemas and contract tests load from the
package, and the same checks run as plain pytest through the plugin (``--pyargs``)."""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from pathlib import Path

import pytest

from comms_contract import schemas
from comms_contract.paths import contracts_dir

INSTALLED = importlib.util.find_spec("comms_contract.contracts") is not None


def test_data_files_are_found():
    assert (schemas.schema_dir() / "openapi.json").is_file()
    assert (contracts_dir() / "clauses.toml").is_file()
    assert (contracts_dir() / "client-clauses.toml").is_file()


@pytest.mark.skipif(not INSTALLED, reason="editable install: contracts/ is not inside the package")
def test_wheel_carries_schemas_and_contract_tests():
    package = Path(importlib.util.find_spec("comms_contract").origin).parent
    assert schemas.schema_dir() == package / "schemas"
    assert contracts_dir() == package / "contracts"


@pytest.mark.skipif(not INSTALLED, reason="editable install: use a wheel for --pyargs")
def test_contract_tests_run_as_plain_pytest_from_any_directory(tmp_path):
    report = tmp_path / "run.json"
    cmd = [
        sys.executable,
        "-m",
        "pytest",
        "--pyargs",
        "comms_contract.contracts",
        "-q",
        "-p",
        "no:cacheprovider",
        "--comms-profile",
        "quick",
        "--comms-clause",
        "SIZE-RANGE",
        "--comms-report-json",
        str(report),
    ]
    proc = subprocess.run(cmd, cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    doc = json.loads(report.read_text())
    assert [c["id"] for c in doc["clauses"]] == ["SIZE-RANGE"]
    assert doc["clauses"][0]["status"] == "pass"
    assert "comms-contract clauses" in proc.stdout
