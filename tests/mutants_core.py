"""Faulty servers for the clauses of CONTRACT.md sections 1-3 that single requests can check.

Each mutant is a ``ReferenceServer`` with one method overridden to reproduce one real-world
bug. ``CLAUSE`` names the clause that must catch it; ``ALSO`` lists the extra clauses whose
checks the run needs (``run_against(..., clauses=[CLAUSE, *ALSO])``); ``EXPECT`` says how the
finding shows up: ``"fail"`` (a MUST violation, exit 1) or ``"advisory"`` (a SHOULD finding,
exit 0). ``STRICT`` and ``PROBE_METHODS`` select run options the check needs.
"""

from __future__ import annotations

import base64
import json
import re
from typing import Any, ClassVar

from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response

from comms_contract import rfc3339
from comms_contract.server.app import (
    DEFAULT_PAGE_SIZE,
    KNOWN_PARAMS,
    MAX_PAGE_SIZE,
    ApiError,
    ListQuery,
    Page,
    ReferenceServer,
)
from comms_contract.server.dataset import Operation
from comms_contract.server.tokens import BadToken, Cursor, Filters


class Mutant(ReferenceServer):
    """Base of the mutants: the run options a mutant's check needs, nothing else."""

    CLAUSE: ClassVar[str] = ""
    ALSO: ClassVar[tuple[str, ...]] = ()
    EXPECT: ClassVar[str] = "fail"
    STRICT: ClassVar[bool] = False
    PROBE_METHODS: ClassVar[bool] = False


def _page_json(server: ReferenceServer, page: Page) -> dict[str, Any]:
    """The reference body of a page, for mutants that damage it."""
    return json.loads(ReferenceServer.render_page(server, page).body)


# ------------------------------------------------------------------------------ AUTH
class AcceptsMissingCredentials(Mutant):
    """Auth middleware mounted only for requests that carry an Authorization header."""

    CLAUSE = "AUTH"

    def authenticate(self, request: Request) -> None:
        if "authorization" not in request.headers:
            return
        super().authenticate(request)


class AcceptsAnyPassword(Mutant):
    """Looks the account up by user name and never compares the secret."""

    CLAUSE = "AUTH"

    def authenticate(self, request: Request) -> None:
        scheme, _, value = request.headers.get("authorization", "").partition(" ")
        try:
            user = base64.b64decode(value).decode().partition(":")[0]
        except (ValueError, UnicodeDecodeError):
            user = None
        if scheme.lower() == "basic" and user == self.credentials.account_id:
            return
        super().authenticate(request)


class AuthErrorWithStatus200(Mutant):
    """Answers bad credentials with an error body but HTTP 200 (the 'always 200' API style)."""

    CLAUSE = "AUTH"

    def authenticate(self, request: Request) -> None:
        try:
            super().authenticate(request)
        except ApiError as err:
            raise ApiError(200, err.code, err.message) from err


# ------------------------------------------------------------------------------ SIZE-RANGE
class ClampsPageSize(Mutant):
    """Clamps pageSize=1001 (and above) to 1000 instead of rejecting it."""

    CLAUSE = "SIZE-RANGE"

    def parse_page_size(self, raw: str | None) -> int | None:
        if raw is not None and raw.isdigit() and int(raw) > MAX_PAGE_SIZE:
            return MAX_PAGE_SIZE
        return super().parse_page_size(raw)


class ZeroMeansDefault(Mutant):
    """Treats pageSize=0 as 'not given' (a falsy-zero bug: ``size or DEFAULT``)."""

    CLAUSE = "SIZE-RANGE"

    def parse_page_size(self, raw: str | None) -> int | None:
        if raw == "0":
            return None
        return super().parse_page_size(raw)


class TruncatesDecimals(Mutant):
    """Parses pageSize as a float and truncates: "2.5" -> 2, "1e3" -> 1000."""

    CLAUSE = "SIZE-RANGE"

    def parse_page_size(self, raw: str | None) -> int | None:
        try:
            value = int(float(raw)) if raw is not None else None
        except ValueError:
            return super().parse_page_size(raw)
        if value is not None and 1 <= value <= MAX_PAGE_SIZE:
            return value
        return super().parse_page_size(raw)


