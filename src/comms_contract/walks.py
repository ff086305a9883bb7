"""Whole-walk checks: what one page cannot show (CONTRACT.md section 2 and section 4).

A walk is judged against the run's *reference walk* (unfiltered, pageSize=1000, fetched once
and reused), so exactly-once, order and filter completeness cost no extra walks. The target
may be live (section 4): items that arrived after the reference was taken, changed while a
comparison ran, or are about to age out are exempt, and a suspected violation is confirmed
by a second observation (a fresh reference and a repeated walk) before it fails the run.
"""

from __future__ import annotations

import time
import weakref
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from functools import cached_property
from typing import Any

from comms_contract import bounds, rfc3339
from comms_contract.checks import (
    Verdict,
    answer_fault,
    check_list_page,
    check_operations,
    field_text,
    media_type,
    page_operations,
    page_pagination,
    too_few,
)
from comms_contract.http import Exchange
from comms_contract.judge import PARAM_CLAUSE
from comms_contract.ledger import ClauseViolations, Finding, Ledger
from comms_contract.redact import MASK
from comms_contract.walker import ABSENT, GetPage, Walk, pages_needed

SECOND = 1_000_000_000
RETENTION_NS = 7 * 86_400 * SECOND
EXPIRY_MARGIN_NS = 3600 * SECOND  # items this close to the 7-day edge may vanish mid-run
SIZES = (1, 2, 3, 7, 50, 1000)
OFFSETS = (0, 330, -480, 345, 840, -720, 60)  # minutes; 0 is written both as Z and +00:00


# ---- queries ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class Query:
    """A walk's filters, with the bounds exactly as written on the wire."""

    status: str | None = None
    start: str | None = None
    end: str | None = None

    def params(self) -> list[tuple[str, str]]:
        out = [("status", self.status)] if self.status else []
        if self.start is not None:
            out.append(("startDate", self.start))
        if self.end is not None:
            out.append(("endDate", self.end))
        return out  # type: ignore[return-value]

    @cached_property
    def start_ns(self) -> int | None:
        return rfc3339.parse(self.start) if self.start is not None else None

    @cached_property
    def end_ns(self) -> int | None:
        return rfc3339.parse(self.end) if self.end is not None else None

    @property
    def filtered(self) -> bool:
        return bool(self.params())

    def admits(self, op: dict[str, Any], created: int | None = None) -> bool | None:
        """True inside the filters, False outside, None within 1 ms of a date bound (FREE:
        ``comms_contract.bounds``). ``created``: the item's createdAt in ns, when the caller
        has parsed it already."""
        if self.status is not None and op.get("status") != self.status:
            return False
        if self.start is None and self.end is None:
            return True
        created = created if created is not None else created_ns(op)
        if created is None:
            return True  # OP-SHAPE reports it; nothing to say about the filter
        return bounds.position(created, self.start_ns, self.end_ns)

    def describe(self) -> str:
        return "&".join(f"{k}={v}" for k, v in self.params()) or "no filter"


def created_ns(op: dict[str, Any]) -> int | None:
    value = op.get("createdAt")
    return rfc3339.parse(value, strict_case=False) if isinstance(value, str) else None


def write_instant(ns: int, offset_minutes: int = 0, digits: int | None = None) -> str:
    """``ns`` as RFC 3339 with ``offset_minutes`` (0: ``Z``) and ``digits`` fraction digits."""
    return rfc3339.format_ns(ns, offset_minutes=offset_minutes, digits=digits)


def exact_digits(ns: int) -> list[int | None]:
    """Fraction lengths that write ``ns`` exactly (None: the shortest)."""
    frac = ns % SECOND
    return [None] + [d for d in (0, 3, 6, 9) if frac % 10 ** (9 - d) == 0]


