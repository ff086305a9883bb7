"""The suite's walker: follow ``next`` from the first page and record everything.

It is deliberately small and public: the pagination properties use it, and the client kit
uses it as its known-good reference client. Throttling (Retry-After) is handled by the
client underneath; the walker adds loop protection: a repeated token, or more pages than
ceil(N/pageSize)+1 could ever need, stops the walk and is reported, never looped on.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from itertools import repeat
from typing import Any

from comms_contract.http import Exchange

GetPage = Callable[[Sequence[tuple[str, str]]], Exchange]


@dataclass
class Walk:
    """A whole walk: every exchange in order, the items seen, and why it stopped."""

    query: list[tuple[str, str]]
    exchanges: list[Exchange] = field(default_factory=list)
    pages: list[list[dict[str, Any]]] = field(default_factory=list)
    tokens: list[str | None] = field(default_factory=list)  # the pageToken sent for each page
    stopped: str = "end"  # end | error | repeated-token | too-many-pages | bad-body

    @property
    def items(self) -> list[dict[str, Any]]:
        return [op for page in self.pages for op in page]

    @property
    def ids(self) -> list[str]:
        return [str(op.get("id")) for op in self.items]

    @property
    def complete(self) -> bool:
        return self.stopped == "end"

    def transcript(self) -> list[str]:
        """One line per request (pageToken visible, credentials never), for failure reports."""
        return [f"page {i + 1}: {ex.line()}" for i, ex in enumerate(self.exchanges)]


def walk(
    get: GetPage,
    query: Mapping[str, str] | Sequence[tuple[str, str]] = (),
    *,
    page_sizes: Iterable[int | None] | None = None,
    resend_filters: bool = True,
    max_pages: int = 10_000,
) -> Walk:
    """Walk from the first page. ``page_sizes`` gives the pageSize for each request in turn
    (None: leave it out); ``resend_filters`` repeats the filters with every token."""
    base = list(query.items()) if isinstance(query, Mapping) else list(query)
    filters = [(k, v) for k, v in base if k != "pageSize"]
    sizes: Iterator[int | None] = (
        iter(page_sizes) if page_sizes is not None else repeat(_size_of(base))
    )
    result = Walk(base)
    token: str | None = None
    seen: set[str] = set()
    while True:
        size = next(sizes, _size_of(base))
        params = list(filters) if (token is None or resend_filters) else []
        if size is not None:
            params.append(("pageSize", str(size)))
        if token is not None:
            params.append(("pageToken", token))
        ex = get(params)
        result.exchanges.append(ex)
        result.tokens.append(token)
        if ex.status != 200:
            result.stopped = "error"
            return result
        try:
            body = ex.json()
            ops = [o for o in body["operations"] if isinstance(o, dict)]
            nxt = (body.get("pagination") or {}).get("next")
        except (ValueError, KeyError, TypeError, AttributeError):
            result.stopped = "bad-body"
            return result
        result.pages.append(ops)
        if nxt is None or nxt == "":
            return result
        if not isinstance(nxt, str) or nxt in seen:
            result.stopped = "repeated-token"
            return result
        seen.add(nxt)
        if len(result.pages) >= max_pages:
            result.stopped = "too-many-pages"
            return result
        token = nxt


def _size_of(query: Sequence[tuple[str, str]]) -> int | None:
    for k, v in query:
        if k == "pageSize" and v.isdigit():
            return int(v)
    return None
