"""Scenarios: the reference server configured to test one client obligation each.

A ``ScenarioServer`` is the reference server plus a traffic recorder, a map of the tokens it
issued (which page each ``next`` and ``self`` token leads to) and optional faults keyed by page
number: a throttled answer (429/503 with Retry-After, once), a persistent 500, a 400. Each
``Scenario`` builds a fresh server, the list query the driver must make, and the ids a
conformant client lists for it.
"""

from __future__ import annotations

import copy
import email.utils
import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.types import Receive, Scope, Send

from comms_contract import rfc3339
from comms_contract.clientkit.recorder import Hit, TrafficLog
from comms_contract.server.app import ApiError, Credentials, ListQuery, Page, ReferenceServer
from comms_contract.server.dataset import DAY, Dataset, Operation
from comms_contract.server.tokens import Filters

HOUR_NS = 3600 * 1_000_000_000


class Fault:
    """An answer the scenario injects for one page instead of the page itself."""

    page: int = 0

    def answer(self, hit: Hit) -> ApiError | None:
        raise NotImplementedError


@dataclass
class Throttle(Fault):
    """The first request for ``page`` gets ``status`` with Retry-After (seconds or an HTTP-date).

    A repeat that arrives before the advertised time (the log flags it, with a small tolerance)
    is throttled again, as a real rate limiter would; once the time has passed the page is
    served normally and never throttled again.
    """

    page: int
    status: int = 429
    form: str = "seconds"  # seconds | date
    seconds: int = 1
    until: float | None = field(default=None, init=False)

    def answer(self, hit: Hit) -> ApiError | None:
        now = time.time()
        if self.until is None:  # the first request for the page
            if self.form == "date":  # 1-2 s ahead: HTTP-dates have whole-second resolution
                self.until = float(math.floor(now) + 2)
            else:
                self.until = now + self.seconds
            wait = self.seconds
        elif hit.early_by is None and now >= self.until - 0.2:
            return None  # waited: serve the page, and never throttle it again
        else:
            wait = max(1, math.ceil(self.until - now))
        # An early repeat is judged against the first answer's window, so a client that ignores
        # Retry-After but keeps trying gets through once the window has passed.
        hit.wait_until = self.until
        value = (
            email.utils.formatdate(self.until, usegmt=True) if self.form == "date" else str(wait)
        )
        hit.fault = f"throttled {self.status}" + (" again: repeated early" if hit.early_by else "")
        code, message = (
            (20429, "Too many requests") if self.status == 429 else (20503, "Service unavailable")
        )
        return ApiError(self.status, code, message, {"Retry-After": value})


@dataclass
class AlwaysFail(Fault):
    """Every request for ``page`` gets ``status`` (a persistent 500, or an expired-token 400)."""

    page: int
    status: int = 500
    message: str = "Internal server error"
    code: int = 20500

    def answer(self, hit: Hit) -> ApiError | None:
        hit.fault = f"persistent {self.status}"
        return ApiError(self.status, self.code, self.message)


