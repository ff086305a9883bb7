"""Legitimate pagination variations pass the whole suite: the walk checks raise no false alarm.

Each variant differs from the reference server in a freedom the contract grants (direction,
end marker, token format, bound inclusivity) or in a live-data behaviour section 4 tells the
suite to tolerate (arrivals, status changes, throttling). Each must pass a full run, with
every clause passing or skipped, under the quick profile; the live variants also under ci.
"""

from __future__ import annotations

import email.utils
import json
import random
import secrets
import threading
import time
from typing import ClassVar

import pytest
from harness import assert_clean, run_against
from mutants_pagination import PAGINATION_CLAUSES
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from test_core_variants import EndInclusiveStartExclusive

from comms_contract.server.app import ApiError, Page, ReferenceServer
from comms_contract.server.dataset import Operation, make_stats, operation_id
from comms_contract.server.tokens import Cursor, Filters

PAGINATION = PAGINATION_CLAUSES


class Variant(ReferenceServer):
    OBSERVED: ClassVar[tuple[str, str] | None] = None


class OldestFirst(Variant):
    """Ascending createdAt (ties by id): the direction is FREE."""

    def ordered(self, filters: Filters) -> list[Operation]:
        return list(reversed(super().ordered(filters)))

    def after(self, ops: list[Operation], anchor: tuple[int, str] | None) -> list[Operation]:
        return ops if anchor is None else [o for o in ops if o.sort_key > tuple(anchor)]


class NextAbsentAtEnd(Variant):
    """The last page leaves next out instead of null."""

    OBSERVED = ("LAST-PAGE", "next absent")

    def render_page(self, page: Page) -> Response:
        body = json.loads(super().render_page(page).body)
        if body["pagination"]["next"] is None:
            del body["pagination"]["next"]
        return JSONResponse(body)


class RandomOpaqueTokens(Variant):
    """Tokens are random ids of a server-side cursor table (no HMAC, no structure); each
    answer mints fresh ones, and old ones stay valid."""

    def render_page(self, page: Page) -> Response:
        table: dict[str, Cursor] = self.__dict__.setdefault("_table", {})
        body = json.loads(super().render_page(page).body)
        for key, cursor in (("next", page.next_cursor), ("self", page.self_cursor)):
            if cursor is not None:
                token = secrets.token_urlsafe(18)
                table[token] = cursor
                body["pagination"][key] = token
        return JSONResponse(body)

    def decode_token(self, token: str) -> Cursor:
        table: dict[str, Cursor] = self.__dict__.setdefault("_table", {})
        if token not in table:
            raise ApiError(400, 20001, "unknown pageToken")
        return table[token]


class Live(Variant):
    """Base of the live variants: ``change()`` runs before every ``EVERY``-th request."""

    EVERY: ClassVar[int] = 10

    def respond(self, request: Request) -> Response:
        lock: threading.Lock = self.__dict__.setdefault("_lock", threading.Lock())
        with lock:
            count = self.__dict__["_count"] = self.__dict__.get("_count", 0) + 1
            if count % self.EVERY == 0:
                self.change(count)
        return super().respond(request)

    def change(self, count: int) -> None:
        raise NotImplementedError


class NewOperationsArrive(Live):
    """A new operation is created (at the head of the newest-first list) every 7 requests."""

    EVERY = 7

    def change(self, count: int) -> None:
        rng = random.Random(count)
        now = max(time.time_ns(), self.dataset.now_ns + count * 1_000_000)
        status = rng.choice(("SCHEDULED", "PROCESSING"))
        op = Operation(operation_id(now, rng), status, make_stats(status, rng), now, now)
        self.dataset.add(op)


class StatusesChange(Live):
    """Every 9 requests one PROCESSING operation completes (updatedAt now)."""

    EVERY = 9

    def change(self, count: int) -> None:
        processing = sorted(o.id for o in self.dataset.snapshot() if o.status == "PROCESSING")
        if processing:
            victim = random.Random(count).choice(processing)
            self.dataset.set_status(victim, "COMPLETED", time.time_ns())


class Throttled(Variant):
    """Every 40th request gets 429 with Retry-After in seconds or as an HTTP-date, and one
    early request a transient 503 with Retry-After."""

    def respond(self, request: Request) -> Response:
        count = self.__dict__["_count"] = self.__dict__.get("_count", 0) + 1
        if count == 5:
            return self.error(ApiError(503, 20503, "Service unavailable", {"Retry-After": "1"}))
        if count % 40 == 0:
            after = "1" if count % 80 else email.utils.formatdate(time.time() + 1, usegmt=True)
            return self.error(ApiError(429, 20429, "Too many requests", {"Retry-After": after}))
        return super().respond(request)


VARIANTS = [
    OldestFirst,
    NextAbsentAtEnd,
    RandomOpaqueTokens,
    EndInclusiveStartExclusive,  # the other boundary inclusivity (FREE), shared with core
    NewOperationsArrive,
    StatusesChange,
    Throttled,
]


@pytest.mark.parametrize("cls", VARIANTS, ids=lambda c: c.__name__)
def test_variant_passes_quick(cls: type[Variant]) -> None:
    out = run_against(cls(seed=4), seed=2, max_wait=0.05)
    assert_clean(out, must_pass=PAGINATION)
    if cls.OBSERVED:
        clause, text = cls.OBSERVED
        result = next(r for r in out.session.ledger.results() if r.id == clause)
        assert text in result.message, out.explain()
    if cls is Throttled:  # the throttling was met, waited out (capped) and judged
        assert out.session.waited > 0, out.explain()
        assert out.statuses["RETRY-AFTER-429"] == "pass", out.explain()


@pytest.mark.parametrize("cls", [NewOperationsArrive, StatusesChange, Throttled])
def test_live_variant_passes_ci(cls: type[Variant]) -> None:
    assert_clean(
        run_against(cls(seed=8), profile="ci", seed=5, max_wait=0.05), must_pass=PAGINATION
    )


@pytest.mark.parametrize("seed", [11, 12, 13, 14, 15])
def test_reference_passes_pagination_clauses_ci(seed: int) -> None:
    out = run_against(ReferenceServer(seed=seed), clauses=PAGINATION, profile="ci", seed=seed)
    assert_clean(out, must_pass=PAGINATION)
