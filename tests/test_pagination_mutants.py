"""Every whole-walk check can fail: each pagination mutant is caught by its own clause.

A mutant run selects only the checks of the mutant's clause, so the failure is attributable
(and fast); hypothesis shrinks inside the run, and the report must carry the failing walk's
transcript and a replay command.
"""

from __future__ import annotations

import inspect

import pytest
from harness import assert_readable, run_against
from mutants_pagination import MUTANTS, PAGINATION_CLAUSES, CursorOnCreatedAtOnly, PaginationMutant

from comms_contract import catalog
from comms_contract.report import document

DATASET_SEED = 5
RUN_SEED = 3


@pytest.mark.parametrize("cls", MUTANTS, ids=lambda c: f"{c.CLAUSE}:{c.__name__}")
def test_mutant_is_caught_by_its_clause(cls: type[PaginationMutant]) -> None:
    out = run_against(cls(seed=DATASET_SEED), clauses=[cls.CLAUSE], seed=RUN_SEED, max_wait=0.05)
    assert not out.session.errors, out.explain()
    assert cls.CLAUSE in out.failed, out.explain()
    assert out.code == 1, out.explain()
    assert_readable(out)  # bounded, frame-free, the verdict last (issue 13)


def test_mutants_are_many_small_and_named() -> None:
    ids = catalog.by_id()
    assert len(MUTANTS) >= 20
    for cls in MUTANTS:
        own = [n for n, f in vars(cls).items() if inspect.isfunction(f)]
        assert len(own) == 1, f"{cls.__name__} overrides {own}, not exactly one method"
        assert (cls.__doc__ or "").strip(), f"{cls.__name__} has no docstring"
        assert cls.CLAUSE in ids, cls.__name__


def test_failing_walk_is_printed_with_tokens_and_a_replay_command() -> None:
    out = run_against(
        CursorOnCreatedAtOnly(seed=DATASET_SEED), clauses=["WALK-EXACTLY-ONCE"], seed=RUN_SEED
    )
    clause = next(c for c in document(out.session)["clauses"] if c["id"] == "WALK-EXACTLY-ONCE")
    text = "\n".join(line for e in clause["evidence"] for line in e["details"])
    assert "pageToken=" in text, text
    assert "page 2: GET " in text, text
    replay = clause["reproduce"]
    assert replay.startswith("comms-contract run") and "--clause WALK-EXACTLY-ONCE" in replay
    assert "mock-7f3e9c1a5b2d8046" not in text


def test_every_pagination_clause_has_a_mutant() -> None:
    # TOKEN-GARBAGE's walk check (a tampered mid-walk token answered with the first page) is
    # caught by mutants_core.GarbageTokenRestarts, which runs every TOKEN-GARBAGE test.
    # SIZE-DEFAULT, IDS-UNIQUE and DATE-FORMAT mutants live in mutants_core (one of each
    # fault, in one registry).
    from mutants_core import MUTANTS as CORE

    owned = set(PAGINATION_CLAUSES) - {"TOKEN-GARBAGE"}
    assert owned <= {cls.CLAUSE for cls in [*MUTANTS, *CORE]}


def test_a_refused_repeat_is_the_request_its_finding_shows() -> None:
    """Breaker, 2026-11-30: "the next token of page 1 used a second time answered 410, not
    the page" showed the first use (-> 200) as its request; the failing answer comes first."""
    from mutants_pagination import SingleUseTokens

    out = run_against(SingleUseTokens(seed=11), clauses=["TOKENS-REUSABLE"], seed=7)
    row = next(c for c in document(out.session)["clauses"] if c["id"] == "TOKENS-REUSABLE")
    refused = [e for e in row["evidence"] if "not the page" in e["message"]]
    assert refused, row["evidence"]
    assert all(e["request"]["status"] == 400 for e in refused), refused
