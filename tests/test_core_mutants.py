"""Every check of CONTRACT.md sections 1-3 can fail: each mutant is caught by its clause.

A mutant run selects only the checks of the mutant's clause (plus the few it needs), so the
failure is attributable and fast; a couple of full runs show the same verdict without any
selection. The coverage test keeps the mutants and the contract tests in step: a clause with a
contract test but no mutant would be a check nobody has seen fail.
"""

from __future__ import annotations

import ast
import importlib
import inspect
from pathlib import Path
from types import ModuleType

import pytest
from harness import Outcome, assert_readable, run_against
from mutants_core import (
    MUTANTS,
    ClampsPageSize,
    ExtraFieldFoo,
    GarbageTokenRestarts,
    Mutant,
    PostAnswers200,
    Throttle429WithoutRetryAfter,
)

from comms_contract import catalog
from comms_contract.paths import contracts_dir
from comms_contract.report import document

DATASET_SEED = 11
RUN_SEED = 7

# FREE rows: both behaviours conform, so no server can violate them and no mutant exists.
FREE_WITHOUT_MUTANT = {
    "TOKEN-EMPTY",
    "UNKNOWN-PARAM",
    "STATS-SUMS",
    "RETENTION",
    "TOKEN-URL-SAFETY",
}
# Whole-walk clauses: their mutants live in tests/mutants_pagination.py (the pagination suite).
PAGINATION_OWNED = {
    "FULL-PAGES",
    "LAST-PAGE",
    "TOKENS-REUSABLE",
    "WALK-EXACTLY-ONCE",
    "WALK-ORDER",
    "FILTER-COMPLETE",
    "TOKEN-FILTERS",
}


def run_mutant(cls: type[Mutant], **options: object) -> Outcome:
    """The mutant under the checks of its clause, with the run options the check needs."""
    settings: dict = {
        "clauses": [cls.CLAUSE, *cls.ALSO],
        "strict": cls.STRICT,
        "probe_methods": cls.PROBE_METHODS,
        "max_wait": 0.05,
        "seed": RUN_SEED,
        # the verdict and a readable report, not the smallest example: shrinking was a fifth
        # of a failing run's CPU (the full runs below and tests/test_replays.py do shrink)
        "shrink": False,
    }
    settings.update(options)
    return run_against(cls(seed=DATASET_SEED), **settings)


@pytest.mark.parametrize("cls", MUTANTS, ids=lambda c: f"{c.CLAUSE}:{c.__name__}")
def test_mutant_is_caught_by_its_clause(cls: type[Mutant]) -> None:
    out = run_mutant(cls)
    assert not out.session.errors, out.explain()
    if cls.EXPECT == "advisory":  # a SHOULD clause: reported, never failing the run
        assert cls.CLAUSE in out.advisory, out.explain()
        assert out.code == 0, out.explain()
    else:
        assert cls.CLAUSE in out.failed, out.explain()
        assert out.code == 1, out.explain()
    assert_readable(out)  # bounded, frame-free, the verdict last (issue 13)


def test_mutants_are_small_and_named() -> None:
    """One overridden method each, a docstring naming the bug, a real clause id."""
    ids = catalog.by_id()
    assert len(MUTANTS) >= 28
    for cls in MUTANTS:
        own = [n for n, f in vars(cls).items() if inspect.isfunction(f)]
        assert len(own) == 1, f"{cls.__name__} overrides {own}, not exactly one method"
        assert (cls.__doc__ or "").strip(), f"{cls.__name__} has no docstring"
        assert cls.CLAUSE in ids, f"{cls.__name__}.CLAUSE {cls.CLAUSE!r} is not a clause id"
        assert cls.EXPECT in ("fail", "advisory")
        level = catalog.get(cls.CLAUSE).level
        assert (cls.EXPECT == "advisory") == (level == "SHOULD"), cls.__name__


