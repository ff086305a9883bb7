"""Reports: the JSON document, JUnit XML (one testcase per clause) and the HTML page.

A failing mutant (500 for any status filter) and a small request budget give a run with
passes, failures and skips, so every part of each report format is exercised.
"""

from __future__ import annotations

import base64
import json
import os
import shutil
import subprocess
import tempfile
import xml.etree.ElementTree as ET
from html.parser import HTMLParser
from pathlib import Path

import pytest
from harness import run_against

from comms_contract import catalog
from comms_contract.html_report import render
from comms_contract.server import ReferenceServer
from comms_contract.server.app import ApiError

# an Authorization value a hostile server echoed (base64 of a made-up "ABC:def")
ECHOED = base64.b64encode(b"ABC:def").decode()

CLAUSES = ["NO-5XX", "STATUS-ENUM", "AUTH", "ERROR-BODY", "METHODS", "CT"]


class FiveHundredOnStatus(ReferenceServer):
    """Mutant: any status filter crashes the server (NO-5XX)."""

    def parse_status(self, raw: str | None) -> str | None:
        if raw is not None:
            raise ApiError(500, 20500, "Internal Server Error <script>alert(1)</script>")
        return raw


@pytest.fixture(scope="module")
def failing_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("reports")
    run = run_against(FiveHundredOnStatus(), clauses=CLAUSES, seed=7, max_wait=0.01, reports=out)
    return run.code, run.session, out


def test_json_report_structure(failing_run):
    code, session, out = failing_run
    assert code == 1
    doc = json.loads((out / "report.json").read_text())
    assert doc["tool"]["name"] == "comms-contract"
    assert doc["target"]["base_url"]
    assert doc["result"] == "fail"
    assert doc["seed"] == 7
    assert doc["requests"] == session.requests > 0
    assert isinstance(doc["duration_s"], float) and doc["duration_s"] > 0
    assert doc["waited_s"] == 0
    by_id = {c["id"]: c for c in doc["clauses"]}
    assert set(by_id) == set(CLAUSES)
    for c in doc["clauses"]:
        assert {"id", "level", "status", "message", "reproduce"} <= set(c)
        assert c["level"] == catalog.get(c["id"]).level
        assert c["status"] in ("pass", "fail", "advisory", "skipped")
    fail = by_id["NO-5XX"]
    assert fail["status"] == "fail"
    assert "--seed 7" in fail["reproduce"] and "--clause NO-5XX" in fail["reproduce"]
    assert fail["reproduce"].startswith("comms-contract run")
    assert fail["findings_total"] >= len(fail["evidence"]) >= 1
    for e in fail["evidence"]:  # structured evidence, not a flat list of strings
        assert e["clause"] == "NO-5XX" and e["message"] and e["test"]
        req = e["request"]
        assert req["method"] == "GET" and req["status"] == 500 and "status=" in req["url"]
        assert req["content_type"].startswith("application/json")
        assert "Internal Server Error" in req["body_excerpt"] and len(req["body_excerpt"]) <= 203
        assert e["curl"].startswith("curl ") and "$COMMS_AUTH_TOKEN" in e["curl"]
        assert isinstance(e["details"], list)
    assert fail["time_s"] > 0
    assert by_id["METHODS"]["status"] == "skipped"
    assert "--probe-methods" in by_id["METHODS"]["message"]
    assert by_id["AUTH"]["status"] == "pass"


def test_junit_one_testcase_per_clause(failing_run):
    _, _, out = failing_run
    root = ET.parse(out / "junit.xml").getroot()  # noqa: S314 - our own file
    assert root.tag == "testsuite"
    cases = root.findall("testcase")
    assert sorted(c.get("name") for c in cases) == sorted(CLAUSES)
    assert root.get("tests") == str(len(CLAUSES))
    by_name = {c.get("name"): c for c in cases}
    failure = by_name["NO-5XX"].find("failure")
    assert failure is not None and "500" in failure.get("message")
    assert "reproduce: comms-contract run" in failure.text and "--seed 7" in failure.text
    assert not failure.text.startswith(failure.get("message"))  # the headline is not repeated
    assert failure.text.count("reproduce: comms-contract run") == 1
    times = {c.get("name"): float(c.get("time")) for c in cases}
    assert times["NO-5XX"] > 0 and times["AUTH"] > 0  # time spent in each clause's tests
    assert sum(times.values()) <= float(root.get("time")) + 0.01
    skipped = by_name["METHODS"].find("skipped")
    assert skipped is not None and "--probe-methods" in skipped.get("message")
    assert by_name["AUTH"].find("failure") is None and by_name["AUTH"].find("skipped") is None
    assert int(root.get("failures")) == sum(c.find("failure") is not None for c in cases)
    props = {p.get("name"): p.get("value") for p in root.iter("property")}
    assert props["seed"] == "7" and int(props["requests"]) > 0


