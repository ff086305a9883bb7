"""Self-tests of the client conformance kit: good drivers pass, each faulty one is caught with
the clause its bug violates, and the CLI's exit codes, reports and redaction hold."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from comms_contract.cli import main
from comms_contract.clientkit import SCENARIOS, client_clause_ids, run_kit, runner
from comms_contract.clientkit.grader import CHECKS
from comms_contract.clientkit.mock import CommsMock, ConformanceError
from comms_contract.clientkit.recorder import classify_auth
from comms_contract.clientkit.scenarios import THROTTLE_SCENARIOS
from comms_contract.clientkit.serve import ScenarioApp
from comms_contract.server.app import Credentials

CLIENTS = Path(__file__).parent / "clients"
PY = sys.executable
QUICK = [n for n in SCENARIOS if n not in THROTTLE_SCENARIOS]


def driver(name: str) -> list[str]:
    return [PY, str(CLIENTS / name)]


def test_catalog_and_grader_agree() -> None:
    assert list(CHECKS) == client_clause_ids()
    assert len(SCENARIOS) >= 11


def test_reference_driver_passes_every_scenario() -> None:
    started = time.monotonic()
    report = run_kit([PY, "-m", "comms_contract.clientkit.reference_driver"])
    assert report.code == 0, "\n".join(report.terminal_lines())
    assert time.monotonic() - started < 60
    statuses = {row["id"]: row["status"] for row in report.clause_summary()}
    assert set(statuses.values()) == {"pass"}, statuses  # every clause exercised somewhere


def test_stdlib_base_driver_passes_every_scenario() -> None:
    """The base the faulty clients start from is itself conformant."""
    report = run_kit(driver("good_stdlib.py"))
    assert report.code == 0, "\n".join(report.terminal_lines())


def test_conformant_variations_pass() -> None:
    """UTC dates, token-only later pages, lower-case %xx, 3 attempts at a 500: all allowed."""
    report = run_kit(driver("good_variants.py"), QUICK)
    assert report.code == 0, "\n".join(report.terminal_lines())
    calls_500 = [h for h in report.result("persistent-500").hits if h.status == 500]
    assert len(calls_500) == 3


# client script, the scenarios that expose its bug, the clause it must be caught by
FAULTY = [
    ("first_page_only.py", ["multi-page"], "CLIENT-FOLLOW-NEXT"),
    ("raw_token.py", ["multi-page"], "CLIENT-TOKEN-VERBATIM"),
    ("bearer_auth.py", ["multi-page"], "CLIENT-AUTH"),
    ("no_auth.py", ["multi-page"], "CLIENT-AUTH"),
    ("naive_dates.py", ["filtered"], "CLIENT-DATES"),
    ("ignores_retry_after.py", ["throttle-429-seconds"], "CLIENT-RETRY-AFTER"),
    ("gives_up_on_503.py", ["unavailable-503"], "CLIENT-RETRY-AFTER"),
    ("duplicates_after_retry.py", ["throttle-429-seconds"], "CLIENT-EXACTLY-ONCE"),
    ("retries_500_forever.py", ["persistent-500"], "CLIENT-NO-BLIND-500"),
    ("strict_parser.py", ["unknown-fields"], "CLIENT-TOLERANT"),
    ("drops_unknown_status.py", ["unknown-fields"], "CLIENT-TOLERANT"),
    ("page_size_5000.py", ["page-size-1000"], "CLIENT-PAGESIZE"),
    ("loops_on_empty_next.py", ["end-empty-string"], "CLIENT-NO-EXTRA-REQUEST"),
    ("exits_zero_on_error.py", ["bad-request-400"], "CLIENT-SURFACES-ERRORS"),
]


@pytest.mark.parametrize(("script", "scenarios", "clause"), FAULTY, ids=[f[0] for f in FAULTY])
def test_faulty_client_is_caught(script: str, scenarios: list[str], clause: str) -> None:
    report = run_kit(driver(script), scenarios, timeout=4)
    assert report.code == 1
    assert clause in report.failed, "\n".join(report.terminal_lines())
    verdict = report.results[0].verdict(clause)
    assert verdict.message


def test_every_clause_is_shown_to_fail() -> None:
    assert {clause for _, _, clause in FAULTY} == set(client_clause_ids())


def test_follows_self_is_killed_at_the_timeout() -> None:
    started = time.monotonic()
    report = run_kit(driver("follows_self.py"), ["multi-page"], timeout=2)
    result = report.results[0]
    assert result.run.timed_out and result.run.exit_code is None
    assert time.monotonic() - started < 10
    assert "CLIENT-FOLLOW-NEXT" in result.failed


def test_raw_plus_is_explained_with_evidence() -> None:
    report = run_kit(driver("raw_token.py"), ["multi-page"])
    verdict = report.results[0].verdict("CLIENT-TOKEN-VERBATIM")
    assert "raw '+'" in verdict.message
    assert any("pageToken=+/+/" in line for line in verdict.evidence)


@pytest.mark.skipif(not (shutil.which("curl") and shutil.which("jq")), reason="needs curl and jq")
def test_shell_driver_works_unchanged() -> None:
    report = run_kit([str(CLIENTS / "curl_driver.sh")], [*QUICK, "throttle-429-date"])
    assert report.code == 0, "\n".join(report.terminal_lines())


@pytest.mark.skipif(shutil.which("node") is None, reason="needs node (Node.js 18+)")
def test_node_driver_works_unchanged() -> None:
    report = run_kit(["node", str(CLIENTS / "node_driver.mjs")])
    assert report.code == 0, "\n".join(report.terminal_lines())


@pytest.mark.skipif(
    not (shutil.which("javac") and shutil.which("java")), reason="needs a JDK (javac, java)"
)
def test_java_driver_works_unchanged(tmp_path: Path) -> None:
    subprocess.run(["javac", "-d", str(tmp_path), str(CLIENTS / "ListOperations.java")], check=True)
    cmd = ["java", "-cp", str(tmp_path), "ListOperations"]
    report = run_kit(cmd, ["multi-page", "filtered", "bad-request-400"])
    assert report.code == 0, "\n".join(report.terminal_lines())


def test_docs_embed_the_tested_examples() -> None:
    """docs/sdk-authors.md shows exactly the driver and test files that run here."""
    docs = (Path(__file__).parents[1] / "docs" / "sdk-authors.md").read_text(encoding="utf-8")
    for path in (
        CLIENTS / "node_driver.mjs",
        CLIENTS / "ListOperations.java",
        CLIENTS / "curl_driver.sh",
        Path(__file__).parent / "test_clientkit_example.py",
    ):
        assert path.read_text(encoding="utf-8").strip() in docs, path.name


# ---- CLI --------------------------------------------------------------------------------------
def test_cli_exit_codes_and_json_report(
    tmp_path: Path, capsys: pytest.CaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    creds = runner.kit_credentials()
    monkeypatch.setattr(runner, "kit_credentials", lambda: creds)
    good = tmp_path / "good.json"
    code = main(
        [
            "check-client",
            "--scenario",
            "multi-page",
            "--report-json",
            str(good),
            "--",
            PY,
            "-m",
            "comms_contract.clientkit.reference_driver",
        ]
    )
    assert code == 0
    doc = json.loads(good.read_text())
    assert doc["result"] == "pass" and doc["scenarios"][0]["scenario"] == "multi-page"

    bad = tmp_path / "bad.json"
    code = main(
        [
            "check-client",
            "--scenario",
            "multi-page",
            "--report-json",
            str(bad),
            "--",
            *driver("bearer_auth.py"),
        ]
    )
    out = capsys.readouterr().out
    assert code == 1 and "CLIENT-AUTH" in out
    text = bad.read_text()
    doc = json.loads(text)
    auth = next(c for c in doc["scenarios"][0]["clauses"] if c["id"] == "CLIENT-AUTH")
    assert auth["status"] == "fail" and auth["evidence"]
    assert creds.auth_token not in text and creds.auth_token not in out  # never written


def test_cli_usage_errors(capsys: pytest.CaptureFixture) -> None:
    assert main(["check-client", "--", "no-such-driver-xyz"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "not found" in err
    assert main(["check-client", "--scenario", "nope", "--", PY]) == 2
    assert main(["check-client"]) == 2
    assert main(["check-client", "--list"]) == 0
    assert "throttle-429-date" in capsys.readouterr().out


# ---- recorder, serve --scenario, respx -----------------------------------------------------------
def test_auth_classification_never_keeps_the_secret() -> None:
    basic = "Basic " + __import__("base64").b64encode(b"AC1:secret").decode()
    assert classify_auth(basic, "AC1", "secret") == ("Basic", True)
    assert classify_auth(basic, "AC1", "other") == ("Basic", False)
    assert classify_auth("Bearer secret", "AC1", "secret") == ("Bearer", False)
    assert classify_auth(None, "AC1", "secret") == ("", False)


def test_serve_scenario_app_logs_requests(tmp_path: Path) -> None:
    log = tmp_path / "requests.jsonl"
    creds = Credentials()
    app = ScenarioApp("multi-page", creds, request_log=str(log))
    transport = httpx.ASGITransport(app=app)

    async def go() -> tuple[int, dict]:
        async with httpx.AsyncClient(transport=transport, base_url="http://kit") as c:
            r = await c.get(
                "/v1/PushNotifications/Operations",
                params={"pageSize": 25},
                auth=(creds.account_id, creds.auth_token),
            )
            logged = (await c.get("/_kit/log")).json()
            await c.post("/_kit/reset")
            return r.status_code, logged

    import asyncio

    status, logged = asyncio.run(go())
    app.close()
    assert status == 200
    assert logged["requests"][0]["raw_query"] == "pageSize=25"
    line = json.loads(log.read_text().splitlines()[0])
    assert line["auth_ok"] is True and creds.auth_token not in log.read_text()


def test_comms_mock_with_an_async_client() -> None:
    with CommsMock("multi-page") as mock:

        async def walk() -> list[str]:
            ids, params = [], dict(mock.params)
            async with httpx.AsyncClient(auth=(mock.account_id, mock.auth_token)) as c:
                while True:
                    r = await c.get(
                        mock.base_url + "/v1/PushNotifications/Operations", params=params
                    )
                    body = r.json()
                    ids += [o["id"] for o in body["operations"]]
                    if not body["pagination"].get("next"):
                        return ids
                    params["pageToken"] = body["pagination"]["next"]

        import asyncio

        ids = asyncio.run(walk())
        assert mock.assert_conforms(ids).passed
        with pytest.raises(ConformanceError, match="CLIENT-EXACTLY-ONCE"):
            mock.assert_conforms(ids + ids[:1])