def test_extra_field_passes_unless_strict() -> None:
    """EXTRA-FIELDS is FREE by default: the same server passes without --strict."""
    out = run_mutant(ExtraFieldFoo, strict=False)
    assert out.code == 0, out.explain()
    assert out.statuses["EXTRA-FIELDS"] == "pass", out.explain()


def test_methods_not_probed_by_default() -> None:
    """The suite is read-only unless asked: no POST is sent, METHODS is skipped with a reason."""
    out = run_mutant(PostAnswers200, probe_methods=False)
    assert out.code == 0, out.explain()
    assert out.statuses["METHODS"] == "skipped", out.explain()


def test_throttled_run_still_finishes() -> None:
    """429 without Retry-After fails its clause, yet every other check still runs and passes."""
    out = run_mutant(Throttle429WithoutRetryAfter)
    assert out.statuses["SIZE-RANGE"] == "pass", out.explain()
    assert out.session.waited < 10, out.explain()
    assert out.session.client.throttled > 0


@pytest.mark.parametrize("cls", [ClampsPageSize, GarbageTokenRestarts], ids=lambda c: c.__name__)
def test_full_quick_run_fails_and_names_the_clause(cls: type[Mutant]) -> None:
    out = run_against(cls(seed=DATASET_SEED), profile="quick", seed=RUN_SEED)
    assert not out.session.errors, out.explain()
    assert out.code == 1, out.explain()
    assert cls.CLAUSE in out.failed, out.explain()
    assert any(line.split()[:2] == ["FAIL", cls.CLAUSE] for line in out.explain().splitlines())


def test_downgrade_turns_a_must_failure_into_advisory() -> None:
    out = run_mutant(ClampsPageSize, downgrade=["SIZE-RANGE"])
    assert out.code == 0, out.explain()
    assert "SIZE-RANGE" in out.advisory, out.explain()
    result = next(r for r in out.session.ledger.results() if r.id == "SIZE-RANGE")
    assert result.downgraded and "downgraded" in result.message


def test_failure_carries_a_reproduce_command_with_the_seed() -> None:
    out = run_mutant(ClampsPageSize)
    row = next(c for c in document(out.session)["clauses"] if c["id"] == "SIZE-RANGE")
    assert row["status"] == "fail"
    assert f"--seed {RUN_SEED}" in row["reproduce"], row
    assert "--clause SIZE-RANGE" in row["reproduce"], row
    assert row["reproduce"] in out.explain()
    assert any(e["curl"].startswith("curl") for e in row["evidence"]), row["evidence"]
    assert any("pageSize=1001" in e["request"]["url"] for e in row["evidence"]), row["evidence"]


def clauses_with_contract_tests() -> set[str]:
    """Clause ids named in ``@pytest.mark.clause(...)`` anywhere in contracts/test_*.py."""
    found: set[str] = set()
    for path in contracts_dir().glob("test_*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr == "clause"
            ):
                found |= {a.value for a in node.args if isinstance(a, ast.Constant)}
    return found


def pagination_mutants() -> ModuleType | None:
    if not (Path(__file__).parent / "mutants_pagination.py").exists():
        return None
    return importlib.import_module("mutants_pagination")


def test_every_tested_clause_has_a_mutant() -> None:
    clauses = {c.id: c for c in catalog.clauses() if c.section in ("1", "2", "3")}
    for cid in FREE_WITHOUT_MUTANT:  # the allowlist can only hold rows that cannot fail
        assert clauses[cid].level == "FREE" and not clauses[cid].strict_level, cid
    assert set(PAGINATION_OWNED) <= set(clauses)
    caught = {cls.CLAUSE for cls in MUTANTS}
    required = (clauses_with_contract_tests() & set(clauses)) - FREE_WITHOUT_MUTANT
    module = pagination_mutants()
    if module is None:
        required -= PAGINATION_OWNED
    else:
        caught |= {
            getattr(obj, "CLAUSE", None) for obj in vars(module).values() if isinstance(obj, type)
        }
    missing = sorted(required - caught)
    assert not missing, f"clauses with contract tests but no mutant: {missing}"