class RejectsMaximum(Mutant):
    """Off-by-one upper bound: ``size < 1000`` instead of ``size <= 1000``."""

    CLAUSE = "SIZE-RANGE"

    def parse_page_size(self, raw: str | None) -> int | None:
        size = super().parse_page_size(raw)
        if size == MAX_PAGE_SIZE:
            raise ApiError(400, 20001, "pageSize must be below 1000")
        return size


class ParseIntPrefix(Mutant):
    """JavaScript ``parseInt``: reads the leading digits, so "10abc" is taken as 10."""

    CLAUSE = "SIZE-RANGE"

    def parse_page_size(self, raw: str | None) -> int | None:
        m = re.match(r"[0-9]+", raw or "")
        return super().parse_page_size(m.group(0) if m else raw)


class AbsoluteValueOfNegative(Mutant):
    """Takes the magnitude of a negative pageSize: -1 pages like 1."""

    CLAUSE = "SIZE-RANGE"

    def parse_page_size(self, raw: str | None) -> int | None:
        return super().parse_page_size(raw.lstrip("-") if raw else raw)


# ------------------------------------------------------------------------------ SIZE-DEFAULT
class DefaultPageSize100(Mutant):
    """Default page size copied from another API (100 instead of the documented 50)."""

    CLAUSE = "SIZE-DEFAULT"

    def parse_page_size(self, raw: str | None) -> int | None:
        return 100 if raw is None else super().parse_page_size(raw)


class DefaultPageSize20(Mutant):
    """Default page size 20: a page with more to come holds fewer than the documented 50."""

    CLAUSE = "SIZE-DEFAULT"

    def parse_page_size(self, raw: str | None) -> int | None:
        return 20 if raw is None else super().parse_page_size(raw)


# ------------------------------------------------------------------------------ STATUS-ENUM
class UnknownStatusIgnored(Mutant):
    """An unknown status value is dropped silently, so the answer lists every operation."""

    CLAUSE = "STATUS-ENUM"

    def parse_status(self, raw: str | None) -> str | None:
        try:
            return super().parse_status(raw)
        except ApiError:
            return None


class RejectsCanceled(Mutant):
    """The server's enum spells it CANCELLED (British), so the documented CANCELED gets 400."""

    CLAUSE = "STATUS-ENUM"

    def parse_status(self, raw: str | None) -> str | None:
        if raw == "CANCELED":
            raise ApiError(400, 20001, "status must be one of SCHEDULED, ..., CANCELLED")
        return super().parse_status(raw)


# ------------------------------------------------------------------------------ DATE-FORMAT
class RejectsFractionalSeconds(Mutant):
    """``strptime("%Y-%m-%dT%H:%M:%SZ")``: any fractional second is refused."""

    CLAUSE = "DATE-FORMAT"

    def parse_date(self, name: str, raw: str | None) -> int | None:
        if raw is not None and "." in raw:
            raise ApiError(400, 20001, f"{name} must look like 2024-01-01T00:00:00Z")
        return super().parse_date(name, raw)


class RejectsNumericOffsets(Mutant):
    """Only the ``Z`` suffix is understood; +hh:mm and -hh:mm offsets get 400."""

    CLAUSE = "DATE-FORMAT"

    def parse_date(self, name: str, raw: str | None) -> int | None:
        if raw is not None and not raw.endswith("Z"):
            raise ApiError(400, 20001, f"{name} must be UTC (end with Z)")
        return super().parse_date(name, raw)


class RejectsNanoseconds(Mutant):
    """Python ``datetime`` stops at microseconds: 7-9 fractional digits are refused."""

    CLAUSE = "DATE-FORMAT"

    def parse_date(self, name: str, raw: str | None) -> int | None:
        if raw is not None and re.search(r"\.[0-9]{7,}", raw):
            raise ApiError(400, 20001, f"{name}: at most 6 fractional digits")
        return super().parse_date(name, raw)


class OffsetlessAsLocal(Mutant):
    """Accepts a date-time without an offset and reads it as server-local (here UTC) time."""

    CLAUSE = "DATE-FORMAT"

    def parse_date(self, name: str, raw: str | None) -> int | None:
        if raw is not None and re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?", raw):
            raw += "Z"
        return super().parse_date(name, raw)


