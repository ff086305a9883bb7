"""Per-clause results of a run: what was checked, what failed, what was skipped and why.

Checks raise ``ClauseViolations`` for findings that fail the run (so pytest and hypothesis
see a failure and shrink it) and record advisory findings directly (so exploration goes on).

Credit is earned, not assumed (CONTRACT.md section 4: a clause without enough data is
skipped with its reason, never passed). A check calls ``observe(clause)`` when it evaluated
something the clause is about (an operation's shape, a pair of ids, a bound), and
``lack(clause, reason)`` when the data was too thin to look (the reason says how many
operations it needed and how many there were). The pytest plugin brackets each contract test
with ``begin``/``end``: a passing test credits only the clauses it observed; its other
clauses are skipped with the reasons the checks gave.
"""

from __future__ import annotations

import functools
import re
import threading
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any, TypeVar

from comms_contract.catalog import Policy, clauses
from comms_contract.printable import printable


@dataclass(frozen=True)
class Observed:
    """The exchange a finding is about, as the reports show it (every text already scrubbed).

    ``body`` is a short excerpt of the response body (a few hundred characters at most);
    ``curl`` replays the single request with credentials taken from the environment.
    """

    method: str
    url: str
    status: int
    content_type: str = ""
    body: str = ""
    curl: str = ""

    def __post_init__(self) -> None:
        for name in ("url", "content_type", "body", "curl"):
            object.__setattr__(self, name, printable(getattr(self, name)))


@dataclass(frozen=True)
class Finding:
    """One violation (or advisory) of one clause.

    ``evidence`` holds free-form lines (walk transcripts, the request line, a curl command);
    ``exchange``, when the check had one, the same request in structured form; ``test``, the
    contract test that found it (set by the plugin when it records the finding).
    """

    clause: str
    message: str
    evidence: tuple[str, ...] = ()
    advisory: bool = False  # a SHOULD-not inside a MUST clause (e.g. next == "")
    exchange: Observed | None = None
    test: str = ""

    def __post_init__(self) -> None:
        # target values quoted in the words reach terminals, JUnit XML and HTML: escaped
        # here, once, where the finding is made (printable.py)
        object.__setattr__(self, "message", printable(self.message))
        object.__setattr__(self, "evidence", tuple(printable(e) for e in self.evidence))


# findings shown in one exception message (pytest prints it for -v runs and plain pytest runs)
MESSAGE_FINDINGS = 5
MESSAGE_EVIDENCE_LINES = 4


class ClauseViolations(AssertionError):
    """One or more MUST findings; the message names every clause id.

    The message is bounded (a few findings, a few evidence lines each, then a count): a page
    with a thousand bad operations must not print a thousand paragraphs; the reports keep all.
    """

    def __init__(self, findings: Iterable[Finding]) -> None:
        self.findings = tuple(findings)
        lines = []
        shown = simplest_first(self.findings)[:MESSAGE_FINDINGS]
        for f in shown:
            lines.append(f"[{f.clause}] {f.message}")
            lines.extend(f"    {e}" for e in f.evidence[:MESSAGE_EVIDENCE_LINES])
            if len(f.evidence) > MESSAGE_EVIDENCE_LINES:
                lines.append(f"    ... {len(f.evidence) - MESSAGE_EVIDENCE_LINES} more lines")
        rest = len(self.findings) - len(shown)
        if rest:
            ids = ", ".join(sorted({f.clause for f in self.findings}))
            lines.append(f"... and {rest} more findings ({ids}): all of them are in the reports")
        super().__init__("\n".join(lines))


_ESCAPED = re.compile(r"\\[xuU][0-9a-fA-F]{2}|%[0-9A-Fa-f]{2}|[^\x20-\x7e]")


def oddness(text: str) -> int:
    """How hard ``text`` is to read: escapes, percent-encodings and non-ASCII characters."""
    return len(_ESCAPED.findall(text))


def simplicity(f: Finding) -> tuple[int, int, str]:
    """Sort key: readable before escaped or mojibake, then shortest request and message."""
    return _simplicity(f.message, f.exchange.url if f.exchange is not None else "")


