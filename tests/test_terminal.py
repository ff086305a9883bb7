"""The run as a person reads it: a bounded clause table, the simplest examples first, one
whole replay command per failing clause, no Python frames, the verdict last, lines that fit
the terminal, and a progress line that does not flood a CI log.

The rendering tests build ledgers by hand (every clause failing, thousands of findings,
hostile values), so the bound is shown for the worst case, not only for the mutants we have;
``tests/harness.py`` applies the same bound to every mutant and variant run.
"""

from __future__ import annotations

import io
import re
import time
from dataclasses import replace

import pytest
from harness import assert_readable

from comms_contract import catalog, report
from comms_contract.catalog import Policy
from comms_contract.http import ClientSettings, Target
from comms_contract.ledger import Finding, Observed
from comms_contract.paths import contracts_dir
from comms_contract.profiles import PROFILES
from comms_contract.progress import Progress
from comms_contract.server.app import Credentials
from comms_contract.session import ContractSession, RunConfig

CREDS = Credentials()
ROOT = "https://comms.staging.example.com"
LIST = ROOT + "/v1/PushNotifications/Operations"
FRAMES = re.compile(r"Traceback|File \"|site-packages|^E  |\.py:\d+", re.M)


def session(**client: float | int | None) -> ContractSession:
    config = RunConfig(
        target=Target(ROOT, "AC123", "staging-secret-token"),
        profile=PROFILES["ci"],
        seed=42,
        policy=Policy(),
        client=ClientSettings(**client),  # type: ignore[arg-type]
    )
    return ContractSession(config)


def finding(clause: str, i: int, query: str, message: str | None = None) -> Finding:
    url = f"{LIST}?{query}"
    return Finding(
        clause,
        message or f"at operations/{i}/stats/sent: '{i}' is not of type 'integer'",
        (f"GET {url} -> 200 (application/json)", f"page {i}: GET {url}"),
        exchange=Observed("GET", url, 200, "application/json", '{"operations": [...]}', "curl"),
        test="test_x",
    )


def flood(s: ContractSession, per_clause: int = 300) -> None:
    """Every clause fails, each with many findings of many kinds, some of them hostile."""
    token = "A" * 5000
    for c in catalog.clauses():
        for i in range(per_clause):
            s.ledger.record(finding(c.id, i, f"pageToken={token}&pageSize={i % 7}"))
            s.ledger.record(
                finding(c.id, i, "x=1", f"kind {i % 40}: value {chr(0x4E00 + i)} " + "z" * 300)
            )


@pytest.mark.parametrize("width", [40, 80, 200])
def test_every_clause_failing_still_fits_in_200_lines(width: int) -> None:
    s = session()
    flood(s)
    lines = report.terminal_lines(s, width=width)
    assert len(lines) <= report.TERMINAL_LINES, len(lines)
    assert lines[-1].startswith("result: FAIL")
    assert not FRAMES.search("\n".join(lines))
    replays = [s.suite_command(c.id) for c in catalog.clauses()]
    for replay in replays:  # a command is printed whole, on its own line, never cut
        assert any(line.strip() == replay for line in lines), replay
    for line in lines:
        if line.strip() not in replays:
            assert len(line) <= width, line


def test_a_few_failing_clauses_show_examples_simplest_first() -> None:
    s = session()
    mojibake = "500 for pageToken='\\x00\\udc80\\u0301é%C3%A9' and status='ÿþ'"
    s.ledger.record(finding("NO-5XX", 1, "pageToken=%00%C3", mojibake))
    s.ledger.record(finding("NO-5XX", 2, "status=X", "500 for status='X'"))
    for i in range(300):
        s.ledger.record(finding("OP-SHAPE", i, f"pageSize={i}"))
    lines = report.terminal_lines(s, width=80)
    text = "\n".join(lines)
    no5xx = lines.index(next(line for line in lines if " NO-5XX " in line))
    assert "500 for status='X'" in lines[no5xx + 1], text  # the readable one first
    assert "2 findings of 2 kinds" in lines[no5xx] or "2 findings" in lines[no5xx]
    assert text.count("replay:") == 2
    assert "and 0 more" not in text
    assert "more kind" in text or "more like" in text or "300 findings" in text
    assert len(lines) < 60


def test_long_values_are_shortened_and_secrets_never_shown() -> None:
    s = session()
    token = "B" * 4000
    s.ledger.record(finding("SELF", 1, f"pageToken={token}", f"self {token} differs"))
    text = "\n".join(report.terminal_lines(s, width=100))
    assert token not in text and "(4000 chars)" in text
    assert "staging-secret-token" not in text