class AcceptsDateOnly(Mutant):
    """A lenient parser (dateutil-style) takes "2024-05-01" as midnight UTC."""

    CLAUSE = "DATE-FORMAT"

    def parse_date(self, name: str, raw: str | None) -> int | None:
        if raw is not None and re.fullmatch(r"\d{4}-\d\d-\d\d", raw):
            raw += "T00:00:00Z"
        return super().parse_date(name, raw)


class RollsOverInvalidDates(Mutant):
    """JavaScript ``Date`` arithmetic: 2024-02-30 silently becomes 2024-03-01."""

    CLAUSE = "DATE-FORMAT"

    def parse_date(self, name: str, raw: str | None) -> int | None:
        m = re.fullmatch(r"(\d{4})-(\d\d)-(\d\d)(T.*)", raw or "")
        if m and 1 <= int(m[2]) <= 12 and 29 <= int(m[3]) <= 31:
            base = rfc3339.parse(f"{m[1]}-{m[2]}-28{m[4]}")
            if base is not None:
                return base + (int(m[3]) - 28) * 86_400 * 1_000_000_000
        return super().parse_date(name, raw)


class IgnoresOffset(Mutant):
    """Drops the numeric offset and reads the wall-clock time as UTC: +02:00 is taken as Z."""

    CLAUSE = "DATE-FORMAT"

    def parse_date(self, name: str, raw: str | None) -> int | None:
        if raw is not None:
            raw = re.sub(r"[+-]\d\d:\d\d$", "Z", raw)
        return super().parse_date(name, raw)


class LoneEndDateHalfHourOffsetRejected(Mutant):
    """The code path for an endDate without a startDate validates the offset against a
    table of whole-hour zones: +05:30 (India) gets 400."""

    CLAUSE = "DATE-FORMAT"

    def parse_filters(self, request: Request) -> Filters:
        params = request.query_params
        end = params.get("endDate") or ""
        if "startDate" not in params and end.endswith("+05:30"):
            raise ApiError(400, 20001, "endDate has an unknown time zone offset")
        return super().parse_filters(request)


# ------------------------------------------------------------------------------ DATE-ORDER
class InvertedDates500(Mutant):
    """An assertion ``start <= end`` deep in the query builder: a real 500 response."""

    CLAUSE = "DATE-ORDER"

    def parse_filters(self, request: Request) -> Filters:
        try:
            return super().parse_filters(request)
        except ApiError as err:
            if "after endDate" in err.message:
                raise ApiError(500, 20500, "Internal Server Error") from err
            raise


class SwapsInvertedDates(Mutant):
    """'Helpfully' swaps startDate and endDate when they are inverted, answering operations."""

    CLAUSE = "DATE-ORDER"

    def parse_filters(self, request: Request) -> Filters:
        start = self.parse_date("startDate", self.single(request, "startDate"))
        end = self.parse_date("endDate", self.single(request, "endDate"))
        if start is not None and end is not None and start > end:
            start, end = end, start
        return Filters(self.parse_status(self.single(request, "status")), start, end)


class SameMinuteInversion500(Mutant):
    """Dates are truncated to the minute before an ``assert start <= end`` deep in the query
    builder: an inversion of under a minute slips past validation and ends in a 500."""

    CLAUSE = "DATE-ORDER"
    ALSO = ("NO-5XX",)

    def parse_filters(self, request: Request) -> Filters:
        start = self.parse_date("startDate", self.single(request, "startDate"))
        end = self.parse_date("endDate", self.single(request, "endDate"))
        if start is not None and end is not None and 0 < start - end < 60 * 1_000_000_000:
            raise ApiError(500, 20500, "Internal Server Error")
        return super().parse_filters(request)


class NegativeHalfHourOffsetWrong(Mutant):
    """A hand-written offset parser applies the sign to the hours only: -02:30 is read as
    -01:30 (sign * hh * 60 + mm), so windows written with such offsets move by an hour."""

    CLAUSE = "DATE-FORMAT"

    def parse_date(self, name: str, raw: str | None) -> int | None:
        ns = super().parse_date(name, raw)
        m = re.search(r"-(\d\d):(\d\d)$", raw or "")
        if ns is not None and m and m[2] != "00":
            ns -= 2 * int(m[2]) * 60 * 1_000_000_000
        return ns


