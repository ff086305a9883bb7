"""Scenarios: the reference server configured to test one client obligation each.

A ``ScenarioServer`` is the reference server plus a traffic recorder, a map of the tokens it
issued (which page each ``next`` and ``self`` token leads to) and optional faults keyed by page
number: a throttled answer (429/503 with Retry-After, once or for ever), a persistent 500, a
4xx. It always takes the 400 branch of TOKEN-EMPTY (``pageToken=``) and accepts lower-case
``t``/``z`` in dates (an advisory, graded by the kit). It flags a client to be cut short: one
that sends clearly more requests than the walk can need, or is served one page a 4th time (a
loop); one that repeats a throttled request before Retry-After elapsed (the verdict is
decided); one that goes silent 5 s past Retry-After (a hang). Each ``Scenario`` builds a fresh
server, the list query the driver must make, and the ids a conformant client lists for it.
"""

from __future__ import annotations

import bisect
import copy
import email.utils
import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.types import Receive, Scope, Send

from comms_contract import rfc3339
from comms_contract.clientkit.recorder import RETRY_TOLERANCE, Hit, TrafficLog
from comms_contract.server.app import (
    DEFAULT_PAGE_SIZE,
    ApiError,
    Credentials,
    ListQuery,
    Page,
    ReferenceServer,
)
from comms_contract.server.dataset import DAY, SECOND, Dataset, Operation
from comms_contract.server.tokens import Cursor, Filters

HOUR_NS = 3600 * SECOND
MAX_THROTTLED = 10  # CONTRACT.md §5: at most 10 throttled answers in a row for one request
MAX_500_ATTEMPTS = 3  # CLIENT-NO-BLIND-500: a request answered 500 is sent at most 3 times
OVERWAIT = 5.0  # seconds past Retry-After after which a silent client is graded as hanging
MAX_SERVED = 3  # a page answered 200 more often than this: a loop, ended at once


class ScenarioError(ApiError):
    """An error answer, rendered as Twilio JSON or (``problem``) as RFC 9457 problem+json: both
    are FREE error-body branches (CONTRACT.md ERROR-BODY) a client must survive."""

    def __init__(
        self,
        status: int,
        code: int,
        message: str,
        headers: dict[str, str] | None = None,
        *,
        problem: bool = False,
    ) -> None:
        super().__init__(status, code, message, headers)
        self.problem = problem


class Fault:
    """An answer the scenario injects for one page instead of the page itself."""

    page: int = 0
    allowance: int = 0  # requests for the page a conformant client may spend on the fault

    def answer(self, hit: Hit) -> ApiError | None:
        raise NotImplementedError


@dataclass
class Throttle(Fault):
    """The first request for ``page`` gets ``status`` with Retry-After (seconds or an HTTP-date).

    A repeat that arrives before the advertised time (the log flags it, with a 5 ms tolerance)
    is throttled again, as a real rate limiter would; once the time has passed the page is
    served normally and never throttled again. ``lifts=False``: every request for the page is
    throttled, with ``Retry-After: 0`` (or an HTTP-date of the current second), so a conformant
    client reaches its bound of 10 throttled answers in a row at once and stops with an error.
    ``problem``: the error body is RFC 9457 ``application/problem+json`` instead of Twilio JSON.
    """

    page: int
    status: int = 429
    form: str = "seconds"  # seconds | date
    seconds: int = 1
    lifts: bool = True
    problem: bool = False
    until: float | None = field(default=None, init=False)

    def answer(self, hit: Hit) -> ApiError | None:
        now = time.time()
        if not self.lifts:
            self.until = float(math.floor(now)) if self.form == "date" else now
            wait = 0
            hit.fault = f"persistent {self.status} (a throttle that never lifts)"
        elif self.until is None:  # the first request for the page
            if self.form == "date":  # 1-2 s ahead: HTTP-dates have whole-second resolution
                self.until = float(math.floor(now) + 2)
            else:
                self.until = now + self.seconds
            wait = self.seconds
            hit.fault = f"throttled {self.status}"
        elif hit.early_by is None and now >= self.until - RETRY_TOLERANCE:
            return None  # waited: serve the page, and never throttle it again
        else:
            wait = max(1, math.ceil(self.until - now))
            hit.fault = f"throttled {self.status}" + (
                " again: repeated early" if hit.early_by else ""
            )
        # An early repeat is judged against the first answer's window, so a client that ignores
        # Retry-After but keeps trying gets through once the window has passed.
        hit.wait_until = self.until
        value = (
            email.utils.formatdate(self.until, usegmt=True) if self.form == "date" else str(wait)
        )
        code, message = (
            (20429, "Too many requests") if self.status == 429 else (20503, "Service unavailable")
        )
        return ScenarioError(
            self.status, code, message, {"Retry-After": value}, problem=self.problem
        )

    @property
    def allowance(self) -> int:
        """Requests for the page a conformant client may spend on this fault."""
        return MAX_THROTTLED + 1