class ScenarioServer(ReferenceServer):
    """The reference server with a recorder, token bookkeeping, faults and optional extras."""

    def __init__(
        self,
        dataset: Dataset,
        *,
        credentials: Credentials,
        seed: int = 0,
        prefix: str = "",
        faults: list[Fault] | None = None,
        extras: bool = False,
        end_marker: str = "null",  # null | absent | empty
        paused_every: int = 0,
    ) -> None:
        super().__init__(dataset, credentials=credentials, seed=seed, prefix=prefix)
        self.log = TrafficLog(credentials.account_id, credentials.auth_token)
        self.faults = {f.page: f for f in faults or []}
        self.extras = extras
        self.end_marker = end_marker
        self.paused_every = paused_every
        self.next_pages: dict[str, int] = {}
        self.self_pages: dict[str, int] = {}
        self._hit: Hit | None = None
        self.listeners: list[Callable[[Hit], None]] = []  # called with each answered request

    # ---- recording -------------------------------------------------------------------------
    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await super().__call__(scope, receive, send)
            return
        self.requests += 1
        response = self.handle(scope, Request(scope, receive))
        await response(scope, receive, send)

    def handle(self, scope: Scope, request: Request) -> Response:
        """Record the request, answer it, record the answer (synchronous: shared with respx)."""
        hit = self.log.open(
            scope["method"], scope["path"], scope.get("query_string", b""), scope["headers"]
        )
        self.locate(hit)
        self._hit = hit
        try:
            response = self.respond(request)
        finally:
            self._hit = None
        hit.status = response.status_code
        hit.retry_after = response.headers.get("retry-after")
        for listener in self.listeners:
            listener(hit)
        return response

    def locate(self, hit: Hit) -> None:
        """Which page of the walk the request asks for, from the token it carries."""
        tokens = hit.values("pageToken")
        if not tokens:
            hit.token_kind, hit.page = "none", 1
        elif tokens[-1] == "":
            hit.token_kind, hit.page = "empty", 1
        elif tokens[-1] in self.next_pages:
            hit.token_kind, hit.page = "next", self.next_pages[tokens[-1]]
        elif tokens[-1] in self.self_pages:
            hit.token_kind, hit.page = "self", self.self_pages[tokens[-1]]
        else:
            hit.token_kind, hit.page = "unknown", None

    # ---- faults and rendering --------------------------------------------------------------
    def parse_query(self, request: Request) -> ListQuery:
        hit = self._hit
        if hit is not None and hit.page in self.faults:
            err = self.faults[hit.page].answer(hit)
            if err is not None:
                raise err
        return super().parse_query(request)

    def render_operation(self, op: Operation) -> dict[str, Any]:
        body = op.to_json()
        if self.paused_every and self.is_paused(op):
            body["status"] = "PAUSED"
        if self.extras:
            body["newField"] = {"nested": [1, 2, 3], "flag": True}
            body["stats"]["bounced"] = 0
            body["channel"] = "apns"
        return body

    def is_paused(self, op: Operation) -> bool:
        """A stable, id-derived choice of operations shown with the unknown status PAUSED."""
        return bool(self.paused_every) and sum(op.id.encode()) % self.paused_every == 0

    def render_page(self, page: Page) -> Response:
        hit = self._hit
        number = (hit.page if hit is not None else None) or 1
        nxt = self.tokens.encode(page.next_cursor) if page.next_cursor else None
        own = self.tokens.encode(page.self_cursor)
        self.self_pages.setdefault(own, number)
        if nxt is not None:
            self.next_pages.setdefault(nxt, number + 1)
        pagination: dict[str, Any] = {"self": own}
        if nxt is not None:
            pagination["next"] = nxt
        elif self.end_marker == "null":
            pagination["next"] = None
        elif self.end_marker == "empty":
            pagination["next"] = ""
        ops = [self.render_operation(o) for o in page.operations]
        body: dict[str, Any] = {"operations": ops, "pagination": pagination}
        if self.extras:
            pagination["prev"] = None
            pagination["pageNumber"] = number
            body["total"] = None
            body["meta"] = {"key": "operations", "deprecated": False}
        if hit is not None:
            hit.ids = [o.id for o in page.operations]
            hit.next_token = nxt
            hit.end = nxt is None
        return JSONResponse(body)


@dataclass
class Built:
    """One scenario, ready to serve: the server, the driver's query and the expected ids."""

    server: ScenarioServer
    params: dict[str, Any]
    expected: list[str]
    paused: set[str] = field(default_factory=set)


@dataclass(frozen=True)
class Scenario:
    name: str
    summary: str
    expect: str  # complete (exit 0, every id once) | error (non-zero exit)
    build: Callable[[Credentials, int, str], Built]
    blame: str = "CLIENT-EXACTLY-ONCE"  # charged when a client fails a valid walk unexplained
    cost: float = 0.0  # seconds of Retry-After a conformant client must wait


def expected_ids(server: ScenarioServer, params: dict[str, Any]) -> list[str]:
    """The oracle: the ids of every matching operation, in the server's order."""
    start = rfc3339.parse(params["startDate"]) if "startDate" in params else None
    end = rfc3339.parse(params["endDate"]) if "endDate" in params else None
    return [o.id for o in server.ordered(Filters(params.get("status"), start, end))]


def _server(creds: Credentials, seed: int, prefix: str, count: int, **kw: Any) -> ScenarioServer:
    data = Dataset.generate(count=count, seed=seed)
    return ScenarioServer(data, credentials=creds, seed=seed, prefix=prefix, **kw)


def _simple(count: int, params: dict[str, Any], **kw: Any) -> Callable[..., Built]:
    def build(creds: Credentials, seed: int, prefix: str = "") -> Built:
        server = _server(creds, seed, prefix, count, **copy.deepcopy(kw))  # fresh fault state
        built = Built(server, dict(params), expected_ids(server, params))
        built.paused = {i for i in built.expected if server.is_paused(server.dataset.operations[i])}
        return built

    return build


