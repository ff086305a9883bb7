"""Legitimate variations (FREE rows and the freedoms inside MUST rows) pass the whole suite.

A conformance suite that fails a correct server is as wrong as one that passes a broken one:
each variant below differs from the reference server in one documented freedom, and must
pass a full run (exit 0, no failing and no advisory clause) under the quick and ci profiles.
``OBSERVED`` names the clause whose result message must mention the variant's behaviour, so
a variant cannot pass merely because no check looked at it.
"""

from __future__ import annotations

import json
import random
from dataclasses import replace
from typing import Any, ClassVar

import pytest
from harness import Outcome, assert_clean, run_against
from loopback import serve
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from comms_contract import STATUSES, cli
from comms_contract.catalog import Policy
from comms_contract.http import Target
from comms_contract.profiles import PROFILES
from comms_contract.server.app import (
    KNOWN_PARAMS,
    ApiError,
    Credentials,
    ListQuery,
    Page,
    ReferenceServer,
)
from comms_contract.server.dataset import Operation
from comms_contract.server.tokens import BadToken, Cursor, Filters
from comms_contract.session import RunConfig


class Variant(ReferenceServer):
    """Base of the variants: the clause and text that show the variation was exercised."""

    OBSERVED: ClassVar[tuple[str, str] | None] = None


class Forbidden403(Variant):
    """403 instead of 401 for bad credentials (AUTH: either is fine)."""

    OBSERVED = ("AUTH", "refused with 403")

    def authenticate(self, request: Request) -> None:
        try:
            super().authenticate(request)
        except ApiError as err:
            raise ApiError(403, err.code, err.message) from err


class ProblemJsonErrors(Variant):
    """RFC 9457 problem details instead of Twilio's code/message/more_info/status."""

    OBSERVED = ("ERROR-BODY", "application/problem+json error objects (RFC 9457 fields)")

    def error(self, err: ApiError) -> Response:
        body = {
            "type": f"https://www.twilio.com/docs/errors/{err.code}",
            "title": err.message,
            "status": err.status,
            "detail": err.message,
        }
        return JSONResponse(body, err.status, err.headers, media_type="application/problem+json")


class UnknownParamsRejected(Variant):
    """Unknown query parameters get 400 (UNKNOWN-PARAM: ignored or 400)."""

    OBSERVED = ("UNKNOWN-PARAM", "answered 400")

    def parse_query(self, request: Request) -> ListQuery:
        unknown = sorted(set(request.query_params) - set(KNOWN_PARAMS))
        if unknown:
            raise ApiError(400, 20001, f"unknown query parameter {unknown[0]}")
        return super().parse_query(request)


class EmptyTokenRejected(Variant):
    """``pageToken=`` gets 400 instead of the first page (TOKEN-EMPTY: FREE)."""

    OBSERVED = ("TOKEN-EMPTY", "answered 400")

    def parse_query(self, request: Request) -> ListQuery:
        if request.query_params.get("pageToken") == "":
            raise ApiError(400, 20001, "pageToken must not be empty")
        return super().parse_query(request)


class InvertedDatesEmptyList(Variant):
    """startDate after endDate answers 200 with no operations (DATE-ORDER: 400 or empty)."""

    OBSERVED = ("DATE-ORDER", "answered 200")

    def parse_filters(self, request: Request) -> Filters:
        start = self.parse_date("startDate", self.single(request, "startDate"))
        end = self.parse_date("endDate", self.single(request, "endDate"))
        return Filters(self.parse_status(self.single(request, "status")), start, end)


class LowercaseStatusAccepted(Variant):
    """Status values are case-folded: ``completed`` means COMPLETED (STATUS-ENUM: FREE)."""

    OBSERVED = ("STATUS-ENUM", "answered 200")

    def parse_status(self, raw: str | None) -> str | None:
        return super().parse_status(raw.upper() if raw else raw)


class SeveralStatusesAccepted(Variant):
    """``status=A,B`` accepted as A or B (STATUS-ENUM: several values FREE)."""

    OBSERVED = ("STATUS-ENUM", "answered 200")

    def matches(self, op: Operation, filters: Filters) -> bool:
        wanted = filters.status.split(",") if filters.status else None
        if wanted and op.status not in wanted:
            return False
        return super().matches(op, Filters(None, filters.start_ns, filters.end_ns))

    def parse_status(self, raw: str | None) -> str | None:
        if raw and "," in raw and all(s in STATUSES for s in raw.split(",")):
            return raw
        return super().parse_status(raw)


