"""FILTER-SOUND and FILTER-COMPLETE at the date bounds, aimed, not drawn.

The faults real servers have at a bound (a bound's fraction dropped, so ``...04.500Z`` is
read as ``...04Z``; createdAt stored as RFC 3339 text and compared as text, so ``...23.5Z``
sorts after ``...23.501Z``; an offset misapplied) show only when a bound falls within a
second of an item. Random draws land there under some seeds only, so these probes are built
from the target's own data, the same under every seed and in every profile: for a few
anchor items of the reference walk (a whole-second createdAt, a fractional one, the newest;
in ci and thorough also the largest group of createdAt ties and the oldest) each probe puts
a bound exactly at the anchor's instant, 1 ms and 0.5 s on either side of it.

Bounds are written with 0, 3, 6 or 9 fraction digits, in ``Z`` and in offsets east and west
of UTC, in rotation (the fewest digits that still write the bound exactly). Every probe is a
closed window no wider than 2 s, one request for a pageSize=1000 page, judged against the
reference walk with the contract's 1 ms FREE band (``comms_contract.bounds``): an item less
than 1 ms from a bound may be in or out, 1 ms or more outside must be out (FILTER-SOUND),
1 ms or more inside must be in (FILTER-COMPLETE).
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from comms_contract.http import Exchange
from comms_contract.judge import judge
from comms_contract.ledger import ClauseViolations, Finding
from comms_contract.session import current
from comms_contract.walker import Walk, walk
from comms_contract.walks import (
    SECOND,
    Query,
    Snapshot,
    page_ids,
    raise_findings,
    reference,
    tie_groups,
    walk_check,
    walk_guard,
    write_instant,
)

RUN = current()
MS = 1_000_000
HALF = SECOND // 2

# (start, end) of each probe window relative to the anchor instant t, and what the contract
# says of the anchor item in it
WINDOWS: dict[str, tuple[int, int]] = {
    "startDate exactly at t (FREE)": (0, SECOND),
    "endDate exactly at t (FREE)": (-SECOND, 0),
    "t 1 ms inside both bounds (in)": (-MS, MS),
    "t 0.5 s inside both bounds (in)": (-HALF, HALF),
    "t 1 ms before startDate (out)": (MS, SECOND),
    "t 1 ms after endDate (out)": (-SECOND, -MS),
    "t 0.5 s before startDate (out)": (HALF, SECOND + HALF),
    "t 0.5 s after endDate (out)": (-SECOND - HALF, -HALF),
}

# (offset minutes, fraction digits) in rotation: Z, east and west of UTC, 0/3/6/9 digits
SPELLINGS = [
    (0, 0),
    (330, 3),
    (-480, 6),
    (0, 9),
    (345, 0),
    (-210, 3),
    (0, 6),
    (840, 9),
    (-720, 0),
    (0, 3),
    (60, 6),
    (-59, 9),
]

ANCHORS = ["whole second", "fraction", "newest"]
if RUN.profile.name != "quick":
    ANCHORS += ["ties", "oldest"]


@dataclass(frozen=True)
class Probe:
    """One window around an anchor instant, written on the wire as ``query``."""

    name: str
    anchor: int
    query: Query


def anchor_instant(ref: Snapshot, kind: str) -> int | None:
    """The anchor instant of ``kind`` in the target's data (None: the data has none).

    Items within an hour of the 7-day edge are never anchors: they may age out mid-run."""
    usable = [oid for oid in ref.chronological if not ref.near_expiry(oid)]
    if not usable:
        return None
    instants = [ref.created[oid] for oid in usable]
    groups = [g for g in tie_groups(ref) if not ref.near_expiry(g[0])]
    tie = ref.created[groups[0][0]] if groups else None
    if kind == "newest":
        return instants[-1]
    if kind == "oldest":
        return instants[0]
    if kind == "ties":
        return tie
    if kind == "whole second":  # not the ties' instant (its own anchor in ci and thorough)
        whole = sorted({t for t in instants if t % SECOND == 0 and t != tie})
        if not whole and tie is not None and tie % SECOND == 0:
            whole = [tie]
        return whole[len(whole) // 2] if whole else None
    # a fractional createdAt, preferably below half a second: a bound 0.5 s after it stays
    # inside the same second, where a dropped fraction or a text comparison goes wrong
    fractional = sorted({t for t in instants if t % SECOND})
    low = [t for t in fractional if t % SECOND < HALF - MS]
    pool = low or fractional
    return pool[len(pool) // 2] if pool else None


def spell(ns: int, spelling: int) -> str:
    """``ns`` exactly, in the offset of ``SPELLINGS[spelling]`` with at least its digits."""
    offset, digits = SPELLINGS[spelling % len(SPELLINGS)]
    exact = next(d for d in (0, 3, 6, 9) if d >= digits and ns % 10 ** (9 - d) == 0)
    return write_instant(ns, offset, exact)


def probes(ref: Snapshot, kind: str, first_spelling: int = 0) -> list[Probe]:
    """The windows around the ``kind`` anchor, each written in the next spelling."""
    t = anchor_instant(ref, kind)
    if t is None:
        return []
    out = []
    for k, (name, (lo, hi)) in enumerate(WINDOWS.items()):
        spelling = first_spelling + k
        q = Query(start=spell(t + lo, spelling), end=spell(t + hi, spelling))
        out.append(Probe(name, t, q))
    return out


def _anchor_ids(ref: Snapshot, t: int) -> list[str]:
    return [oid for oid in ref.order if ref.created.get(oid) == t]


def plan_ahead(comms, wanted) -> None:
    """Every probe window of the selected tests, sent ahead on idle lanes (lanes.py): each is
    one pageSize=1000 request whose query follows from the reference walk alone, so against a
    distant target the windows wait for their answers together, not one after another."""
    ref = reference(comms)
    for kind in wanted.values("test_bounds_around_an_item", "kind"):
        for probe in probes(ref, kind, ANCHORS.index(kind) * len(WINDOWS)):
            comms.ahead_get(_window_params(probe.query))
    if "test_offsets_around_an_item" in wanted:
        t = _offsets_anchor(ref)
        if t is not None:
            for minutes in (0, *OFFSETS):
                comms.ahead_get(_window_params(_offset_window(t, minutes)))


def _window_params(q: Query) -> list[tuple[str, str]]:
    """A probe window's request: the window and one page large enough for it."""
    return [*q.params(), ("pageSize", "1000")]