# ---- the reference -----------------------------------------------------------------------------
@dataclass
class Snapshot:
    """One observation of the whole unfiltered list (the reference walk)."""

    walk: Walk
    order: list[str]
    items: dict[str, dict[str, Any]]
    created: dict[str, int]
    taken_ns: int = field(default_factory=time.time_ns)
    requests_at: int = 0  # the run's request count when it was taken (see ``reference``)
    _expected: dict[Query, tuple[list[str], set[str]]] = field(default_factory=dict, repr=False)

    @classmethod
    def of(cls, w: Walk) -> Snapshot:
        order: list[str] = []
        items: dict[str, dict[str, Any]] = {}
        created: dict[str, int] = {}
        for op in w.items:
            oid = str(op.get("id"))
            if oid in items:
                continue
            order.append(oid)
            items[oid] = op
            ns = created_ns(op)
            if ns is not None:
                created[oid] = ns
        return cls(w, order, items, created)

    # computed once: a snapshot is never changed after ``of``, and with 5,000 operations a
    # run asked for these hundreds of times (docs/performance.md, latency table)
    @cached_property
    def newest(self) -> int | None:
        return max(self.created.values(), default=None)

    @cached_property
    def chronological(self) -> tuple[str, ...]:
        """Ids oldest first (ties by id), whatever the target's own order."""
        return tuple(sorted(self.created, key=lambda i: (self.created[i], i)))

    def near_expiry(self, oid: str) -> bool:
        ns = self.created.get(oid)
        return ns is not None and ns < self.taken_ns - RETENTION_NS + EXPIRY_MARGIN_NS

    def closed(self, q: Query) -> bool:
        """True when ``q`` is a closed window in the past (CONTRACT.md section 4): both bounds
        set, the end no later than the newest createdAt seen (so nothing can arrive in it) and
        the start clear of the 7-day edge (so nothing ages out of it during the run)."""
        start, end, newest = q.start_ns, q.end_ns, self.newest
        return (
            start is not None
            and end is not None
            and newest is not None
            and end <= newest
            and start >= self.taken_ns - RETENTION_NS + EXPIRY_MARGIN_NS
        )

    def expected(self, q: Query) -> tuple[list[str], set[str]]:
        """Ids the walk must return (in the reference order) and ids it may return (at a
        bound, or about to age out)."""
        if q in self._expected:
            return self._expected[q]
        required, optional = [], set()
        for oid in self.order:
            ok = q.admits(self.items[oid], self.created.get(oid))
            if ok is None or (ok and self.near_expiry(oid)):
                optional.add(oid)
            elif ok:
                required.append(oid)
        self._expected[q] = (required, optional)
        return required, optional

    def count(self, q: Query) -> int:
        required, optional = self.expected(q)
        return len(required) + len(optional)


def fingerprint(op: dict[str, Any]) -> tuple[Any, Any]:
    return op.get("status"), op.get("updatedAt")


def volatile(
    ref: Snapshot, seen: dict[str, dict[str, Any]], later: Snapshot | None = None
) -> set[str]:
    """Ids that live data explains (section 4): arrived after the reference, changed or
    vanished while the comparison ran, or near the retention edge."""
    newest = ref.newest
    out = set()
    for oid, op in seen.items():
        if oid in ref.items:
            if fingerprint(op) != fingerprint(ref.items[oid]):
                out.add(oid)
        else:
            ns = created_ns(op)
            if newest is None or ns is None or ns > newest:
                out.add(oid)
            elif later is not None and oid in later.items:
                out.add(oid)  # appeared in the fresh reference too: backdated or late-indexed
    if later is not None:
        for oid, op in ref.items.items():
            if oid not in later.items or fingerprint(later.items[oid]) != fingerprint(op):
                out.add(oid)
    out.update(oid for oid in ref.items if ref.near_expiry(oid))
    return out


# ---- findings ------------------------------------------------------------------------------------
class Findings:
    """Collects a check's findings; advisory or downgraded ones go to the ledger at once."""

    def __init__(self, ledger: Ledger, evidence: Iterable[str] = ()) -> None:
        self.ledger = ledger
        self.evidence = tuple(evidence)
        self.items: list[Finding] = []

    def add(self, clause: str, message: str, *, evidence: Iterable[str] | None = None) -> None:
        if not self.ledger.wants(clause):
            return  # outside a --clause selection: never fail a test for it (as Verdict.fail)
        f = Finding(clause, message, tuple(evidence) if evidence is not None else self.evidence)
        if not self.ledger.fails_run(f):
            self.ledger.record(f)
        elif all((g.clause, g.message) != (f.clause, f.message) for g in self.items):
            self.items.append(f)

    def observe(self, *clauses: str) -> None:
        for clause in clauses:
            self.ledger.observe(clause)

    def lack(self, clause: str, reason: str) -> None:
        self.ledger.lack(clause, reason)

    def extend(self, findings: Iterable[Finding]) -> None:
        for f in findings:
            if not self.ledger.fails_run(f):
                self.ledger.record(f)
            elif all((g.clause, g.message) != (f.clause, f.message) for g in self.items):
                self.items.append(f)  # as found: keeps its structured exchange

    def __bool__(self) -> bool:
        return bool(self.items)