class StatsNotAddingUp(Variant):
    """Stats shaped like the docs' own example: the buckets do not add up to total."""

    OBSERVED = ("STATS-SUMS", "do not add up")

    def render_operation(self, op: Operation) -> dict[str, Any]:
        body = super().render_operation(op)
        stats = body["stats"]
        stats["total"] = stats["total"] + 3
        stats["recipients"] = max(0, stats["total"] - 5)
        return body


class ExtraFieldsEverywhere(Variant):
    """Unknown fields on operations, stats, pagination and the top level (EXTRA-FIELDS: FREE)."""

    OBSERVED = ("EXTRA-FIELDS", "seen: unknown fields (meta, operation.accountId")

    def render_page(self, page: Page) -> Response:
        body = json.loads(super().render_page(page).body)
        body["meta"] = {"key": "operations"}
        body["pagination"]["pageSize"] = len(body["operations"])
        for op in body["operations"]:
            op["accountId"] = "ACxxxxxxxx"
            op["stats"]["bounced"] = 0
        return JSONResponse(body)


class GoneForGarbageTokens(Variant):
    """410 Gone for tokens it cannot decode, as for expired ones (TOKEN-GARBAGE: 400 or 410)."""

    OBSERVED = ("TOKEN-GARBAGE", "a token the server never issued: 410")

    def decode_token(self, token: str) -> Cursor:
        try:
            return self.tokens.decode(token)
        except BadToken as exc:
            raise ApiError(410, 20410, "pageToken expired or unknown") from exc


class EndInclusiveStartExclusive(Variant):
    """Bounds the other way round: startDate exclusive, endDate inclusive (FREE at the bound)."""

    OBSERVED = ("FILTER-COMPLETE", "items exactly at startDate left out")

    def matches(self, op: Operation, filters: Filters) -> bool:
        if filters.status is not None and op.status != filters.status:
            return False
        if filters.start_ns is not None and op.created_ns <= filters.start_ns:
            return False
        return not (filters.end_ns is not None and op.created_ns > filters.end_ns)


class CharsetContentType(Variant):
    """``Content-Type: application/json; charset=utf-8`` (CT: parameters allowed)."""

    OBSERVED = ("CT", "seen: Content-Type parameters 'charset=utf-8'")

    def render_page(self, page: Page) -> Response:
        body = super().render_page(page).body
        return Response(body, media_type="application/json; charset=utf-8")


class RepeatedParamsFirstWins(Variant):
    """A parameter given twice takes its first value instead of 400 (repetition is FREE)."""

    OBSERVED = ("STATUS-ENUM", "seen: status given 2 times, answered 200 (FREE)")

    def single(self, request: Request, name: str) -> str | None:
        values = request.query_params.getlist(name)
        return values[0] if values else None


class MicrosecondCreatedAt(Variant):
    """A store that keeps microseconds: createdAt and updatedAt carry 6 fraction digits, and
    the date filters compare at microsecond precision (OP-SHAPE: 0-9 digits; FILTER-*: the
    1 ms band at the bounds is FREE)."""

    OBSERVED = ("OP-SHAPE", "seen: createdAt with 6 fraction digits")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        rng = random.Random(7)
        for op in self.dataset.snapshot():
            shift = rng.randint(1, 999) * 1_000  # a microsecond part: 6 digits
            self.dataset.operations[op.id] = replace(
                op, created_ns=op.created_ns + shift, updated_ns=op.updated_ns + shift
            )


class Throttled429ProblemJson(Variant):
    """Every 7th request is throttled: 429, Retry-After: 0, an RFC 9457 problem+json body."""

    OBSERVED = ("ERROR-BODY", "seen: 429 with an application/problem+json object")

    def respond(self, request: Request) -> Response:
        if self.requests % 7 == 0:
            body = {"type": "about:blank", "title": "Too Many Requests", "status": 429}
            headers = {"Retry-After": "0"}
            return JSONResponse(body, 429, headers, media_type="application/problem+json")
        return super().respond(request)


