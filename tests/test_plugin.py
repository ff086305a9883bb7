"""The pytest plugin as its users meet it: inert in their own runs, usable in their tests."""

from __future__ import annotations

import pytest

USER_TEST = """
import pytest
from comms_contract.judge import judge

@pytest.mark.clause("FILTER-SOUND")
def test_completed_only(comms):
    judge(comms, comms.get({"status": "COMPLETED", "pageSize": "10"}))
"""


def test_plugin_is_inert_in_an_unrelated_run(pytester: pytest.Pytester, monkeypatch):
    # a target in the environment that the suite would refuse must not break other tests
    monkeypatch.setenv("COMMS_BASE_URL", "http://staging.example.com")
    pytester.makepyfile("def test_unrelated():\n    assert True\n")
    result = pytester.runpytest_inprocess("-p", "no:cacheprovider")
    result.assert_outcomes(passed=1)
    assert "comms-contract clauses" not in result.stdout.str()


def test_a_users_clause_test_against_the_embedded_server(pytester: pytest.Pytester):
    pytester.makepyfile(USER_TEST)
    result = pytester.runpytest_inprocess("-p", "no:cacheprovider", "--comms-profile", "quick")
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(["*comms-contract clauses*", "*PASS*FILTER-SOUND*"])


def test_a_users_clause_test_fails_with_the_clause_id(pytester: pytest.Pytester):
    pytester.makepyfile(
        faulty="""
from comms_contract.server import ReferenceServer

class IgnoresStatus(ReferenceServer):
    def parse_status(self, raw):
        super().parse_status(raw)
        return None

app = IgnoresStatus()
""",
    )
    pytester.makepyfile(USER_TEST)
    pytester.syspathinsert()
    result = pytester.runpytest_inprocess("-p", "no:cacheprovider", "--comms-app", "faulty:app")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*[[]FILTER-SOUND[]]*", "*FAIL*FILTER-SOUND*"])
    assert result.ret == 1


def test_a_bad_target_is_a_usage_error_when_contract_tests_run(pytester: pytest.Pytester):
    pytester.makepyfile(USER_TEST)
    result = pytester.runpytest_inprocess(
        "-p",
        "no:cacheprovider",
        "--comms-base-url",
        "http://staging.example.com",
        "--comms-account-id",
        "AC1",
        "--comms-auth-token",
        "t0ken-value",
    )
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    assert "refusing to send credentials over plain http://" in result.stderr.str()
    assert "t0ken-value" not in result.stdout.str() + result.stderr.str()


class _Item:
    """Just what the ordering reads of a pytest item: its markers."""

    def __init__(self, name: str, *marks: str) -> None:
        self.name, self.marks = name, set(marks)

    def get_closest_marker(self, mark: str) -> object | None:
        return mark if mark in self.marks else None

    def __repr__(self) -> str:
        return self.name


def test_a_sequential_test_runs_before_the_first_test_sent_ahead():
    """The state machine's round trips overlap the lanes' work instead of following it;
    the rest keeps its order, and an order that already fits is left alone."""
    from comms_contract.plugin import _sequential_first

    items = [
        _Item(n, *m)
        for n, m in [
            ("a", ()),
            ("fuzz", ("ahead",)),
            ("b", ()),
            ("prop", ("ahead",)),
            ("machine", ("sequential",)),
        ]
    ]
    _sequential_first(items)  # type: ignore[arg-type]
    assert [i.name for i in items] == ["a", "machine", "fuzz", "b", "prop"]
    _sequential_first(items)  # type: ignore[arg-type]
    assert [i.name for i in items] == ["a", "machine", "fuzz", "b", "prop"]
    alone = [_Item("a"), _Item("machine", "sequential")]
    _sequential_first(alone)  # type: ignore[arg-type]
    assert [i.name for i in alone] == ["a", "machine"]
