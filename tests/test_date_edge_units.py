"""The suite's own date handling at the grammar's edges and at the 1 ms band (no server).

rfc3339 must write and read years 0001-9999 with any offset without overflowing (the suite
writes bounds from a target's createdAt values, whatever they are); the oracle must call a
valid date whose UTC instant lies beyond those years FREE; and the band must free exactly
what is less than 1 ms from a bound.
"""

from __future__ import annotations

import pytest

from comms_contract import bounds, rfc3339
from comms_contract.oracle import classify

EDGES = [
    ("9999-12-31T23:59:59-01:00", False),
    ("0001-01-01T00:00:00+01:00", False),
    ("9999-12-31T23:59:59.999999999-23:59", False),
    ("0001-01-01T00:00:00+23:59", False),
    ("9999-12-31T23:59:59.999999999Z", True),
    ("0001-01-01T00:00:00Z", True),
    ("9999-12-31T23:59:59+01:00", True),
    ("0001-01-01T00:00:00-01:00", True),
    ("2024-02-29T23:59:59.999999999+14:00", True),
]


@pytest.mark.parametrize(("text", "in_utc"), EDGES)
def test_extreme_dates_parse_and_write_back(text: str, in_utc: bool) -> None:
    ns = rfc3339.parse(text)
    assert ns is not None
    assert rfc3339.in_utc_range(ns) is in_utc
    zone = text[-6:]
    minutes = (
        0 if text.endswith("Z") else int(zone[0] + "1") * (int(zone[1:3]) * 60 + int(zone[4:]))
    )
    assert rfc3339.parse(rfc3339.format_ns(ns, offset_minutes=minutes, digits=9)) == ns
    if in_utc:
        assert rfc3339.parse(rfc3339.format_ns(ns)) == ns
    else:
        with pytest.raises(ValueError):
            rfc3339.format_ns(ns)  # no 4-digit year in UTC: a clear error, not an overflow


@pytest.mark.parametrize(("text", "in_utc"), EDGES)
def test_oracle_frees_only_dates_beyond_utc_years(text: str, in_utc: bool) -> None:
    exp = classify([("startDate", text)])
    assert not exp.reject
    assert bool(exp.free) is not in_utc


@pytest.mark.parametrize(
    "text", ["2023-02-29T00:00:00Z", "1900-02-29T00:00:00Z", "0000-01-01T00:00:00Z"]
)
def test_invalid_calendar_dates_are_refused(text: str) -> None:
    assert rfc3339.parse(text) is None
    assert "DATE-FORMAT" in classify([("endDate", text)]).reject


def test_the_band_frees_less_than_a_millisecond() -> None:
    b = 1_000_000_000_000
    ms = bounds.BAND_NS
    assert bounds.position(b - ms, b, None) is False  # 1 ms before startDate: out
    assert bounds.position(b - ms + 1, b, None) is None  # less than 1 ms: FREE
    assert bounds.position(b + ms - 1, b, None) is None
    assert bounds.position(b + ms, b, None) is True  # 1 ms inside: in
    assert bounds.position(b + ms, None, b) is False  # 1 ms after endDate: out
    assert bounds.position(b - ms, None, b) is True
    assert bounds.position(b, b - ms, b + ms) is True  # 1 ms inside both