class Unavailable503Json(Variant):
    """Every 11th request meets a 503 with Retry-After: 0 and a Twilio-style JSON body."""

    OBSERVED = ("ERROR-BODY", "seen: 503 with an application/json object")

    def respond(self, request: Request) -> Response:
        if self.requests % 11 == 0:
            body = {"code": 20503, "message": "Service Unavailable", "status": 503}
            return JSONResponse(body, 503, {"Retry-After": "0"})
        return super().respond(request)


VARIANTS: list[type[Variant]] = [
    # first: in AllVariants its render_page wraps the others' (a later one would re-render
    # the body as plain application/json and hide the charset parameter)
    CharsetContentType,
    Forbidden403,
    ProblemJsonErrors,
    UnknownParamsRejected,
    EmptyTokenRejected,
    InvertedDatesEmptyList,
    LowercaseStatusAccepted,
    SeveralStatusesAccepted,
    StatsNotAddingUp,
    ExtraFieldsEverywhere,
    GoneForGarbageTokens,
    EndInclusiveStartExclusive,
    RepeatedParamsFirstWins,
    MicrosecondCreatedAt,
    Throttled429ProblemJson,
    Unavailable503Json,
]


class AllVariants(*VARIANTS):
    """Every variation at once, so one ci run covers them all and their interactions (each
    also runs alone under quick). The MRO chains the overrides in VARIANTS order: where two
    override one method, the earlier calls super() (e.g. SeveralStatusesAccepted.matches)."""

    OBSERVED = None


@pytest.mark.parametrize("cls", VARIANTS, ids=lambda c: c.__name__)
def test_variant_passes_quick(cls: type[Variant]) -> None:
    out = run_against(cls(seed=4), profile="quick", seed=2)
    assert_clean(out)
    if cls.OBSERVED is not None:
        clause, text = cls.OBSERVED
        result = next(r for r in out.session.ledger.results() if r.id == clause)
        assert result.status == "pass" and text in result.message, out.explain()


def test_all_variants_together_pass_ci() -> None:
    out = run_against(AllVariants(seed=9), profile="ci", seed=5)
    assert_clean(out)
    for cls in VARIANTS:
        if cls.OBSERVED is not None:
            clause, text = cls.OBSERVED
            result = next(r for r in out.session.ledger.results() if r.id == clause)
            assert text in result.message, f"{cls.__name__}: {result.message}"


def run_with_root(app: ReferenceServer, root: str, profile: str = "quick") -> tuple[int, Any]:
    """A full run against ``app`` in-process, addressed through the base URL ``root``."""
    creds = Credentials()
    config = RunConfig(
        target=Target(root, creds.account_id, creds.auth_token),
        profile=PROFILES[profile],
        seed=3,
        policy=Policy(),
        app=app,
    )
    return cli.run_suite(config)


@pytest.mark.parametrize("profile", ["quick", "ci"])
def test_path_prefix_in_process(profile: str) -> None:
    """A base URL with a path prefix: the suite appends the operations path to it."""
    app = ReferenceServer(seed=6, prefix="/comms")
    code, session = run_with_root(app, "http://127.0.0.1/comms", profile)
    assert_clean(Outcome(code, session))


def test_path_prefix_missing_is_a_configuration_error() -> None:
    """Control: the same server addressed without its prefix is 'not this API' (exit 2)."""
    code, session = run_with_root(ReferenceServer(seed=6, prefix="/comms"), "http://127.0.0.1")
    assert code == 2
    assert any("not this API" in e for e in session.errors), session.errors


def test_path_prefix_over_loopback(capsys: pytest.CaptureFixture[str]) -> None:
    """The CLI against a real socket, base URL with a prefix, the server's default credentials."""
    creds = Credentials()
    with serve(ReferenceServer(seed=8, prefix="/comms")) as base:
        code = cli.main(
            [
                "run",
                "--base-url",
                f"{base}/comms",
                "--account-id",
                creds.account_id,
                "--auth-token",
                creds.auth_token,
                "--profile",
                "quick",
                "--seed",
                "4",
            ]
        )
    output = capsys.readouterr()
    assert code == 0, output.out + output.err
    assert "result: PASS" in output.out and "FAIL " not in output.out, output.out
