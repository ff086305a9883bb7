"""Replays replay: each command a failing run prints, run against the same faulty server,
fails the same clause again, carries the run's throttling and budget options, and (with the
same seed) shows the same first example. Also the default run as a person sees it: bounded,
no Python frames, the verdict last, and nothing on stdout when the target is unreachable.
"""

from __future__ import annotations

import json
import re
import shlex
from pathlib import Path

import pytest
from loopback import free_port, serve
from mutants_core import PostAnswers200, Throttle429WithoutRetryAfter

from comms_contract import cli
from comms_contract.server import ReferenceServer
from comms_contract.server.app import Credentials, ListQuery, Page

CREDS = Credentials()
THROTTLING = ["--rate-limit", "2000/s", "--max-requests", "20000", "--timeout", "20"]
FRAMES = re.compile(r"Traceback|^\s*File \"|site-packages", re.M)


class OverfullPages(ReferenceServer):
    """A pageSize from 8 to 998 but 50 is answered with one operation too many ("pageSize=38
    answered 39 operations"): the fuzzer finds it, and walks at such sizes inside tests
    marked with other clauses; the whole-walk sizes 1, 2, 3, 7, 50 and 1000 never show it."""

    def page(self, query: ListQuery) -> Page:
        size = query.page_size
        if 7 < size < 999 and size != 50:
            return super().page(ListQuery(query.cursor, size + 1))
        return super().page(query)


@pytest.fixture
def env(monkeypatch):
    monkeypatch.setenv("COMMS_ACCOUNT_ID", CREDS.account_id)
    monkeypatch.setenv("COMMS_AUTH_TOKEN", CREDS.auth_token)
    monkeypatch.delenv("COMMS_BASE_URL", raising=False)
    monkeypatch.setenv("COLUMNS", "100")


def run(capsys, argv: list[str]) -> tuple[int, list[str], str]:
    code = cli.main(argv)
    out, err = capsys.readouterr()
    return code, out.splitlines(), err


def replays(lines: list[str]) -> dict[str, str]:
    """clause id -> the replay command printed under it."""
    found = {}
    for i, line in enumerate(lines):
        if line.strip() == "replay:":
            command = lines[i + 1].strip()
            found[command.split("--clause ", 1)[1].split()[0]] = command
    return found


def first_example(report: Path, clause: str) -> tuple:
    """The first finding the report shows for ``clause``: message, request, first detail."""
    doc = json.loads(report.read_text())
    row = next(c for c in doc["clauses"] if c["id"] == clause)
    assert row["status"] == "fail", row
    first = row["evidence"][0]
    return first["message"], first["request"], first["details"][:1]


def test_a_default_run_is_readable_and_its_replays_replay(env, capsys, tmp_path) -> None:
    with serve(OverfullPages(seed=11)) as base:
        report = tmp_path / "run.json"
        argv = ["run", "--base-url", base, "--profile", "quick", "--seed", "5", *THROTTLING]
        code, lines, err = run(capsys, [*argv, "--report-json", str(report)])
        text = "\n".join(lines)
        assert code == 1, text + err
        assert len(lines) <= 200, len(lines)
        assert not FRAMES.search(text + err), text + err
        assert "FAILED " not in text and "::" not in text  # no pytest test ids
        assert lines[-1].startswith("result: FAIL"), lines[-1]
        assert not err.strip() or err.startswith("comms-contract: "), err
        commands = replays(lines)
        assert "FULL-PAGES" in commands, text
        for clause in commands:
            command = commands[clause]
            for option in ("--rate-limit 2000/s", "--max-requests 20000", "--timeout 20"):
                assert option in command, command
            args = shlex.split(command)
            assert args[:2] == ["comms-contract", "run"], command
            again = tmp_path / f"{clause}.json"
            code2, lines2, err2 = run(capsys, [*args[1:], "--report-json", str(again)])
            assert code2 == 1, "\n".join(lines2) + err2
            assert any(clause in line and "FAIL" in line for line in lines2), lines2
            # same seed, same tests: the replay shows the run's first example again
            assert first_example(again, clause) == first_example(report, clause)


@pytest.mark.parametrize(
    ("app", "clause", "extra"),
    [
        (Throttle429WithoutRetryAfter, "RETRY-AFTER-429", ["--max-wait", "0.05"]),
        (PostAnswers200, "METHODS", ["--probe-methods"]),
    ],
    ids=["RETRY-AFTER-429", "METHODS"],
)
def test_client_and_probe_clauses_select_checks_and_replay(env, capsys, app, clause, extra):
    with serve(app(seed=3)) as base:
        argv = ["run", "--base-url", base, "--profile", "quick", "--clause", clause, *extra]
        code, lines, err = run(capsys, argv)
        status = next(line for line in lines if f" {clause} " in line)
        assert "FAIL" in status or "ADVISORY" in status, "\n".join(lines) + err
        command = replays(lines)[clause]
        assert all(e in command for e in extra), command
        code2, lines2, err2 = run(capsys, shlex.split(command)[1:])
        assert code2 == code, "\n".join(lines2) + err2
        assert any(
            f" {clause} " in line and line.split()[0] in ("FAIL", "ADVISORY") for line in lines2
        )


def test_methods_alone_without_probing_is_refused_with_the_reason(env, capsys) -> None:
    code, lines, err = run(capsys, ["run", "--clause", "METHODS"])
    assert code == 2 and not lines
    assert "--probe-methods" in err and len(err.strip().splitlines()) <= 2, err


def test_an_unreachable_target_prints_one_line_once(env, capsys) -> None:
    code, lines, err = run(capsys, ["run", "--base-url", f"http://127.0.0.1:{free_port()}"])
    assert code == 2
    assert lines == []  # not on stdout as well
    assert len(err.strip().splitlines()) == 1, err