class OffsetBeyond18HoursIgnored(Mutant):
    """A strict parser whose offsets stop at +-18:00 (java.time's ``ZoneOffset``; RFC 3339
    allows up to +-23:59) fails on larger ones, and the lenient fallback parser drops the
    offset and reads the local time as UTC: ...T10:00:00+23:59 is taken as ...T10:00:00Z,
    a day off. The year-limit and +-23:59 grammar probes stay 200, far from any data."""

    CLAUSE = "DATE-FORMAT"

    def parse_date(self, name: str, raw: str | None) -> int | None:
        ns = super().parse_date(name, raw)
        m = re.search(r"([+-])(\d\d):(\d\d)$", raw or "")
        if ns is not None and m and int(m[2]) * 60 + int(m[3]) > 18 * 60:
            minutes = int(m[2]) * 60 + int(m[3])
            ns += (1 if m[1] == "+" else -1) * minutes * 60 * 1_000_000_000
        return ns


class ZeroOffsetReadAsLocal(Mutant):
    """The offset is parsed to minutes and applied under ``if offset:``; a zero offset
    (+00:00, falsy: the falsy-zero bug) falls to the no-offset branch, which reads the time
    in the server's zone (UTC-08:00). Z has its own branch and stays UTC."""

    CLAUSE = "DATE-FORMAT"

    def parse_date(self, name: str, raw: str | None) -> int | None:
        ns = super().parse_date(name, raw)
        if ns is not None and raw is not None and raw[-6:] in ("+00:00", "-00:00"):
            ns += 8 * 3600 * 1_000_000_000
        return ns


# ------------------------------------------------------------------------------ TOKEN-GARBAGE
class GarbageTokenRestarts(Mutant):
    """A token that fails to decode is treated as absent: the first page again, with 200."""

    CLAUSE = "TOKEN-GARBAGE"

    def decode_token(self, token: str) -> Cursor:
        try:
            return self.tokens.decode(token)
        except BadToken:
            return Cursor(None, Filters(), DEFAULT_PAGE_SIZE)


class GarbageToken500(Mutant):
    """The token decoder's exception escapes to the framework: 500 on an undecodable token."""

    CLAUSE = "TOKEN-GARBAGE"

    def decode_token(self, token: str) -> Cursor:
        try:
            return self.tokens.decode(token)
        except BadToken as exc:
            raise ApiError(500, 20500, "Internal Server Error") from exc


class GarbageToken401(Mutant):
    """Token failures mapped to the auth error (shared 'invalid token' handler): 401."""

    CLAUSE = "TOKEN-GARBAGE"

    def decode_token(self, token: str) -> Cursor:
        try:
            return self.tokens.decode(token)
        except BadToken as exc:
            raise ApiError(401, 20003, "Invalid token") from exc


class NonAsciiToken500(Mutant):
    """The token decoder calls ``token.encode("ascii")`` outside its try: a pageToken with a
    non-ASCII character crashes the handler (500)."""

    CLAUSE = "NO-5XX"
    ALSO = ("TOKEN-GARBAGE",)

    def decode_token(self, token: str) -> Cursor:
        if not token.isascii():
            raise ApiError(500, 20500, "UnicodeEncodeError")
        return super().decode_token(token)


class LongToken500(Mutant):
    """The token is looked up in a VARCHAR(2048) column: a longer one overflows (500)."""

    CLAUSE = "NO-5XX"
    ALSO = ("TOKEN-GARBAGE",)

    def decode_token(self, token: str) -> Cursor:
        if len(token) > 2048:
            raise ApiError(500, 20500, "value too long for type character varying(2048)")
        return super().decode_token(token)


class BadTokenWithFullQueryRestarts(Mutant):
    """With the whole query resent (filters and pageSize), the server re-runs the query and
    treats an undecodable token as absent: the first page again, with 200."""

    CLAUSE = "TOKEN-GARBAGE"

    def parse_query(self, request: Request) -> ListQuery:
        params = request.query_params
        full = all(k in params for k in ("pageToken", "pageSize", "startDate", "endDate"))
        try:
            return super().parse_query(request)
        except ApiError as err:
            if not full or err.status != 400 or "pageToken" not in err.message:
                raise
        size = self.parse_page_size(self.single(request, "pageSize")) or DEFAULT_PAGE_SIZE
        return ListQuery(Cursor(None, self.parse_filters(request), size), size)


