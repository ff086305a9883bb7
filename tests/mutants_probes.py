"""Faulty servers that only aimed probes catch under every seed (issue 10).

Each reproduces a fault seen in real list APIs that random generation finds under some seeds
only: a bound's fraction dropped or createdAt compared as text (Django REST Framework,
Astarte, piper), valid extreme dates overflowing in a UTC conversion, and server-side page
queues whose tokens cannot be used twice or out of order (Synapse), or expire with the scroll
snapshot that served them (Elasticsearch). ``CLAUSE`` names the
clause that must catch the mutant, ``ALSO`` the extra clauses whose checks the run needs;
tests/test_seed_independence.py runs each under many seeds.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from mutants_core import Mutant

from comms_contract import rfc3339
from comms_contract.server.app import ApiError, ListQuery, Page
from comms_contract.server.dataset import SECOND, Operation
from comms_contract.server.tokens import Cursor, Filters


# ------------------------------------------------------------------ date bounds
class DropsBoundFraction(Mutant):
    """Bounds parsed to whole seconds (``strptime`` then the fraction thrown away):
    startDate=...T11:39:04.500Z selects items created at ...T11:39:04."""

    CLAUSE = "FILTER-SOUND"

    def parse_date(self, name: str, raw: str | None) -> int | None:
        ns = super().parse_date(name, raw)
        return None if ns is None else ns - ns % SECOND


class ComparesCreatedAtAsText(Mutant):
    """createdAt stored as RFC 3339 text in UTC with trimmed fractions, and bounds compared
    as text: '...23Z' sorts after '...23.5Z', and '...23.5Z' after '...23.501Z'."""

    CLAUSE = "FILTER-SOUND"

    def matches(self, op: Operation, filters: Filters) -> bool:
        if filters.status is not None and op.status != filters.status:
            return False
        try:
            created = rfc3339.format_ns(op.created_ns)
            start = None if filters.start_ns is None else rfc3339.format_ns(filters.start_ns)
            end = None if filters.end_ns is None else rfc3339.format_ns(filters.end_ns)
        except ValueError:  # a bound beyond year 9999 in UTC: compare as numbers
            return super().matches(op, filters)
        if start is not None and created < start:
            return False
        return not (end is not None and created >= end)


class ExtremeDatesOverflow(Mutant):
    """Bounds converted to UTC with the platform's date type: 9999-12-31T23:59:59-01:00
    (year 10000 in UTC) and 0001-01-01T00:00:00+01:00 (year 0) overflow, and the framework
    answers 500."""

    CLAUSE = "NO-5XX"
    ALSO = ("DATE-FORMAT",)

    def parse_date(self, name: str, raw: str | None) -> int | None:
        ns = super().parse_date(name, raw)
        if raw is not None and ns is not None:
            local = datetime.strptime(raw[:19], "%Y-%m-%dT%H:%M:%S")
            tail = raw[-6:]
            minutes = 0 if raw[-1] in "Zz" else int(tail[1:3]) * 60 + int(tail[4:6])
            zone = timezone(timedelta(minutes=minutes if tail[0] != "-" else -minutes))
            try:
                local.replace(tzinfo=zone).astimezone(timezone.utc)
            except (OverflowError, ValueError) as exc:
                raise ApiError(500, 20500, "Internal Server Error") from exc
        return ns


# ------------------------------------------------------------------ server-side page queues
class QueueTokens(Mutant):
    """A next token names a server-side queue of pages: each use pops the page, so a second
    use returns the page after (or an empty page once the queue is drained)."""

    CLAUSE = "TOKENS-REUSABLE"

    def page(self, query: ListQuery) -> Page:
        page = super().page(query)
        anchor = query.cursor.anchor
        if anchor is None:
            return page
        uses: dict = self.__dict__.setdefault("_uses", {})
        key = (query.cursor.filters, tuple(anchor), query.page_size)
        popped, uses[key] = uses.get(key, 0), uses.get(key, 0) + 1
        for _ in range(popped):
            if page.next_cursor is None:
                return Page([], None, query.cursor)
            page = super().page(ListQuery(page.next_cursor, query.page_size))
        return page


class TokensValidOnlyInOrder(Mutant):
    """A server-side cursor per walk: the newest token (also a retry of it) works, but an
    older token gets the page at the cursor's current position, not its own page."""

    CLAUSE = "TOKENS-REUSABLE"

    def page(self, query: ListQuery) -> Page:
        walks: dict = self.__dict__.setdefault("_walks", {})
        anchor = query.cursor.anchor
        if anchor is None:  # a walk (re)starts at the first page
            walks[query.cursor.filters] = []
            return super().page(query)
        served: list = walks.setdefault(query.cursor.filters, [])
        key = tuple(anchor)
        if key in served and key != served[-1]:
            moved = Cursor(served[-1], query.cursor.filters, query.page_size)
            return super().page(ListQuery(moved, query.page_size))
        if key not in served:
            served.append(key)
        return super().page(query)


class DeepPagesSnapshotClosedAtEnd(Mutant):
    """The first 4 pages come from an offset query, deeper pages from a server-side snapshot
    (Elasticsearch's ``max_result_window`` pushes deep pages to a scroll context), closed
    when the walk's last page is served, as scroll clients are told to clear it: a token of
    page 5 or later used again after the walk ended gets 410, until a new walk from the first
    page opens a new snapshot."""

    CLAUSE = "TOKENS-REUSABLE"

    def page(self, query: ListQuery) -> Page:
        c = query.cursor
        opened: dict = self.__dict__.setdefault("_opened", {})
        if c.anchor is None:
            opened[c.filters] = True
        else:
            ops = self.ordered(c.filters)
            depth = len(ops) - len(self.after(ops, c.anchor))
            if depth >= 4 * query.page_size and not opened.get(c.filters):
                raise ApiError(410, 20410, "pageToken has expired")
        page = super().page(query)
        if page.next_cursor is None and c.anchor is not None:
            opened[c.filters] = False
        return page


MUTANTS: list[type[Mutant]] = [
    DropsBoundFraction,
    ComparesCreatedAtAsText,
    ExtremeDatesOverflow,
    QueueTokens,
    TokensValidOnlyInOrder,
    DeepPagesSnapshotClosedAtEnd,
]
