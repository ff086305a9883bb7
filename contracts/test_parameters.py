"""SIZE-RANGE, STATUS-ENUM, DATE-FORMAT, DATE-ORDER, UNKNOWN-PARAM, TOKEN-EMPTY:
each boundary of the query grammar, one request each, judged by the oracle; and equal instants
written with different offsets, which must select the same operations."""

from __future__ import annotations

import pytest

from comms_contract import rfc3339
from comms_contract.checks import page_operations
from comms_contract.judge import judge

PAGE_SIZES = [
    "1",
    "2",
    "50",
    "999",
    "1000",  # accepted
    "0",
    "-1",
    "1001",
    "5000",
    "2147483648",
    "2.5",
    "1e3",
    "10.0",
    "abc",
    "10abc",
    "0x10",
]
STATUSES = [
    "SCHEDULED",
    "PROCESSING",
    "COMPLETED",
    "CANCELED",
    "PAUSED",
    "DONE",
    "COMPLETE",
    "completed",
    "SCHEDULED,COMPLETED",
    "",
]
DATES = [
    "2024-05-01T12:00:00Z",
    "2024-05-01T12:00:00.5Z",
    "2024-05-01T12:00:00.123Z",
    "2024-05-01T12:00:00.123456Z",
    "2024-05-01T12:00:00.123456789Z",
    "2024-05-01T14:00:00+02:00",
    "2024-05-01T06:30:00-05:30",
    "2024-05-01T12:00:00+00:00",
    "2024-05-01T12:00:00-00:00",
    # rejected
    "2024-05-01",
    "2024-05-01T12:00:00",
    "2024-05-01 12:00:00Z",
    "2024-02-30T00:00:00Z",
    "2024-13-01T00:00:00Z",
    "2024-05-01T24:00:00Z",
    "2024-05-01T12:00:00+25:00",
    "now",
    "1714560000",
    "20240501T120000Z",
    "2024-05-01T12:00:00+0200",
    "yesterday",
]


FIXED_GAPS = {
    "1 second": ("2024-05-01T12:00:01Z", "2024-05-01T12:00:00Z"),
    "1 day": ("2030-01-02T00:00:00Z", "2030-01-01T00:00:00Z"),
}


def plan_ahead(comms, wanted) -> None:
    """The one-request probes of the selected tests, sent ahead on idle lanes (lanes.py)."""
    for size in wanted.values("test_page_size_grammar", "size"):
        comms.ahead_get([("pageSize", size)])
    for status in wanted.values("test_status_grammar", "status"):
        comms.ahead_get([("status", status), ("pageSize", "5")])
    for test in wanted.tests.get("test_date_grammar", []):
        comms.ahead_get([(test["name"], test["value"]), ("pageSize", "5")])
    for gap in wanted.values("test_start_after_end", "gap"):
        if gap in FIXED_GAPS:
            start, end = FIXED_GAPS[gap]
            comms.ahead_get([("startDate", start), ("endDate", end)])
    for name in wanted.values("test_unknown_parameters", "name"):
        comms.ahead_get([(name, "1"), ("pageSize", "2")])
    if "test_empty_page_token" in wanted:
        comms.ahead_get([("pageToken", ""), ("pageSize", "2")])
    for case in wanted.values("test_repeated_parameters", "case"):
        comms.ahead_get(REPEATED[case])
    instants = first_page_instants(comms)
    if "spanning the data" in wanted.values("test_start_after_end", "gap") and len(instants) > 1:
        comms.ahead_get(spanning(instants))
    if "test_equal_instants_give_identical_results" in wanted:
        lo, hi = equal_instants_window(instants)
        if lo != hi:
            for minutes, digits in [(0, None), *WRITINGS]:
                comms.ahead_get(window_query(lo, hi, minutes, digits))


@pytest.mark.clause("SIZE-RANGE", "NO-5XX", "ERROR-BODY")
@pytest.mark.parametrize("size", PAGE_SIZES)
def test_page_size_grammar(comms, size):
    judge(comms, comms.get([("pageSize", size)]))


@pytest.mark.clause("STATUS-ENUM", "NO-5XX", "ERROR-BODY")
@pytest.mark.parametrize("status", STATUSES)
def test_status_grammar(comms, status):
    judge(comms, comms.get([("status", status), ("pageSize", "5")]))


@pytest.mark.clause("DATE-FORMAT", "NO-5XX", "ERROR-BODY")
@pytest.mark.parametrize("name", ["startDate", "endDate"])
@pytest.mark.parametrize("value", DATES)
def test_date_grammar(comms, name, value):
    judge(comms, comms.get([(name, value), ("pageSize", "5")]))


def first_page_instants(comms) -> list[int]:
    """createdAt of the operations on the plain first page, oldest first: the target's data."""
    ops = [o for o in page_operations(comms.first_page()) or [] if isinstance(o, dict)]
    found = [rfc3339.parse(str(o.get("createdAt")), strict_case=False) for o in ops if o]
    return sorted(ns for ns in found if ns is not None)


def spanning(instants: list[int]) -> list[tuple[str, str]]:
    """startDate at the newest instant, endDate at the oldest: reversed over the data."""
    return [
        ("startDate", rfc3339.format_ns(instants[-1])),
        ("endDate", rfc3339.format_ns(instants[0])),
    ]


@pytest.mark.clause("DATE-ORDER", "NO-5XX")
@pytest.mark.parametrize("gap", ["1 second", "1 day", "spanning the data"])
def test_start_after_end(comms, gap):
    if gap == "spanning the data":  # a server that swaps the bounds would answer operations
        instants = first_page_instants(comms)
        if len(instants) < 2 or instants[0] == instants[-1]:
            pytest.skip("the first page holds fewer than 2 distinct createdAt instants")
        query = spanning(instants)
    else:
        query = [("startDate", FIXED_GAPS[gap][0]), ("endDate", FIXED_GAPS[gap][1])]
    ex = comms.get(query)
    judge(comms, ex)
    comms.ledger.note("DATE-ORDER", f"startDate after endDate answered {ex.status}")