class BadTokenWithFiltersRestarts(Mutant):
    """Filters resent without pageSize make the server rebuild the cursor from the query:
    an undecodable token is then ignored and the first page of the filters comes back."""

    CLAUSE = "TOKEN-GARBAGE"

    def parse_query(self, request: Request) -> ListQuery:
        params = request.query_params
        filtered = any(k in params for k in ("status", "startDate", "endDate"))
        try:
            return super().parse_query(request)
        except ApiError as err:
            if not filtered or "pageSize" in params or "pageToken" not in err.message:
                raise
        size = DEFAULT_PAGE_SIZE
        return ListQuery(Cursor(None, self.parse_filters(request), size), size)


# ------------------------------------------------------------------------------ NO-5XX
class UnknownParam500(Mutant):
    """Strict binding of the query to a model class: an unknown parameter is a 500."""

    CLAUSE = "NO-5XX"

    def parse_query(self, request: Request) -> ListQuery:
        unknown = set(request.query_params) - set(KNOWN_PARAMS)
        if unknown:
            raise ApiError(500, 20500, "Internal Server Error")
        return super().parse_query(request)


class PageSizeOverflow500(Mutant):
    """pageSize parsed into a 32-bit int before the range check: 2147483648 overflows, 500."""

    CLAUSE = "NO-5XX"

    def parse_page_size(self, raw: str | None) -> int | None:
        if raw is not None and raw.isdigit() and int(raw) > 2**31 - 1:
            raise ApiError(500, 20500, "NumberFormatException")
        return super().parse_page_size(raw)


# ------------------------------------------------------------------------------ CT
class TextPlainContentType(Mutant):
    """Serialises the body by hand and forgets the media type: text/plain."""

    CLAUSE = "CT"

    def render_page(self, page: Page) -> Response:
        return PlainTextResponse(json.dumps(_page_json(self, page)))


class TextHtmlContentType(Mutant):
    """A framework default of text/html for every 200, JSON body and all."""

    CLAUSE = "CT"

    def render_page(self, page: Page) -> Response:
        return Response(json.dumps(_page_json(self, page)), media_type="text/html")


# ------------------------------------------------------------------------------ ENVELOPE
class OperationsNamedItems(Mutant):
    """The list is named ``items`` (a generic list envelope) instead of ``operations``."""

    CLAUSE = "ENVELOPE"

    def render_page(self, page: Page) -> Response:
        body = _page_json(self, page)
        body["items"] = body.pop("operations")
        return JSONResponse(body)


class PaginationMissing(Mutant):
    """Pagination sent in Link headers only; the body has no ``pagination`` object."""

    CLAUSE = "ENVELOPE"

    def render_page(self, page: Page) -> Response:
        body = _page_json(self, page)
        del body["pagination"]
        return JSONResponse(body)


class BareList(Mutant):
    """The body is a bare JSON array of operations, no envelope at all."""

    CLAUSE = "ENVELOPE"

    def render_page(self, page: Page) -> Response:
        return JSONResponse(_page_json(self, page)["operations"])


# ------------------------------------------------------------------------------ OP-SHAPE
class SpaceSeparatedDates(Mutant):
    """createdAt written as a SQL timestamp, "2024-04-20 14:22:00" (no T, no offset)."""

    CLAUSE = "OP-SHAPE"

    def render_operation(self, op: Operation) -> dict[str, Any]:
        body = super().render_operation(op)
        body["createdAt"] = rfc3339.format_ns(op.created_ns, digits=0)[:19].replace("T", " ")
        return body


class IdWithoutPrefix(Mutant):
    """The database key leaks out: the id without its ``comms_operation_`` prefix."""

    CLAUSE = "OP-SHAPE"

    def render_operation(self, op: Operation) -> dict[str, Any]:
        body = super().render_operation(op)
        body["id"] = op.id.removeprefix("comms_operation_")
        return body


class StatsAsStrings(Mutant):
    """Counters from a string-typed cache: every stats value is a string."""

    CLAUSE = "OP-SHAPE"

    def render_operation(self, op: Operation) -> dict[str, Any]:
        body = super().render_operation(op)
        body["stats"] = {k: str(v) for k, v in op.stats.items()}
        return body