def raise_findings(session: Any, findings: Sequence[Finding]) -> None:
    """Fail with every finding (of the clauses the run selected), each with a replay command
    for its clause."""
    findings = [f for f in findings if session.ledger.wants(f.clause)]
    if findings:
        raise ClauseViolations(
            replace(f, evidence=(*f.evidence, "replay: " + session.suite_command(f.clause)))
            for f in findings
        )


def fail_unfinished(session: Any, w: Walk, q: Query) -> None:
    """A walk that could not finish: fail with the clause of what stopped it (NO-5XX, the
    broken page's ENVELOPE/CT..., a cycle); never go on comparing a partial walk."""
    found = check_walk(session.ledger, w, q, None, get=session.get, schema=False)
    if not found:  # its clause downgraded or outside a --clause selection
        found = [Finding("WALK-EXACTLY-ONCE", f"the walk stopped: {w.stopped}", ())]
    transcript = tuple(w.transcript())
    raise_findings(session, [replace(f, evidence=f.evidence or transcript) for f in found])


def effective_sizes(w: Walk) -> list[int]:
    """The page size each page must honour: the one sent, else the one its token carries
    (the previous request's), else the default 50."""
    out: list[int] = []
    for i, size in enumerate(w.sizes):
        out.append(size if size is not None else (out[i - 1] if i else 50))
    return out


def marker_name(marker: Any) -> str:
    if marker is ABSENT:
        return "absent"
    if marker is None:
        return "null"
    return repr(marker)


def check_walk(
    ledger: Ledger,
    w: Walk,
    q: Query,
    ref: Snapshot | None,
    *,
    later: Snapshot | None = None,
    get: GetPage | None = None,
    strict: bool = False,
    validated: int = 0,
    schema: bool = True,
) -> list[Finding]:
    """Every whole-walk clause for one walk of query ``q``; returns run-failing findings.

    The first ``validated`` pages skip the per-response checks (a stepped walk has checked
    them already); ``schema=False`` keeps only the cheap ones (content type, ids unique in
    the page, dates, the "" marker): hypothesis runs and shrinks walks by the hundred, and
    schema validation is most of a check's cost (the fixed walks validate every page).

    ``get`` lets a suspected gap in a filtered walk be told apart (one pageSize=1000 page of
    the same filters: pagination lost it, or the filter did), and a rejected token retried
    without the resent filters (TOKEN-FILTERS)."""
    out = Findings(ledger, w.transcript())
    for ex in w.exchanges[validated : len(w.pages)]:
        v = Verdict(ledger, ex)
        if schema:
            check_list_page(v, ex, strict=strict)
        else:
            light_page_check(v, ex)
        out.extend(v.failing)
    _check_stop(out, w, get)
    _check_sizes(out, ledger, w)
    _check_duplicates(out, w)
    if q.filtered and w.items:
        out.observe("FILTER-SOUND")
    elif q.filtered:
        out.lack("FILTER-SOUND", too_few("a filtered walk with no operation to check", 1, 0))
    if q.filtered and not all(w.resent) and len(w.pages) > 1:
        out.observe("TOKEN-FILTERS")  # pages reached by a token alone stayed filtered
    for i, page in enumerate(w.pages):
        bad = [op for op in page if q.admits(op) is False]
        if bad:
            op = bad[0]
            where = "reached by token" if w.tokens[i] else "the first page"
            out.add(
                "FILTER-SOUND",
                f"page {i + 1} ({where}) returned {len(bad)} operation(s) outside "
                f"{q.describe()}, e.g. {field_text(op, 'id')} status {field_text(op, 'status')} "
                f"createdAt {field_text(op, 'createdAt')}",
            )
    if ref is not None and w.complete:
        _compare(out, w, q, ref, later, get)
    return out.items


