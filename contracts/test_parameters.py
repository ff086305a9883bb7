"""SIZE-RANGE, STATUS-ENUM, DATE-FORMAT, DATE-ORDER, UNKNOWN-PARAM, TOKEN-EMPTY:
each boundary of the query grammar, one request each, judged by the oracle."""

from __future__ import annotations

import pytest

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


@pytest.mark.clause("DATE-ORDER", "NO-5XX")
@pytest.mark.parametrize("gap", ["1 second", "1 day"])
def test_start_after_end(comms, gap):
    start, end = (
        ("2024-05-01T12:00:01Z", "2024-05-01T12:00:00Z")
        if gap == "1 second"
        else ("2030-01-02T00:00:00Z", "2030-01-01T00:00:00Z")
    )
    ex = comms.get([("startDate", start), ("endDate", end)])
    judge(comms, ex)
    comms.ledger.note("DATE-ORDER", f"startDate after endDate answered {ex.status}")


@pytest.mark.clause("UNKNOWN-PARAM", "NO-5XX")
@pytest.mark.parametrize("name", ["page_size", "limit", "cursor", "sort"])
def test_unknown_parameters(comms, name):
    judge(comms, comms.get([(name, "1"), ("pageSize", "2")]))


@pytest.mark.clause("TOKEN-EMPTY", "NO-5XX")
def test_empty_page_token(comms):
    judge(comms, comms.get([("pageToken", ""), ("pageSize", "2")]))
