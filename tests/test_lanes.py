"""Concurrent lanes (lanes.py): one budget, one rate limit and one Retry-After pause for every
lane; AIMD concurrency; and the same verdict whatever the lane count.

The verdict test runs every faulty server (mutant) and legitimate variation in tests/
in-process, under the clauses and seeds its own test uses, once with one lane and once with
``LANES``: each clause's status (pass, fail, advisory, skipped) must be identical. In CI one
case of each kind of lane work runs (``IN_CI``); ``COMMS_SLOW=1`` (``tox -e slow``) runs
every core and pagination mutant and every variation.
"""

from __future__ import annotations

import os
import sys
import threading
import time
from collections.abc import Callable

import mutants_core
import mutants_pagination
import pytest
import test_core_variants
import test_pagination_variants
from harness import Outcome, run_against
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from comms_contract.lanes import LANE_SWITCH_INTERVAL, Ahead, Lanes
from comms_contract.ledger import BudgetExhausted
from comms_contract.server import ReferenceServer

LANES = 4


# ---- the shared pacing ----------------------------------------------------------------------
def spend(lanes: Lanes, threads: int, each: int) -> tuple[int, int]:
    """``threads`` threads each try ``each`` requests; returns (sent, refused by budget)."""
    sent, refused = [], []

    def work() -> None:
        for _ in range(each):
            try:
                with lanes.request():
                    sent.append(1)
            except BudgetExhausted:
                refused.append(1)

    pool = [threading.Thread(target=work) for _ in range(threads)]
    for t in pool:
        t.start()
    for t in pool:
        t.join()
    return len(sent), len(refused)


def test_budget_is_global_across_lanes() -> None:
    lanes = Lanes(8, max_requests=25)
    assert spend(lanes, threads=8, each=10) == (25, 55)
    assert lanes.sent == 25


def test_rate_limit_is_global_across_lanes() -> None:
    lanes = Lanes(8, rate_limit=200.0)
    start = time.monotonic()
    spend(lanes, threads=8, each=4)
    # 32 requests at 200/s: the last leaves 31 gaps of 5 ms after the first, whatever the lanes
    assert time.monotonic() - start >= 31 / 200 * 0.95


def test_retry_after_pauses_every_lane() -> None:
    slept: list[float] = []
    clock = [100.0]
    lanes = Lanes(4, sleep=slept.append, clock=lambda: clock[0])
    lanes.pause(2.5)
    with lanes.request():
        pass
    clock[0] += 1.0
    with lanes.request():
        pass
    assert slept == [2.5, 1.5]


def test_aimd_halves_on_throttling_and_grows_back_slowly() -> None:
    lanes = Lanes(8)
    lanes.answered(429)
    assert lanes.limit == 4
    lanes.answered(503)  # the same burst of refusals: counted once
    assert lanes.limit == 4
    for _ in range(4):
        lanes.answered(200)
    assert lanes.limit == 5  # one lane back per window of answers
    for _ in range(5):
        lanes.answered(429)
    assert lanes.limit == 2.5
    for _ in range(100):
        lanes.answered(200)
    assert lanes.limit == 8  # never beyond the lanes asked for
    one = Lanes(1)
    one.answered(429)
    assert one.limit == 1


def test_lanes_never_exceed_the_window() -> None:
    lanes = Lanes(6)
    lanes.answered(429)  # the window shrinks to 3 of the 6 lanes
    busy, peak = [0], [0]
    lock = threading.Lock()

    def work(_: int) -> None:
        with lanes.request():
            with lock:
                busy[0] += 1
                peak[0] = max(peak[0], busy[0])
            time.sleep(0.01)
            with lock:
                busy[0] -= 1

    lanes.map(work, range(24))
    lanes.close()
    assert peak[0] <= 3


def test_lanes_switch_threads_often_while_they_run_and_restore_the_interval() -> None:
    """A lane's answer must not wait 5 ms (the interpreter's default switch interval) for the
    lock the main thread holds while it checks pages: while lanes run, the interval is
    LANE_SWITCH_INTERVAL; it comes back when the last run's lanes close, and one lane (no
    threads) leaves it alone."""
    before = sys.getswitchinterval()
    one = Lanes(1)
    one.map(lambda x: x, range(3))
    assert sys.getswitchinterval() == before
    first, second = Lanes(4), Lanes(2)
    first.submit(lambda: None, background=True).result()
    assert sys.getswitchinterval() == min(before, LANE_SWITCH_INTERVAL)
    second.map(lambda x: x, range(3))
    first.close()  # another run's lanes still run
    assert sys.getswitchinterval() == min(before, LANE_SWITCH_INTERVAL)
    second.close()
    second.close()  # closing twice restores nothing twice
    assert sys.getswitchinterval() == before
    second.submit(lambda: None).result()  # work after the run is over: nothing to restore it
    assert sys.getswitchinterval() == before
    second.close()


def test_work_sent_ahead_is_taken_once_and_in_order_of_length() -> None:
    lanes = Lanes(2)
    ahead = Ahead(lanes)
    order: list[str] = []
    gate = threading.Event()
    ahead.plan("short", lambda: order.append("short") or "s", cost=1)
    ahead.plan("long", lambda: gate.wait(5) and (order.append("long") or "l"), cost=50)
    ahead.plan("short", lambda: order.append("short") or "s2", cost=1)
    assert ahead.start() == 3
    gate.set()
    assert ahead.take("long", lambda: "fetched") == "l"
    assert ahead.take("short", lambda: "fetched") in ("s", "s2", "fetched")
    assert ahead.take("short", lambda: "fetched") in ("s", "s2", "fetched")
    assert ahead.take("short", lambda: "fetched") == "fetched"  # each result is taken once
    assert ahead.untaken == 0
    lanes.close()
    assert order[0] == "long"  # the longest work left first