@dataclass
class AlwaysFail(Fault):
    """Every request for ``page`` gets ``status`` (a persistent 500, an expired-token 400, a
    403), as Twilio JSON or, with ``problem``, as RFC 9457 problem+json."""

    page: int
    status: int = 500
    message: str = "Internal server error"
    code: int = 20500
    problem: bool = False
    headers: dict[str, str] | None = None

    def answer(self, hit: Hit) -> ApiError | None:
        hit.fault = f"persistent {self.status}"
        return ScenarioError(
            self.status, self.code, self.message, dict(self.headers or {}), problem=self.problem
        )

    @property
    def allowance(self) -> int:
        return MAX_500_ATTEMPTS


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
        self._ordered: dict[Filters, tuple[list[Operation], list[tuple[int, str]]]] = {}
        self._json: dict[str, dict[str, Any]] = {}  # each operation rendered once
        # the runaway and hang watch (read by the runner, which ends the driver)
        self.budget: int | None = None  # requests a conformant client can need, at most
        self.cut: str = ""  # why the kit ended the scenario early ("" while it runs)
        self.cut_kind: str = ""  # runaway | hang
        self.stall_at: float | None = None  # wall time: no request by then after a throttle
        self.served: dict[int, int] = {}  # page number -> 200 answers (a loop repeats one)
        self.wake = threading.Event()  # set when the runner should look (cut, or answered)

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
        hit.media_type = response.headers.get("content-type", "")
        self.watch(hit)
        for listener in self.listeners:
            listener(hit)
        return response

    def watch(self, hit: Hit) -> None:
        """Arm the hang watch after a throttled answer; flag a runaway past the budget."""
        if hit.status in (429, 503):
            self.stall_at = (hit.wait_until or hit.wall) + OVERWAIT
        else:
            self.stall_at = None
        if hit.early_by is not None and not self.cut:
            self.cut_kind = "early"
            self.cut = (
                f"ended by the kit at request #{hit.seq}, a repeat {hit.early_by * 1000:.0f} ms "
                "before Retry-After had elapsed (the verdict is decided)"
            )
        if hit.status == 200 and hit.page is not None:
            self.served[hit.page] = self.served.get(hit.page, 0) + 1
            if self.served[hit.page] > MAX_SERVED and not self.cut:
                self.cut_kind = "runaway"
                self.cut = (
                    f"ended by the kit at request #{hit.seq}: page {hit.page} was served for the "
                    f"{self.served[hit.page]}th time (a loop)"
                )
        if self.budget is not None and hit.seq > self.budget and not self.cut:
            self.cut_kind = "runaway"
            self.cut = (
                f"ended by the kit at request #{hit.seq}: this walk never needs more than "
                f"{self.budget} requests (3x its pages plus the retries allowed)"
            )
        self.wake.set()

    def check_stall(self, now: float) -> bool:
        """True (and ``cut`` set) when a throttled client stayed silent past Retry-After + 5 s."""
        if self.stall_at is None or now < self.stall_at or self.cut:
            return False
        last = self.log.hits[-1:]
        after = f" (Retry-After: {last[0].retry_after})" if last and last[0].retry_after else ""
        self.cut_kind = "hang"
        self.cut = (
            f"ended by the kit: no request and no exit {OVERWAIT:.0f}s after the Retry-After "
            f"of the last throttled answer had elapsed{after}"
        )
        return True

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
        if request.query_params.getlist("pageToken")[-1:] == [""]:
            if hit is not None:
                hit.fault = "TOKEN-EMPTY: the kit takes the 400 branch"
            raise ApiError(400, 20001, "pageToken must not be empty: omit it for the first page")
        if hit is not None and hit.page in self.faults:
            err = self.faults[hit.page].answer(hit)
            if err is not None:
                raise err
        return super().parse_query(request)

    def parse_date(self, name: str, raw: str | None) -> int | None:
        """Lower-case ``t``/``z`` accepted: the kit grades them as an advisory, not a failure."""
        if raw is None:
            return None
        ns = rfc3339.parse(raw, strict_case=False)
        if ns is None:
            raise ApiError(400, 20001, f"{name} must be an RFC 3339 date-time with an offset")
        return ns

    def ordered(self, filters: Filters) -> list[Operation]:
        """Cached per filter (a scenario's data never changes): a 1,000-page walk stays fast."""
        return self._sorted(filters)[0]

    def _sorted(self, filters: Filters) -> tuple[list[Operation], list[tuple[int, str]]]:
        if filters not in self._ordered:
            ops = super().ordered(filters)
            self._ordered[filters] = (ops, [o.sort_key for o in reversed(ops)])
        return self._ordered[filters]

    def page(self, query: ListQuery) -> Page:
        """The reference's page, found by bisection instead of a scan."""
        cursor = query.cursor
        ops, ascending = self._sorted(cursor.filters)
        first = 0
        if cursor.anchor is not None:
            below = bisect.bisect_left(ascending, (cursor.anchor[0], cursor.anchor[1]))
            first = len(ops) - below
        items = ops[first : first + query.page_size]
        more = len(ops) - first > query.page_size
        nxt = Cursor(items[-1].sort_key, cursor.filters, query.page_size) if more else None
        return Page(items, nxt, cursor)

    def error(self, err: ApiError) -> Response:
        if not getattr(err, "problem", False):
            return super().error(err)
        body = {
            "type": f"https://www.twilio.com/docs/errors/{err.code}",
            "title": err.message,
            "status": err.status,
            "detail": err.message,
            "code": err.code,
        }
        return JSONResponse(
            body,
            status_code=err.status,
            headers=err.headers,
            media_type="application/problem+json",
        )

    def render_operation(self, op: Operation) -> dict[str, Any]:
        if op.id not in self._json:
            self._json[op.id] = op.to_json()
        body = copy.deepcopy(self._json[op.id]) if self.extras else dict(self._json[op.id])
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

    def __post_init__(self) -> None:
        """The runaway budget: 3x the walk's pages plus every retry its faults allow."""
        size = int(self.params.get("pageSize", DEFAULT_PAGE_SIZE))
        self.pages = max(1, math.ceil(len(self.expected) / size))
        allowed = sum(f.allowance for f in self.server.faults.values())
        self.server.budget = 3 * self.pages + allowed + 2

    @property
    def never_lifts(self) -> bool:
        """A throttle that never lifts: the client must stop with an error."""
        return any(isinstance(f, Throttle) and not f.lifts for f in self.server.faults.values())