class _Page(HTMLParser):
    """Collects what the structure test needs: tags, external references, table rows."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[str] = []
        self.external: list[str] = []
        self.rows: dict[str, str] = {}
        self.ids: set[str] = set()
        self.text: list[str] = []
        self.scripts = 0

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        self.tags.append(tag)
        if "id" in a:
            self.ids.add(a["id"])
        if tag == "script":
            self.scripts += 1
        for key in ("src", "href"):
            if a.get(key) and not a[key].startswith("#"):
                self.external.append(a[key])
        if tag == "tr" and "data-clause" in a:
            self.rows[a["data-clause"]] = a.get("class", "")

    def handle_data(self, data):
        self.text.append(data)


def test_html_report_structure(failing_run):
    _, _, out = failing_run
    page_text = (out / "report.html").read_text()
    page = _Page()
    page.feed(page_text)
    assert page.tags[0] == "html" and "style" in page.tags
    assert page.external == [] and page.scripts == 0  # self-contained: nothing to fetch
    assert "@import" not in page_text and "url(" not in page_text
    assert page.rows == {c: page.rows[c] for c in CLAUSES}
    assert page.rows["NO-5XX"] == "fail" and page.rows["AUTH"] == "pass"
    assert page.rows["METHODS"] == "skipped"
    assert {"result", "clauses", "failures", "failure-NO-5XX"} <= page.ids
    text = " ".join(page.text)
    for fact in (
        "Target",
        "Seed",
        "Requests",
        "Waiting",
        "Duration",
        "in-process ASGI app FiveHundredOnStatus",
    ):
        assert fact in text
    assert "--seed 7 --max-wait 0.01 --clause NO-5XX" in text  # the run's options, replayed
    assert "<script>" not in page_text


def test_html_escapes_and_redacts_hostile_values():
    doc = {
        "tool": {"name": "comms-contract", "version": "0"},
        "target": {"base_url": "https://x.example/<b>"},
        "result": "fail",
        "profile": "ci",
        "seed": 1,
        "requests": 3,
        "waited_s": 0.5,
        "duration_s": 1.0,
        "errors": ['<img src="http://evil/">'],
        "clauses": [
            {
                "id": "NO-5XX",
                "level": "MUST",
                "status": "fail",
                "message": '"><iframe>',
                "reproduce": "comms-contract run --seed 1 --clause NO-5XX",
                "findings_total": 1,
                "evidence": [
                    {
                        "clause": "NO-5XX",
                        "message": "500",
                        "advisory": False,
                        "test": "test_x",
                        "request": None,
                        "curl": "",
                        "details": ["Authorization: Basic " + ECHOED],
                    }
                ],
            }
        ],
    }
    page = render(doc)
    assert "<img" not in page and "<iframe>" not in page and "<b>" not in page
    assert ECHOED.rstrip("=") not in page


CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.mark.skipif(CHROMIUM is None, reason="no chromium on this machine")
def test_html_renders_in_headless_chromium(failing_run, tmp_path):
    _, _, out = failing_run
    shot = tmp_path / "report.png"
    profile = tempfile.mkdtemp(prefix="chromium-")
    try:
        subprocess.run(
            [
                CHROMIUM,
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--no-first-run",
                f"--user-data-dir={profile}",
                "--window-size=1280,1400",
                f"--screenshot={shot}",
                (out / "report.html").as_uri(),
            ],
            capture_output=True,
            timeout=60,
            check=False,
            env={**os.environ, "HOME": profile},
        )
    finally:
        shutil.rmtree(profile, ignore_errors=True)
    data = shot.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    assert len(data) > 20_000  # a rendered page, not a blank canvas
    keep = os.environ.get("COMMS_KEEP_SCREENSHOT")
    if keep:
        Path(keep).write_bytes(data)


def test_html_shortens_long_values_after_scrubbing():
    token = "A" * 5000
    secret_pair = "ABC:def"  # registered below: a long value must be scrubbed before it is cut
    from comms_contract.redact import REDACTOR

    REDACTOR.add("ABC", "def-secret-value")
    doc = {
        "tool": {"name": "comms-contract", "version": "0"},
        "target": {"base_url": "https://x.example"},
        "result": "fail",
        "profile": "ci",
        "seed": 1,
        "requests": 3,
        "waited_s": 0.0,
        "duration_s": 1.0,
        "errors": [],
        "interrupted": None,
        "clauses": [
            {
                "id": "SELF",
                "level": "MUST",
                "status": "fail",
                "message": f"self {token} returned other ids",
                "reproduce": "comms-contract run --seed 1 --clause SELF",
                "findings_total": 1,
                "evidence": [
                    {
                        "clause": "SELF",
                        "message": f"self {token} returned other ids",
                        "advisory": False,
                        "test": "test_x",
                        "request": {
                            "method": "GET",
                            "url": f"https://x.example/v1?pageToken={token}def-secret-value",
                            "status": 200,
                            "content_type": "application/json",
                            "body_excerpt": "{}",
                        },
                        "curl": f"curl 'https://x.example/v1?pageToken={token}'",
                        "details": [f"page 1: pageToken={token}"],
                    }
                ],
            }
        ],
    }
    page = render(doc)
    assert token not in page and "(5000 chars)" in page
    assert page.count("(5000 chars)") >= 3  # message, evidence, request: each shortened
    assert "def-secret-value" not in page and secret_pair not in page