class StatusSent(Mutant):
    """An internal status (SENT) leaks past the documented enum."""

    CLAUSE = "OP-SHAPE"

    def render_operation(self, op: Operation) -> dict[str, Any]:
        body = super().render_operation(op)
        if op.status == "COMPLETED":
            body["status"] = "SENT"
        return body


class NegativeStat(Mutant):
    """-1 as 'unknown' in a counter (failed = -1 while the operation runs)."""

    CLAUSE = "OP-SHAPE"

    def render_operation(self, op: Operation) -> dict[str, Any]:
        body = super().render_operation(op)
        body["stats"]["failed"] = -1
        return body


class MissingStatsField(Mutant):
    """A zero counter is omitted from stats (omit-empty serialisation)."""

    CLAUSE = "OP-SHAPE"

    def render_operation(self, op: Operation) -> dict[str, Any]:
        body = super().render_operation(op)
        body["stats"] = {k: v for k, v in op.stats.items() if v != 0 or k == "total"}
        return body


class TwentyItemPagesStatsAsStrings(Mutant):
    """Pages of exactly 20 come from a cached dashboard view whose serializer writes every
    stats counter as a string."""

    CLAUSE = "OP-SHAPE"

    def render_page(self, page: Page) -> Response:
        body = _page_json(self, page)
        if len(page.operations) == 20:
            for op in body["operations"]:
                op["stats"] = {k: str(v) for k, v in op["stats"].items()}
        return JSONResponse(body)


# ------------------------------------------------------------------ UPDATED-AFTER-CREATED
class UpdatedBeforeCreated(Mutant):
    """updatedAt written in local time without converting (an hour behind createdAt)."""

    CLAUSE = "UPDATED-AFTER-CREATED"

    def render_operation(self, op: Operation) -> dict[str, Any]:
        body = super().render_operation(op)
        body["updatedAt"] = rfc3339.format_ns(op.created_ns - 3600 * 1_000_000_000)
        return body


# ------------------------------------------------------------------------------ IDS-UNIQUE
class RepeatedIdInPage(Mutant):
    """A join fan-out: the first operation appears twice in the page (the last one is lost)."""

    CLAUSE = "IDS-UNIQUE"

    def page(self, query: ListQuery) -> Page:
        page = super().page(query)
        ops = page.operations
        if len(ops) >= 2:
            page.operations = [*ops[:-1], ops[0]]
        return page


# ------------------------------------------------------------------------------ SELF
class SelfMissing(Mutant):
    """Only ``next`` is implemented; ``self`` is never sent."""

    CLAUSE = "SELF"

    def render_page(self, page: Page) -> Response:
        body = _page_json(self, page)
        del body["pagination"]["self"]
        return JSONResponse(body)


class SelfNullOnEmptyPage(Mutant):
    """No token for an empty page: ``self`` is null when there are no operations."""

    CLAUSE = "SELF"

    def render_page(self, page: Page) -> Response:
        body = _page_json(self, page)
        if not page.operations:
            body["pagination"]["self"] = None
        return JSONResponse(body)


class SelfOfEmptyResultRejected(Mutant):
    """The self token of an empty result points at no row: used, it gets 400 "expired"."""

    CLAUSE = "SELF"

    def decode_token(self, token: str) -> Cursor:
        cursor = super().decode_token(token)
        if cursor.anchor is None and not self.ordered(cursor.filters):
            raise ApiError(400, 20001, "pageToken expired")
        return cursor


# ------------------------------------------------------------------------------ ERROR-BODY
class PlainTextBadRequest(Mutant):
    """Validation errors come from the framework as text/plain 'Bad Request'."""

    CLAUSE = "ERROR-BODY"

    def error(self, err: ApiError) -> Response:
        if err.status == 400:
            return PlainTextResponse("Bad Request", status_code=400)
        return super().error(err)


class HtmlUnauthorized(Mutant):
    """A gateway answers 401 with its HTML login page."""

    CLAUSE = "ERROR-BODY"

    def error(self, err: ApiError) -> Response:
        if err.status == 401:
            html = "<html><body><h1>401 Unauthorized</h1></body></html>"
            return Response(html, 401, err.headers, media_type="text/html")
        return super().error(err)