def test_replays_carry_throttling_budget_and_options() -> None:
    s = session(rate_limit=2.5, max_requests=900, timeout=12.0, max_wait=5.0)
    command = s.suite_command("FULL-PAGES")
    assert command.startswith(f"comms-contract run --base-url {ROOT} --profile ci --seed 42")
    for part in ("--rate-limit 2.5/s", "--max-requests 900", "--timeout 12", "--max-wait 5"):
        assert part in command, command
    assert command.endswith("--clause FULL-PAGES")
    assert "staging-secret-token" not in command and "AC123" not in command
    default = session().suite_command("NO-5XX")
    assert "--timeout" not in default and "--max-wait" not in default  # defaults are implied


def test_the_verdict_is_the_last_line_and_errors_are_not_repeated() -> None:
    s = session()
    s.runner = True  # comms-contract run: it prints the errors on stderr
    s.ledger.mark_checked("AUTH", "test_auth")
    s.errors.append("cannot connect to https://comms.staging.example.com")
    lines = report.terminal_lines(s, width=80)
    assert lines[-1].startswith("result: ERROR")
    assert not any("cannot connect" in line for line in lines)  # stderr has it, once


def test_width_follows_columns(monkeypatch) -> None:
    monkeypatch.setenv("COLUMNS", "132")
    assert report.terminal_width() == 132
    monkeypatch.delenv("COLUMNS")
    assert report.terminal_width() == 80  # not a terminal (pytest captures stdout): 80


def test_progress_in_a_log_is_a_line_now_and_then() -> None:
    out = io.StringIO()
    p = Progress(out, tty=False, interval=0.05)
    p.total = 10
    p.start()
    time.sleep(0.3)
    p.done = 4
    time.sleep(0.12)
    p.stop()
    lines = out.getvalue().splitlines()
    assert 2 <= len(lines) <= 10, lines
    assert all(line.startswith("comms-contract: ") and "\r" not in line for line in lines)
    assert "4/10 tests" in lines[-1]


def test_progress_on_a_terminal_rewrites_one_line_and_erases_it() -> None:
    out = io.StringIO()
    p = Progress(out, tty=True, delay=0.0, interval=0.02)
    p.total = 3
    p.start()
    time.sleep(0.15)
    p.stop()
    text = out.getvalue()
    assert "\n" not in text and text.count("\r") >= 2
    assert text.endswith("\r\x1b[K")  # the report that follows starts on a clean line


def test_progress_before_collection_ends_says_collecting_not_zero_of_zero() -> None:
    """Breaker finding: the first tick of a slow start read "0/0 tests"."""
    p = Progress(io.StringIO(), tty=False)
    assert "collecting tests" in p.status() and "0/0" not in p.status()
    p.total = 5
    assert "0/5 tests" in p.status()


def test_a_short_run_shows_no_progress_on_a_terminal() -> None:
    out = io.StringIO()
    p = Progress(out, tty=True)  # default delay: nothing in the first seconds
    p.start()
    p.stop()
    assert out.getvalue() == ""


def test_assert_readable_catches_frames_and_floods() -> None:
    class Fake:
        def __init__(self, lines):
            self.lines = lines

    with pytest.raises(AssertionError):
        assert_readable(Fake(["x"] * 201 + ["result: PASS"]))
    with pytest.raises(AssertionError):
        assert_readable(Fake(['  File "/x/site-packages/y.py", line 3', "result: PASS"]))
    assert_readable(Fake(["a", "result: PASS"]))


USER_TEST = """
import pytest
from comms_contract.judge import judge

@pytest.mark.clause("FILTER-SOUND")
def test_completed_only(comms):
    judge(comms, comms.get({"status": "COMPLETED", "pageSize": "10"}))

@pytest.mark.clause("SIZE-RANGE")
def test_page_size_ten(comms):
    judge(comms, comms.get({"pageSize": "10"}))
"""


def test_a_users_summary_lists_only_the_clauses_their_tests_touched(pytester) -> None:
    pytester.makepyfile(USER_TEST)
    result = pytester.runpytest_inprocess("-p", "no:cacheprovider", "--comms-profile", "quick")
    result.assert_outcomes(passed=2)
    out = result.stdout.str()
    summary = out[out.index("comms-contract clauses") :].splitlines()[1:]
    rows = [line for line in summary if re.match(r"\s+(PASS|FAIL|SKIPPED|ADVISORY)\s", line)]
    assert sorted(line.split()[1] for line in rows) == ["FILTER-SOUND", "SIZE-RANGE"], out
    others = len(catalog.clauses()) - 2
    assert any(f"{others} other clauses not touched" in line for line in summary), out
    assert "no check for this clause ran" not in out


