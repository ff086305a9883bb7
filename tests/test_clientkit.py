"""Self-tests of the client conformance kit: good drivers pass, each faulty one is caught with
the clause its bug violates, and the CLI's exit codes, reports and redaction hold."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from comms_contract import rfc3339
from comms_contract.cli import main
from comms_contract.clientkit import SCENARIOS, client_clause_ids, run_kit, runner
from comms_contract.clientkit.grader import CHECKS, kept_instant
from comms_contract.clientkit.mock import CommsMock, ConformanceError
from comms_contract.clientkit.recorder import classify_auth
from comms_contract.clientkit.scenarios import THROTTLE_SCENARIOS
from comms_contract.clientkit.serve import ScenarioApp
from comms_contract.server.app import Credentials

CLIENTS = Path(__file__).parent / "clients"
PY = sys.executable
QUICK = [n for n in SCENARIOS if n not in THROTTLE_SCENARIOS]
# every scenario but the 8 s jitter walk, which the stdlib driver runs in both zones
NO_JITTER = [n for n in SCENARIOS if n != "throttle-jitter"]
# the quick ones but the 1,005-page walk (the stdlib, library and Node.js drivers walk it)
SHORT = [n for n in QUICK if n != "long-walk"]
EAST = [runner.EAST_ZONE]
HAS_NODE = shutil.which("node") is not None
HAS_CURL = bool(shutil.which("curl") and shutil.which("jq"))


def driver(name: str) -> list[str]:
    """The command for a driver in tests/clients/, by its language."""
    path = str(CLIENTS / name)
    if name.endswith(".mjs"):
        return ["node", path]
    if name.endswith(".sh"):
        return [path]
    return [PY, path]


def needs(name: str) -> pytest.MarkDecorator:
    missing = (name.endswith(".mjs") and not HAS_NODE) or (name.endswith(".sh") and not HAS_CURL)
    return pytest.mark.skipif(missing, reason=f"{name}: toolchain not installed")


def test_catalog_and_grader_agree() -> None:
    assert list(CHECKS) == client_clause_ids()
    assert len(SCENARIOS) >= 11


def test_stdlib_base_driver_passes_every_scenario_in_every_zone() -> None:
    """The base the faulty clients start from conforms: the whole default run, both zones."""
    report = run_kit(driver("good_stdlib.py"))
    assert report.code == 0, "\n".join(report.terminal_lines())
    statuses = {row["id"]: row["status"] for row in report.clause_summary()}
    assert set(statuses.values()) == {"pass"}, statuses  # every clause exercised somewhere
    zoned = {r.zone for r in report.results if r.zone}
    assert len(zoned) == 2 and runner.EAST_ZONE in zoned


def test_reference_driver_passes_the_short_scenarios() -> None:
    """The suite's own walker and client (its throttling has tests of its own)."""
    report = run_kit([PY, "-m", "comms_contract.clientkit.reference_driver"], SHORT, zones=EAST)
    assert report.code == 0, "\n".join(report.terminal_lines())


def test_library_client_passes() -> None:
    """requests + urllib3's own Retry (Retry-After honoured, total=9) and a next-token loop."""
    report = run_kit(driver("requests_urllib3.py"), NO_JITTER, zones=EAST)
    assert report.code == 0, "\n".join(report.terminal_lines())


def test_conformant_variations_pass() -> None:
    """UTC dates, token-only later pages, lower-case %xx, 3 attempts at a 500: all allowed."""
    report = run_kit(driver("good_variants.py"), SHORT, zones=EAST)
    assert report.code == 0, "\n".join(report.terminal_lines())
    calls_500 = [h for h in report.result("persistent-500").hits if h.status == 500]
    assert len(calls_500) == 3


