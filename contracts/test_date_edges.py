"""DATE-FORMAT and NO-5XX at the edges of the RFC 3339 grammar, the same in every run.

The fixed date probes of test_parameters.py sit in 2024 and the fuzzer's generators never
reach the year limits with an offset, so a server that converts a bound to UTC with a date
type that overflows (``9999-12-31T23:59:59-01:00`` is year 10000 in UTC) answered 500 and
passed under every seed. These probes name the edges outright: years 0001 and 9999 with
offsets that cross the year boundary, ``+23:59``/``-23:59``, leap days (and the non-leap
29 Februaries that must be refused), the last second of a day in several offsets, 9
fraction digits, and a window spanning the whole range.

Decision (contracts/clauses.toml, DATE-FORMAT): a valid instant whose UTC value lies in years
0001-9999 must get 200, out of retention or not (RETENTION lets items be missing, not the
query be refused); one that lies beyond them (only offsets reach there) may get 200 or 400
(FREE: it has no RFC 3339 spelling in UTC and common date types cannot hold it). Never 5xx.
"""

from __future__ import annotations

import pytest

from comms_contract.judge import judge

# (startDate, endDate) pairs; None leaves the parameter out. Each pair is one request.
EDGES: dict[str, tuple[str | None, str | None]] = {
    # year limits: beyond them in UTC (FREE: 200 or 400), and just inside them (200)
    "year 9999 west of UTC (UTC year 10000)": ("9999-12-31T23:59:59-01:00", None),
    "year 0001 east of UTC (UTC year 0)": (None, "0001-01-01T00:00:00+01:00"),
    "whole range, both beyond UTC": ("0001-01-01T00:00:00+01:00", "9999-12-31T23:59:59-01:00"),
    "+23:59 past year 9999": (None, "9999-12-31T23:59:59.999999999-23:59"),
    "-23:59 before year 0001": ("0001-01-01T00:00:00+23:59", None),
    "year 9999, last nanosecond in UTC": (None, "9999-12-31T23:59:59.999999999Z"),
    "year 9999 east of UTC": ("9999-12-31T23:59:59+01:00", None),
    "year 0001, first instant in UTC": ("0001-01-01T00:00:00Z", None),
    "year 0001 west of UTC": (None, "0001-01-01T00:00:00-01:00"),
    "whole range inside UTC": ("0001-01-01T00:00:00Z", "9999-12-31T23:59:59.999999999Z"),
    # extreme offsets
    "+23:59": ("2024-05-01T12:00:00+23:59", None),
    "-23:59": (None, "2024-05-01T12:00:00-23:59"),
    # leap days
    "leap day 2024": ("2024-02-29T00:00:00Z", "2024-02-29T23:59:59.999+14:00"),
    "leap day 2000 (divisible by 400)": (None, "2000-02-29T12:00:00-12:00"),
    # the last second of a day in several offsets, 9 fraction digits
    "last second of a year, +14:00": ("2024-12-31T23:59:59.999999999+14:00", None),
    "last second of a day, -12:00": (None, "2024-06-30T23:59:59.999999999-12:00"),
    "last second of a day, +05:45": ("2024-03-31T23:59:59+05:45", None),
    # invalid: 400 (DATE-FORMAT), never 5xx
    "no 29 February in 2023": ("2023-02-29T12:00:00Z", None),
    "no 29 February in 1900 (divisible by 100)": (None, "1900-02-29T00:00:00Z"),
    "offset +24:00": ("2024-05-01T12:00:00+24:00", None),
}


def edge_query(edge: str) -> list[tuple[str, str]]:
    """The one request of ``edge``: its bounds, pageSize=1."""
    start, end = EDGES[edge]
    params = [("startDate", start)] if start is not None else []
    if end is not None:
        params.append(("endDate", end))
    return [*params, ("pageSize", "1")]


def plan_ahead(comms, wanted) -> None:
    """The selected edges' requests, sent ahead on idle lanes (lanes.py)."""
    for edge in wanted.values("test_date_edge", "edge"):
        comms.ahead_get(edge_query(edge))


@pytest.mark.clause("DATE-FORMAT", "NO-5XX", "ERROR-BODY")
@pytest.mark.parametrize("edge", list(EDGES))
def test_date_edge(comms, edge):
    judge(comms, comms.get(edge_query(edge)))