def light_page_check(v: Verdict, ex: Exchange) -> None:
    """The per-page checks a walk needs without JSON Schema validation."""
    if media_type(ex) != "application/json":
        v.fail("CT", f"200 answered with Content-Type {ex.content_type or '(none)'!r}")
    try:
        body = ex.json()
        ops = [o for o in body["operations"] if isinstance(o, dict)]
        pagination = body["pagination"]
    except (ValueError, KeyError, TypeError):
        v.fail("ENVELOPE", f"200 body is not the list envelope: {ex.snippet(120)!r}")
        return
    check_operations(v, ops)
    if isinstance(pagination, dict) and pagination.get("next") == "":
        v.fail("LAST-PAGE", 'next is "" (an empty string): use null or leave it out', advisory=True)


def _check_stop(out: Findings, w: Walk, get: GetPage | None) -> None:
    k = len(w.exchanges)
    if w.stopped == "error":
        ex = w.exchanges[-1]
        if ex.status >= 500:
            out.add("NO-5XX", f"page {k} of the walk answered {ex.status}")
        elif k == 1:
            names = sorted({PARAM_CLAUSE[n] for n, _ in ex.params if n in PARAM_CLAUSE})
            for clause in names or ["ENVELOPE"]:
                out.add(clause, f"the first page of a valid query answered {ex.status}")
        else:
            token = w.tokens[-1]
            retry = None
            if get is not None and w.resent[-1] and w.filters and token is not None:
                size = [("pageSize", str(w.sizes[-1]))] if w.sizes[-1] is not None else []
                retry = get([*size, ("pageToken", token)])
            if retry is not None and retry.status == 200:
                out.add(
                    "TOKEN-FILTERS",
                    f"page {k}: the walk's filters resent with its token got {ex.status}; "
                    "the token alone got 200 (both must give the same page)",
                    evidence=(*out.evidence, "token alone: " + retry.line()),
                )
            elif token is not None and MASK in token:
                # the token carried the credentials: masked as it arrived (AUTH's notice), so
                # what the walk sent back was not what the server wrote
                out.add(
                    "WALK-EXACTLY-ONCE",
                    f"page {k}: the previous page's next token held the credentials, masked as "
                    f"it arrived; the server answered {ex.status} to the masked token and the "
                    "walk could not finish (a page token must not carry the auth token)",
                )
            else:
                out.add(
                    "WALK-EXACTLY-ONCE",
                    f"page {k}: the server answered {ex.status} to its own next token; "
                    "the walk could not finish",
                )
    elif w.stopped == "bad-body":
        # the page is no list envelope (or its next is no string): its own clause, not a gap
        fault = answer_fault(out.ledger, w.exchanges[-1])
        if fault is not None:
            out.add(fault.clause, f"page {k} of the walk: {fault.message}")
    elif w.stopped == "repeated-token":
        out.add(
            "WALK-EXACTLY-ONCE",
            f"page {len(w.pages)}'s next repeats a token of an earlier page (a cycle); "
            "the walker stopped instead of looping",
        )
    elif w.stopped == "too-many-pages":
        # the cap counts pages of the size asked: pages held short (a server that ignores
        # pageSize) exceed it on a walk that was going fine, and that fault is FULL-PAGES'
        # (SIZE-DEFAULT's without a pageSize), already charged page by page (breaker,
        # 2026-11-30: IgnoresPageSize failed WALK-EXACTLY-ONCE too)
        sizes = effective_sizes(w)
        short = next((i for i, page in enumerate(w.pages) if len(page) < sizes[i]), None)
        if short is None:
            out.add(
                "WALK-EXACTLY-ONCE",
                f"still a next after {len(w.pages)} pages ({len(w.items)} items): more pages "
                "than the result can need; the walker stopped",
            )
        else:
            clause = "SIZE-DEFAULT" if all(s is None for s in w.sizes) else "FULL-PAGES"
            out.add(
                clause,
                f"the walker stopped after {len(w.pages)} pages ({len(w.items)} items): pages "
                f"held short (page {short + 1}: {len(w.pages[short])} operations for "
                f"{sizes[short]}) need more pages than the result can fill at the size asked",
            )