# client script, the scenarios that expose its bug, the clause it must be caught by (run under
# the east zone only: the west one is exercised by the good drivers and test_hang_is_cut_short)
FAULTY = [
    ("first_page_only.py", ["multi-page"], "CLIENT-FOLLOW-NEXT"),
    ("follows_self.py", ["multi-page"], "CLIENT-FOLLOW-NEXT"),
    ("capped_20_pages.py", ["long-walk"], "CLIENT-NO-SILENT-CAP"),
    ("node_max_items.mjs", ["long-walk"], "CLIENT-NO-SILENT-CAP"),
    ("raw_token.py", ["multi-page"], "CLIENT-TOKEN-VERBATIM"),
    ("bearer_auth.py", ["multi-page"], "CLIENT-AUTH"),
    ("no_auth.py", ["multi-page"], "CLIENT-AUTH"),
    ("naive_dates.py", ["filtered"], "CLIENT-DATES"),
    ("whole_second_dates.py", ["dates-fraction-ms"], "CLIENT-DATES"),
    ("naive_utc_as_local.py", ["dates-fraction-ns"], "CLIENT-DATES"),
    ("ignores_retry_after.py", ["throttle-429-seconds"], "CLIENT-RETRY-AFTER"),
    ("gives_up_on_503.py", ["unavailable-503"], "CLIENT-RETRY-AFTER"),
    ("http_date_local.py", ["throttle-429-date"], "CLIENT-RETRY-AFTER"),
    ("short_wait.py", ["throttle-jitter"], "CLIENT-RETRY-AFTER"),
    ("jitter_20.py", ["throttle-jitter"], "CLIENT-RETRY-AFTER"),
    ("node_jitter.mjs", ["throttle-jitter"], "CLIENT-RETRY-AFTER"),
    ("retries_429_forever.py", ["never-lifts-429"], "CLIENT-RETRY-BOUND"),
    ("requests_urllib3_total10.py", ["never-lifts-503"], "CLIENT-RETRY-BOUND"),
    ("duplicates_after_retry.py", ["throttle-429-seconds"], "CLIENT-EXACTLY-ONCE"),
    ("retries_500_forever.py", ["persistent-500"], "CLIENT-NO-BLIND-500"),
    ("strict_parser.py", ["unknown-fields"], "CLIENT-TOLERANT"),
    ("drops_unknown_status.py", ["unknown-fields"], "CLIENT-TOLERANT"),
    ("page_size_5000.py", ["page-size-1000"], "CLIENT-PAGESIZE"),
    ("loops_on_empty_next.py", ["end-empty-string"], "CLIENT-NO-EXTRA-REQUEST"),
    ("exits_zero_on_error.py", ["bad-request-400"], "CLIENT-SURFACES-ERRORS"),
    ("curl_empty_token.sh", ["multi-page"], "CLIENT-FREE-BRANCHES"),
]


def test_items_never_served_are_not_charged_to_tolerance() -> None:
    """Breaker, 2026-11-30: a client reading page 1 only was told it "dropped" PAUSED items
    (CLIENT-TOLERANT) that sat on pages it never fetched; the fault is CLIENT-FOLLOW-NEXT's."""
    report = run_kit(driver("first_page_only.py"), ["unknown-fields"], timeout=20, zones=EAST)
    assert "CLIENT-FOLLOW-NEXT" in report.failed
    assert "CLIENT-TOLERANT" not in report.failed, "\n".join(report.terminal_lines())


def test_a_throttle_that_never_lifts_is_charged_once() -> None:
    """Breaker, 2026-11-30: a client retrying a 429 for ever was charged CLIENT-RETRY-BOUND
    and also CLIENT-SURFACES-ERRORS ("after the error answer the client was stopped"): one
    fault, one clause."""
    report = run_kit(driver("retries_429_forever.py"), ["never-lifts-429"], timeout=20, zones=EAST)
    assert report.failed == {"CLIENT-RETRY-BOUND"}, "\n".join(report.terminal_lines())


# A random ±20 % jitter is early in about 4 of 10 waits even when a loaded machine delays its
# timers by tens of milliseconds: 16 waits (both zones) miss it with probability below 1e-3.
RANDOM_JITTER = {"jitter_20.py", "node_jitter.mjs"}


@pytest.mark.parametrize(
    ("script", "scenarios", "clause"),
    [pytest.param(*f, marks=needs(f[0]), id=f[0]) for f in FAULTY],
)
def test_faulty_client_is_caught(script: str, scenarios: list[str], clause: str) -> None:
    zones = runner.zone_runs()[0] if script in RANDOM_JITTER else EAST
    report = run_kit(driver(script), scenarios, timeout=20, zones=zones)
    assert report.code == 1
    assert clause in report.failed, "\n".join(report.terminal_lines())
    verdict = next(r.verdict(clause) for r in report.results if clause in r.failed)
    assert verdict.message and verdict.evidence  # names the clause and shows the requests
    assert not any(r.run.timed_out for r in report.results)  # graded, not killed at 20 s


def test_every_clause_is_shown_to_fail() -> None:
    assert {clause for _, _, clause in FAULTY} == set(client_clause_ids())


def test_a_looping_client_is_cut_short_not_timed_out() -> None:
    report = run_kit(driver("follows_self.py"), ["multi-page"])
    result = report.results[0]
    assert result.run.cut_kind == "runaway" and not result.run.timed_out
    assert len(result.hits) + result.dropped <= built_budget("multi-page") + 50
    assert "CLIENT-FOLLOW-NEXT" in result.failed


def built_budget(name: str) -> int:
    built = SCENARIOS[name].build(Credentials(), 0, "")
    assert built.server.budget is not None
    return built.server.budget