@lru_cache(maxsize=1 << 16)  # a run sorts its findings several times; str hashes are cached
def _simplicity(message: str, url: str) -> tuple[int, int, str]:
    text = f"{message} {url}"
    return (oddness(text[:2000]), len(text), text[:200])


def simplest_first(findings: Sequence[Finding]) -> list[Finding]:
    return sorted(findings, key=simplicity)


# Observed by the suite's HTTP client on every answer, whichever test sent the request: a
# ``--clause`` selection of these runs every test (any request may be the one throttled).
CLIENT_OBSERVED = frozenset({"RETRY-AFTER-429", "RETRY-AFTER-503"})


_NUMBERS = re.compile(r"\d+")


# a quoted value (the target's or the suite's), as Python's repr and jsonschema write them
_QUOTED = re.compile(r"'(?:[^'\\]|\\.)*'|\"(?:[^\"\\]|\\.)*\"")


def _checks(n: int) -> str:
    return "1 check" if n == 1 else f"{n} checks"


def kind(f: Finding) -> str:
    """Findings that differ only in numbers and quoted values (``operations/3/status:
    'done' is not one of [...]`` and ``operations/7/status: 'Done ' is not one of [...]``) are
    one kind: the terminal shows one example per kind and counts kinds, so the same fault met
    with a hundred values reads as one kind, not a hundred (breaker finding: "128 kinds")."""
    return _kind(f.message)


@lru_cache(maxsize=1 << 16)
def _kind(message: str) -> str:
    return _NUMBERS.sub("#", _QUOTED.sub("'…'", message))


class TargetError(BaseException):
    """The target cannot be tested (unreachable, credentials rejected, not this API).

    A BaseException so hypothesis does not try to shrink it; the run ends with exit 2.
    """


class BrokenAnswer(BaseException):
    """A target that has answered like this API gave no complete answer to one request
    (stalled past --timeout, a body over the cap, a connection cut mid-answer).

    ``finding`` holds the violation (NO-5XX). A BaseException so hypothesis neither replays
    nor shrinks it (each replay could cost a whole --timeout); the plugin records it.
    """

    def __init__(self, finding: Finding) -> None:
        super().__init__(f"[{finding.clause}] {finding.message}")
        self.finding = finding


class BudgetExhausted(BaseException):
    """The request budget (--max-requests) is spent; remaining checks are skipped.

    A BaseException, like TargetError, so hypothesis does not take it for a failure and
    spend seconds shrinking it.
    """


@dataclass
class ClauseResult:
    id: str
    level: str
    status: str  # pass | fail | advisory | skipped
    message: str
    downgraded: bool
    findings: list[Finding]
    tests: list[str]
    notes: list[str]
    notices: list[str] = field(default_factory=list)  # shown whole, whatever the status


F = TypeVar("F", bound=Callable[..., Any])


def _locked(method: F) -> F:
    """Run a ledger method under the ledger's lock (concurrent lanes record into one ledger)."""

    @functools.wraps(method)
    def wrapper(self: Ledger, *args: Any, **kwargs: Any) -> Any:
        with self._lock:
            return method(self, *args, **kwargs)

    return wrapper  # type: ignore[return-value]