def _check_sizes(out: Findings, ledger: Ledger, w: Walk) -> None:
    sizes = effective_sizes(w)
    clause = "SIZE-DEFAULT" if all(s is None for s in w.sizes) else "FULL-PAGES"
    for i, page in enumerate(w.pages):
        n, want = len(page), sizes[i]
        marker = w.markers[i]
        has_next = isinstance(marker, str) and marker != "" and marker is not ABSENT
        if has_next or n > want:
            out.observe(clause)  # a page that is not the last is held to its size
        sent = f"pageSize={want}" if w.sizes[i] is not None else f"the default {want}"
        if n > want:
            out.add(clause, f"page {i + 1} holds {n} operations, more than {sent}")
        elif has_next and n != want:
            out.add(clause, f"page {i + 1} holds {n} operations with {sent} but is not the last")
    if w.complete and len(w.pages) == 1 and len(w.pages[0]) <= sizes[0]:
        out.lack(
            clause,
            too_few(
                f"the walk fit one page of {sizes[0]}: no page but the last to hold full",
                sizes[0] + 1,
                len(w.pages[0]),
            ),
        )
    if w.complete and w.pages:
        out.observe("LAST-PAGE")
        last = len(w.pages) - 1
        if last > 0 and not w.pages[last]:
            out.add(
                "LAST-PAGE",
                f"page {last}'s next led to an empty page {last + 1}: on the last page next "
                "must be absent or null",
            )
        ledger.note(
            "LAST-PAGE", f"the last page ends the walk with next {marker_name(w.markers[-1])}"
        )


def _check_duplicates(out: Findings, w: Walk) -> None:
    where: dict[str, list[int]] = {}
    for i, page in enumerate(w.pages):
        for op in page:
            where.setdefault(str(op.get("id")), []).append(i + 1)
    if len(where) >= 2 or len(w.items) >= 2:
        out.observe("IDS-UNIQUE")
    else:
        out.lack("IDS-UNIQUE", too_few("a walk with no pair of ids to compare", 2, len(w.items)))
    dupes = {oid: pages for oid, pages in where.items() if len(pages) > 1}
    across = {oid: p for oid, p in dupes.items() if len(set(p)) > 1}
    if across:
        oid, pages = next(iter(across.items()))
        msg = (
            f"{len(across)} operation(s) returned twice in one walk, e.g. {oid} on pages "
            f"{', '.join(map(str, pages))}"
        )
        out.add("WALK-EXACTLY-ONCE", msg)
        out.add("IDS-UNIQUE", msg)


def _compare(
    out: Findings,
    w: Walk,
    q: Query,
    ref: Snapshot,
    later: Snapshot | None,
    get: GetPage | None,
) -> None:
    seen: dict[str, dict[str, Any]] = {}
    for op in w.items:
        seen.setdefault(str(op.get("id")), op)
    exempt = volatile(ref, seen, later)
    required, optional = ref.expected(q)
    _observe_compare(out, q, ref, required, seen)
    _note_bounds(out.ledger, q, ref, seen)
    missing = [oid for oid in required if oid not in seen and oid not in exempt]
    if missing:
        probe = _probe(get, q) if q.filtered and get is not None else None
        lost = (
            [oid for oid in missing if probe is not None and oid in probe]
            if q.filtered
            else missing
        )
        dropped = [oid for oid in missing if oid not in lost]
        for clause, ids, why in (
            ("WALK-EXACTLY-ONCE", lost, "never appeared in the walk (a gap)"),
            ("FILTER-COMPLETE", dropped, f"match {q.describe()} but the filtered walk lacks them"),
        ):
            if ids:
                op = ref.items[ids[0]]
                out.add(
                    clause,
                    f"{len(ids)} of {len(required)} operation(s) of the reference walk "
                    f"{why}, e.g. {ids[0]} createdAt {op.get('createdAt')} "
                    f"(position {required.index(ids[0]) + 1})",
                )
    extra = [
        oid
        for oid, op in seen.items()
        if oid not in ref.items and oid not in exempt and q.admits(op) is not False
    ]
    if extra:
        op = seen[extra[0]]
        out.add(
            "WALK-EXACTLY-ONCE",
            f"the walk returned {len(extra)} operation(s) the reference walk (pageSize=1000) "
            f"never did, e.g. {extra[0]} createdAt {op.get('createdAt')}: one of the two "
            "walks skipped them",
        )
    common = [oid for oid in seen if oid in ref.items and oid not in exempt and oid not in optional]
    keep = set(common)
    want = [oid for oid in ref.order if oid in keep]
    if common != want:
        k = next(i for i, (a, b) in enumerate(zip(common, want, strict=True)) if a != b)
        out.add(
            "WALK-ORDER",
            f"the walk's sequence differs from the reference walk (pageSize=1000) at position "
            f"{k + 1}: {common[k]} (createdAt {seen[common[k]].get('createdAt')}) where the "
            f"reference has {want[k]} (createdAt {ref.items[want[k]].get('createdAt')})",
        )


