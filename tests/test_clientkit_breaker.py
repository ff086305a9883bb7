"""Faulty and hostile clients from a breaker's round (2026-11-30): each was graded wrongly.

- a client that reads a 401 as the end of the list passed every scenario (none served a 401,
  though section 5 names "401 or 403" among the branches a client must survive);
- a crash on an absent ``next`` was charged to CLIENT-TOLERANT (only ``unknown-fields``
  left ``next`` out) instead of CLIENT-FREE-BRANCHES;
- a run of a few scenarios printed PASS for clauses none of them exercised
  (CLIENT-RETRY-BOUND after one 429, CLIENT-NO-SILENT-CAP after 5 pages) and "conforms";
- a driver that died before the error answer passed the error scenario (any non-zero exit
  did), and was described as "exited -9";
- a driver printing without end filled a temporary file (3 GiB) until its timeout.
"""

from __future__ import annotations

import pytest
from test_clientkit import EAST, driver

from comms_contract.clientkit import run_kit, runner


def lines(report) -> str:
    return "\n".join(report.terminal_lines())


def test_a_401_read_as_the_end_of_the_list_is_caught() -> None:
    report = run_kit(driver("unauthorized_as_end.py"), ["unauthorized-401"], timeout=20, zones=EAST)
    assert report.code == 1
    assert report.failed == {"CLIENT-SURFACES-ERRORS"}, lines(report)


def test_the_good_driver_surfaces_a_401() -> None:
    report = run_kit(driver("good_stdlib.py"), ["unauthorized-401"], timeout=20, zones=EAST)
    assert report.code == 0, lines(report)


def test_a_crash_on_an_absent_next_is_a_free_branch_failure() -> None:
    report = run_kit(
        driver("crashes_on_absent_next.py"), ["unknown-fields", "end-absent"], zones=EAST
    )
    assert report.failed == {"CLIENT-FREE-BRANCHES"}, lines(report)
    assert report.result("unknown-fields").passed, lines(report)


@pytest.mark.parametrize(
    ("scenario", "not_exercised"),
    [
        ("throttle-429-seconds", {"CLIENT-RETRY-BOUND", "CLIENT-NO-SILENT-CAP"}),
        ("multi-page", {"CLIENT-RETRY-BOUND", "CLIENT-NO-SILENT-CAP", "CLIENT-FREE-BRANCHES"}),
    ],
)
def test_a_clause_no_selected_scenario_exercises_is_not_a_pass(scenario, not_exercised) -> None:
    report = run_kit(driver("good_stdlib.py"), [scenario], timeout=20, zones=EAST)
    statuses = {row["id"]: row["status"] for row in report.clause_summary()}
    assert report.code == 0, lines(report)
    assert {c for c in not_exercised if statuses[c] != "n/a"} == set(), statuses
    assert "not exercised" in lines(report).splitlines()[-1], lines(report)


def test_a_driver_dead_before_the_error_answer_fails_the_error_scenario() -> None:
    report = run_kit(driver("killed_after_first_page.py"), ["forbidden-403"], zones=EAST)
    assert "CLIENT-SURFACES-ERRORS" in report.failed, lines(report)
    text = lines(report)
    assert "SIGKILL" in text and "exited -9" not in text, text
    assert "before" in report.result("forbidden-403").verdict("CLIENT-SURFACES-ERRORS").message


def test_a_driver_that_prints_without_end_is_cut(monkeypatch) -> None:
    monkeypatch.setattr(runner, "MAX_OUTPUT", 4 << 20)
    report = run_kit(driver("floods_stdout.py"), ["multi-page"], timeout=60, zones=EAST)
    run = report.result("multi-page").run
    assert run.cut_kind == "output" and not run.timed_out, lines(report)
    assert report.code == 1


@pytest.mark.parametrize(
    ("script", "scenario", "clause"),
    [
        ("null_token_after_end.py", "multi-page", "CLIENT-NO-EXTRA-REQUEST"),
        ("challenge_auth.py", "multi-page", "CLIENT-AUTH"),
        ("naive_dates.py", "filtered", "CLIENT-DATES"),
        ("capped_20_pages.py", "long-walk", "CLIENT-NO-SILENT-CAP"),
    ],
)
def test_one_bug_is_charged_to_one_clause(script: str, scenario: str, clause: str) -> None:
    """One fault, one clause: ``pageToken=null`` after the end was also "not a token the
    server issued" (CLIENT-TOKEN-VERBATIM); the repeat after a 401 challenge also "repeated a
    request answered 401" (CLIENT-SURFACES-ERRORS); a wrong window or a cut list also failed
    CLIENT-EXACTLY-ONCE without saying it followed from the first."""
    report = run_kit(driver(script), [scenario], timeout=20, zones=EAST)
    assert report.failed == {clause}, lines(report)
