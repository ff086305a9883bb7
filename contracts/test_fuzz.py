"""Schema-driven fuzzing: schemathesis draws queries (positive and negative) from
schemas/openapi.json; the suite's own oracle says what each must get, and the hand-written
schemas judge every answer. The suite sends with its own client (throttling, budget,
redaction), so stock schemathesis checks, which fail correct servers, are not used."""

from __future__ import annotations

from typing import Any

import pytest
import schemathesis
from schemathesis.config import SchemathesisConfig

from comms_contract import OPERATIONS_PATH, schemas
from comms_contract.judge import judge
from comms_contract.session import current

RUN = current()
CONFIG = SchemathesisConfig.from_dict(
    {
        "seed": RUN.seed,
        # a busy machine or target makes generation "too slow" by hypothesis' clock: that is
        # no finding, and it must not turn the fuzzer into an internal error (same verdict
        # whatever the load; the walk properties suppress it too)
        "suppress-health-check": ["too_slow", "filter_too_much", "data_too_large"],
        "generation": {
            "max-examples": RUN.profile.fuzz_examples,
            "database": "none",
            "with-security-parameters": False,
            "no-shrink": not RUN.shrink,
            "mode": "all",
        },
        "phases": {
            "examples": {"enabled": False},
            "coverage": {"enabled": RUN.profile.coverage_phase, "unexpected-methods": []},
            "fuzzing": {"enabled": True},
            "stateful": {"enabled": False},
        },
    }
)
SCHEMA = schemathesis.openapi.from_dict(schemas.openapi_document(strict=RUN.strict), config=CONFIG)


def query_pairs(case: Any) -> list[tuple[str, str]]:
    """The query exactly as it goes on the wire, as (name, value) pairs."""
    params = case.as_transport_kwargs().get("params") or {}
    pairs: list[tuple[str, str]] = []
    for name, value in params.items():
        for item in value if isinstance(value, list) else [value]:
            pairs.append((str(name), "" if item is None else _text(item)))
    return pairs


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


@pytest.mark.clause(
    "NO-5XX",
    "SIZE-RANGE",
    "STATUS-ENUM",
    "DATE-FORMAT",
    "DATE-ORDER",
    "TOKEN-GARBAGE",
    "CT",
    "ENVELOPE",
    "OP-SHAPE",
    "ERROR-BODY",
    "FILTER-SOUND",
    "FULL-PAGES",  # judge() holds each page against its query: so --clause FULL-PAGES
    "SIZE-DEFAULT",  # replays the fuzzed query that found a short or overfull page
)
@pytest.mark.ahead
@SCHEMA.include(path=OPERATIONS_PATH, method="GET").parametrize()
def test_fuzzed_query(case, comms):
    if comms.planning:  # drawing the cases to send them ahead (session.plan_ahead)
        comms.ahead_get(query_pairs(case))
        return
    judge(comms, comms.get(query_pairs(case)))