class EmptyJsonErrorBody(Mutant):
    """400 labelled application/json with an empty body."""

    CLAUSE = "ERROR-BODY"

    def error(self, err: ApiError) -> Response:
        if err.status == 400:
            return Response(b"", 400, media_type="application/json")
        return super().error(err)


# ------------------------------------------------------------------------------ FILTER-SOUND
class LooseStatusFilterOnFirstPage(Mutant):
    """The first page comes from a cache keyed without ``status``: every status leaks in."""

    CLAUSE = "FILTER-SOUND"

    def page(self, query: ListQuery) -> Page:
        cursor = query.cursor
        if cursor.anchor is None and cursor.filters.status is not None:
            loose = Filters(None, cursor.filters.start_ns, cursor.filters.end_ns)
            page = super().page(ListQuery(Cursor(None, loose, cursor.page_size), query.page_size))
            return Page(page.operations, page.next_cursor, cursor)
        return super().page(query)


class RepeatedStatusUnfiltered(Mutant):
    """``status`` given twice is read into a list the filter code does not expect: the filter
    is dropped and every status comes back (repetition is FREE; ignoring both values is not)."""

    CLAUSE = "FILTER-SOUND"

    def parse_filters(self, request: Request) -> Filters:
        statuses = request.query_params.getlist("status")
        if len(statuses) > 1 and all(
            v in ("SCHEDULED", "PROCESSING", "COMPLETED", "CANCELED") for v in statuses
        ):
            start = self.parse_date("startDate", self.single(request, "startDate"))
            end = self.parse_date("endDate", self.single(request, "endDate"))
            return Filters(None, start, end)
        return super().parse_filters(request)


# ------------------------------------------------------------------------------ EXTRA-FIELDS
class ExtraFieldFoo(Mutant):
    """An undocumented field ``foo`` on every operation: FREE by default, a MUST under strict."""

    CLAUSE = "EXTRA-FIELDS"
    STRICT = True

    def render_operation(self, op: Operation) -> dict[str, Any]:
        return {**super().render_operation(op), "foo": "bar"}


# ------------------------------------------------------------------------------ METHODS
class PostAnswers200(Mutant):
    """POST is routed to the list handler: 200 instead of 405 (SHOULD: advisory)."""

    CLAUSE = "METHODS"
    EXPECT = "advisory"
    PROBE_METHODS = True

    def respond(self, request: Request) -> Response:
        if request.method == "POST":
            return self.render_page(self.page(ListQuery(Cursor(None, Filters(), 50), 50)))
        return super().respond(request)


# ------------------------------------------------------------------------------ RETRY-AFTER
class Throttle429WithoutRetryAfter(Mutant):
    """Every 5th request is throttled with 429 but no Retry-After header."""

    CLAUSE = "RETRY-AFTER-429"
    ALSO = ("SIZE-RANGE",)

    def respond(self, request: Request) -> Response:
        if self.requests % 5 == 0:
            return JSONResponse({"code": 20429, "message": "Too Many Requests"}, 429)
        return super().respond(request)


class Unavailable503WithoutRetryAfter(Mutant):
    """Every 5th request gets 503 from a load balancer without Retry-After (SHOULD)."""

    CLAUSE = "RETRY-AFTER-503"
    ALSO = ("SIZE-RANGE",)
    EXPECT = "advisory"

    def respond(self, request: Request) -> Response:
        if self.requests % 5 == 0:
            return JSONResponse({"code": 20503, "message": "Service Unavailable"}, 503)
        return super().respond(request)


class TextPlain429(Mutant):
    """A rate limiter in front of the API answers 429 with a text/plain body (with a valid
    Retry-After): the client retries, and no test ever sees that body."""

    CLAUSE = "ERROR-BODY"
    ALSO = ("SIZE-RANGE",)

    def respond(self, request: Request) -> Response:
        if self.requests % 5 == 0:
            return PlainTextResponse("Too Many Requests", 429, {"Retry-After": "0"})
        return super().respond(request)


MUTANTS: list[type[Mutant]] = [
    obj
    for obj in list(globals().values())
    if isinstance(obj, type) and issubclass(obj, Mutant) and obj is not Mutant
]
