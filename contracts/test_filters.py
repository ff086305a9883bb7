"""FILTER-SOUND, FILTER-COMPLETE, TOKEN-FILTERS and DATE-FORMAT over whole filtered walks
(pages reached by token included), judged against the reference walk. (Equal instants
written with other offsets: test_parameters.py.)

Windows are closed and in the past (bounds are observed createdAt values), so new arrivals
cannot change them; status walks are confirmed by a second observation before failing.
"""

from __future__ import annotations

import math

import pytest

from comms_contract import STATUSES
from comms_contract.ledger import Finding
from comms_contract.walks import (
    SIZES,
    Query,
    Snapshot,
    fail_unfinished,
    raise_findings,
    reference,
    same_page,
    walk_check,
    walk_guard,
    window,
)


def size_for(count: int, max_pages: int) -> int:
    """The smallest usual page size that walks ``count`` items in at most ``max_pages``
    pages (several pages when the data allows, so pages reached by token are checked)."""
    return next((s for s in SIZES if math.ceil(max(count, 1) / s) <= max_pages), 1000)


def limit(ref: Snapshot, q: Query, size: int) -> int:
    return walk_guard(ref, q, [size])


def filtered_walk(comms, ref: Snapshot, q: Query, max_pages: int = 8):
    """The params and page size of the walk of ``q``."""
    size = size_for(ref.count(q), min(comms.profile.walk_pages, max_pages))
    return [*q.params(), ("pageSize", str(size))], size


def plan_ahead(comms, wanted) -> None:
    """The filtered walks of the selected tests, sent ahead on idle lanes (lanes.py)."""
    ref = reference(comms)
    walks = [Query(status=s) for s in wanted.values("test_status_walk", "status")]
    if len(ref.order) >= 3:
        walks += [_window_query(ref, k) for k in wanted.values("test_window_walk", "kind")]
    for q in walks:
        if ref.count(q):
            params, size = filtered_walk(comms, ref, q)
            comms.ahead_walk(params, max_pages=limit(ref, q, size), cost=ref.count(q) // size)
    if "test_token_with_or_without_filters" in wanted:
        tokens = _token_walk(comms, ref)
        if tokens is not None:
            q, params, size = tokens
            for resend in (True, False):
                comms.ahead_walk(
                    params,
                    resend_filters=resend,
                    max_pages=limit(ref, q, size),
                    cost=ref.count(q) // size,
                )


@pytest.mark.clause("FILTER-SOUND", "FILTER-COMPLETE", "WALK-EXACTLY-ONCE")
@pytest.mark.parametrize("status", STATUSES)
def test_status_walk(comms, status):
    ref = reference(comms)
    q = Query(status=status)
    n = ref.count(q)
    if n == 0:
        pytest.skip(f"no {status} operation in the reference walk ({len(ref.order)} operations)")
    params, size = filtered_walk(comms, ref, q)
    walk_check(comms, q, lambda: comms.walk(params, max_pages=limit(reference(comms), q, size)))


def _window_query(ref: Snapshot, kind: str) -> Query:
    w = window(ref, max(8, len(ref.order) // 3), offset_minutes=330)
    if kind == "start only":
        return Query(start=w.start)
    if kind == "end only":
        return Query(end=w.end)
    if kind == "status and window":
        inside = [
            ref.items[i].get("status")
            for i in ref.order
            if Query(start=w.start, end=w.end).admits(ref.items[i])
        ]
        common = max(STATUSES, key=inside.count)
        return Query(status=common, start=w.start, end=w.end)
    return w


@pytest.mark.clause("FILTER-SOUND", "FILTER-COMPLETE", "WALK-EXACTLY-ONCE", "DATE-FORMAT")
@pytest.mark.parametrize("kind", ["window", "status and window", "start only", "end only"])
def test_window_walk(comms, kind):
    """Date bounds (written with a +05:30 offset, with all 9 fractional digits when the
    instant has a fraction) hold on every page, and combine with status by AND."""
    ref = reference(comms)
    if len(ref.order) < 3:
        pytest.skip(f"only {len(ref.order)} operation(s): a date window needs at least 3")
    q = _window_query(ref, kind)
    params, size = filtered_walk(comms, ref, q)
    walk_check(comms, q, lambda: comms.walk(params, max_pages=limit(reference(comms), q, size)))


@pytest.mark.clause("TOKEN-FILTERS", "FILTER-SOUND", "FILTER-COMPLETE")
def test_token_with_or_without_filters(comms):
    """The same token with the filters and pageSize resent, with the filters left out, or
    alone gives the same page (compared request by request, so live data cannot intervene);
    a whole walk that never resends the filters stays filtered and complete."""
    ref = reference(comms)
    found_walk = _token_walk(comms, ref)
    if found_walk is None:
        pytest.skip(
            f"at most 1 operation of any status ({len(ref.order)} operations): no second page"
        )
    q, params, size = found_walk
    w = comms.walk(params, max_pages=limit(ref, q, size))
    if not w.complete:
        fail_unfinished(comms, w, q)
    found: list[Finding] = []
    last = len(w.pages) - 1
    if last < 1:  # a server that ignores pageSize: FULL-PAGES says so; no token to test here
        pytest.skip(f"the walk at pageSize={size} ended on its first page: no token to reuse")
    for i in sorted({1, last // 2 + 1, last}):
        token = ("pageToken", str(w.tokens[i]))
        for what, other in (
            ("the filters left out", [("pageSize", str(size)), token]),
            ("the filters and pageSize left out", [token]),
        ):
            f = same_page(
                comms,
                "TOKEN-FILTERS",
                f"page {i + 1} fetched with {what}",
                w.exchanges[i],
                lambda other=other: comms.get(other),
                lambda i=i: comms.get(w.params_for(i)),
            )
            if f:
                found.append(Finding(f.clause, f.message, (*f.evidence, *w.transcript())))
    raise_findings(comms, found)
    walk_check(
        comms,
        q,
        lambda: comms.walk(
            params, resend_filters=False, max_pages=limit(reference(comms), q, size)
        ),
    )


def _token_walk(comms, ref: Snapshot):
    """The walk of the commonest status whose tokens are checked: (query, params, size), or
    None when no status has two operations."""
    counts = {s: ref.count(Query(status=s)) for s in STATUSES}
    status = max(STATUSES, key=lambda s: counts[s])
    if counts[status] < 2:
        return None
    q = Query(status=status)
    # at least three pages when the data allows: page 2 is then neither the first nor the
    # last, the one page where a token alone served at another size shows (TOKEN-FILTERS)
    size = min(size_for(counts[status], min(comms.profile.walk_pages, 6)), counts[status] // 3)
    size = max(1, size)
    return q, [*q.params(), ("pageSize", str(size))], size
