"""WALK-EXACTLY-ONCE, WALK-ORDER, FULL-PAGES, LAST-PAGE, IDS-UNIQUE, SIZE-DEFAULT, SELF,
TOKENS-REUSABLE and TOKEN-GARBAGE mid-walk: whole walks at fixed page sizes.

Each walk is compared with the run's one reference walk (pageSize=1000). A size whose whole
walk would take more pages than the profile allows walks a closed window in the past instead,
centred on the largest group of createdAt ties, so small pages straddle the ties.
"""

from __future__ import annotations

from itertools import cycle, islice

import pytest

from comms_contract.checks import page_pagination
from comms_contract.judge import judge
from comms_contract.ledger import Finding
from comms_contract.walker import pages_needed
from comms_contract.walks import (
    Query,
    Snapshot,
    fail_unfinished,
    page_fault,
    page_ids,
    raise_findings,
    reference,
    same_page,
    walk_check,
    walk_guard,
    walk_plan,
    window,
    write_instant,
)

DAY = 86_400 * 1_000_000_000

MIXED = (3, 7, 2, 50)


def need_data(ref: Snapshot, count: int = 2) -> None:
    if len(ref.order) < count:
        pytest.skip(
            f"only {len(ref.order)} operation(s) in the reference walk: this check needs "
            f"at least {count}"
        )


def page_budget(ref: Snapshot, q: Query, sizes: list[int | None]) -> int:
    return walk_guard(ref, q, sizes)