def _observe_compare(
    out: Findings, q: Query, ref: Snapshot, required: list[str], seen: dict[str, Any]
) -> None:
    """What the comparison with the reference can show (CONTRACT.md section 4: a clause
    without enough data is skipped with its reason): a gap, a duplicate or an order needs
    two operations; completeness needs a filter that keeps some operations and drops some."""
    n = max(len(required), len(seen))
    if n >= 2:
        out.observe("WALK-EXACTLY-ONCE", "WALK-ORDER")
    else:
        for clause, what in (
            ("WALK-EXACTLY-ONCE", "a walk that cannot show a gap or a duplicate"),
            ("WALK-ORDER", "a walk with no order to compare"),
        ):
            out.lack(clause, too_few(what, 2, n))
    if q.filtered:
        dropped = sum(
            1 for oid in ref.order if q.admits(ref.items[oid], ref.created.get(oid)) is False
        )
        if required and dropped:
            out.observe("FILTER-COMPLETE")
        else:
            out.lack(
                "FILTER-COMPLETE",
                f"the filter {q.describe()} kept {len(required)} and dropped {dropped} of "
                f"{len(ref.order)} operation(s): completeness needs at least one of each",
            )


def _note_bounds(ledger: Ledger, q: Query, ref: Snapshot, seen: dict[str, Any]) -> None:
    """Record whether items exactly at a date bound were in or out (FREE: FILTER-COMPLETE)."""
    for name, bound in (("startDate", q.start_ns), ("endDate", q.end_ns)):
        if bound is None:
            continue
        at = [
            oid
            for oid, ns in ref.created.items()
            if ns == bound and (q.status is None or ref.items[oid].get("status") == q.status)
        ]
        if at:
            how = "included" if any(oid in seen for oid in at) else "left out"
            ledger.note("FILTER-COMPLETE", f"seen: items exactly at {name} {how} (FREE)")


def _probe(get: GetPage, q: Query) -> set[str] | None:
    """The filtered result as one pageSize=1000 page, or None if it needs more pages."""
    ex = get([*q.params(), ("pageSize", "1000")])
    ops = page_ids(ex)
    if ops is None:
        return None
    nxt = page_pagination(ex).get("next")
    return None if nxt else set(ops)


def page_ids(ex: Exchange) -> list[str] | None:
    """The ids of a usable list page in order, None for anything else (``answer_fault``
    says why)."""
    ops = page_operations(ex)
    return None if ops is None else [str(o.get("id")) for o in ops if isinstance(o, dict)]


# ---- live data: observe twice before failing -------------------------------------------------
# a reference older than this many requests (or 20 times its own cost, on a big target) is
# taken again: on a live target the list grows while the run goes on, and page caps, windows
# and expectations must follow it (section 4); the refresh costs a few percent of the requests
STALE_AFTER = 200


