"""Concurrent lanes: how one run sends independent requests in parallel and stays polite.

A remote target is far away (tens to hundreds of milliseconds a request) while most of the
suite's requests do not depend on each other: parameter probes, fuzzed queries, walks at
different page sizes. ``Lanes`` runs such work on a bounded thread pool (one process, so one
ledger and one request count) and owns what every lane must share:

- the request budget (``--max-requests``), counted once for the whole run;
- the client-side rate limit (``--rate-limit``), one schedule for all lanes;
- ``Retry-After``: a throttled answer pauses every lane, not only the one that got it;
- AIMD concurrency: a 429/503 halves the lanes that may send at once, every ``limit``
  answers without one give a lane back (additive increase, multiplicative decrease, as TCP
  does; RFC 5681 section 3.1).

Lanes never add requests: the same requests are sent whatever the lane count, only the order
in which independent ones go out differs.
"""

from __future__ import annotations

import heapq
import sys
import threading
import time
from collections.abc import Callable, Hashable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from typing import TypeVar

from comms_contract.ledger import BudgetExhausted

T = TypeVar("T")
R = TypeVar("R")

DEFAULT_REMOTE_WORKERS = 8  # measured: see docs/performance.md (latency table)


class LanesClosed(BaseException):
    """The run is over (finished or interrupted): work still queued or walking stops at its
    next request instead of keeping the process alive."""