def test_long_work_takes_at_most_half_the_lanes_the_rest_go_in_order_of_need() -> None:
    """Latency benchmark, 2026-11-30: with every long walk first, 70 probes of the tests
    that come second were still queued when asked for (5,000 operations at 50 ms), and their
    tests sent them one at a time. Long work keeps half the lanes; the others serve the
    tests in the order they will ask."""
    lanes = Lanes(3)  # two background lanes: one for long work
    ahead = Ahead(lanes)
    started: list[str] = []
    gate = threading.Event()

    def work(name: str, wait: bool = False) -> Callable[[], str]:
        def run() -> str:
            started.append(name)
            if wait:
                gate.wait(5)
            return name

        return run

    ahead.need = 5
    ahead.plan("late", work("late"))
    ahead.need = 1
    ahead.plan("soon", work("soon"))
    ahead.need = 9
    ahead.plan("longest", work("longest", wait=True), cost=50)
    ahead.plan("long", work("long"), cost=40)
    assert ahead.start() == 4
    deadline = time.monotonic() + 5
    while len(started) < 4 and time.monotonic() < deadline:
        time.sleep(0.01)
    assert set(started[:2]) == {"longest", "soon"}, started
    assert started[2:] == ["late", "long"], started  # "long" once no short work is left
    gate.set()
    taken = [ahead.take(k, lambda: "fetched") for k in ("soon", "late", "long", "longest")]
    assert taken == ["soon", "late", "long", "longest"]
    lanes.close()


# ---- the same verdict, 1 lane or many -------------------------------------------------------
def core_mutant(cls: type) -> dict:
    return {
        "clauses": [cls.CLAUSE, *cls.ALSO],
        "strict": cls.STRICT,
        "probe_methods": cls.PROBE_METHODS,
        "seed": 7,
        "max_wait": 0.05,
        "dataset_seed": 11,
    }


def pagination_mutant(cls: type) -> dict:
    return {"clauses": [cls.CLAUSE], "seed": 3, "max_wait": 0.05, "dataset_seed": 5}


def variation(cls: type) -> dict:
    return {"seed": 2, "max_wait": 0.05, "dataset_seed": 4}


SLOW = os.environ.get("COMMS_SLOW") == "1"
# CI: one case of each kind of work lanes share out (11 to 20 s each, two runs a case): the
# core FREE variations together, throttling (AIMD), live data, a parameter probe, a token
# probe, a deep walk, a missing self; COMMS_SLOW=1 (tox -e slow) runs every case
IN_CI = {
    "AllVariants",
    "Throttled",
    "NewOperationsArrive",
    "ClampsPageSize",
    "GarbageTokenRestarts",
    "DeepPagesRepeat",
    "SelfMissing",
}
CASES = [
    *[pytest.param(c, core_mutant(c), id=f"mutant:{c.__name__}") for c in mutants_core.MUTANTS],
    *[
        pytest.param(c, pagination_mutant(c), id=f"mutant:{c.__name__}")
        for c in mutants_pagination.MUTANTS
    ],
    *[
        pytest.param(c, variation(c), id=f"variation:{c.__name__}")
        for c in [test_core_variants.AllVariants, *test_pagination_variants.VARIANTS]
    ],
]
if not SLOW:
    CASES = [case for case in CASES if case.values[0].__name__ in IN_CI]
    assert len(CASES) == len(IN_CI), "a name in IN_CI matches no mutant or variation"


def verdict(cls: type, options: dict, lanes: int) -> Outcome:
    settings = dict(options)
    dataset_seed = settings.pop("dataset_seed")
    return run_against(cls(seed=dataset_seed), workers=lanes, **settings)


@pytest.mark.parametrize(("cls", "options"), CASES)
def test_same_verdict_whatever_the_lane_count(cls: type, options: dict) -> None:
    one = verdict(cls, options, 1)
    many = verdict(cls, options, LANES)
    assert many.statuses == one.statuses, f"1 lane:\n{one.explain()}\n\n{LANES}:\n{many.explain()}"
    assert many.code == one.code
    assert many.session.errors == one.session.errors


class Intermittent500(ReferenceServer):
    """Every 13th request answers 500, whatever it asked (a flaky backend): which check meets
    the fault depends on the order requests arrive in, so on the lanes' timing."""

    def respond(self, request: Request) -> Response:
        if self.requests % 13 == 0:
            body = {"code": 20500, "message": "Internal Server Error", "status": 500}
            return JSONResponse(body, 500)
        return super().respond(request)


@pytest.mark.parametrize("seed", [1, 2])
def test_an_intermittent_500_fails_no_5xx_alone_whatever_the_lanes(seed: int) -> None:
    """Breaker, 2026-11-30: with 4 lanes a 500 on every 20th request also failed
    TOKENS-REUSABLE, SELF or TOKEN-GARBAGE, depending on the seed and the run ('the token
    used a second time differs: ... no page the second'). A 5xx is NO-5XX's: a comparison
    never charges it, and a probe's own clause only when the same request fails again."""
    for lanes in (1, LANES):
        out = run_against(Intermittent500(seed=5), seed=seed, workers=lanes, max_wait=0.05)
        assert out.code == 1 and not out.session.errors, out.explain()
        assert out.failed == {"NO-5XX"}, f"{lanes} lane(s):\n{out.explain()}"
