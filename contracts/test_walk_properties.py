"""Hypothesis properties over whole walks: page sizes (1, 2, 3, 7, 50, 1000, mixed within one
walk), filter combinations and date bounds drawn from observed createdAt values (written
with Z, numeric offsets and fractional seconds), and a state machine whose steps fetch the
next page, re-fetch self, reuse tokens, drop the resent filters and tamper with a token.

Every drawn walk fits the profile's page budget (``property_pages``); hypothesis shrinks a
failure to the smallest walk, whose transcript and replay command the report prints.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from itertools import chain, repeat
from typing import ClassVar, TypeVar

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from hypothesis.errors import FlakyStrategyDefinition
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    rule,
    run_state_machine_as_test,
)

from comms_contract import STATUSES
from comms_contract.judge import judge
from comms_contract.ledger import ClauseViolations, Finding
from comms_contract.session import current
from comms_contract.walker import Walk, pages_needed, start, step, walk
from comms_contract.walks import (
    OFFSETS,
    SIZES,
    Query,
    Snapshot,
    check_walk,
    exact_digits,
    page_ids,
    raise_findings,
    reference,
    same_page,
    walk_check,
    walk_guard,
    window,
    write_instant,
)

RUN = current()
T = TypeVar("T")
SETTINGS = settings(
    max_examples=RUN.profile.walk_examples,
    database=None,
    deadline=None,
    derandomize=False,
    # no explain phase: it traces every line of the failing walk (minutes for a long walk)
    # no shrinking against a remote target outside the thorough profile (see session.shrink)
    phases=[Phase.explicit, Phase.reuse, Phase.generate, Phase.target]
    + ([Phase.shrink] if RUN.shrink else []),
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


def pick(draw: st.DrawFn, options: Sequence[T], label: str) -> T:
    """One of ``options``, drawn so that the draw does not depend on how many there are: a
    live target changes the data between runs, and hypothesis needs replays to draw alike."""
    return options[draw(st.integers(0, 1 << 16), label=label) % len(options)]


def spelled(draw: st.DrawFn, ns: int) -> str:
    """``ns`` written exactly, with Z or a numeric offset and some fraction length."""
    offset = draw(st.sampled_from(OFFSETS), label="offset minutes")
    digits = pick(draw, exact_digits(ns), "fraction digits")
    text = write_instant(ns, offset, digits)
    if offset == 0 and draw(st.booleans(), label="+00:00 for Z"):
        text = text[:-1] + "+00:00"
    return text


@st.composite
def queries(draw: st.DrawFn, ref: Snapshot) -> Query:
    """A filter combination: a status or none, and date bounds at or next to observed
    createdAt values (+-1 ns, +-1 ms), either, both or neither."""
    chron = ref.chronological
    status = draw(st.sampled_from([None, *STATUSES]), label="status")
    kind = draw(st.sampled_from(["none", "start", "end", "both"]), label="date bounds")
    if not chron or kind == "none":
        return Query(status=status)
    i, j = sorted((pick(draw, range(len(chron)), "bound"), pick(draw, range(len(chron)), "bound")))
    nudge = st.sampled_from([0, 0, 0, 1, -1, 1_000_000, -1_000_000])
    lo = ref.created[chron[i]] + draw(nudge, label="nudge (ns)")
    hi = max(lo, ref.created[chron[j]] + draw(nudge, label="nudge (ns)"))
    return Query(
        status=status,
        start=spelled(draw, lo) if kind in ("start", "both") else None,
        end=spelled(draw, hi) if kind in ("end", "both") else None,
    )


def machine_queries(ref: Snapshot) -> list[Query]:
    """The machine's few queries (the property draws arbitrary ones): none, the commonest
    status, a closed window around the createdAt ties (+05:30), and both together."""
    counts = {s: ref.count(Query(status=s)) for s in STATUSES}
    status = max(STATUSES, key=lambda s: counts[s])
    w = window(ref, max(6, min(len(ref.order) // 4, 40)), offset_minutes=330)
    return [Query(), Query(status=status), w, Query(status, w.start, w.end)]


def palette(ref: Snapshot, q: Query, max_pages: int) -> list[int]:
    """Page sizes whose walk of ``q`` fits ``max_pages`` pages."""
    n = max(1, ref.count(q))
    fits = [s for s in SIZES if math.ceil(n / s) <= max_pages]
    return fits or [1000]


def explicit_walks(ref: Snapshot, max_pages: int) -> list[tuple[Query, list[int], bool]]:
    """The property's explicit examples, walked under every seed before the drawn ones
    (``@example`` cannot supply ``st.data()`` draws): shapes no deterministic walk sends, where
    a known fault hides. A lone startDate (no endDate) that the client does not resend, at
    the smallest page size that fits: a token that keeps the date range only when both ends
    are given loses it, and its pages run past the bound."""
    chron = [oid for oid in ref.chronological if not ref.near_expiry(oid)]
    if len(chron) < 2:
        return []
    q = Query(start=write_instant(ref.created[chron[len(chron) // 2]], 330, 9))
    sizes = palette(ref, q, max_pages)
    return [(q, sizes[:1], False)]


def page_limit(ref: Snapshot, q: Query, sizes: list[int]) -> int:
    return walk_guard(ref, q, sizes)


def _reference_or_skip() -> Snapshot:
    ref = reference(RUN)
    if len(ref.order) < 2:
        pytest.skip(
            f"only {len(ref.order)} operation(s) in the reference walk: walk properties need 2"
        )
    return ref


@pytest.mark.clause(
    "WALK-EXACTLY-ONCE",
    "WALK-ORDER",
    "FULL-PAGES",
    "LAST-PAGE",
    "IDS-UNIQUE",
    "FILTER-SOUND",
    "FILTER-COMPLETE",
    "TOKEN-FILTERS",
)
@pytest.mark.ahead
def test_walk_property(comms):
    """Any filters, any page sizes (mixed in one walk), filters resent or not: the walk is
    exactly-once, in the reference order, sound and complete, with full pages."""
    ref = _reference_or_skip()

    def check(q: Query, sizes: list[int], resend: bool) -> None:
        params = q.params()
        if comms.planning:  # drawing the walks to send them ahead (session.plan_ahead)
            cap = page_limit(ref, q, sizes)
            cost = pages_needed(ref.count(q), sizes)
            comms.ahead_walk(params, sizes=sizes, resend_filters=resend, max_pages=cap, cost=cost)
            return
        walk_check(
            comms,
            q,
            lambda: comms.walk(
                params,
                sizes=sizes,
                resend_filters=resend,
                max_pages=page_limit(reference(comms), q, sizes),  # follows a growing list
            ),
            schema=False,
        )

    for q, sizes, resend in explicit_walks(ref, comms.profile.property_pages):
        check(q, sizes, resend)

    @SETTINGS
    @given(data=st.data())
    def prop(data: st.DataObject) -> None:
        q = data.draw(queries(ref), label="query")
        sizes = data.draw(
            st.lists(
                st.sampled_from(palette(ref, q, comms.profile.property_pages)),
                min_size=1,
                max_size=4,
            ),
            label="page sizes",
        )
        check(q, sizes, data.draw(st.booleans(), label="resend filters"))

    prop()


class WalkMachine(RuleBasedStateMachine):
    """A walk as a sequence of steps; every step's page is checked as it arrives, the whole
    walk (finished with pageSize=1000) at teardown.

    Rules never depend on the answers through preconditions or draw ranges (a step that does
    not apply is a no-op, indices are taken modulo), so a live target's changing data cannot
    make hypothesis' replays draw differently."""

    def __init__(self) -> None:
        super().__init__()
        self.comms = RUN
        self.ref: Snapshot | None = None
        self.q = Query()
        self.w: Walk = start()
        self.sizes: list[int] = [1000]
        self.resend = True
        self.checked = 0

    @initialize(data=st.data())
    def first_page(self, data: st.DataObject) -> None:
        ref = reference(self.comms)
        q = pick(data.draw, machine_queries(ref), "query")
        resend = data.draw(st.booleans(), label="resend filters")
        self.begin(ref, q, resend, data.draw(st.integers(0, len(SIZES) - 1), label="size"))

    def begin(self, ref: Snapshot, q: Query, resend: bool, choice: int) -> None:
        self.ref, self.q, self.resend = ref, q, resend
        self.sizes = palette(ref, q, self.comms.profile.property_pages)
        self.w = start(q.params())
        self._step(choice)

    @property
    def closed(self) -> bool:
        """The walk's query is a closed past window: no live-data excuse for a difference."""
        return self.ref is not None and self.ref.closed(self.q)

    def _step(self, choice: int, size: int | None = None) -> None:
        assert self.ref is not None
        step(
            self.comms.get,
            self.w,
            size=size or self.sizes[choice % len(self.sizes)],
            resend_filters=self.resend,
        )
        if not self.w.finished and len(self.w.pages) > page_limit(
            self.ref, self.q, [min(self.sizes)]
        ):
            self.w.stopped = "too-many-pages"

    # violations raised by any machine: when the target answers repeated steps differently
    # (state kept between requests, live data), hypothesis cannot replay the failure and
    # reports FlakyStrategyDefinition instead; the test then reports the violation it saw
    raised: ClassVar[list[ClauseViolations]] = []

    def _fail(self, findings: list[Finding]) -> None:
        with self._recording():
            raise_findings(
                self.comms,
                [
                    Finding(f.clause, f.message, (*f.evidence, *self.w.transcript()))
                    for f in findings
                ],
            )

    @contextmanager
    def _recording(self) -> Iterator[None]:
        try:
            yield
        except ClauseViolations as exc:
            WalkMachine.raised.append(exc)
            raise

    @rule(choice=st.integers(0, len(SIZES) - 1))
    def next_page(self, choice: int) -> None:
        if not self.w.finished:
            self._step(choice)

    @rule(index=st.integers(0, 1 << 16))
    def refetch_self(self, index: int) -> None:
        if not self.w.pages:
            return
        i = index % len(self.w.pages)
        token = self.w.selfs[i]
        if not isinstance(token, str) or not token:
            self._fail([Finding("SELF", f"page {i + 1} has no usable self ({token!r})")])
        size = [("pageSize", str(self.w.sizes[i]))] if self.w.sizes[i] is not None else []
        params = [*self.q.params(), *size, ("pageToken", str(token))]
        f = same_page(
            self.comms,
            "SELF",
            f"self of page {i + 1}",
            self.w.exchanges[i],
            lambda: self.comms.get(params),
            lambda: self.comms.get(self.w.params_for(i)),
            closed=self.closed,
        )
        if f:
            self._fail([f])

    @rule(index=st.integers(0, 1 << 16))
    def reuse_token(self, index: int) -> None:
        if len(self.w.pages) < 2:
            return
        i = 1 + index % (len(self.w.pages) - 1)
        f = same_page(
            self.comms,
            "TOKENS-REUSABLE",
            f"the token of page {i + 1} used again",
            self.w.exchanges[i],
            lambda: self.comms.get(self.w.params_for(i)),
            lambda: self.comms.get(self.w.params_for(i)),
            closed=self.closed,
        )
        if f:
            self._fail([f])

    @rule(index=st.integers(0, 1 << 16))
    def switch_filters(self, index: int) -> None:
        """The same token with the filters resent, or left out: the same page."""
        if len(self.w.pages) < 2 or not self.q.filtered:
            return
        i = 1 + index % (len(self.w.pages) - 1)
        size = [("pageSize", str(self.w.sizes[i]))] if self.w.sizes[i] is not None else []
        token = [("pageToken", str(self.w.tokens[i]))]
        other = size + token if self.w.resent[i] else [*self.q.params(), *size, *token]
        f = same_page(
            self.comms,
            "TOKEN-FILTERS",
            f"page {i + 1} with the filters {'left out' if self.w.resent[i] else 'resent'}",
            self.w.exchanges[i],
            lambda: self.comms.get(other),
            lambda: self.comms.get(self.w.params_for(i)),
        )
        if f:
            self._fail([f])

    @rule(index=st.integers(0, 1 << 16), at=st.integers(0, 1 << 16))
    def tamper(self, index: int, at: int) -> None:
        """An issued token with one character changed gets 4xx, never a (first) page."""
        tokens = [t for t in self.w.tokens if t]
        if not tokens:
            return
        token = tokens[index % len(tokens)]
        at %= len(token)
        forged = token[:at] + ("A" if token[at] != "A" else "B") + token[at + 1 :]
        if forged in self.comms.issued_tokens:
            return
        ex = self.comms.get([*self.q.params(), ("pageToken", forged)])
        if ex.status == 200:
            first = page_ids(self.w.exchanges[0])
            how = (
                "silently restarted at the first page" if page_ids(ex) == first else "answered 200"
            )
            self._fail(
                [
                    Finding(
                        "TOKEN-GARBAGE",
                        f"a token with character {at + 1} changed {how}",
                        (ex.line(),),
                    )
                ]
            )
        with self._recording():
            judge(self.comms, ex)

    @invariant()
    def pages_so_far(self) -> None:
        """Each new page: size, duplicates, filter soundness (the comparison is at the end)."""
        if self.ref is None or len(self.w.exchanges) == self.checked:
            return
        found = check_walk(
            self.comms.ledger,
            self.w,
            self.q,
            None,
            get=self.comms.get,
            strict=self.comms.strict,
            validated=self.checked,
            schema=False,
        )
        self.checked = len(self.w.exchanges)
        if found:
            self._fail(found)

    def teardown(self) -> None:
        if self.ref is None or not self.w.pages:
            return
        while not self.w.finished:
            self._step(0, size=1000)
        sizes = list(self.w.sizes)
        params, resend, q = self.q.params(), self.resend, self.q
        cap = max(len(sizes) + 2, page_limit(reference(self.comms), q, [s or 50 for s in sizes]))
        first = [self.w]

        def run() -> Walk:
            if first:
                return first.pop()
            return walk(
                self.comms.get,
                params,
                page_sizes=chain(sizes, repeat(1000)),
                resend_filters=resend,
                max_pages=cap,
            )

        with self._recording():
            walk_check(self.comms, q, run, schema=False, validated=self.checked)