@pytest.mark.clause("FILTER-SOUND", "FILTER-COMPLETE", "DATE-FORMAT")
@pytest.mark.parametrize("kind", ANCHORS)
def test_bounds_around_an_item(comms, kind):
    """Windows with a bound at, 1 ms from and 0.5 s from an item's createdAt: every item
    1 ms or more outside is out, every item 1 ms or more inside is in."""
    ref = reference(comms)
    first = ANCHORS.index(kind) * len(WINDOWS)
    found = probes(ref, kind, first)
    if not found:
        pytest.skip(f"the reference walk ({len(ref.order)} operations) has no {kind} createdAt")
    failed: list[Finding] = []
    for probe in found:  # independent requests: every window is judged, then all findings
        q = probe.query
        params = _window_params(q)
        seen: list[Walk] = []

        def run(params=params, q=q, seen=seen) -> Walk:
            w = walk(comms.get, params, max_pages=walk_guard(ref, q, [1000]))
            seen.append(w)
            return w

        try:
            walk_check(comms, q, run)
        except ClauseViolations as exc:
            failed += [
                Finding(f.clause, f"{kind} anchor, {probe.name}: {f.message}", f.evidence)
                for f in exc.findings
            ]
            continue
        _note_inclusivity(comms, ref, probe, seen[-1])
    if failed:
        raise ClauseViolations(failed)


def _note_inclusivity(comms, ref: Snapshot, probe: Probe, w: Walk) -> None:
    """FREE: record whether an item exactly at a bound was in or out."""
    if "exactly" not in probe.name or not w.complete:
        return
    ids = _anchor_ids(ref, probe.anchor)
    if not ids:
        return
    side = probe.name.split()[0]
    got = set(w.ids)
    where = "in" if ids[0] in got else "out"
    comms.ledger.note("FILTER-COMPLETE", f"seen: an item exactly at {side} was {where}")


# offsets in minutes: east and west, whole and half hours, +05:45/+12:45, the extremes
OFFSETS = [330, -210, -570, 345, 765, -59, 840, -720, 1439, -1439]


def _offsets_anchor(ref: Snapshot) -> int | None:
    return anchor_instant(ref, "whole second") or anchor_instant(ref, "fraction")


def _offset_window(t: int, minutes: int) -> Query:
    """0.5 s on either side of ``t``, written with the offset ``minutes`` and 9 digits."""
    return Query(start=write_instant(t - HALF, minutes, 9), end=write_instant(t + HALF, minutes, 9))


@pytest.mark.clause("DATE-FORMAT", "FILTER-SOUND")
def test_offsets_around_an_item(comms):
    """A window 0.5 s on either side of an item, written with Z and then with offsets east
    and west of UTC (half hours, +05:45, +-23:59): every spelling names the same instants, so
    each must select what Z selects (DATE-FORMAT). An offset misapplied
    (sign on the hours only, ignored, read as local time) moves the window off the item,
    under every seed."""
    ref = reference(comms)
    t = _offsets_anchor(ref)
    if t is None:
        pytest.skip(f"the reference walk ({len(ref.order)} operations) has no usable createdAt")

    def fetch(minutes: int) -> tuple[Query, Exchange, list[str] | None]:
        q = _offset_window(t, minutes)
        ex = comms.get(_window_params(q))
        judge(comms, ex)  # 200 for a valid date, never 5xx, no item 1 ms outside
        return q, ex, page_ids(ex)

    base_q, base_ex, base = fetch(0)
    closed = ref.closed(base_q)  # else (the newest item's second) arrivals may join it
    comms.ledger.observe("DATE-FORMAT")
    failed = []
    for minutes in OFFSETS:
        q, ex, ids = fetch(minutes)
        if ids == base:
            continue
        if not closed and fetch(0)[2] == fetch(minutes)[2]:
            comms.ledger.note(
                "DATE-FORMAT", "offset spellings differed once, not twice (live data)"
            )
            continue
        failed.append(
            Finding(
                "DATE-FORMAT",
                f"the same 1 s window around an item selects {len(base or [])} operation(s) "
                f"written with Z but {len(ids or [])} written with {q.start[-6:]} (equal "
                "instants must give identical results)",
                (base_ex.line(), ex.line()),
            )
        )
    raise_findings(comms, failed)
