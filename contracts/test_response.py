"""CT, ENVELOPE, OP-SHAPE, EXTRA-FIELDS, STATS-SUMS, UPDATED-AFTER-CREATED, IDS-UNIQUE, SELF
(presence), SIZE-DEFAULT (the plain first page) and the LAST-PAGE "" advisory, on the first page
of several queries."""

from __future__ import annotations

import pytest

from comms_contract.judge import judge

QUERIES = {
    "plain": [],
    "pageSize=1": [("pageSize", "1")],
    "pageSize=1000": [("pageSize", "1000")],
    "status=COMPLETED": [("status", "COMPLETED"), ("pageSize", "20")],
    "empty result": [("startDate", "2099-01-01T00:00:00Z")],
}


def plan_ahead(comms, wanted) -> None:
    """The selected queries' first pages, sent ahead on idle lanes (the plain one is the
    preflight's, already fetched)."""
    for query in wanted.values("test_first_page_shape", "query"):
        if query != "plain":
            comms.ahead_get(QUERIES[query])


@pytest.mark.clause(
    "CT",
    "ENVELOPE",
    "OP-SHAPE",
    "EXTRA-FIELDS",
    "STATS-SUMS",
    "UPDATED-AFTER-CREATED",
    "IDS-UNIQUE",
    "SELF",
    "FILTER-SOUND",
    "SIZE-DEFAULT",
)
@pytest.mark.parametrize("query", list(QUERIES))
def test_first_page_shape(comms, query):
    ex = comms.first_page() if query == "plain" else comms.get(QUERIES[query])
    judge(comms, ex)