@dataclass
class Ledger:
    policy: Policy = field(default_factory=Policy)
    selected: frozenset[str] | None = None
    findings: dict[str, list[Finding]] = field(default_factory=dict)
    # clause ids a test of this session carries in its markers or reported on (the plugin's
    # summary for a user's own tests lists only these)
    touched: set[str] = field(default_factory=set)
    # clause id -> the tests whose markers name it (what ``--clause ID`` selects)
    marked: dict[str, list[str]] = field(default_factory=dict)
    # clause id -> seconds spent in the tests that check it (a test's time is split evenly
    # among its clauses, so the clause times add up to the tests' time)
    seconds: dict[str, float] = field(default_factory=dict)
    checked: dict[str, list[str]] = field(default_factory=dict)
    skips: dict[str, list[str]] = field(default_factory=dict)
    notes: dict[str, list[str]] = field(default_factory=dict)
    notices: dict[str, list[str]] = field(default_factory=dict)
    current: str | None = None  # the contract test running now (set by the pytest plugin)
    observed: set[str] = field(default_factory=set)  # clauses the current test observed
    lacking: dict[str, list[str]] = field(default_factory=dict)  # ... and why it could not
    idle: dict[str, list[str]] = field(default_factory=dict)  # tests that passed, observing nothing
    # why the run ended before its last check (said on every clause it left unchecked)
    stopped: str | None = None
    _messages: dict[str, dict[str, int]] = field(default_factory=dict, repr=False)
    # clause id -> (its findings' count and version when sorted, the display order)
    _ordered: dict[str, tuple[int, list[Finding]]] = field(default_factory=dict, repr=False)
    _versions: dict[str, int] = field(default_factory=dict, repr=False)
    # lanes (threads) record into one ledger: every change to it holds this lock
    _lock: threading.RLock = field(default_factory=threading.RLock, repr=False, compare=False)

    def wants(self, clause: str) -> bool:
        return self.selected is None or clause in self.selected

    @_locked
    def include(self, clause: str) -> None:
        """Report ``clause`` even if ``--clause`` left it out: a finding that ends or breaks
        the run (a request with no complete answer is NO-5XX) is never dropped from the
        verdict because its clause was not asked for."""
        if self.selected is not None:
            self.selected = self.selected | {clause}

    @_locked
    def record(self, finding: Finding) -> None:
        if not self.wants(finding.clause):
            return
        self.touched.add(finding.clause)
        bucket = self.findings.setdefault(finding.clause, [])
        self._versions[finding.clause] = self._versions.get(finding.clause, 0) + 1
        seen = self._messages.setdefault(finding.clause, {})
        at = seen.get(finding.message)
        if at is None:
            seen[finding.message] = len(bucket)
            bucket.append(finding)
        elif simplicity(finding) < simplicity(bucket[at]):
            bucket[at] = finding  # the same finding on a simpler request: show that one

    @_locked
    def mark_checked(self, clause: str, by: str) -> None:
        if self.wants(clause):
            self.touched.add(clause)
        if self.wants(clause) and by not in self.checked.setdefault(clause, []):
            self.checked[clause].append(by)

    @_locked
    def observe(self, clause: str, by: str | None = None) -> None:
        """``clause`` was evaluated on real data. ``by`` credits it at once (a check outside
        any test, e.g. the client on a throttled answer); without it, the running test is
        credited if it passes."""
        if not self.wants(clause):
            return
        if by is not None:
            self.mark_checked(clause, by)
        elif self.current is not None:
            self.observed.add(clause)

    @_locked
    def lack(self, clause: str, reason: str) -> None:
        """The data was too thin to evaluate ``clause``: ``reason`` says how many operations
        were needed and how many there were (reported if no check observes the clause)."""
        if self.wants(clause) and reason not in self.lacking.setdefault(clause, []):
            self.lacking[clause].append(reason)

    def begin(self, test: str) -> None:
        """A contract test starts: observations from now on belong to it."""
        self.current, self.observed, self.lacking = test, set(), {}

    def end(self, clauses: Iterable[str] = ()) -> None:
        """The running test ended: of its ``clauses`` (its markers; none when it was skipped
        or stopped), it credits those it observed and skips the others with the reasons its
        checks gave. A failing clause needs no credit: its findings carry the verdict."""
        test = self.current or "a check"
        for cid in clauses:
            if cid in self.observed:
                self.mark_checked(cid, test)
            elif self.lacking.get(cid):
                for reason in self.lacking[cid]:
                    self.skip(cid, reason)
            elif self.wants(cid) and test not in self.idle.setdefault(cid, []):
                self.idle[cid].append(test)
        self.current, self.observed, self.lacking = None, set(), {}

    @_locked
    def skip(self, clause: str, reason: str) -> None:
        reason = printable(reason)
        if self.wants(clause) and reason not in self.skips.setdefault(clause, []):
            self.skips[clause].append(reason)

    @_locked
    def note(self, clause: str, text: str) -> None:
        """An observation for a FREE clause (which of the allowed behaviours the target showed)."""
        text = printable(text)
        if self.wants(clause) and text not in self.notes.setdefault(clause, []):
            self.notes[clause].append(text)

    @_locked
    def notice(self, clause: str, text: str) -> None:
        """Something a person must read whatever the verdict (the target echoed the
        credentials): reports and the terminal show it whole, never cut to fit a row."""
        text = printable(text)
        if text not in self.notices.setdefault(clause, []):
            self.notices[clause].append(text)
        self.touched.add(clause)

    def replayed(self, finding: Finding) -> bool:
        """True when ``--clause <its clause>`` runs the test that found it (so a replay with
        the same seed sends the same requests and shows the same finding)."""
        if finding.clause in CLIENT_OBSERVED or not finding.test:
            return True
        return finding.test in self.marked.get(finding.clause, ())  # a few names: a list

    def companion(self, clause: str) -> str | None:
        """A second clause a replay of ``clause`` must select when the finding shown first
        came from a test that ``--clause <clause>`` alone would not run (a walk check in a
        test marked with another clause): that test's most specific marker."""
        found = self.findings.get(clause)
        if not found:
            return None
        first = self.ordered(clause)[0]
        if self.replayed(first):
            return None
        markers = [c for c, tests in self.marked.items() if first.test in tests and c != clause]
        return min(markers, key=lambda c: (len(self.marked[c]), c)) if markers else None

    def version(self, clause: str) -> int:
        """Changes whenever a finding of ``clause`` is recorded (for caches of its order)."""
        return self._versions.get(clause, 0)

    def ordered(self, clause: str) -> list[Finding]:
        """``clause``'s findings in display order, sorted once per change (replay commands
        are built for every finding a walk raises; re-sorting thousands each time is slow)."""
        version = self._versions.get(clause, 0)
        cached = self._ordered.get(clause)
        if cached is None or cached[0] != version:
            cached = (version, self.display_order(self.findings.get(clause, [])))
            self._ordered[clause] = cached
        return cached[1]

    def display_order(self, findings: Sequence[Finding]) -> list[Finding]:
        """Findings a replay shows again first, then the simplest (readable, short) first."""
        return sorted(findings, key=lambda f: (not self.replayed(f), simplicity(f)))

    def fails_run(self, finding: Finding) -> bool:
        return not finding.advisory and self.policy.fails_run(finding.clause)

    def results(self) -> list[ClauseResult]:
        out = []
        for c in clauses():
            if not self.wants(c.id):
                continue
            level = self.policy.level(c.id)
            found = self.findings.get(c.id, [])
            tests = self.checked.get(c.id, [])
            notes = self.notes.get(c.id, [])
            downgraded = c.id in self.policy.downgraded
            failing = [f for f in found if not f.advisory]
            if failing and level == "MUST" and not downgraded:
                status, message = (
                    "fail",
                    next(f for f in self.ordered(c.id) if not f.advisory).message,
                )
            elif found:
                status, message = "advisory", self.ordered(c.id)[0].message
                if downgraded:
                    message = f"(MUST downgraded to advisory by configuration) {message}"
            elif tests:
                status, message = "pass", "; ".join(notes)
            else:
                idle = self.idle.get(c.id)
                reasons = self.skips.get(c.id) or (
                    # no pytest ids in a default report (README); -v lists the tests
                    [f"{_checks(len(idle))} ran and observed nothing this clause is about"]
                    if idle
                    else [
                        f"not reached: {self.stopped}"
                        if self.stopped
                        else "no check for this clause ran in this run"
                    ]
                )
                status, message = "skipped", "; ".join(reasons)
            notices = list(self.notices.get(c.id, []))
            out.append(
                ClauseResult(c.id, level, status, message, downgraded, found, tests, notes, notices)
            )
        return out

    def failed(self) -> bool:
        return any(r.status == "fail" for r in self.results())