def test_hang_is_cut_short() -> None:
    """An HTTP-date read as local time west of UTC waits hours: ended 5 s past Retry-After."""
    west = ["America/New_York"]
    report = run_kit(driver("http_date_local.py"), ["throttle-429-date"], zones=west)
    result = report.results[0]
    assert result.run.cut_kind == "hang" and not result.run.timed_out
    assert "CLIENT-RETRY-AFTER" in result.failed
    assert "TZ=America/New_York" in result.label


def test_lower_case_dates_are_an_advisory() -> None:
    report = run_kit(driver("lowercase_dates.py"), ["filtered", "dates-fraction-ns"], zones=EAST)
    assert report.code == 0, "\n".join(report.terminal_lines())
    assert all(r.verdict("CLIENT-DATES").status == "advisory" for r in report.results)
    row = next(r for r in report.clause_summary() if r["id"] == "CLIENT-DATES")
    assert row["status"] == "advisory"
    assert any("advisory: CLIENT-DATES" in line for line in report.terminal_lines())


def test_kept_instant_allows_only_date_type_precision() -> None:
    asked = "2026-11-24T03:28:37.123456789+05:45"
    ns = rfc3339.parse(asked)
    assert ns is not None
    assert kept_instant(asked, ns)
    assert kept_instant(asked, ns - 456_789)  # milliseconds (JavaScript Date), truncated
    assert kept_instant(asked, ns - 789)  # microseconds (Python datetime), truncated
    assert kept_instant(asked, ns - 89)  # 100 ns (.NET ticks), truncated
    assert not kept_instant(asked, ns - 123_456_789)  # the fraction dropped
    short = "2026-11-24T03:28:37.5Z"
    assert not kept_instant(short, (rfc3339.parse(short) or 0) - 500_000_000)


# ---- the driver's environment and process group ---------------------------------------------
def test_driver_env_is_scrubbed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COMMS_AUTH_TOKEN", "the-users-real-staging-token")
    monkeypatch.setenv("COMMS_BASE_URL", "https://staging.example")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "not-for-drivers")
    monkeypatch.setenv("HTTPS_PROXY", "http://proxy.example:3128")
    monkeypatch.setenv("LC_ALL", "C.UTF-8")
    monkeypatch.setenv("EXTRA_FOR_DRIVER", "yes")
    creds = Credentials("ACkit", "kit-token")
    env = runner.driver_env("http://127.0.0.1:1", creds, {"pageSize": 5}, "multi-page", "X/Y")
    assert env["COMMS_AUTH_TOKEN"] == "kit-token" and env["COMMS_BASE_URL"] == "http://127.0.0.1:1"
    assert "the-users-real-staging-token" not in env.values()
    assert "AWS_SECRET_ACCESS_KEY" not in env and "HTTPS_PROXY" not in env
    assert env["TZ"] == "X/Y" and env["LC_ALL"] == "C.UTF-8" and env["PATH"] == os.environ["PATH"]
    assert "EXTRA_FOR_DRIVER" not in env
    passed = runner.driver_env("u", creds, {}, "s", passed=["EXTRA_FOR_DRIVER"])
    assert passed["EXTRA_FOR_DRIVER"] == "yes"
    with pytest.raises(runner.UsageError):
        run_kit(driver("good_stdlib.py"), ["empty"], pass_env=["COMMS_AUTH_TOKEN"])


@pytest.mark.skipif(
    not (runner.ZONEINFO / runner.EAST_ZONE).is_file(), reason="no time zone database"
)
def test_tz_reaches_the_driver() -> None:
    creds = Credentials("ACkit", "kit-token")
    env = runner.driver_env("http://127.0.0.1:1", creds, {}, "filtered", runner.EAST_ZONE)
    code = "import os, time; print(os.environ['TZ'], time.strftime('%z'))"
    run = runner.run_driver([PY, "-c", code], env, 10)
    assert run.output == [f"{runner.EAST_ZONE} +0530"]
    zones, note = runner.zone_runs()
    assert zones[0] == runner.EAST_ZONE and zones[1] in runner.WEST_ZONES and not note


