"""The docs a user reads: docs/clauses.md regenerates identically from a checkout, whatever
way the package is installed, and no document cites a contract file the repository lacks."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

from comms_contract import docs
from comms_contract.paths import contracts_dir

ROOT = Path(__file__).resolve().parents[1]
COMMITTED = ROOT / "docs" / "clauses.md"


def test_the_cli_regenerates_the_committed_table_from_the_checkout() -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "comms_contract", "clauses", "--markdown"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == COMMITTED.read_text(encoding="utf-8"), (
        "docs/clauses.md is stale: run 'comms-contract clauses --markdown > docs/clauses.md'"
    )


def test_a_wheel_install_renders_the_same_table_at_the_checkout_root(tmp_path, monkeypatch) -> None:
    """Installed from a wheel, the package's contracts/ has no tests/ beside it: the table
    is traced from the checkout in the working directory, not rendered with dashes."""
    site = tmp_path / "site-packages" / "comms_contract" / "contracts"
    shutil.copytree(contracts_dir(), site)
    monkeypatch.setattr(docs, "contracts_dir", lambda: site)
    monkeypatch.chdir(ROOT / "docs")  # any folder of the checkout
    assert docs.clause_table() == COMMITTED.read_text(encoding="utf-8")


def test_outside_a_checkout_the_table_says_what_it_lacks(tmp_path, monkeypatch) -> None:
    site = tmp_path / "site-packages" / "comms_contract" / "contracts"
    shutil.copytree(contracts_dir(), site)
    monkeypatch.setattr(docs, "contracts_dir", lambda: site)
    monkeypatch.chdir(tmp_path)
    table = docs.clause_table()
    assert "Rendered outside a source checkout" in table
    assert "mutants_core." not in table


def test_no_document_cites_a_contract_file_the_repository_lacks() -> None:
    assert (ROOT / "docs" / "contract.md").is_file()
    for path in [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]:
        text = path.read_text(encoding="utf-8")
        assert "CONTRACT.md" not in text, f"{path.name} cites CONTRACT.md: use docs/contract.md"