def explicit_machine(ref: Snapshot) -> None:
    """The machine's explicit example, run under every seed before the drawn ones (a state
    machine takes no ``@example``): the commonest status walked without resending the filters,
    the first page at the smallest size that fits and the next at the following one (a page
    size changed mid-walk, the filters left to the token), then each step once: self, a reused
    token, the filters switched, a tampered token, and the walk finished at pageSize=1000."""
    m = WalkMachine()
    m.begin(ref, machine_queries(ref)[1], False, 0)
    steps = [
        lambda: m.next_page(1),
        lambda: m.refetch_self(0),
        lambda: m.reuse_token(1),
        lambda: m.switch_filters(0),
        lambda: m.next_page(2),
        lambda: m.tamper(0, 0),
    ]
    m.pages_so_far()
    for step_once in steps:
        step_once()
        m.pages_so_far()
    m.teardown()


@pytest.mark.sequential  # each step's request depends on the answer before
@pytest.mark.clause(
    "SELF",
    "TOKENS-REUSABLE",
    "TOKEN-GARBAGE",
    "WALK-EXACTLY-ONCE",
    "WALK-ORDER",
    "FULL-PAGES",
    "LAST-PAGE",
    "IDS-UNIQUE",
    "FILTER-SOUND",
    "FILTER-COMPLETE",
    "TOKEN-FILTERS",
)
def test_walk_machine(comms):
    ref = _reference_or_skip()
    WalkMachine.raised.clear()
    explicit_machine(ref)
    try:
        run_state_machine_as_test(
            WalkMachine,
            settings=settings(SETTINGS, stateful_step_count=comms.profile.walk_steps),
        )
    except FlakyStrategyDefinition as exc:
        if not WalkMachine.raised:
            raise
        note = (
            "(the target answered the same steps differently when hypothesis repeated them: "
            "state kept between requests, or live data; this is the first walk that failed)"
        )
        raise ClauseViolations(
            Finding(f.clause, f.message, (*f.evidence, note))
            for f in WalkMachine.raised[0].findings
        ) from exc