def whole_walk(comms, ref: Snapshot, size: int | str) -> tuple[Query, list[int], int]:
    """What ``test_whole_walk[size]`` walks: the query, the page sizes in turn (the last
    repeats) and the page guard."""
    cap = comms.profile.walk_pages
    if size == "mixed":
        q = walk_plan(ref, sum(MIXED) // len(MIXED), cap)
        plan = list(islice(cycle(MIXED), 4 * cap))
    else:
        q = walk_plan(ref, int(size), cap)
        plan = [int(size)]
    return q, plan, page_budget(ref, q, plan)


def plan_ahead(comms, wanted) -> None:
    """The fixed walks of the selected tests, sent ahead on idle lanes (lanes.py)."""
    ref = reference(comms)
    if len(ref.order) < 2:
        return
    for size in wanted.values("test_whole_walk", "size"):
        q, plan, guard = whole_walk(comms, ref, size)
        comms.ahead_walk(
            q.params(), sizes=plan, max_pages=guard, cost=pages_needed(ref.count(q), plan)
        )
    if "test_default_page_size" in wanted and len(ref.order) > 50:
        q = walk_plan(ref, 50, comms.profile.walk_pages)
        cost = pages_needed(ref.count(q), [50])
        comms.ahead_walk(q.params(), max_pages=page_budget(ref, q, [50]), cost=cost)
    if len(ref.order) >= 4:
        samples = len(wanted.values("test_tampered_token_mid_walk", "kind"))
        for _ in range(samples + ("test_self_and_reused_tokens" in wanted)):
            q, params, guard = _sample(ref)
            comms.ahead_walk(params, max_pages=guard, cost=4)


@pytest.mark.clause(
    "WALK-EXACTLY-ONCE",
    "WALK-ORDER",
    "FULL-PAGES",
    "LAST-PAGE",
    "IDS-UNIQUE",
)
@pytest.mark.parametrize("size", [1000, 50, 7, 3, 2, 1, "mixed"])
def test_whole_walk(comms, size):
    ref = reference(comms)
    need_data(ref)
    cap = comms.profile.walk_pages
    q, plan, _guard = whole_walk(comms, ref, size)
    if q.filtered:
        comms.ledger.note(
            "WALK-EXACTLY-ONCE",
            f"small pages walk a window of about {ref.count(q)} operations (profile "
            f"{comms.profile.name} allows {cap} pages per walk)",
        )
    walk_check(
        comms,
        q,
        lambda: comms.walk(
            q.params(),
            sizes=plan,
            max_pages=page_budget(reference(comms), q, plan),  # follows a growing list
        ),
    )


@pytest.mark.clause("SIZE-DEFAULT", "WALK-EXACTLY-ONCE", "LAST-PAGE")
def test_default_page_size(comms):
    ref = reference(comms)
    if len(ref.order) <= 50:
        pytest.skip(
            f"only {len(ref.order)} operations: telling a default page of 50 apart needs at "
            "least 51"
        )
    q = walk_plan(ref, 50, comms.profile.walk_pages)
    walk_check(
        comms,
        q,
        lambda: comms.walk(q.params(), max_pages=page_budget(reference(comms), q, [50])),
    )


def _sample(ref: Snapshot, size: int = 3) -> tuple[Query, list[tuple[str, str]], int]:
    """A short walk of at least three pages (a window around the ties): query, params, guard."""
    q = window(ref, 3 * size + 1, offset_minutes=60)
    return q, [*q.params(), ("pageSize", str(size))], page_budget(ref, q, [size])


def _sample_walk(comms, ref: Snapshot, size: int = 3):
    q, params, guard = _sample(ref, size)
    return q, comms.walk(params, max_pages=guard)


@pytest.mark.clause("SELF", "TOKENS-REUSABLE")
def test_self_and_reused_tokens(comms):
    """self of the first, a middle and the last page returns that page; a next token used
    twice returns the same page; the empty result has a self too."""
    ref = reference(comms)
    need_data(ref, 4)
    q, w = _sample_walk(comms, ref)
    if not w.complete:
        fail_unfinished(comms, w, q)
    if len(w.pages) < 2:
        pytest.skip("the sample window fits one page: no page reached by token to check")
    found: list[Finding] = []
    last = len(w.pages) - 1
    for i in sorted({0, last // 2, last}):
        token = w.selfs[i]
        if not isinstance(token, str) or not token:
            found.append(
                Finding(
                    "SELF", f"page {i + 1} has no usable self ({token!r})", tuple(w.transcript())
                )
            )
            continue
        size = [("pageSize", str(w.sizes[i]))] if w.sizes[i] is not None else []
        params = [*q.params(), *size, ("pageToken", token)]
        f = same_page(
            comms,
            "SELF",
            f"self of page {i + 1} of {len(w.pages)}",
            w.exchanges[i],
            lambda p=params: comms.get(p),
            lambda i=i: comms.get(w.params_for(i)),
            closed=ref.closed(q),
        )
        if f:
            found.append(Finding(f.clause, f.message, (*f.evidence, *w.transcript())))
    for i in sorted({1, last}):
        f = same_page(
            comms,
            "TOKENS-REUSABLE",
            f"the next token of page {i} used a second time",
            w.exchanges[i],
            lambda i=i: comms.get(w.params_for(i)),
            lambda i=i: comms.get(w.params_for(i)),
            closed=ref.closed(q),
        )
        if f:
            found.append(Finding(f.clause, f.message, (*f.evidence, *w.transcript())))
    empty = Query(start=write_instant((ref.newest or 0) + 30 * DAY))
    ex = comms.get([*empty.params(), ("pageSize", "5")])
    if ex.status == 200 and page_ids(ex) == []:
        token = page_pagination(ex).get("self")
        if not isinstance(token, str) or not token:
            found.append(
                Finding("SELF", f"the empty result has no usable self ({token!r})", (ex.line(),))
            )
        else:
            again = comms.get([*empty.params(), ("pageSize", "5"), ("pageToken", token)])
            fault = page_fault(comms, "self of the empty result", again)
            if fault is not None:  # a 5xx is NO-5XX's, not a self that failed
                found.append(fault)
            elif again.status != 200 or page_ids(again) != []:
                found.append(
                    Finding(
                        "SELF",
                        f"self of the empty result answered {again.status} "
                        f"with {len(page_ids(again) or [])} operations",
                        (ex.line(), again.line()),
                    )
                )
    raise_findings(comms, found)


TAMPER = {
    "one character changed": lambda t: (
        t[: len(t) // 2] + ("B" if t[len(t) // 2] == "A" else "A") + t[len(t) // 2 + 1 :]
    ),
    "last character changed": lambda t: t[:-1] + ("x" if t[-1] != "x" else "y"),
    "truncated": lambda t: t[: max(1, 2 * len(t) // 3)],
}


@pytest.mark.clause("TOKEN-GARBAGE", "NO-5XX", "ERROR-BODY")
@pytest.mark.parametrize("kind", list(TAMPER))
def test_tampered_token_mid_walk(comms, kind):
    """A middle page's next token, altered, gets 4xx: never a page, least of all the first
    (sent with the filters and pageSize, with the filters alone, and alone)."""
    ref = reference(comms)
    need_data(ref, 4)
    q, w = _sample_walk(comms, ref)
    tokens = [t for t in w.tokens if t]
    if not tokens:
        pytest.skip("the sample walk has one page: no next token to alter")
    token = tokens[len(tokens) // 2]
    forged = TAMPER[kind](token)
    if forged in comms.issued_tokens:
        pytest.skip(f"{kind}: the altered token equals an issued one")
    # each kind in another shape of the query, so every shape is probed under every seed: a
    # server may mishandle a bad token only when pageSize (or the filters) come along
    size = [] if kind == "last character changed" else [("pageSize", "3")]
    filters = [] if kind == "truncated" else q.params()
    ex = comms.get([*filters, *size, ("pageToken", forged)])
    if ex.status == 200:
        ids = page_ids(ex)
        first = page_ids(w.exchanges[0])
        how = (
            "silently restarted at the first page"
            if ids == first
            else f"answered 200 with {len(ids or [])} operations"
        )
        v = comms.verdict(ex)
        v.fail("TOKEN-GARBAGE", f"a next token with {kind} {how}; it must get 4xx")
        v.done()
    judge(comms, ex)
