"""The reference server: the contract, implemented exactly.

It is the suite's embedded default target and the SDK authors' mock. Every step of a
request is a method, so a test's mutant (a faulty server) overrides one small method.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
from dataclasses import dataclass, field
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.types import Receive, Scope, Send

from comms_contract import OPERATIONS_PATH, STATUSES, rfc3339
from comms_contract.server.dataset import RETENTION, Dataset, Operation
from comms_contract.server.tokens import BadToken, Cursor, Filters, TokenCodec

KNOWN_PARAMS = ("pageToken", "pageSize", "status", "startDate", "endDate")
DEFAULT_PAGE_SIZE = 50
MAX_PAGE_SIZE = 1000
_PAGE_SIZE = re.compile(r"^[0-9]{1,7}$")


class ApiError(Exception):
    """An error answer: HTTP status, Twilio-style code and message."""

    def __init__(self, status: int, code: int, message: str, headers: dict[str, str] | None = None):
        super().__init__(message)
        self.status, self.code, self.message = status, code, message
        self.headers = headers or {}


@dataclass
class ListQuery:
    cursor: Cursor
    page_size: int


@dataclass
class Page:
    operations: list[Operation]
    next_cursor: Cursor | None
    self_cursor: Cursor


@dataclass
class Credentials:
    """Accepted Basic credentials: the account's and any API key pairs."""

    account_id: str = "ACtest00000000000000000000000000"
    auth_token: str = field(default="mock-7f3e9c1a5b2d8046", repr=False)  # the demo secret
    api_keys: dict[str, str] = field(default_factory=dict, repr=False)

    def accepts(self, user: str, password: str) -> bool:
        if user == self.account_id and password == self.auth_token:
            return True
        return self.api_keys.get(user) == password and user in self.api_keys