def _filtered(creds: Credentials, seed: int, prefix: str = "") -> Built:
    """status plus dates written with non-UTC offsets (+05:30 and -03:00)."""
    server = _server(creds, seed, prefix, 400)
    now = server.dataset.now_ns
    start = now - 5 * DAY + 7 * HOUR_NS
    end = now - 1 * DAY
    params = {
        "status": "COMPLETED",
        "startDate": rfc3339.format_ns(start - start % 1_000_000_000, offset_minutes=330),
        "endDate": rfc3339.format_ns(end - end % 1_000_000_000, offset_minutes=-180),
        "pageSize": 7,
    }
    return Built(server, params, expected_ids(server, params))


def _empty(creds: Credentials, seed: int, prefix: str = "") -> Built:
    """A filter that matches nothing (there is data, so a client that drops it lists ids)."""
    server = _server(creds, seed, prefix, 40)
    for op in server.dataset.snapshot():
        if op.status == "CANCELED":
            server.dataset.set_status(op.id, "COMPLETED", op.updated_ns)
    params = {"status": "CANCELED", "pageSize": 10}
    return Built(server, params, expected_ids(server, params))


SCENARIOS: dict[str, Scenario] = {
    s.name: s
    for s in (
        Scenario(
            "multi-page",
            "5 pages of 25 (the last short); every token holds '+', '/' and '='",
            "complete",
            _simple(120, {"pageSize": 25}),
        ),
        Scenario(
            "filtered",
            "status=COMPLETED with startDate at +05:30 and endDate at -03:00, pageSize 7",
            "complete",
            _filtered,
        ),
        Scenario("empty", "a filter that matches nothing: one empty page", "complete", _empty),
        Scenario(
            "exact-multiple",
            "60 operations in 3 full pages of 20; the last full page has next null",
            "complete",
            _simple(60, {"pageSize": 20}),
        ),
        Scenario(
            "end-empty-string",
            'the last page ends with next "" (to be treated as the end)',
            "complete",
            _simple(45, {"pageSize": 20}, end_marker="empty"),
        ),
        Scenario(
            "throttle-429-seconds",
            "page 2 answers 429 with Retry-After: 1 once",
            "complete",
            _simple(50, {"pageSize": 20}, faults=[Throttle(2, 429, "seconds")]),
            blame="CLIENT-RETRY-AFTER",
            cost=1.0,
        ),
        Scenario(
            "throttle-429-date",
            "page 2 answers 429 with Retry-After as an HTTP-date 1-2 s ahead, once",
            "complete",
            _simple(50, {"pageSize": 20}, faults=[Throttle(2, 429, "date")]),
            blame="CLIENT-RETRY-AFTER",
            cost=2.0,
        ),
        Scenario(
            "unavailable-503",
            "page 3 answers 503 with Retry-After: 1 once",
            "complete",
            _simple(70, {"pageSize": 20}, faults=[Throttle(3, 503, "seconds")]),
            blame="CLIENT-RETRY-AFTER",
            cost=1.0,
        ),
        Scenario(
            "persistent-500",
            "page 2 always answers 500: stop with an error after at most 3 attempts",
            "error",
            _simple(50, {"pageSize": 20}, faults=[AlwaysFail(2)]),
            blame="CLIENT-SURFACES-ERRORS",
        ),
        Scenario(
            "bad-request-400",
            "page 2 answers 400 (token expired): surface it, do not present page 1 as the list",
            "error",
            _simple(
                50,
                {"pageSize": 20},
                faults=[AlwaysFail(2, 400, "pageToken has expired; list again", 20001)],
            ),
            blame="CLIENT-SURFACES-ERRORS",
        ),
        Scenario(
            "unknown-fields",
            "unknown fields everywhere, status PAUSED on some operations, next absent at the end",
            "complete",
            _simple(60, {"pageSize": 25}, extras=True, paused_every=3, end_marker="absent"),
            blame="CLIENT-TOLERANT",
        ),
        Scenario(
            "page-size-1000",
            "pageSize 1000 over 2300 operations: pages of 1000, 1000, 300",
            "complete",
            _simple(2300, {"pageSize": 1000}),
        ),
    )
}

THROTTLE_SCENARIOS = tuple(n for n, s in SCENARIOS.items() if s.cost)


def scenario(name: str) -> Scenario:
    try:
        return SCENARIOS[name]
    except KeyError:
        raise KeyError(f"unknown scenario {name!r}; choose from: {', '.join(SCENARIOS)}") from None