def reference(session: Any, *, refresh: bool = False) -> Snapshot:
    """The reference walk as a Snapshot, taken again when stale (see ``STALE_AFTER``); a
    reference walk that cannot finish fails at once (after a second try), since nothing can
    be compared with it."""
    cached = _SNAPSHOTS.get(session)
    if cached is not None and not refresh:
        age = session.checked_requests - cached[1].requests_at
        refresh = age > max(STALE_AFTER, 20 * len(cached[0].exchanges))
    w = session.reference_walk(refresh=refresh)
    if not w.complete:
        w = session.reference_walk(refresh=True)
        if not w.complete:
            fail_unfinished(session, w, Query())
    cached = _SNAPSHOTS.get(session)
    if cached is None or cached[0] is not w:
        snap = Snapshot.of(w)
        snap.requests_at = session.checked_requests
        cached = _SNAPSHOTS[session] = (w, snap)
    return cached[1]


_SNAPSHOTS: weakref.WeakKeyDictionary[Any, tuple[Walk, Snapshot]] = weakref.WeakKeyDictionary()


Attempt = Callable[[Snapshot, bool], list[Finding]]
# clauses whose violation a second observation has confirmed, per session: while hypothesis
# shrinks a confirmed failure, the smaller walks need not be observed twice again
_CONFIRMED: weakref.WeakKeyDictionary[Any, set[str]] = weakref.WeakKeyDictionary()


def observe(session: Any, attempt: Attempt) -> None:
    """Run ``attempt(reference, confirming)``; if it finds anything, take a fresh reference
    and run it again (``confirming=True``: it should take a post-walk snapshot too). Only a
    finding that repeats fails the run; one that does not is noted as live data."""
    first = attempt(reference(session), False)
    if not first:
        return
    confirmed = _CONFIRMED.setdefault(session, set())
    if all(f.clause in confirmed for f in first):
        raise_findings(session, first)  # already seen twice this run: hypothesis is shrinking
    second = attempt(reference(session, refresh=True), True)
    confirmed.update(f.clause for f in second)
    if second:
        raise_findings(session, second)
    for clause in sorted({f.clause for f in first}):
        session.ledger.note(
            clause, "a suspected violation did not repeat on a second observation (live data)"
        )


def walk_check(
    session: Any,
    q: Query,
    run: Callable[[], Walk],
    *,
    schema: bool = True,
    validated: int = 0,
) -> None:
    """Walk with ``run`` and judge the walk against the reference, confirming findings
    (``validated``: pages of the first walk already checked one by one)."""
    skip = [validated]

    def attempt(ref: Snapshot, confirming: bool) -> list[Finding]:
        w = run()
        later = reference(session, refresh=True) if confirming else None
        done, skip[0] = skip[0], 0
        return check_walk(
            session.ledger,
            w,
            q,
            ref,
            later=later,
            get=session.get,
            strict=session.strict,
            validated=done,
            schema=schema,
        )

    observe(session, attempt)


def same_page(
    session: Any,
    clause: str,
    what: str,
    first: Exchange,
    again: Callable[[], Exchange],
    original: Callable[[], Exchange],
    *,
    closed: bool = False,
) -> Finding | None:
    """``again()`` must return the ids of ``first``. A difference is confirmed by fetching
    both again: if ``original()`` and ``again()`` now agree, live data moved the page.

    ``closed``: the page lies in a closed window in the past (``Snapshot.closed``), where live
    data explains nothing (CONTRACT.md section 4): a difference fails even when the repeat
    does not show it again, reported as intermittent."""
    b = again()
    fault = page_fault(session, what, first, b)
    if fault is not None:
        return fault
    if b.status != 200:
        return Finding(
            clause,
            f"{what} answered {b.status}, not the page",
            (b.line(), "the page it repeats: " + first.line()),  # the failing request first
        )
    a_ids, b_ids = page_ids(first), page_ids(b)
    session.ledger.observe(clause)
    if a_ids == b_ids:
        return None
    # confirm: fetched again back to back, the two must still differ, also against one
    # more repetition (a live change between two requests cannot explain both)
    b2, a2 = again(), original()
    fault = page_fault(session, what, b2, a2)
    if fault is not None:
        return fault
    a2_ids = page_ids(a2)
    if a2_ids is not None and a2_ids == page_ids(b2):
        return _not_repeated(session, clause, what, closed, first, b, a_ids, b_ids)
    b3 = again()
    fault = page_fault(session, what, b3)
    if fault is not None:
        return fault
    if a2_ids is not None and a2_ids == page_ids(b3):
        return _not_repeated(session, clause, what, closed, first, b, a_ids, b_ids)
    b_ids = page_ids(b3)
    shown = ", ".join((b_ids or [])[:3])
    return Finding(
        clause,
        f"{what} returned different ids: {len(a_ids or [])} first ({', '.join((a_ids or [])[:3])}"
        f"...), then {len(b_ids or [])} ({shown}...), also when repeated",
        (
            "original: " + first.line(),
            "again:    " + b.line(),
            "again:    " + b2.line(),
            "original: " + a2.line(),
            "again:    " + b3.line(),
        ),
    )


