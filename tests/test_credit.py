"""Skipped means skipped (CONTRACT.md section 4): a clause is credited only by a check that
observed what the clause is about; with too little data it is skipped with its reason (how
many operations were needed, how many there were), never passed.

The reference server with 0, 1 and 2 operations: every check still runs, and the clauses the
data cannot show are reported as skipped, each with its reason.
"""

from __future__ import annotations

import re

import pytest
from harness import Outcome, run_against

from comms_contract.ledger import Ledger
from comms_contract.server import ReferenceServer
from comms_contract.server.dataset import Dataset

# clause -> what its reason must say, for each operation count
NEED_DATA = {
    0: {
        "OP-SHAPE": "1 operation(s) needed, the answer held 0",
        "UPDATED-AFTER-CREATED": "1 operation(s) needed, the answer held 0",
        "IDS-UNIQUE": "2 operation(s) needed, the answer held 0",
        "FILTER-SOUND": "0 operation",
        "SIZE-DEFAULT": "51 operation(s) needed, the answer held 0",
        "STATS-SUMS": "1 operation(s) needed, the answer held 0",
    },
    1: {
        "WALK-EXACTLY-ONCE": "2 operation(s) needed, the answer held 1",
        "FILTER-COMPLETE": "kept 1 and dropped 0 of 1 operation(s)",
        "IDS-UNIQUE": "2 operation(s) needed, the answer held 1",
        "SIZE-DEFAULT": "51 operation(s) needed, the answer held 1",
    },
    2: {"SIZE-DEFAULT": "51 operation(s) needed, the answer held 2"},
}
# what a small target still shows: these pass on real observations
OBSERVED = {
    0: {"CT", "ENVELOPE", "SELF", "NO-5XX", "SIZE-RANGE", "ERROR-BODY", "AUTH"},
    1: {"OP-SHAPE", "UPDATED-AFTER-CREATED", "STATS-SUMS", "FILTER-SOUND"},
    2: {"IDS-UNIQUE", "WALK-EXACTLY-ONCE", "WALK-ORDER", "FILTER-COMPLETE", "FULL-PAGES"},
}


def run_with(count: int) -> Outcome:
    return run_against(ReferenceServer(Dataset.generate(count=count, seed=3), seed=3), seed=1)


@pytest.mark.parametrize("count", [0, 1, 2])
def test_thin_data_is_skipped_with_its_reason(count: int) -> None:
    out = run_with(count)
    assert out.code == 0 and not out.session.errors, out.explain()
    results = {r.id: r for r in out.session.ledger.results()}
    for cid, reason in NEED_DATA[count].items():
        r = results[cid]
        assert r.status == "skipped", (
            f"{cid} with {count} operation(s): {r.status}\n{out.explain()}"
        )
        assert reason in r.message, f"{cid}: {r.message}"
        assert re.search(r"\d", r.message), r.message  # how many: a number, not a shrug
    for cid in OBSERVED[count]:
        assert results[cid].status == "pass", f"{cid}: {results[cid].message}\n{out.explain()}"
        assert results[cid].tests, cid


def test_a_passing_test_credits_only_what_it_observed() -> None:
    """The ledger's credit model in isolation: observe, lack, and the silent pass."""
    ledger = Ledger()
    ledger.begin("test_a")
    ledger.observe("CT")
    ledger.lack("OP-SHAPE", "no operation: 1 operation(s) needed, the answer held 0")
    ledger.end(["CT", "OP-SHAPE", "ENVELOPE"])
    ledger.observe("ENVELOPE")  # outside any test and without ``by``: credits nothing
    status = {r.id: r for r in ledger.results()}
    assert status["CT"].status == "pass" and status["CT"].tests == ["test_a"]
    assert status["OP-SHAPE"].status == "skipped"
    assert "1 operation(s) needed" in status["OP-SHAPE"].message
    assert status["ENVELOPE"].status == "skipped"
    assert "1 check ran and observed nothing" in status["ENVELOPE"].message
    assert "test_a" not in status["ENVELOPE"].message  # no pytest ids in a default report
    ledger.observe("RETRY-AFTER-429", by="every throttled answer")
    assert {r.id: r.status for r in ledger.results()}["RETRY-AFTER-429"] == "pass"


def test_a_lack_says_why_the_operations_it_had_do_not_count() -> None:
    """Breaker, 2026-11-30: "no operation with integer stats to add up: 1 operation(s)
    needed, the answer held 50" read as a contradiction; the 50 had their stats as strings."""
    from comms_contract.checks import Verdict, check_operations

    ledger = Ledger()
    op = {"id": "op1", "status": "QUEUED", "createdAt": "2026-11-29T10:00:00Z"}
    op["stats"] = {k: "1" for k in ("total", "scheduled", "queued", "sent", "failed")}
    check_operations(Verdict(ledger, None), [op, dict(op, id="op2")])
    reasons = " ".join(ledger.lacking.get("STATS-SUMS", []))
    assert "the answer held 0 (none of its 2 operations had them)" in reasons, reasons
