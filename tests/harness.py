"""Run the contract suite in-process against an ASGI app (a mutant or a variant).

``run_against(app, clauses=[...])`` runs only the checks of those clauses, so a mutant test
stays fast and shows exactly which clause caught it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from comms_contract.catalog import Policy
from comms_contract.cli import run_suite
from comms_contract.http import ClientSettings, Target
from comms_contract.profiles import PROFILES
from comms_contract.server.app import Credentials
from comms_contract.session import ContractSession, RunConfig


@dataclass
class Outcome:
    code: int
    session: ContractSession

    @property
    def statuses(self) -> dict[str, str]:
        return {r.id: r.status for r in self.session.ledger.results()}

    @property
    def failed(self) -> set[str]:
        return {cid for cid, status in self.statuses.items() if status == "fail"}

    @property
    def advisory(self) -> set[str]:
        return {cid for cid, status in self.statuses.items() if status == "advisory"}

    @property
    def lines(self) -> list[str]:
        """What ``comms-contract run`` prints for this run, at 80 columns (the default)."""
        from comms_contract.report import terminal_lines

        return terminal_lines(self.session, width=80)

    def explain(self) -> str:
        return "\n".join(self.lines)


FRAME = re.compile(r"Traceback \(most recent call last\)|^\s*File \"|site-packages", re.M)
MAX_LINES = 200  # issue 13: a failing default run prints at most ~200 lines


def assert_readable(out) -> None:
    """The terminal report is bounded, frame-free and ends with the verdict."""
    lines = out.lines
    assert len(lines) <= MAX_LINES, f"{len(lines)} lines:\n" + "\n".join(lines[:40])
    text = "\n".join(lines)
    assert not FRAME.search(text), text
    assert lines[-1].startswith("result: "), lines[-1]


# A full run skips only what it cannot see: the probes it does not send by default and the
# throttling it never meets. Anything else skipped would be a vacuous pass (a contract module
# that did not import, a check that never ran, too little data).
EXPECTED_SKIPS = frozenset({"METHODS", "RETRY-AFTER-429", "RETRY-AFTER-503"})


def assert_clean(
    out: Outcome, *, skips: Iterable[str] = EXPECTED_SKIPS, must_pass: Iterable[str] = ()
) -> None:
    """The run is clean: exit 0, no error, no failing or advisory clause, nothing skipped
    beyond ``skips``, and every ``must_pass`` clause passed (the one "run is clean" check
    of the self-tests)."""
    assert not out.session.errors, out.explain()
    assert out.code == 0, out.explain()
    assert not out.failed and not out.advisory, out.explain()
    skipped = {cid for cid, status in out.statuses.items() if status == "skipped"}
    assert skipped <= set(skips), out.explain()
    for cid in must_pass:
        assert out.statuses[cid] == "pass", out.explain()


def run_against(
    app: object,
    *,
    clauses: Iterable[str] | None = None,
    profile: str = "quick",
    seed: int = 1,
    strict: bool = False,
    downgrade: Iterable[str] = (),
    probe_methods: bool = False,
    extra_args: Iterable[str] = (),
    verdict_only: bool = False,
    reports: Path | None = None,
    credentials: Credentials | None = None,
    shrink: bool | None = None,
    **client: float | int | None,
) -> Outcome:
    """``client`` takes ClientSettings fields: max_wait, max_requests, rate_limit, timeout.

    ``verdict_only``: stop at the first failing contract test and shrink nothing (the
    verdict, cheaply: for running many servers under many seeds). ``reports``: a folder that
    gets report.json, junit.xml and report.html. ``credentials``: what the suite sends (the
    server's own are the demo pair unless it was built with others). ``shrink``: False skips
    hypothesis' shrinking (None: the run's default, on in-process)."""
    creds = credentials or Credentials()
    config = RunConfig(
        target=Target(None, creds.account_id, creds.auth_token),
        profile=PROFILES[profile],
        seed=seed,
        policy=Policy.build(strict, downgrade),
        selected=frozenset(clauses) if clauses else None,
        client=ClientSettings(**client),  # type: ignore[arg-type]
        probe_methods=probe_methods,
        app=app,
        shrink=False if verdict_only else shrink,
        report_json=str(reports / "report.json") if reports else None,
        junit_xml=str(reports / "junit.xml") if reports else None,
        report_html=str(reports / "report.html") if reports else None,
    )
    stop = ["-x"] if verdict_only else []
    code, session = run_suite(config, extra_args=[*stop, *extra_args])
    assert session is not None, "the contract suite did not start"
    return Outcome(code, session)