def page_fault(session: Any, what: str, *answers: Exchange) -> Finding | None:
    """The first of ``answers`` that is no usable page (a 5xx, a broken 200), as a finding of
    its own clause: a comparison cannot charge it to the clause it compares."""
    for ex in answers:
        fault = answer_fault(session.ledger, ex, strict=session.strict)
        if fault is not None:
            return replace(fault, message=f"{what}: {fault.message}")
    return None


def _not_repeated(
    session: Any,
    clause: str,
    what: str,
    closed: bool,
    first: Exchange,
    b: Exchange,
    a_ids: list[str] | None,
    b_ids: list[str] | None,
) -> Finding | None:
    """A difference the repeat did not show: live data in an open window (a note), an
    intermittent fault in a closed past window (a finding)."""
    if not closed:
        session.ledger.note(clause, f"{what}: a difference did not repeat (live data)")
        return None
    return Finding(
        clause,
        f"{what} returned different ids inside a closed past window: {len(a_ids or [])} first "
        f"({', '.join((a_ids or [])[:3])}...), then {len(b_ids or [])} "
        f"({', '.join((b_ids or [])[:3])}...); intermittent (a repeat agreed), but live data "
        "cannot explain a closed past window",
        ("original: " + first.line(), "again:    " + b.line()),
    )


# ---- choosing what to walk within a request budget -------------------------------------------
def tie_groups(ref: Snapshot) -> list[list[str]]:
    """Groups of ids sharing one createdAt, largest first."""
    groups: dict[int, list[str]] = {}
    for oid in ref.chronological:
        groups.setdefault(ref.created[oid], []).append(oid)
    return sorted((g for g in groups.values() if len(g) > 1), key=len, reverse=True)


def window(ref: Snapshot, count: int, *, offset_minutes: int = 0) -> Query:
    """A closed window in the past holding about ``count`` operations, centred on the
    largest group of createdAt ties (so small pages straddle them); bounds are observed
    createdAt values, so the items at the bounds are FREE and the others fixed."""
    chron = [oid for oid in ref.chronological if not ref.near_expiry(oid)]
    if not chron:
        return Query()
    groups = [g for g in tie_groups(ref) if not ref.near_expiry(g[0])]
    centre = chron.index(groups[0][0]) + len(groups[0]) // 2 if groups else len(chron) // 2
    lo = max(0, centre - count // 2 - 1)
    hi = min(len(chron) - 1, lo + count + 1)
    lo = max(0, hi - count - 1)
    start, end = ref.created[chron[lo]], ref.created[chron[hi]]
    return Query(
        start=write_instant(start, offset_minutes, 9 if start % SECOND else None),
        end=write_instant(end, offset_minutes, 9 if end % SECOND else None),
    )


def walk_guard(ref: Snapshot, q: Query, sizes: Iterable[int | None]) -> int:
    """The walker's loop guard for a walk of ``q``: twice the pages the reference needs,
    plus room, so arrivals on a live target never trip it; only a walk that keeps going
    (a cycle through fresh tokens, endless empty pages) does. Compute it when the walk
    starts, from ``reference(session)``: a cap taken from an old reference falls behind a
    list that grows (a confirming re-walk takes a fresh reference, hence a fresh cap)."""
    return pages_needed(2 * ref.count(q) + 20, sizes) + 2


def walk_plan(ref: Snapshot, size: int, max_pages: int) -> Query:
    """The unfiltered list if it fits in ``max_pages`` pages of ``size``, else a window."""
    if len(ref.order) <= size * max_pages:
        return Query()
    return window(ref, max(2 * size + 1, size * max_pages - 2))
