"""Faulty servers for the whole-walk clauses (CONTRACT.md section 2, TOKEN-*, DATE-FORMAT).

Each mutant is a ``ReferenceServer`` with one method overridden to reproduce one pagination
bug seen in real APIs; ``CLAUSE`` names the clause that must catch it. No stock API fuzzer
finds these: every page is well-formed on its own, only the walk is wrong.
"""

from __future__ import annotations

import json
from typing import ClassVar

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from comms_contract.server.app import (
    ApiError,
    ListQuery,
    Page,
    ReferenceServer,
)
from comms_contract.server.dataset import DAY, Operation
from comms_contract.server.tokens import Cursor, Filters


class PaginationMutant(ReferenceServer):
    CLAUSE: ClassVar[str] = ""


# ------------------------------------------------------------------ cursors and boundaries
class CursorOnCreatedAtOnly(PaginationMutant):
    """Keyset cursor on the non-unique createdAt: ties after the page boundary are skipped."""

    CLAUSE = "WALK-EXACTLY-ONCE"

    def after(self, ops: list[Operation], anchor: tuple[int, str] | None) -> list[Operation]:
        return ops if anchor is None else [o for o in ops if o.created_ns < anchor[0]]


class CursorTiesRepeated(PaginationMutant):
    """``<=`` on createdAt to avoid skipping ties: ties before the boundary come again."""

    CLAUSE = "WALK-EXACTLY-ONCE"

    def after(self, ops: list[Operation], anchor: tuple[int, str] | None) -> list[Operation]:
        if anchor is None:
            return ops
        return [o for o in ops if o.created_ns <= anchor[0] and o.sort_key != tuple(anchor)]


class OverlapAtBoundary(PaginationMutant):
    """Inclusive anchor: the last item of a page is the first of the next."""

    CLAUSE = "WALK-EXACTLY-ONCE"

    def after(self, ops: list[Operation], anchor: tuple[int, str] | None) -> list[Operation]:
        return ops if anchor is None else [o for o in ops if o.sort_key <= tuple(anchor)]


class SkipAtBoundary(PaginationMutant):
    """Off by one the other way: the first item after the anchor is lost."""

    CLAUSE = "WALK-EXACTLY-ONCE"

    def after(self, ops: list[Operation], anchor: tuple[int, str] | None) -> list[Operation]:
        return ops if anchor is None else [o for o in ops if o.sort_key < tuple(anchor)][1:]


class CycleBackToFirstPage(PaginationMutant):
    """The last page's next points at the first page again: clients loop for ever."""

    CLAUSE = "WALK-EXACTLY-ONCE"

    def page(self, query: ListQuery) -> Page:
        page = super().page(query)
        if page.next_cursor is None and query.cursor.anchor is not None:
            page.next_cursor = Cursor(None, query.cursor.filters, query.page_size)
        return page


class LargePagesTruncated(PaginationMutant):
    """pageSize >= 500 silently capped at 100 by a storage layer, without a next token."""

    CLAUSE = "WALK-EXACTLY-ONCE"

    def page(self, query: ListQuery) -> Page:
        page = super().page(query)
        if query.page_size >= 500 and len(page.operations) > 100:
            page.operations, page.next_cursor = page.operations[:100], None
        return page


class OffsetTokens(PaginationMutant):
    """The token holds a page number; the offset is page number x the current pageSize, so a
    walk that changes pageSize skips or repeats items."""

    CLAUSE = "WALK-EXACTLY-ONCE"

    def page(self, query: ListQuery) -> Page:
        cursor, size = query.cursor, query.page_size
        number = cursor.anchor[0] if cursor.anchor else 0
        ops = self.ordered(cursor.filters)
        items = ops[number * size : (number + 1) * size]
        more = len(ops) > (number + 1) * size
        nxt = Cursor((number + 1, "page"), cursor.filters, size) if more else None
        return Page(items, nxt, cursor)


# ------------------------------------------------------------------ page sizes and markers
class ShortNonFinalPages(PaginationMutant):
    """Pages reached by token hold one item less than pageSize (a sentinel row eaten)."""

    CLAUSE = "FULL-PAGES"

    def page(self, query: ListQuery) -> Page:
        if query.cursor.anchor is not None and query.page_size > 1:
            query = ListQuery(query.cursor, query.page_size - 1)
        return super().page(query)


class FilterAfterPaginating(PaginationMutant):
    """Paginate the unfiltered list, then drop what does not match: short and empty pages
    that still carry next."""

    CLAUSE = "FULL-PAGES"

    def page(self, query: ListQuery) -> Page:
        f = query.cursor.filters
        unfiltered = Cursor(query.cursor.anchor, Filters(), query.page_size)
        page = super().page(ListQuery(unfiltered, query.page_size))
        page.operations = [o for o in page.operations if self.matches(o, f)]
        if page.next_cursor is not None:
            page.next_cursor = Cursor(page.next_cursor.anchor, f, query.page_size)
        page.self_cursor = query.cursor
        return page


