"""The clause catalog matches the contract, and docs/clauses.md matches the catalog."""

from __future__ import annotations

import re
from pathlib import Path

from comms_contract import catalog
from comms_contract.docs import clause_table, enforcing_tests

ROOT = Path(__file__).resolve().parents[1]
CONTRACT = ROOT / "docs" / "contract.md"  # the project's own contract document
SUITE_ROWS = {"THROTTLE-IS-NOT-FAILURE"}  # suite behaviour, documented in docs/clauses.md
LEVEL = re.compile(r"^(MUST|SHOULD|FREE)(?: \((?:strict: (MUST|SHOULD)|[^)]*)\))?$")


def contract_rows() -> dict[str, str]:
    """Id -> level as written, from the tables of docs/contract.md sections 1-3."""
    rows = {}
    for line in CONTRACT.read_text(encoding="utf-8").splitlines():
        m = re.match(r"^\| ([A-Z0-9-]+) \| ([^|]+) \| .* \|$", line)
        if m and m[1] != "Id":
            rows[m[1]] = m[2].strip()
    return rows


def test_every_contract_row_is_in_the_catalog_with_its_level():
    """Same ids both ways, and the same level exactly (strict level included)."""
    ids = catalog.by_id()
    rows = contract_rows()
    assert set(rows) - SUITE_ROWS == set(ids), (set(rows) ^ set(ids)) - SUITE_ROWS
    for row, written in rows.items():
        if row in SUITE_ROWS:
            assert written == "suite behaviour", (row, written)
            continue
        m = LEVEL.match(written)
        assert m, f"docs/contract.md {row}: unreadable level {written!r}"
        assert m[1] == ids[row].level, (row, written, ids[row].level)
        assert (m[2] or "") == ids[row].strict_level, (row, written, ids[row].strict_level)


def test_contract_document_has_the_contract_sections():
    text = CONTRACT.read_text(encoding="utf-8")
    titles = re.findall(r"^## (\d)\. ", text, flags=re.M)
    assert titles == ["1", "2", "3", "4", "5", "6"], titles
    section = {c.id: c.section for c in catalog.clauses()}
    current = None
    for line in text.splitlines():
        if line.startswith("## "):
            current = line[3]
        m = re.match(r"^\| ([A-Z0-9-]+) \|", line)
        if m and m[1] in section:
            assert section[m[1]] == current, (m[1], current)


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