@dataclass(frozen=True)
class Scenario:
    name: str
    summary: str
    expect: str  # complete (exit 0, every id once) | error (non-zero exit)
    build: Callable[[Credentials, int, str], Built]
    blame: str = "CLIENT-EXACTLY-ONCE"  # charged when a client fails a valid walk unexplained
    cost: float = 0.0  # seconds of Retry-After a conformant client must wait
    zoned: bool = False  # dates or Retry-After: run under an east and a west time zone


def expected_ids(server: ScenarioServer, params: dict[str, Any]) -> list[str]:
    """The oracle: the ids of every matching operation, in the server's order."""
    start = rfc3339.parse(params["startDate"]) if "startDate" in params else None
    end = rfc3339.parse(params["endDate"]) if "endDate" in params else None
    return [o.id for o in server.ordered(Filters(params.get("status"), start, end))]


@lru_cache(maxsize=16)
def _template(count: int, seed: int) -> Dataset:
    """Generated once per process (10,050 operations take about a second); copied per run."""
    return Dataset.generate(count=count, seed=seed)


def _server(creds: Credentials, seed: int, prefix: str, count: int, **kw: Any) -> ScenarioServer:
    template = _template(count, seed)
    data = Dataset(operations=dict(template.operations), now_ns=template.now_ns)
    return ScenarioServer(data, credentials=creds, seed=seed, prefix=prefix, **kw)