class NextOnLastPage(PaginationMutant):
    """next is set whenever the page is non-empty, so the walk ends on an empty page."""

    CLAUSE = "LAST-PAGE"

    def page(self, query: ListQuery) -> Page:
        page = super().page(query)
        if page.next_cursor is None and page.operations:
            last = page.operations[-1].sort_key
            page.next_cursor = Cursor(last, query.cursor.filters, query.page_size)
        return page


# ------------------------------------------------------------------ self and tokens
class SelfIsNext(PaginationMutant):
    """self is filled from the same variable as next: it fetches the following page."""

    CLAUSE = "SELF"

    def page(self, query: ListQuery) -> Page:
        page = super().page(query)
        if page.next_cursor is not None:
            page.self_cursor = page.next_cursor
        return page


class BrokenFirstPageSelf(PaginationMutant):
    """The first page (no pageToken) has a self token the server cannot decode."""

    CLAUSE = "SELF"

    def render_page(self, page: Page) -> Response:
        response = super().render_page(page)
        if page.self_cursor.anchor is not None:
            return response
        body = json.loads(response.body)
        body["pagination"]["self"] = "first-page"
        return JSONResponse(body)


class SingleUseTokens(PaginationMutant):
    """Server-side cursors consumed on first read: a retry (or self) gets 400."""

    CLAUSE = "TOKENS-REUSABLE"

    def decode_token(self, token: str) -> Cursor:
        used: set[str] = self.__dict__.setdefault("_used", set())
        if token in used:
            raise ApiError(400, 20001, "pageToken has already been used")
        used.add(token)
        return super().decode_token(token)


class ResentFiltersRejected(PaginationMutant):
    """Any filter next to a pageToken is refused, though clients may resend them."""

    CLAUSE = "TOKEN-FILTERS"

    def conflicts(self, sent: Filters, carried: Filters, given: set[str]) -> bool:
        return bool(given)


class TokenForgetsFilters(PaginationMutant):
    """The token carries only the position: a client that does not resend the filters gets
    unfiltered pages after the first."""

    CLAUSE = "TOKEN-FILTERS"

    def parse_query(self, request: Request) -> ListQuery:
        query = super().parse_query(request)
        if query.cursor.anchor is None:
            return query
        sent = self.parse_filters(request)
        return ListQuery(Cursor(query.cursor.anchor, sent, query.page_size), query.page_size)


class DeepPagesRepeat(PaginationMutant):
    """A page cache holds 12 pages per walk: from page 13 on, the next token leads back to
    page 12's items (a walk longer than 12 pages repeats them)."""

    CLAUSE = "WALK-EXACTLY-ONCE"

    def page(self, query: ListQuery) -> Page:
        cursor = query.cursor
        rest = self.after(self.ordered(cursor.filters), cursor.anchor)
        depth = len(self.ordered(cursor.filters)) - len(rest)
        if cursor.anchor is not None and depth >= 12 * query.page_size:
            back = self.ordered(cursor.filters)[11 * query.page_size - 1]
            query = ListQuery(
                Cursor(back.sort_key, cursor.filters, query.page_size), query.page_size
            )
            page = super().page(query)
            return Page(page.operations, page.next_cursor, cursor)
        return super().page(query)


class DefaultSizeLostOnTokenPages(PaginationMutant):
    """A page reached by a token issued at the default size, fetched without pageSize, is
    served at 20: the default is applied by the first-page handler only."""

    CLAUSE = "SIZE-DEFAULT"

    def parse_query(self, request: Request) -> ListQuery:
        query = super().parse_query(request)
        if query.cursor.anchor is not None and "pageSize" not in request.query_params:
            if query.page_size == 50:
                return ListQuery(Cursor(query.cursor.anchor, query.cursor.filters, 20), 20)
        return query


class TokenAloneUsesDefaultSize(PaginationMutant):
    """A token sent with neither filters nor pageSize is served at the default 50, not at the
    size it was issued with: the token alone gives another page than with its query."""

    CLAUSE = "TOKEN-FILTERS"

    def parse_query(self, request: Request) -> ListQuery:
        query = super().parse_query(request)
        alone = set(request.query_params) == {"pageToken"}
        if query.cursor.anchor is not None and alone and query.page_size != 50:
            return ListQuery(Cursor(query.cursor.anchor, query.cursor.filters, 50), 50)
        return query


# ------------------------------------------------------------------ filters
class StatusLostOnTokenPages(PaginationMutant):
    """The status filter is applied to the first page only (kubeflow/pipelines#1149)."""

    CLAUSE = "FILTER-SOUND"

    def page(self, query: ListQuery) -> Page:
        c = query.cursor
        if c.anchor is None:
            return super().page(query)
        dropped = Cursor(c.anchor, Filters(None, c.filters.start_ns, c.filters.end_ns), c.page_size)
        page = super().page(ListQuery(dropped, query.page_size))
        return Page(
            page.operations,
            page.next_cursor and Cursor(page.next_cursor.anchor, c.filters, c.page_size),
            c,
        )