class ReferenceServer:
    """ASGI app for ``GET {base}/v1/PushNotifications/Operations``."""

    def __init__(
        self,
        dataset: Dataset | None = None,
        *,
        credentials: Credentials | None = None,
        seed: int = 0,
        prefix: str = "",
    ) -> None:
        self.dataset = dataset if dataset is not None else Dataset.generate(seed=seed)
        self.credentials = credentials or Credentials()
        secret = hashlib.sha256(f"comms-contract-reference-{seed}".encode()).digest()
        self.tokens = TokenCodec(secret)
        self.path = prefix.rstrip("/") + OPERATIONS_PATH
        self.requests = 0

    # ---- ASGI entry -------------------------------------------------------------------------
    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":  # lifespan and websockets: nothing to do
            if scope["type"] == "lifespan":
                while True:
                    message = await receive()
                    if message["type"] == "lifespan.startup":
                        await send({"type": "lifespan.startup.complete"})
                    elif message["type"] == "lifespan.shutdown":
                        await send({"type": "lifespan.shutdown.complete"})
                        return
            return
        self.requests += 1
        request = Request(scope, receive)
        response = self.respond(request)
        await response(scope, receive, send)

    def respond(self, request: Request) -> Response:
        """Route, authenticate, validate, page: the whole request as one synchronous step."""
        try:
            if request.url.path.rstrip("/") != self.path:
                raise ApiError(
                    404, 20404, f"The requested resource {request.url.path} was not found"
                )
            self.authenticate(request)
            if request.method != "GET":
                raise ApiError(405, 20004, "Method not allowed", {"Allow": "GET"})
            query = self.parse_query(request)
            page = self.page(query)
            return self.render_page(page)
        except ApiError as err:
            return self.error(err)

    # ---- steps a mutant may override --------------------------------------------------------
    def authenticate(self, request: Request) -> None:
        header = request.headers.get("authorization", "")
        scheme, _, value = header.partition(" ")
        if scheme.lower() == "basic":
            try:
                user, sep, password = base64.b64decode(value, validate=True).decode().partition(":")
            except (binascii.Error, UnicodeDecodeError, ValueError):
                sep = ""
            if sep and self.credentials.accepts(user, password):
                return
        raise ApiError(
            401,
            20003,
            "Authentication Error - invalid or missing credentials",
            {"WWW-Authenticate": 'Basic realm="Twilio API"'},
        )

    def single(self, request: Request, name: str) -> str | None:
        values = request.query_params.getlist(name)
        if len(values) > 1:
            raise ApiError(400, 20001, f"Query parameter {name} may be given only once")
        return values[0] if values else None

    def parse_page_size(self, raw: str | None) -> int | None:
        if raw is None:
            return None
        if not _PAGE_SIZE.match(raw) or not 1 <= int(raw) <= MAX_PAGE_SIZE:
            raise ApiError(400, 20001, f"pageSize must be an integer from 1 to {MAX_PAGE_SIZE}")
        return int(raw)

    def parse_status(self, raw: str | None) -> str | None:
        if raw is None:
            return None
        if raw not in STATUSES:
            raise ApiError(400, 20001, f"status must be one of {', '.join(STATUSES)}")
        return raw

    def parse_date(self, name: str, raw: str | None) -> int | None:
        if raw is None:
            return None
        ns = rfc3339.parse(raw)
        if ns is None:
            raise ApiError(400, 20001, f"{name} must be an RFC 3339 date-time with an offset")
        return ns

    def parse_filters(self, request: Request) -> Filters:
        start = self.parse_date("startDate", self.single(request, "startDate"))
        end = self.parse_date("endDate", self.single(request, "endDate"))
        if start is not None and end is not None and start > end:
            raise ApiError(400, 20001, "startDate must not be after endDate")
        return Filters(self.parse_status(self.single(request, "status")), start, end)

    def parse_query(self, request: Request) -> ListQuery:
        size = self.parse_page_size(self.single(request, "pageSize"))
        filters = self.parse_filters(request)
        token = self.single(request, "pageToken")
        if token is None or token == "":
            return ListQuery(
                Cursor(None, filters, size or DEFAULT_PAGE_SIZE), size or DEFAULT_PAGE_SIZE
            )
        cursor = self.decode_token(token)
        given = {k for k in ("status", "startDate", "endDate") if k in request.query_params}
        if given and self.conflicts(filters, cursor.filters, given):
            raise ApiError(400, 20001, "Filters do not match the filters of the pageToken")
        size = size or cursor.page_size
        return ListQuery(Cursor(cursor.anchor, cursor.filters, size), size)

    def conflicts(self, sent: Filters, carried: Filters, given: set[str]) -> bool:
        pairs = {
            "status": (sent.status, carried.status),
            "startDate": (sent.start_ns, carried.start_ns),
            "endDate": (sent.end_ns, carried.end_ns),
        }
        return any(pairs[name][0] != pairs[name][1] for name in given)

    def decode_token(self, token: str) -> Cursor:
        try:
            return self.tokens.decode(token)
        except BadToken as exc:
            raise ApiError(400, 20001, str(exc)) from exc

    def matches(self, op: Operation, filters: Filters) -> bool:
        """startDate inclusive, endDate exclusive (either is conformant: the contract's FREE)."""
        if filters.status is not None and op.status != filters.status:
            return False
        if filters.start_ns is not None and op.created_ns < filters.start_ns:
            return False
        return not (filters.end_ns is not None and op.created_ns >= filters.end_ns)

    def ordered(self, filters: Filters) -> list[Operation]:
        """Newest first, ties broken by id: a total order, so keyset cursors never skip."""
        horizon = self.dataset.now_ns - RETENTION
        ops = [
            o
            for o in self.dataset.snapshot()
            if o.created_ns >= horizon and self.matches(o, filters)
        ]
        ops.sort(key=lambda o: o.sort_key, reverse=True)
        return ops

    def after(self, ops: list[Operation], anchor: tuple[int, str] | None) -> list[Operation]:
        if anchor is None:
            return ops
        key = (anchor[0], anchor[1])
        return [o for o in ops if o.sort_key < key]

    def page(self, query: ListQuery) -> Page:
        cursor = query.cursor
        rest = self.after(self.ordered(cursor.filters), cursor.anchor)
        items = rest[: query.page_size]
        more = len(rest) > query.page_size
        nxt = Cursor(items[-1].sort_key, cursor.filters, query.page_size) if more else None
        return Page(items, nxt, cursor)

    def render_operation(self, op: Operation) -> dict[str, Any]:
        return op.to_json()

    def render_page(self, page: Page) -> Response:
        body = {
            "operations": [self.render_operation(o) for o in page.operations],
            "pagination": {
                "next": self.tokens.encode(page.next_cursor) if page.next_cursor else None,
                "self": self.tokens.encode(page.self_cursor),
            },
        }
        return JSONResponse(body)

    def error(self, err: ApiError) -> Response:
        body = {
            "code": err.code,
            "message": err.message,
            "more_info": f"https://www.twilio.com/docs/errors/{err.code}",
            "status": err.status,
        }
        return JSONResponse(body, status_code=err.status, headers=err.headers)