def _simple(count: int, params: dict[str, Any], **kw: Any) -> Callable[..., Built]:
    def build(creds: Credentials, seed: int, prefix: str = "") -> Built:
        server = _server(creds, seed, prefix, count, **copy.deepcopy(kw))  # fresh fault state
        built = Built(server, dict(params), expected_ids(server, params))
        built.paused = {i for i in built.expected if server.is_paused(server.dataset.operations[i])}
        return built

    return build


def _clear_of_data(server: ScenarioServer, ns: int) -> int:
    """``ns`` moved (later) until no operation lies within 2 s of it: a client that keeps the
    instant to its date type's resolution (ms, us) then lists exactly the same operations."""
    created = sorted(o.created_ns for o in server.dataset.snapshot())
    while True:
        i = bisect.bisect_left(created, ns - 2 * SECOND)
        if i == len(created) or created[i] > ns + 2 * SECOND:
            return ns
        ns += 3 * SECOND


def _dated(
    count: int,
    start: tuple[int, int, int, int],  # days back, hours, fraction (ns), offset (minutes)
    end: tuple[int, int, int, int],
    digits: tuple[int, int],
    extra: dict[str, Any],
) -> Callable[..., Built]:
    """Dates with non-UTC offsets and fractions of ``digits`` digits, clear of the data."""

    def build(creds: Credentials, seed: int, prefix: str = "") -> Built:
        server = _server(creds, seed, prefix, count)
        now = server.dataset.now_ns
        params = dict(extra)
        for name, (days, hours, frac, offset), n in zip(
            ("startDate", "endDate"), (start, end), digits, strict=True
        ):
            whole = now - days * DAY + hours * HOUR_NS
            ns = _clear_of_data(server, whole - whole % SECOND) + frac
            params[name] = rfc3339.format_ns(ns, offset_minutes=offset, digits=n or None)
        return Built(server, params, expected_ids(server, params))

    return build


def _empty(creds: Credentials, seed: int, prefix: str = "") -> Built:
    """A filter that matches nothing (there is data, so a client that drops it lists ids)."""
    server = _server(creds, seed, prefix, 40)
    for op in server.dataset.snapshot():
        if op.status == "CANCELED":
            server.dataset.set_status(op.id, "COMPLETED", op.updated_ns)
    params = {"status": "CANCELED", "pageSize": 10}
    return Built(server, params, expected_ids(server, params))