class DatesLostOnTokenPages(PaginationMutant):
    """startDate/endDate hold on the first page only; later pages run past the window."""

    CLAUSE = "FILTER-SOUND"

    def page(self, query: ListQuery) -> Page:
        c = query.cursor
        if c.anchor is None:
            return super().page(query)
        dropped = Cursor(c.anchor, Filters(c.filters.status), c.page_size)
        page = super().page(ListQuery(dropped, query.page_size))
        return Page(
            page.operations,
            page.next_cursor and Cursor(page.next_cursor.anchor, c.filters, c.page_size),
            c,
        )


class StatusIndexLags(PaginationMutant):
    """The status filter reads a lagging index that lacks the last day's operations."""

    CLAUSE = "FILTER-COMPLETE"

    def matches(self, op: Operation, filters: Filters) -> bool:
        if filters.status is not None and op.created_ns > self.dataset.now_ns - DAY:
            return False
        return super().matches(op, filters)


class RarestStatusLosesFilterOnTokenPages(PaginationMutant):
    """The rarest status is served from a separate partial index whose cursor query forgets
    the status: its pages reached by token hold operations of every status."""

    CLAUSE = "FILTER-SOUND"

    def page(self, query: ListQuery) -> Page:
        c = query.cursor
        counts = {s: 0 for s in ("SCHEDULED", "PROCESSING", "COMPLETED", "CANCELED")}
        for op in self.dataset.snapshot():
            counts[op.status] = counts.get(op.status, 0) + 1
        rarest = min(counts, key=lambda s: (counts[s], s))
        if c.anchor is None or c.filters.status != rarest:
            return super().page(query)
        loose = Cursor(c.anchor, Filters(None, c.filters.start_ns, c.filters.end_ns), c.page_size)
        page = super().page(ListQuery(loose, query.page_size))
        nxt = page.next_cursor and Cursor(page.next_cursor.anchor, c.filters, c.page_size)
        return Page(page.operations, nxt, c)


class PageSizeChangeDropsTokenFilters(PaginationMutant):
    """A pageSize other than the token's makes the server re-plan the query from the
    request's own parameters, keeping only the token's position (AIP-158 lets the page size
    change between calls): a client that changes pageSize mid-walk and leaves the filters to
    the token gets unfiltered pages."""

    CLAUSE = "FILTER-SOUND"

    def parse_query(self, request: Request) -> ListQuery:
        query = super().parse_query(request)
        c, params = query.cursor, request.query_params
        resent = any(k in params for k in ("status", "startDate", "endDate"))
        if c.anchor is None or resent or "pageSize" not in params:
            return query
        if self.decode_token(params["pageToken"]).page_size == query.page_size:
            return query
        return ListQuery(Cursor(c.anchor, Filters(), query.page_size), query.page_size)


class LoneStartDateLostFromToken(PaginationMutant):
    """The token stores the date filter as one (start, end) range, written only when both
    ends are given: a lone startDate is lost from the token, so a client that does not
    resend it gets pages reached by token that run past the bound (the filter-lost-on-token-
    pages family, kubeflow/pipelines#1149, for one filter shape)."""

    CLAUSE = "FILTER-SOUND"

    def parse_query(self, request: Request) -> ListQuery:
        query = super().parse_query(request)
        c = query.cursor
        lone = c.filters.start_ns is not None and c.filters.end_ns is None
        if c.anchor is None or not lone or "startDate" in request.query_params:
            return query
        dropped = Filters(c.filters.status)
        return ListQuery(Cursor(c.anchor, dropped, query.page_size), query.page_size)


# ------------------------------------------------------------------ order
class OrderDependsOnPageSize(PaginationMutant):
    """Large pages come from a different query plan that orders createdAt ties by id
    ascending; small pages order them descending."""

    CLAUSE = "WALK-ORDER"

    def page(self, query: ListQuery) -> Page:
        page = super().page(query)
        if query.page_size >= 500:
            page.operations.sort(key=lambda o: (-o.created_ns, o.id))
        return page


# The clauses the whole-walk suite checks (the variants run exactly these).
PAGINATION_CLAUSES = (
    "SIZE-DEFAULT",
    "FULL-PAGES",
    "LAST-PAGE",
    "SELF",
    "TOKENS-REUSABLE",
    "WALK-EXACTLY-ONCE",
    "WALK-ORDER",
    "FILTER-SOUND",
    "FILTER-COMPLETE",
    "TOKEN-FILTERS",
    "TOKEN-GARBAGE",
    "DATE-FORMAT",
    "IDS-UNIQUE",
)

MUTANTS: list[type[PaginationMutant]] = [
    obj
    for obj in list(globals().values())
    if isinstance(obj, type) and issubclass(obj, PaginationMutant) and obj is not PaginationMutant
]
