"""TOKEN-GARBAGE: tokens the server never issued get 4xx, never 5xx, never a page; and
TOKENS-REUSABLE: issued tokens used again, out of order, give their page."""

from __future__ import annotations

import base64

import pytest

from comms_contract.checks import page_pagination, too_few
from comms_contract.http import Exchange
from comms_contract.judge import judge
from comms_contract.ledger import Finding
from comms_contract.walker import pages_needed, walk
from comms_contract.walks import (
    Query,
    Snapshot,
    check_walk,
    page_fault,
    page_ids,
    raise_findings,
    reference,
    walk_guard,
    window,
)


def _alter(token: str) -> str:
    mid = len(token) // 2
    return token[:mid] + ("A" if token[mid] != "A" else "B") + token[mid + 1 :]


FORGERIES = {
    "random": lambda t: "Zm9vYmFyYmF6cXV4MTIzNDU2Nzg5MGFiY2RlZg",
    "one character changed": _alter,
    "truncated": lambda t: t[: max(1, len(t) // 2)],
    "suffix added": lambda t: t + "AAAA",
    "base64 of {}": lambda t: base64.b64encode(b"{}").decode(),
    "forged id": lambda t: (
        base64.urlsafe_b64encode(b'{"pageToken": "comms_operation_01h9krwprkeee8fzqspvwy6nq8"}')
        .decode()
        .rstrip("=")
    ),
    "sql": lambda t: "' OR 1=1 --",
    "null": lambda t: "null",
    "long": lambda t: "A" * 4096,
}


def plan_ahead(comms, wanted) -> None:
    """The forged tokens of the selected tests, sent ahead on idle lanes (lanes.py)."""
    issued = _issued(comms.first_page())
    if issued:
        for kind in wanted.values("test_foreign_token_is_refused", "kind"):
            forged = FORGERIES[kind](issued)
            if forged not in comms.issued_tokens:
                comms.ahead_get([("pageToken", forged)])
    if "test_tokens_reused_by_independent_routes" in wanted:
        try:
            ref, q, size = _reuse_window(comms)
        except pytest.skip.Exception:
            return  # the test says why
        comms.ahead_walk(
            [*q.params(), ("pageSize", str(size))],
            max_pages=walk_guard(ref, q, [size]),
            cost=pages_needed(ref.count(q), [size]),
        )


def _issued(first: Exchange) -> str | None:
    """A token the target issued on its first page, if that page is a usable list page."""
    pagination = page_pagination(first)
    token = pagination.get("next") or pagination.get("self")
    return token if isinstance(token, str) and token else None


@pytest.mark.clause("TOKEN-GARBAGE", "NO-5XX", "ERROR-BODY")
@pytest.mark.parametrize("kind", list(FORGERIES))
def test_foreign_token_is_refused(comms, kind):
    issued = _issued(comms.first_page())
    if issued is None:
        pytest.skip("the target issued no token to alter (empty result, no self)")
    forged = FORGERIES[kind](issued)
    if forged in comms.issued_tokens:
        pytest.skip(f"{kind}: the forgery equals an issued token")
    judge(comms, comms.get([("pageToken", forged)]))


@pytest.mark.clause("TOKEN-URL-SAFETY")
def test_token_alphabet_is_recorded(comms):
    """FREE for servers: record whether the tokens needed percent-encoding (the suite always
    encodes them, and the client kit checks that SDKs do)."""
    pagination = page_pagination(comms.first_page())
    tokens = [t for t in (pagination.get("next"), pagination.get("self")) if isinstance(t, str)]
    if not tokens:
        pytest.skip("the target issued no token on the first page")
    comms.ledger.observe("TOKEN-URL-SAFETY")
    unsafe = sorted({ch for t in tokens for ch in t if not (ch.isalnum() or ch in "-._~")})
    comms.ledger.note(
        "TOKEN-URL-SAFETY",
        f"seen: tokens with URL-unsafe characters {' '.join(unsafe)} (percent-encoded)"
        if unsafe
        else "seen: tokens made of URL-safe characters only",
    )


def _reuse_window(comms) -> tuple[Snapshot, Query, int]:
    """A closed window in the past for about six pages (pageSize 2, or 1 with little data),
    clear of the 7-day edge: nothing can arrive in it or leave it while the test runs."""
    ref = reference(comms)
    usable = [oid for oid in ref.order if not ref.near_expiry(oid)]
    if len(usable) < 5:
        pytest.skip(
            too_few("a closed window of 3 pages between two bounding items", 5, len(usable))
        )
    size = 2 if len(usable) >= 14 else 1
    q = window(ref, min(6 * size, len(usable) - 2), offset_minutes=-300)
    if not ref.closed(q):
        pytest.skip(f"no closed past window in the data ({q.describe()})")
    return ref, q, size


@pytest.mark.clause("TOKENS-REUSABLE", "SELF")
def test_tokens_reused_by_independent_routes(comms):
    """In a closed past window (live data explains nothing there: CONTRACT.md section 4),
    tokens used again give the page they gave the first time, compared across routes: a
    fresh walk from the first page (its tokens used a second time), then page 5's token,
    page 3's token after it, the first page's self and the last page's token after both
    walks ended. Any difference fails at once; a server whose tokens pop pages off a
    server-side queue, or whose cursor only moves forward, fails under every seed."""
    ref, q, size = _reuse_window(comms)
    params = [*q.params(), ("pageSize", str(size))]
    guard = walk_guard(ref, q, [size])
    first = comms.walk(params, max_pages=guard)  # sent ahead: the reuse comes after it
    if not first.complete:
        raise_findings(comms, check_walk(comms.ledger, first, q, None, get=comms.get))
    n = len(first.pages)
    if n < 3:
        pytest.skip(f"the closed window {q.describe()} fits {n} page(s) of {size}: 3 needed")
    pages = [page_ids(ex) for ex in first.exchanges]
    found: list[Finding] = []
    fresh = walk(comms.get, params, max_pages=guard)
    comms.ledger.observe("TOKENS-REUSABLE")
    for i in range(max(n, len(fresh.exchanges))):
        fault = page_fault(comms, f"page {i + 1} of a fresh walk", *fresh.exchanges[i : i + 1])
        if fault is not None:  # a 5xx or a broken page is its own clause's, never a difference
            found.append(fault)
            break
        a = pages[i] if i < n else None
        b = page_ids(fresh.exchanges[i]) if i < len(fresh.exchanges) else None
        if a == b:
            continue
        reused = i < len(fresh.tokens) and i < n and fresh.tokens[i] == first.tokens[i]
        clause = "TOKENS-REUSABLE" if reused else "WALK-ORDER"
        how = "with the same token, used a second time" if reused else "by a fresh walk"
        found.append(
            Finding(
                clause,
                f"page {i + 1} of a closed past window reached again {how} differs: "
                f"{_ids(a)} the first time, {_ids(b)} the second",
                (*first.transcript(), "fresh walk:", *fresh.transcript()),
            )
        )
        break
    late = sorted({min(4, n - 1), min(2, n - 2)}, reverse=True)  # page 5's, then page 3's
    plan = [
        (f"page {k + 1}'s token, used again out of order", k, first.params_for(k)) for k in late
    ]
    if isinstance(first.selfs[0], str) and first.selfs[0]:
        self_params = [*params, ("pageToken", first.selfs[0])]
        plan.append(("the first page's self, after the walks ended", 0, self_params))
    if n - 1 not in late:
        plan.append(
            ("the last page's token, after the walks ended", n - 1, first.params_for(n - 1))
        )
    for what, k, sent in plan:
        ex = comms.get(sent)
        clause = "SELF" if "self" in what else "TOKENS-REUSABLE"
        comms.ledger.observe(clause)
        got = page_ids(ex)
        fault = page_fault(comms, what, ex)
        if fault is not None:  # its own clause (NO-5XX for a 5xx), not a token that failed
            found.append(fault)
            continue
        if got != pages[k]:
            answer = _ids(got) if ex.status == 200 else f"status {ex.status}"
            found.append(
                Finding(
                    clause,
                    f"{what} returned {answer}, not page {k + 1} ({_ids(pages[k])}), inside a "
                    "closed past window",
                    (f"page {k + 1}: {first.exchanges[k].line()}", f"again: {ex.line()}"),
                )
            )
    raise_findings(comms, found)


def _ids(ids: list[str] | None) -> str:
    if ids is None:
        return "no page"
    shown = ", ".join(ids[:3]) + (", ..." if len(ids) > 3 else "")
    return f"{len(ids)} operation(s) [{shown}]"
