"""The suite's walker: follow ``next`` from the first page and record everything.

It is deliberately small and public: the pagination properties use it, and the client kit
uses it as its known-good reference client. Throttling (Retry-After on 429/503, never a
retried 500) is handled by the client underneath; the walker adds loop protection: a token
seen before (a repeated ``next``, or a cycle back to an earlier page), or more pages than the
caller's ``max_pages``, stops the walk and is reported, never looped on.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from itertools import repeat
from typing import Any

from comms_contract.checks import page_operations
from comms_contract.http import Exchange

GetPage = Callable[[Sequence[tuple[str, str]]], Exchange]


class _Absent:
    """The marker of a page without ``pagination.next`` (an object no token can equal)."""

    def __repr__(self) -> str:
        return "ABSENT"


ABSENT: Any = _Absent()  # how ``Walk.markers`` records a page without ``pagination.next``


@dataclass
class Walk:
    """A whole walk: every exchange in order, the items seen, and why it stopped.

    ``tokens[i]`` is the pageToken sent for page i (None for the first), ``sizes[i]`` the
    pageSize sent (None: left out), ``resent[i]`` whether the filters went with the token,
    ``markers[i]`` the page's raw ``next`` (``ABSENT`` when the key is missing) and
    ``selfs[i]`` its raw ``self``.
    """

    query: list[tuple[str, str]]
    exchanges: list[Exchange] = field(default_factory=list)
    pages: list[list[dict[str, Any]]] = field(default_factory=list)
    tokens: list[str | None] = field(default_factory=list)
    sizes: list[int | None] = field(default_factory=list)
    resent: list[bool] = field(default_factory=list)
    markers: list[Any] = field(default_factory=list)
    selfs: list[Any] = field(default_factory=list)
    # end | error | repeated-token | too-many-pages | bad-body; "running" while stepped by hand
    stopped: str = "end"
    next_token: str | None = None
    _seen: set[str] = field(default_factory=set, repr=False)

    @property
    def filters(self) -> list[tuple[str, str]]:
        return [(k, v) for k, v in self.query if k != "pageSize"]

    @property
    def items(self) -> list[dict[str, Any]]:
        return [op for page in self.pages for op in page]

    @property
    def ids(self) -> list[str]:
        return [str(op.get("id")) for op in self.items]

    @property
    def complete(self) -> bool:
        return self.stopped == "end"

    @property
    def finished(self) -> bool:
        """No more pages to fetch (ended, or stopped by a fault)."""
        return self.stopped != "running"

    def params_for(self, index: int) -> list[tuple[str, str]]:
        """The exact query that fetched page ``index`` (to fetch it again)."""
        return list(self.exchanges[index].params)

    def transcript(self, limit: int = 40) -> list[str]:
        """One line per request (pageToken visible, credentials never), for failure reports.

        Long walks keep their first and last requests: the fault is usually at an end."""
        lines = []
        for i, ex in enumerate(self.exchanges):
            count = f" [{len(self.pages[i])} ops]" if i < len(self.pages) else ""
            lines.append(f"page {i + 1}: {ex.line()}{count}")
        if len(lines) > limit:
            head, tail = limit // 4, limit - limit // 4
            lines = [
                *lines[:head],
                f"... {len(lines) - limit} requests left out ...",
                *lines[-tail:],
            ]
        if self.stopped not in ("end", "running"):
            lines.append(f"walk stopped: {self.stopped}")
        return lines


def start(query: Mapping[str, str] | Sequence[tuple[str, str]] = ()) -> Walk:
    """A walk that has fetched nothing yet; advance it with ``step``."""
    base = list(query.items()) if isinstance(query, Mapping) else list(query)
    return Walk([(str(k), str(v)) for k, v in base], stopped="running")


def step(get: GetPage, w: Walk, *, size: int | None = None, resend_filters: bool = True) -> Walk:
    """Fetch the walk's next page with ``size`` (None: leave pageSize out) and record it."""
    if w.finished:
        raise ValueError(f"the walk has already stopped ({w.stopped})")
    token = w.next_token
    params = list(w.filters) if (token is None or resend_filters) else []
    if size is not None:
        params.append(("pageSize", str(size)))
    if token is not None:
        params.append(("pageToken", token))
    ex = get(params)
    w.exchanges.append(ex)
    w.tokens.append(token)
    w.sizes.append(size)
    w.resent.append(token is None or resend_filters)
    if ex.status != 200:
        w.stopped = "error"
        return w
    operations = page_operations(ex)
    if operations is None:
        w.stopped = "bad-body"  # not the list envelope: nothing to follow (check_walk says why)
        return w
    pagination = ex.json()["pagination"]
    nxt = pagination.get("next", ABSENT)
    this = pagination.get("self")
    ops = [o for o in operations if isinstance(o, dict)]
    ex.compact()  # parsed: the raw bytes are no longer needed, only their head as evidence
    w.pages.append(ops)
    w.markers.append(nxt)
    w.selfs.append(this)
    if token is not None:
        w._seen.add(token)
    if nxt is ABSENT or nxt in (None, ""):
        w.stopped, w.next_token = "end", None
    elif nxt in w._seen:
        w.stopped = "repeated-token"
    else:
        w.next_token = nxt
    if isinstance(this, str) and this:
        # a later next equal to this page's self is a cycle (this page's own next may equal
        # it only through a wrong self, which the SELF check reports)
        w._seen.add(this)
    return w


def walk(
    get: GetPage,
    query: Mapping[str, str] | Sequence[tuple[str, str]] = (),
    *,
    page_sizes: Iterable[int | None] | None = None,
    resend_filters: bool = True,
    max_pages: int = 10_000,
) -> Walk:
    """Walk from the first page. ``page_sizes`` gives the pageSize for each request in turn
    (None: leave it out; after the last, the query's own pageSize); ``resend_filters``
    repeats the filters with every token; more than ``max_pages`` pages stops the walk."""
    w = start(query)
    default = _size_of(w.query)
    sizes: Iterator[int | None] = iter(page_sizes) if page_sizes is not None else repeat(default)
    while not w.finished:
        if len(w.pages) >= max_pages:
            w.stopped = "too-many-pages"
            break
        step(get, w, size=next(sizes, default), resend_filters=resend_filters)
    return w


def pages_needed(count: int, sizes: Iterable[int | None], default: int = 50) -> int:
    """How many pages a correct server needs for ``count`` items with these page sizes in
    turn (the last size repeats); 1 for an empty result."""
    if count <= 0:
        return 1
    pages, held, size = 0, 0, default
    it = iter(sizes)
    while held < count:
        size = next(it, size) or default
        pages += 1
        held += size
        if pages > 1_000_000:  # pragma: no cover - sizes are >= 1
            break
    return pages


def _size_of(query: Sequence[tuple[str, str]]) -> int | None:
    for k, v in query:
        if k == "pageSize" and v.isascii() and v.isdigit():
            return int(v)
    return None
