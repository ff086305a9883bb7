"""Findings name the clause of the parameter that caused them (issue 9 item 7): a 5xx is
charged to TOKEN-GARBAGE or DATE-ORDER only when that clause's parameters were sent, and when
both were, the cause is isolated by sending the query again without each."""

from __future__ import annotations

from harness import run_against
from hostile import assert_no_crash

from comms_contract.oracle import classify
from comms_contract.server.app import ApiError, Filters, ReferenceServer
from comms_contract.server.tokens import Cursor

CLAUSES = ["NO-5XX", "TOKEN-GARBAGE", "DATE-ORDER"]


def test_a_lone_end_date_before_1970_is_no_inverted_window():
    """Was: startDate missing counted as 0 ns, so endDate=0027-... looked inverted."""
    exp = classify([("pageToken", "zzz"), ("endDate", "0027-11-11T15:49:59.809Z")])
    assert not exp.inverted_dates and exp.foreign_token
    assert classify(
        [("startDate", "2030-01-02T00:00:00Z"), ("endDate", "2030-01-01T00:00:00Z")]
    ).inverted_dates


class ForeignTokenIs500(ReferenceServer):
    """A token that does not decode crashes the handler: 500."""

    def decode_token(self, token: str) -> Cursor:
        try:
            return super().decode_token(token)
        except ApiError as exc:
            raise ApiError(500, 20500, "Internal Server Error") from exc


class InvertedDatesAre500(ReferenceServer):
    """startDate after endDate crashes the query builder: 500."""

    def parse_filters(self, request) -> Filters:
        try:
            return super().parse_filters(request)
        except ApiError as exc:
            if "after endDate" in str(exc):
                raise ApiError(500, 20500, "Internal Server Error") from exc
            raise


def test_a_500_for_a_foreign_token_is_not_charged_to_date_order():
    out = run_against(ForeignTokenIs500(seed=1), clauses=CLAUSES, profile="ci")
    assert_no_crash(out)
    assert {"NO-5XX", "TOKEN-GARBAGE"} <= out.failed, out.explain()
    assert "DATE-ORDER" not in out.failed, out.explain()


def test_a_500_for_inverted_dates_is_not_charged_to_token_garbage():
    out = run_against(InvertedDatesAre500(seed=1), clauses=CLAUSES, profile="ci")
    assert_no_crash(out)
    assert {"NO-5XX", "DATE-ORDER"} <= out.failed, out.explain()
    assert "TOKEN-GARBAGE" not in out.failed, out.explain()


class InvertedDatesFailTwice(ReferenceServer):
    """A backend fault that hits the inverted-date probe and its first repeat, then clears
    (a flaky backend that failing requests happened to meet twice): the input is not its
    cause. Self-tests, 2026-11-30: with a 500 on every 13th request and 4 lanes, the one
    repeat the suite made landed on a 500 too about once in 13 runs, and DATE-ORDER failed
    beside NO-5XX depending on the lanes' timing."""

    def __init__(self, **kw) -> None:
        super().__init__(**kw)
        self.failed_inverted = 0

    def parse_filters(self, request) -> Filters:
        try:
            return super().parse_filters(request)
        except ApiError as exc:
            if "after endDate" in str(exc) and self.failed_inverted < 2:
                self.failed_inverted += 1
                raise ApiError(500, 20500, "Internal Server Error") from exc
            raise


def test_a_5xx_that_a_later_repeat_does_not_show_is_no_5xx_alone():
    out = run_against(InvertedDatesFailTwice(seed=1), clauses=CLAUSES, profile="quick")
    assert_no_crash(out)
    assert out.failed == {"NO-5XX"}, out.explain()
