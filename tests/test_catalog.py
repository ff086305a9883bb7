"""The clause catalog matches the contract, and docs/clauses.md matches the catalog."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from comms_contract import catalog
from comms_contract.docs import clause_table, enforcing_tests

ROOT = Path(__file__).resolve().parents[1]
CONTRACT = ROOT.parent / "shared" / "spec" / "CONTRACT.md"
SUITE_ROWS = {"THROTTLE-IS-NOT-FAILURE"}  # suite behaviour, documented in docs/clauses.md


def contract_rows() -> dict[str, str]:
    """Id hint -> level, from the tables of CONTRACT.md sections 1-3."""
    rows = {}
    for line in CONTRACT.read_text(encoding="utf-8").splitlines():
        m = re.match(r"^\| ([A-Z0-9-]+) \| .* \| ([A-Z][^|]*) \|$", line)
        if m and m[1] != "Id":
            rows[m[1]] = m[2].strip()
    return rows


@pytest.mark.skipif(not CONTRACT.exists(), reason="shared/spec/CONTRACT.md is not beside the repo")
def test_every_contract_row_is_in_the_catalog_with_its_level():
    ids = catalog.by_id()
    for row, level in contract_rows().items():
        if row in SUITE_ROWS:
            continue
        assert row in ids, f"CONTRACT.md row {row} has no clause in contracts/clauses.toml"
        written = ids[row].level
        assert level.startswith(written) or written in level, (row, level, written)


def test_every_checkable_clause_has_a_contract_test():
    tests = enforcing_tests(ROOT / "contracts")
    never_checked = {"RETENTION"}  # FREE: no check may require retained items
    missing = [c.id for c in catalog.clauses() if c.id not in tests and c.id not in never_checked]
    # Throttling clauses are checked on every 429/503 the client meets, not by a test of their own.
    missing = [m for m in missing if not m.startswith("RETRY-AFTER")]
    assert not missing, f"clauses without a contract test: {missing}"


def test_docs_clause_table_is_current():
    expected = clause_table(ROOT / "tests")
    actual = (ROOT / "docs" / "clauses.md").read_text(encoding="utf-8")
    assert actual == expected, "docs/clauses.md is stale: run comms-contract clauses --markdown"


def test_readme_quick_start_has_exactly_two_commands():
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    section = text.split("## Quick start", 1)[1].split("```sh", 1)[1].split("```", 1)[0]
    commands = [line for line in section.strip().splitlines() if line.strip()]
    assert commands == ["pip install . && comms-contract run", "python -m pytest"]
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert "\npython -m pytest\n" in ci, ".ci/run must run the README's test command"