class Lanes:
    """Shared pacing for every request of a run, and a pool of ``workers`` lanes.

    ``workers=1`` keeps everything in the caller's thread (no pool, the order of a plain
    sequential run). ``sleep`` and ``clock`` are injectable for tests.
    """

    def __init__(
        self,
        workers: int = 1,
        *,
        rate_limit: float | None = None,
        max_requests: int | None = None,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if workers < 1:
            raise ValueError("workers must be at least 1")
        self.workers = workers
        self.rate_limit = rate_limit
        self.max_requests = max_requests
        self.sleep = sleep
        self.clock = clock
        self.sent = 0
        self.served = 0  # answers that were not 429/503: the throttle lets the run through
        self.limit = float(workers)  # AIMD window: lanes that may have a request in flight
        self.shrunk = 0  # how often the window was halved (reported)
        self._active = 0
        self._next_send = 0.0  # rate limit: the earliest time the next request may leave
        self._paused_until = 0.0  # Retry-After: no lane sends before this
        self._paused_total = 0.0  # every wait so far (pauses and holds), overlaps counted once
        self._waited_until = 0.0  # the end of the latest wait counted in _paused_total
        self._since_change = 0
        self._cond = threading.Condition()
        self._pool: ThreadPoolExecutor | None = None
        self._closed = False
        self._background: ThreadPoolExecutor | None = None
        self._switching = False  # this run lowered the switch interval (_switch_often)

    # ---- one request ---------------------------------------------------------------------------
    @contextmanager
    def request(self) -> Iterator[None]:
        """Around one request: take a lane slot, spend one unit of budget, keep the rate
        limit and any Retry-After pause; the slot is freed when the answer is in."""
        with self._cond:
            while self._active >= max(1, int(self.limit)) and not self._closed:
                self._cond.wait()
            if self._closed:
                raise LanesClosed("the run is over")
            if self.max_requests is not None and self.sent >= self.max_requests:
                raise BudgetExhausted(f"request budget of {self.max_requests} spent")
            self.sent += 1
            self._active += 1
            now = self.clock()
            at = max(now, self._paused_until)
            if self.rate_limit:
                at = max(at, self._next_send)
                self._next_send = at + 1.0 / self.rate_limit
        try:
            if at > now:
                self.sleep(at - now)
            yield
        finally:
            with self._cond:
                self._active -= 1
                self._cond.notify_all()

    def answered(self, status: int) -> None:
        """AIMD: halve the window on 429/503 (at most once per window of answers, so one
        burst of refusals counts once), else grow it by one lane per window of answers."""
        with self._cond:
            self._since_change += 1
            if status not in (429, 503):
                self.served += 1
            if status in (429, 503):
                if self._since_change >= self.limit or self.shrunk == 0:
                    self.limit = max(1.0, self.limit / 2)
                    self.shrunk += 1
                    self._since_change = 0
            elif self.limit < self.workers and self._since_change >= self.limit:
                self.limit = min(float(self.workers), self.limit + 1)
                self._since_change = 0
            self._cond.notify_all()

    @property
    def paused(self) -> float:
        """Seconds of wall time the run has held off so far, for a Retry-After or a lane's
        own backoff (``pause``'s ``own``): overlapping waits of several lanes count once, and
        a wait still running counts only up to now (an interrupted run reported "waited
        300.1 s" in 285 s)."""
        with self._cond:
            return self._paused_total - max(0.0, self._waited_until - self.clock())

    def pause(self, seconds: float, *, own: float = 0.0) -> None:
        """Honour a Retry-After for every lane: nobody sends for ``seconds``. ``own``: how
        long the calling lane itself waits (its backoff, at least ``seconds``), counted in
        ``paused`` without holding the others: a give-up line's "waited 12.6s" for one
        request must not exceed the run's "waited 9.0 s" (breaker, 2026-11-30)."""
        with self._cond:
            now = self.clock()
            self._count_wait(now, now + max(seconds, own))
            self._paused_until = max(self._paused_until, now + seconds)

    def _count_wait(self, now: float, until: float) -> None:
        # wall time held off: overlapping waits of several lanes count once
        self._paused_total += max(0.0, until - max(now, self._waited_until))
        self._waited_until = max(self._waited_until, until)

    # ---- running independent work -----------------------------------------------------------
    @property
    def parallel(self) -> bool:
        return self.workers > 1

    def submit(self, fn: Callable[[], R], *, background: bool = False) -> Future[R]:
        """Run ``fn`` on a lane (in the caller's thread, at once, with one lane).

        ``background`` work (sent ahead while the checks run in the main thread) uses at
        most ``workers - 1`` threads, so the main thread always finds a free lane."""
        if not self.parallel:
            future: Future[R] = Future()
            try:
                future.set_result(fn())
            except (KeyboardInterrupt, SystemExit):
                raise  # a signal ends the run now, not when (or if) someone reads the result
            except BaseException as exc:  # handed to whoever takes the result
                future.set_exception(exc)
            return future
        with self._cond:  # once per run, and never again once the run is over
            lower = not self._closed and not self._switching
            self._switching = self._switching or lower
        if lower:
            _switch_often(True)
        if background:
            if self._background is None:
                self._background = ThreadPoolExecutor(
                    max(1, self.workers - 1), thread_name_prefix="comms-ahead"
                )
            return self._background.submit(fn)
        if self._pool is None:
            self._pool = ThreadPoolExecutor(self.workers, thread_name_prefix="comms-lane")
        return self._pool.submit(fn)

    def map(self, fn: Callable[[T], R], items: Iterable[T]) -> list[R]:
        """``[fn(x) for x in items]`` across the lanes, results in order; the first failing
        item's exception (in item order) is raised once every item has finished."""
        futures = [self.submit(lambda x=x: fn(x)) for x in items]
        return [f.result() for f in _settled(futures)]

    def close(self) -> None:
        """End the run's lanes at once: queued work is dropped, running work stops at its
        next request (an interrupted run must not wait for a 170-page walk)."""
        with self._cond:
            self._closed = True
            self._cond.notify_all()
            restore, self._switching = self._switching, False
        for pool in (self._background, self._pool):
            if pool is not None:
                pool.shutdown(wait=False, cancel_futures=True)
        self._pool = self._background = None
        if restore:
            _switch_often(False)


# A lane's answer waits for the interpreter lock while the main thread checks pages: at the
# default switch interval (5 ms) each of the few times a lane needs the lock per exchange can
# cost up to 5 ms, so the pageSize=1 walk that sets a run's floor went at ~65 ms a page
# against a 50 ms server. While lanes run, the interval is 1 ms (bench --latency 50, ci, runs
# 3: 15.6 -> 15.0 s at 173 operations, 33.3 -> 32.4 s at 5,000; docs/performance.md).
LANE_SWITCH_INTERVAL = 0.001
_switching = threading.Lock()
_running_pools = 0
_interval_before = 0.0


def _switch_often(start: bool) -> None:
    """Lower the interpreter's switch interval while any run's lanes are running; the value
    before the first returns when the last one closes (``sys.setswitchinterval``)."""
    global _running_pools, _interval_before
    with _switching:
        if start:
            if _running_pools == 0:
                _interval_before = sys.getswitchinterval()
                sys.setswitchinterval(min(_interval_before, LANE_SWITCH_INTERVAL))
            _running_pools += 1
        elif _running_pools > 0:
            _running_pools -= 1
            if _running_pools == 0:
                sys.setswitchinterval(_interval_before)


def _settled(futures: list[Future[R]]) -> list[Future[R]]:
    for f in futures:
        f.exception()  # wait, without raising yet
    return futures


def default_workers(in_process: bool) -> int:
    """Lanes when ``--workers`` is not given: 1 in-process (nothing to wait for: the GIL
    makes lanes slower), ``DEFAULT_REMOTE_WORKERS`` against a remote target."""
    return 1 if in_process else DEFAULT_REMOTE_WORKERS


class Ahead:
    """Work sent ahead on the lanes, each result taken once by the check that asks for
    exactly the same thing (``key``); a key nobody sent ahead is fetched when asked for.

    The checks stay sequential and judge in the order a one-lane run does; only the waiting
    for independent answers overlaps. Which queued work a free lane takes next is decided
    when the lane is free, not when the work was queued:

    - long work (``cost`` at least half the longest's), longest first, on at most half the
      lanes: a walk of 170 pages sets the floor of a run, so it must not start last;
    - the other lanes take work in the order the checks will ask for it (``need``: the
      position of the asking test in the run), and long work when none is left.

    Work queued first-in-first-out, or all long work first, was still waiting when its test
    came, which then did it itself, one round trip at a time: 28 fuzzed queries per ``ci`` run
    at 50 ms, and 70 date-bound probes with 5,000 operations, where dozens of walks are long
    (docs/performance.md).
    """

    def __init__(self, lanes: Lanes) -> None:
        self.lanes = lanes
        self.need = 0  # position of the test that plans next (session.plan_ahead sets it)
        self._planned: list[tuple[int, int, Hashable, Callable[[], object]]] = []
        # (rank, fn, future) heaps: long work by length, the rest by need
        self._long: list[tuple[tuple[int, int], Callable[[], object], Future[object]]] = []
        self._short: list[tuple[tuple[int, int], Callable[[], object], Future[object]]] = []
        self._long_running = 0
        self._long_lanes = max(1, lanes.workers // 2)
        self._futures: dict[Hashable, list[Future[object]]] = {}
        self._lock = threading.Lock()
        self._seq = 0

    def plan(self, key: Hashable, fn: Callable[[], object], cost: int = 1) -> None:
        """Queue ``fn`` (about ``cost`` requests, one after another) for ``start``, needed
        at position ``self.need``."""
        self._planned.append((cost, self.need, key, fn))

    def start(self) -> int:
        """Send every planned piece of work; returns how many."""
        planned, self._planned = self._planned, []
        longest = max((p[0] for p in planned), default=0)
        with self._lock:
            for cost, need, key, fn in planned:
                self._seq += 1
                future: Future[object] = Future()
                if cost > 1 and cost * 2 >= longest:
                    heapq.heappush(self._long, ((-cost, self._seq), fn, future))
                else:
                    heapq.heappush(self._short, ((need, self._seq), fn, future))
                self._futures.setdefault(key, []).append(future)
        for _ in planned:
            self.lanes.submit(self._run_next, background=True)
        return len(planned)

    def _run_next(self) -> None:
        """On a free lane: the most urgent queued work not yet taken by its test."""
        with self._lock:
            long = bool(self._long) and (self._long_running < self._long_lanes or not self._short)
            _rank, fn, future = heapq.heappop(self._long if long else self._short)
            self._long_running += long
        try:
            if not future.set_running_or_notify_cancel():
                return  # its test asked first and does it itself
            try:
                future.set_result(fn())
            except (KeyboardInterrupt, SystemExit) as exc:
                future.set_exception(exc)
                raise  # a signal ends the run now (one lane: this is the main thread)
            except BaseException as exc:  # handed to whoever takes the result
                future.set_exception(exc)
        finally:
            with self._lock:
                self._long_running -= long

    def take(self, key: Hashable, fn: Callable[[], R]) -> R:
        """The result sent ahead for ``key`` (waiting for it if it is on its way), else
        ``fn()``, also when it is still queued: the asking thread then does it itself."""
        with self._lock:
            queue = self._futures.get(key)
            future = queue.pop(0) if queue else None
        if future is None or future.cancel():
            return fn()
        return future.result()  # type: ignore[return-value]

    @property
    def untaken(self) -> int:
        with self._lock:
            return sum(len(q) for q in self._futures.values())
