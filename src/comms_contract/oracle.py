"""What the contract says a server must answer to a given query, before sending it.

The fuzzer draws arbitrary queries; the oracle names, per parameter, whether the value must
be accepted, must be rejected with 400 (and under which clause), or is FREE. Stock
schemathesis checks lack exactly this, which is why they fail correct servers.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from comms_contract import STATUSES, rfc3339

KNOWN = ("pageToken", "pageSize", "status", "startDate", "endDate")
_CANONICAL_INT = re.compile(r"^[1-9][0-9]*$")
_LENIENT_INT = re.compile(r"^\s*\+?0*[0-9]+\s*$")


@dataclass
class Expectation:
    """``reject``: clause -> reason for values that must get 400; ``free``: FREE notes."""

    reject: dict[str, str] = field(default_factory=dict)
    free: list[str] = field(default_factory=list)
    foreign_token: bool = False  # a pageToken the server never issued
    inverted_dates: bool = False  # startDate after endDate: 400 or empty list


def classify(
    params: Sequence[tuple[str, str]], issued_tokens: frozenset[str] = frozenset()
) -> Expectation:
    exp = Expectation()
    names = [k for k, _ in params]
    for name in set(names):
        if names.count(name) > 1:
            exp.free.append(f"{name} given {names.count(name)} times")
    instants: dict[str, int] = {}
    for name, value in params:
        if name == "pageSize":
            _page_size(exp, value)
        elif name == "status":
            _status(exp, value)
        elif name in ("startDate", "endDate"):
            ns = _date(exp, name, value)
            if ns is not None:
                instants[name] = ns
        elif name == "pageToken":
            if value == "":
                exp.free.append("empty pageToken (TOKEN-EMPTY)")
            elif value not in issued_tokens:
                exp.foreign_token = True
        else:
            exp.free.append(f"unknown parameter {name!r} (UNKNOWN-PARAM)")
    # both bounds present: a lone endDate before 1970 is no inverted window (it was, with a
    # default of 0 for the missing startDate, and a 500 got charged to DATE-ORDER)
    if "startDate" in instants and "endDate" in instants:
        exp.inverted_dates = instants["startDate"] > instants["endDate"]
    if names.count("pageToken") > 1:
        exp.foreign_token = False  # the server may take the issued one of the values (FREE)
    for name in {n for n in names if names.count(n) > 1}:
        # a repeated parameter is FREE (the server may take one of the values or refuse):
        # a value that alone must get 400 may be outvoted by a valid one
        clause = {"pageSize": "SIZE-RANGE", "status": "STATUS-ENUM"}.get(name, "DATE-FORMAT")
        if clause in exp.reject and name in exp.reject[clause]:
            exp.free.append(f"{name} given {names.count(name)} times: {exp.reject.pop(clause)}")
    return exp


def _page_size(exp: Expectation, value: str) -> None:
    if _CANONICAL_INT.match(value):
        if not 1 <= int(value) <= 1000:
            exp.reject["SIZE-RANGE"] = f"pageSize={value!r} is outside 1..1000"
    elif value == "":
        exp.free.append("empty pageSize")
    elif _LENIENT_INT.match(value):
        if 1 <= int(value.strip()) <= 1000:
            exp.free.append(f"integer spelling pageSize={value!r}")
        else:
            exp.reject["SIZE-RANGE"] = f"pageSize={value!r} is outside 1..1000"
    else:
        exp.reject["SIZE-RANGE"] = f"pageSize={value!r} is not an integer"


def _status(exp: Expectation, value: str) -> None:
    if value in STATUSES:
        return
    if value == "" or value.upper() in STATUSES or "," in value:
        exp.free.append(f"status={value!r} (lower case, empty or several values)")
    else:
        exp.reject["STATUS-ENUM"] = f"status={value!r} is not one of {', '.join(STATUSES)}"


def _date(exp: Expectation, name: str, value: str) -> int | None:
    ns = rfc3339.parse(value)
    if ns is not None:
        if not rfc3339.in_utc_range(ns):
            # e.g. 9999-12-31T23:59:59-01:00: valid RFC 3339, but its UTC instant (year 10000)
            # has no RFC 3339 spelling and most date types refuse it: 200 or 400 (FREE)
            exp.free.append(f"{name}={value!r} (its UTC instant is outside years 0001-9999)")
        return ns
    if rfc3339.is_lowercase_variant(value) or _leap_second(value):
        exp.free.append(f"{name}={value!r} (lower-case t/z or a leap second)")
        return None
    exp.reject["DATE-FORMAT"] = f"{name}={value!r} is not an RFC 3339 date-time"
    return None


def _leap_second(value: str) -> bool:
    return (
        rfc3339.parse(value.replace(":60", ":59", 1), strict_case=False) is not None
        and ":60" in value
    )