def test_zone_runs_degrade_without_tzdata(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setattr(runner, "ZONEINFO", tmp_path)
    zones, note = runner.zone_runs()
    assert zones == ["UTC"] and "tzdata" in note


def test_west_zone_observes_dst_on_the_run_date() -> None:
    from datetime import datetime, timezone

    july = datetime(2026, 7, 15, tzinfo=timezone.utc)
    december = datetime(2026, 12, 15, tzinfo=timezone.utc)
    assert runner.zone_runs(july)[0][1] == "America/New_York"
    assert runner.zone_runs(december)[0][1] == "America/Santiago"


def _gone(pid: int) -> bool:
    """True when the process no longer runs (absent, or a zombie nobody reaped yet)."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except FileNotFoundError:
        return True
    return "\nState:\tZ" in status


@pytest.mark.skipif(os.name != "posix" or not Path("/proc").is_dir(), reason="needs /proc")
def test_background_children_are_ended(tmp_path: Path) -> None:
    pidfile = tmp_path / "child.pid"
    script = f"sleep 300 & echo $! > {pidfile}; exit 0"  # no request: graded, not refused
    run_kit(["bash", "-c", script], ["empty"])
    pid = int(pidfile.read_text())
    deadline = time.monotonic() + 5
    while not _gone(pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert _gone(pid)


@pytest.mark.skipif(os.name != "posix" or not Path("/proc").is_dir(), reason="needs /proc")
@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_interrupting_check_client_ends_the_driver_group(tmp_path: Path, sig: int) -> None:
    pidfile = tmp_path / "pids"
    script = f"sleep 300 & echo $$ $! > {pidfile}; wait"
    cli = [PY, "-m", "comms_contract", "check-client", "--scenario", "empty", "--"]
    proc = subprocess.Popen([*cli, "bash", "-c", script], stderr=subprocess.PIPE)
    deadline = time.monotonic() + 30
    while not (pidfile.exists() and len(pidfile.read_text().split()) == 2):
        assert time.monotonic() < deadline and proc.poll() is None
        time.sleep(0.05)
    proc.send_signal(sig)
    _, err = proc.communicate(timeout=30)
    assert proc.returncode == 128 + sig and b"interrupted" in err and b"Traceback" not in err
    for pid in map(int, pidfile.read_text().split()):
        deadline = time.monotonic() + 5
        while not _gone(pid) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert _gone(pid), pid


def test_raw_plus_is_explained_with_evidence() -> None:
    report = run_kit(driver("raw_token.py"), ["multi-page"])
    verdict = report.results[0].verdict("CLIENT-TOKEN-VERBATIM")
    assert "raw '+'" in verdict.message
    assert any("pageToken=+/+/" in line for line in verdict.evidence)


@pytest.mark.skipif(not HAS_CURL, reason="needs curl and jq")
def test_shell_driver_works_unchanged() -> None:
    """Every quick scenario but the 1,005-page walk (a curl and two jq per page), and the
    HTTP-date throttle under the west zone (GNU date converts it)."""
    report = run_kit([str(CLIENTS / "curl_driver.sh")], [*SHORT, "throttle-429-date"], zones=EAST)
    assert report.code == 0, "\n".join(report.terminal_lines())


@pytest.mark.skipif(not HAS_NODE, reason="needs node (Node.js 18+)")
def test_node_driver_works_unchanged() -> None:
    zones, _ = runner.zone_runs()
    report = run_kit(["node", str(CLIENTS / "node_driver.mjs")], NO_JITTER, zones=zones[-1:])
    assert report.code == 0, "\n".join(report.terminal_lines())


@pytest.mark.skipif(
    not (shutil.which("javac") and shutil.which("java")), reason="needs a JDK (javac, java)"
)
def test_java_driver_works_unchanged(tmp_path: Path) -> None:
    subprocess.run(["javac", "-d", str(tmp_path), str(CLIENTS / "ListOperations.java")], check=True)
    cmd = ["java", "-cp", str(tmp_path), "ListOperations"]
    report = run_kit(cmd, ["multi-page", "filtered", "bad-request-400"], zones=EAST)
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


def test_a_driver_that_fails_before_any_request_is_a_usage_error(capsys) -> None:
    """Breaker, 2026-11-30: a driver that crashed at start (an import error, a wrong path) was
    graded 28 times, each "CLIENT-FOLLOW-NEXT: the client made no request". The first run
    failing with no request is the command's fault: one line, exit 2, its stderr quoted."""
    crash = "import sys; sys.exit('\\x1b]0;pwn\\x07ModuleNotFoundError: No module named mysdk')"
    assert main(["check-client", "--", sys.executable, "-c", crash]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0, err
    assert "made no request and exited 1" in err and "No module named mysdk" in err
    assert "\x1b" not in err and "\\x1b]0;pwn" in err  # its stderr, control characters escaped
    # exiting 0 without a request is the client's fault (a silent empty list): graded
    assert main(["check-client", "--scenario", "multi-page", "--", sys.executable, "-c", ""]) == 1
    assert "CLIENT-FOLLOW-NEXT" in capsys.readouterr().out


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


def test_comms_mock_stops_a_looping_client() -> None:
    with CommsMock("multi-page") as mock:
        params = dict(mock.params)
        with (
            httpx.Client(auth=(mock.account_id, mock.auth_token)) as c,
            pytest.raises(ConformanceError, match="CLIENT-FOLLOW-NEXT"),
        ):
            for _ in range(1000):  # follows self: never ends on its own
                body = c.get(mock.base_url + "/v1/PushNotifications/Operations", params=params)
                params["pageToken"] = body.json()["pagination"]["self"]