LONG_WALK = 10_050
_FILTERED = {"status": "COMPLETED", "pageSize": 7}
_PS25 = {"pageSize": 25}
_JITTER = [Throttle(page, 429 if page % 2 else 503, problem=page % 4 == 0) for page in range(2, 10)]

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
            _dated(400, (5, 7, 0, 330), (1, 0, 0, -180), (0, 0), _FILTERED),
            blame="CLIENT-DATES",
            zoned=True,
        ),
        Scenario(
            "dates-fraction-ms",
            "startDate with 1 fractional digit at +05:30, endDate with 3 at -03:00",
            "complete",
            _dated(200, (5, 3, 500_000_000, 330), (1, 2, 987_000_000, -180), (1, 3), _PS25),
            blame="CLIENT-DATES",
            zoned=True,
        ),
        Scenario(
            "dates-fraction-ns",
            "startDate with 6 fractional digits at +05:45, endDate with 9 at -09:30",
            "complete",
            _dated(200, (6, 3, 987_654_000, 345), (2, 5, 123_456_789, -570), (6, 9), _PS25),
            blame="CLIENT-DATES",
            zoned=True,
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
            blame="CLIENT-FREE-BRANCHES",
        ),
        Scenario(
            "throttle-429-seconds",
            "page 2 answers 429 with Retry-After: 1 once",
            "complete",
            _simple(50, {"pageSize": 20}, faults=[Throttle(2, 429, "seconds")]),
            blame="CLIENT-RETRY-AFTER",
            cost=1.0,
            zoned=True,
        ),
        Scenario(
            "throttle-429-date",
            "page 2 answers 429 with Retry-After as an HTTP-date 1-2 s ahead, once",
            "complete",
            _simple(50, {"pageSize": 20}, faults=[Throttle(2, 429, "date")]),
            blame="CLIENT-RETRY-AFTER",
            cost=2.0,
            zoned=True,
        ),
        Scenario(
            "unavailable-503",
            "page 3 answers 503 with Retry-After: 1 once",
            "complete",
            _simple(70, {"pageSize": 20}, faults=[Throttle(3, 503, "seconds")]),
            blame="CLIENT-RETRY-AFTER",
            cost=1.0,
            zoned=True,
        ),
        Scenario(
            "throttle-jitter",
            "pages 2-9 each answer 429 or 503 with Retry-After: 1 once (some as problem+json): "
            "waits are timed to 5 ms, so jitter below Retry-After shows",
            "complete",
            _simple(100, {"pageSize": 10}, faults=_JITTER),
            blame="CLIENT-RETRY-AFTER",
            cost=8.0,
            zoned=True,
        ),
        Scenario(
            "never-lifts-429",
            "page 2 answers 429 with Retry-After: 0 for ever: stop after at most 10 throttled "
            "answers in a row, with an error",
            "error",
            _simple(50, {"pageSize": 20}, faults=[Throttle(2, 429, seconds=0, lifts=False)]),
            blame="CLIENT-RETRY-BOUND",
            zoned=True,
        ),
        Scenario(
            "never-lifts-503",
            "page 2 answers 503 (problem+json) with Retry-After as an HTTP-date of the current "
            "second, for ever: stop after at most 10, with an error",
            "error",
            _simple(
                50,
                {"pageSize": 20},
                faults=[Throttle(2, 503, "date", lifts=False, problem=True)],
            ),
            blame="CLIENT-RETRY-BOUND",
            zoned=True,
        ),
        Scenario(
            "long-walk",
            "10,050 operations in 1,005 pages of 10: no silent cap on pages (1,000) or items "
            "(10,000)",
            "complete",
            _simple(LONG_WALK, {"pageSize": 10}),
            blame="CLIENT-NO-SILENT-CAP",
        ),
        Scenario(
            "unauthorized-401",
            "page 2 answers 401 with a Basic challenge (credentials revoked mid-walk): surface "
            "it, do not end the list there",
            "error",
            _simple(
                50,
                {"pageSize": 20},
                faults=[
                    AlwaysFail(
                        2,
                        401,
                        "Authentication Error - invalid or missing credentials",
                        20003,
                        headers={"WWW-Authenticate": 'Basic realm="Twilio API"'},
                    )
                ],
            ),
            blame="CLIENT-SURFACES-ERRORS",
        ),
        Scenario(
            "forbidden-403",
            "page 2 answers 403 as problem+json (the FREE alternative to 401): surface it",
            "error",
            _simple(
                50,
                {"pageSize": 20},
                faults=[AlwaysFail(2, 403, "Forbidden", 20403, problem=True)],
            ),
            blame="CLIENT-SURFACES-ERRORS",
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
            "unknown fields everywhere, status PAUSED on some operations",
            "complete",
            _simple(60, {"pageSize": 25}, extras=True, paused_every=3),
            blame="CLIENT-TOLERANT",
        ),
        Scenario(
            "end-absent",
            "the last page leaves next out (instead of null)",
            "complete",
            _simple(45, {"pageSize": 20}, end_marker="absent"),
            blame="CLIENT-FREE-BRANCHES",
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
ZONED_SCENARIOS = tuple(n for n, s in SCENARIOS.items() if s.zoned)


def scenario(name: str) -> Scenario:
    try:
        return SCENARIOS[name]
    except KeyError:
        raise KeyError(f"unknown scenario {name!r}; choose from: {', '.join(SCENARIOS)}") from None