@pytest.mark.clause("UNKNOWN-PARAM", "NO-5XX")
@pytest.mark.parametrize("name", ["page_size", "limit", "cursor", "sort"])
def test_unknown_parameters(comms, name):
    judge(comms, comms.get([(name, "1"), ("pageSize", "2")]))


@pytest.mark.clause("TOKEN-EMPTY", "NO-5XX")
def test_empty_page_token(comms):
    judge(comms, comms.get([("pageToken", ""), ("pageSize", "2")]))


REPEATED = {
    "pageSize": [("pageSize", "2"), ("pageSize", "3")],
    "status": [("status", "COMPLETED"), ("status", "CANCELED"), ("pageSize", "50")],
    "status, one invalid": [("status", "COMPLETED"), ("status", "PAUSED"), ("pageSize", "5")],
    "startDate": [
        ("startDate", "2024-05-01T00:00:00Z"),
        ("startDate", "2099-01-01T00:00:00Z"),
        ("pageSize", "5"),
    ],
}


@pytest.mark.clause("SIZE-RANGE", "STATUS-ENUM", "DATE-FORMAT", "FILTER-SOUND", "NO-5XX")
@pytest.mark.parametrize("case", list(REPEATED))
def test_repeated_parameters(comms, case):
    """A parameter given twice is FREE (400, or one of the values taken): never 5xx, and a
    page must satisfy at least one of the values (the loosest: ``judge.loosest``)."""
    judge(comms, comms.get(REPEATED[case]))


# (offset minutes, fractional digits): the same instants written another way; "+00:00" is
# UTC written as a numeric offset (a zero offset, falsy in a parser's ``if offset:``)
WRITINGS = [
    (330, None),
    (330, 9),
    (-480, None),
    (-480, 3),
    (840, None),
    (0, 9),
    ("+00:00", None),
    (-150, 3),
]


def equal_instants_window(instants: list[int]) -> tuple[int, int]:
    """(lo, hi) in ns: the first page's createdAt at its first and third quartiles."""
    n = len(instants)
    return (instants[n // 4], instants[3 * n // 4]) if instants else (0, 0)


def window_query(lo: int, hi: int, minutes: int | str, digits: int | None) -> list[tuple[str, str]]:
    """The window [lo, hi] written with offset ``minutes`` (or "+00:00") and ``digits``
    fraction digits (None: the shortest exact), pageSize=1000."""
    if digits is not None and (lo % 10 ** (9 - digits) or hi % 10 ** (9 - digits)):
        digits = 9  # the same instants, never truncated: a truncated bound is another one
    if minutes == "+00:00":
        start, end = (rfc3339.format_ns(t, digits=digits)[:-1] + "+00:00" for t in (lo, hi))
    else:
        start = rfc3339.format_ns(lo, offset_minutes=int(minutes), digits=digits)
        end = rfc3339.format_ns(hi, offset_minutes=int(minutes), digits=digits)
    return [("startDate", start), ("endDate", end), ("pageSize", "1000")]


@pytest.mark.clause("DATE-FORMAT", "NO-5XX", "ERROR-BODY")
def test_equal_instants_give_identical_results(comms):
    """A window between two createdAt instants of the target's own data, written with Z,
    +00:00 and numeric offsets east and west (half hours, +14:00), with the shortest and with
    padded fractions: every writing must select the same ids."""
    lo, hi = equal_instants_window(first_page_instants(comms))
    if lo == hi:
        pytest.skip("the first page holds too few distinct createdAt instants for a window")

    def window(minutes: int | str, digits: int | None):
        ex = comms.get(window_query(lo, hi, minutes, digits))
        body = judge(comms, ex)
        return ex, [o.get("id") for o in body["operations"] if isinstance(o, dict)] if body else []

    base_ex, base = window(0, None)
    v = comms.verdict()
    for minutes, digits in WRITINGS:
        ex, got = window(minutes, digits)
        if got == base:
            continue
        if window(0, None)[1] != base:  # live data moved under the window: not a finding
            comms.ledger.note("DATE-FORMAT", "equal-instant check inconclusive: data moved")
            continue
        v.fail(
            "DATE-FORMAT",
            f"the same window written two ways selected different operations: {len(base)} "
            f"for {base_ex.line()}, {len(got)} for {ex.line()}",
            evidence=(base_ex.line(), ex.line(), "reproduce: " + ex.curl()),
        )
    v.done()


@pytest.mark.clause("RETENTION", "NO-5XX")
def test_start_date_beyond_retention(comms):
    """FREE: items older than 7 days may be missing. A startDate 30 days back is still a valid
    query (200), and the run records how old the oldest item it got was."""
    import time

    from comms_contract import rfc3339

    now = time.time_ns()
    start = rfc3339.format_ns(now - 30 * 86_400 * 10**9, digits=0)
    body = judge(comms, comms.get([("startDate", start), ("pageSize", "1000")]))
    created = [
        rfc3339.parse(str(o.get("createdAt")), strict_case=False)
        for o in (body or {}).get("operations", [])
    ]
    ages = [(now - c) / 86_400e9 for c in created if c is not None]
    if not ages:
        comms.ledger.lack("RETENTION", "no operation returned to tell its age: 1 needed, 0 held")
    else:
        comms.ledger.observe("RETENTION")
        comms.ledger.note(
            "RETENTION", f"seen: the oldest item returned was {max(ages):.1f} days old"
        )