def test_a_replay_also_selects_the_test_that_found_the_example_shown_first() -> None:
    s = session()
    ledger = s.ledger
    ledger.marked.update(
        {
            "FULL-PAGES": ["test_whole_walk[7]"],
            "TOKEN-FILTERS": ["test_token_with_or_without_filters"],
            "FILTER-SOUND": ["test_token_with_or_without_filters", "a", "b"],
        }
    )
    token_test = finding("FULL-PAGES", 1, "pageSize=25", "page 1 holds 26 operations")
    ledger.record(replace(token_test, test="test_token_with_or_without_filters"))
    assert s.suite_command("FULL-PAGES").endswith("--clause FULL-PAGES --clause TOKEN-FILTERS")
    # a finding that --clause FULL-PAGES replays on its own goes first, and needs no companion
    walk = finding("FULL-PAGES", 2, "pageSize=7&pageToken=x", "page 2 holds 8 operations, more")
    ledger.record(replace(walk, test="test_whole_walk[7]"))
    assert s.suite_command("FULL-PAGES").endswith("--seed 42 --clause FULL-PAGES")
    lines = report.terminal_lines(s, width=100)
    first = next(i for i, line in enumerate(lines) if " FULL-PAGES " in line)
    assert "page 2 holds 8 operations" in lines[first + 1], lines


def test_every_clause_id_selects_a_check() -> None:
    """``--clause ID`` selects the tests marked with ID; the client-observed clauses select
    every test; so no accepted id selects nothing (METHODS alone needs --probe-methods)."""
    from comms_contract.docs import enforcing_tests
    from comms_contract.ledger import CLIENT_OBSERVED

    marked = enforcing_tests()
    for c in catalog.clauses():
        assert marked.get(c.id) or c.id in CLIENT_OBSERVED, c.id


FAULTY_APP = """
from comms_contract.server import ReferenceServer

class IgnoresStatus(ReferenceServer):
    def parse_status(self, raw):
        super().parse_status(raw)
        return None

app = IgnoresStatus()
"""


def test_plain_pytest_on_the_contracts_shows_findings_not_frames(pytester) -> None:
    pytester.makepyfile(faulty=FAULTY_APP)
    pytester.syspathinsert()
    result = pytester.runpytest_inprocess(
        *("-p", "no:cacheprovider", str(contracts_dir())),
        *("--comms-app", "faulty:app", "--comms-profile", "quick"),
        *("--comms-clause", "FILTER-SOUND", "--comms-seed", "3"),
    )
    out = result.stdout.str()
    assert result.ret == 1, out
    assert "[FILTER-SOUND]" in out and "clauses violated: FILTER-SOUND" in out
    assert "reproduce: pytest --pyargs comms_contract.contracts --comms-app faulty:app" in out
    failures = out[out.index("= FAILURES =") : out.index("comms-contract clauses")]
    assert "site-packages" not in failures and 'File "' not in failures, failures


def test_one_fault_met_with_many_values_is_one_kind() -> None:
    """Breaker finding: OP-SHAPE said "128 kinds" for one fault met with 128 values."""
    from comms_contract.ledger import Finding, kind

    a = Finding("OP-SHAPE", "at operations/3/status: 'done' is not one of ['queued']")
    b = Finding("OP-SHAPE", "at operations/9/status: 'Done ' is not one of ['queued']")
    c = Finding("OP-SHAPE", "at operations/9/createdAt: 'x' is not a 'date-time'")
    assert kind(a) == kind(b) != kind(c)


def test_a_plugin_summary_after_a_stopped_run_says_the_rest_was_not_reached() -> None:
    """Breaker, 2026-11-30: the pytest plugin's summary after a run that stopped at once
    (a TLS reset) said "29 other clauses not touched by these tests", as if the user's tests
    had not been about them; the run had stopped before it reached them."""
    s = session()
    s.ledger.touched.add("AUTH")
    s.ledger.stopped = "the run stopped (see its error)"
    lines = report.terminal_lines(s, width=80, only_touched=True)
    text = " ".join(" ".join(lines).split())
    others = len(catalog.clauses()) - 1
    assert f"{others} other clauses not reached: the run stopped (see its error)" in text, text
    assert "not touched" not in text, text


def test_run_errors_are_listed_where_they_are_not_on_stderr() -> None:
    """A verifier, 2026-11-30: under plain pytest the summary said "1 run error (on stderr)"
    with stderr empty. The runner prints errors on stderr; the plugin's summary lists them."""
    s = session()
    s.ledger.touched.add("AUTH")
    s.errors.append("the target stopped accepting the credentials after 50 requests")
    plugin = " ".join(report.terminal_lines(s, width=80, only_touched=True))
    assert "1 run error (below)" in plugin and "error: the target stopped accepting" in plugin
    s.runner = True
    cli = " ".join(report.terminal_lines(s, width=80))
    assert "1 run error (on stderr)" in cli and "error: the target" not in cli
