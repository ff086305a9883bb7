"""Per-clause results of a run: what was checked, what failed, what was skipped and why.

Checks raise ``ClauseViolations`` for findings that fail the run (so pytest and hypothesis
see a failure and shrink it) and record advisory findings directly (so exploration goes on).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from comms_contract.catalog import Policy, clauses


@dataclass(frozen=True)
class Finding:
    clause: str
    message: str
    evidence: tuple[str, ...] = ()
    advisory: bool = False  # a SHOULD-not inside a MUST clause (e.g. next == "")


class ClauseViolations(AssertionError):
    """One or more MUST findings; the message names every clause id."""

    def __init__(self, findings: Iterable[Finding]) -> None:
        self.findings = tuple(findings)
        lines = []
        for f in self.findings:
            lines.append(f"[{f.clause}] {f.message}")
            lines.extend(f"    {e}" for e in f.evidence)
        super().__init__("\n".join(lines))


class TargetError(BaseException):
    """The target cannot be tested (unreachable, credentials rejected, not this API).

    A BaseException so hypothesis does not try to shrink it; the run ends with exit 2.
    """


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


@dataclass
class Ledger:
    policy: Policy = field(default_factory=Policy)
    selected: frozenset[str] | None = None
    findings: dict[str, list[Finding]] = field(default_factory=dict)
    checked: dict[str, list[str]] = field(default_factory=dict)
    skips: dict[str, list[str]] = field(default_factory=dict)
    notes: dict[str, list[str]] = field(default_factory=dict)

    def wants(self, clause: str) -> bool:
        return self.selected is None or clause in self.selected

    def record(self, finding: Finding) -> None:
        if not self.wants(finding.clause):
            return
        bucket = self.findings.setdefault(finding.clause, [])
        if all(f.message != finding.message for f in bucket):
            bucket.append(finding)

    def mark_checked(self, clause: str, by: str) -> None:
        if self.wants(clause) and by not in self.checked.setdefault(clause, []):
            self.checked[clause].append(by)

    def skip(self, clause: str, reason: str) -> None:
        if self.wants(clause) and reason not in self.skips.setdefault(clause, []):
            self.skips[clause].append(reason)

    def note(self, clause: str, text: str) -> None:
        """An observation for a FREE clause (which of the allowed behaviours the target showed)."""
        if self.wants(clause) and text not in self.notes.setdefault(clause, []):
            self.notes[clause].append(text)

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
                status, message = "fail", failing[0].message
            elif found:
                status, message = "advisory", found[0].message
                if downgraded:
                    message = f"(MUST downgraded to advisory by configuration) {message}"
            elif tests:
                status, message = "pass", "; ".join(notes)
            else:
                reasons = self.skips.get(c.id) or ["no check for this clause ran in this run"]
                status, message = "skipped", "; ".join(reasons)
            out.append(ClauseResult(c.id, level, status, message, downgraded, found, tests, notes))
        return out

    def failed(self) -> bool:
        return any(r.status == "fail" for r in self.results())
