"""Run reports: the JSON document, JUnit XML (one testcase per clause) and the terminal table.

Every string passes through the redactor before it is written.
"""

from __future__ import annotations

import json
import os
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

from comms_contract import __version__
from comms_contract.ledger import ClauseResult
from comms_contract.redact import redact
from comms_contract.session import ContractSession

COLOURS = {"pass": "32", "fail": "31", "advisory": "33", "skipped": "90"}


def verdict(session: ContractSession, results: list[ClauseResult]) -> str:
    if session.interrupted:
        return "interrupted"
    if session.errors:
        return "error"
    return "fail" if any(r.status == "fail" for r in results) else "pass"


def document(session: ContractSession) -> dict[str, Any]:
    results = session.ledger.results()
    doc = {
        "tool": {"name": "comms-contract", "version": __version__},
        "target": {"base_url": session.target_label},
        "result": verdict(session, results),
        "profile": session.profile.name,
        "seed": session.seed,
        "strict": session.strict,
        "requests": session.requests,
        "waited_s": round(session.waited, 3),
        "duration_s": round(session.duration, 3),
        "errors": session.errors,
        "interrupted": session.interrupted,
        "clauses": [
            {
                "id": r.id,
                "level": r.level,
                "status": r.status,
                "message": r.message,
                "downgraded": r.downgraded,
                "reproduce": session.suite_command(r.id)
                if r.status in ("fail", "advisory")
                else "",
                "evidence": [line for f in r.findings for line in (f.message, *f.evidence)],
                "tests": r.tests,
            }
            for r in results
        ],
    }
    return _redacted(doc)


def _redacted(value: Any) -> Any:
    """Redact every string in the document (before JSON escaping can disguise a secret)."""
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, dict):
        return {k: _redacted(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_redacted(v) for v in value]
    return value


def write_json(session: ContractSession, path: str) -> None:
    _ensure_parent(path)
    Path(path).write_text(json.dumps(document(session), indent=2) + "\n", encoding="utf-8")


def write_junit(session: ContractSession, path: str) -> None:
    doc = document(session)
    clauses = doc["clauses"]
    suite = ET.Element(
        "testsuite",
        name="comms-contract",
        tests=str(len(clauses)),
        failures=str(sum(c["status"] == "fail" for c in clauses)),
        skipped=str(sum(c["status"] == "skipped" for c in clauses)),
        errors=str(len(doc["errors"]) + bool(doc["interrupted"])),
        time=f"{doc['duration_s']:.3f}",
    )
    props = ET.SubElement(suite, "properties")
    for key in ("seed", "profile", "requests", "waited_s"):
        ET.SubElement(props, "property", name=key, value=str(doc[key]))
    ET.SubElement(props, "property", name="target", value=doc["target"]["base_url"])
    for c in clauses:
        case = ET.SubElement(
            suite, "testcase", classname=f"comms_contract.{c['level']}", name=f"{c['id']}", time="0"
        )
        text = "\n".join([c["message"], *c["evidence"], f"reproduce: {c['reproduce']}"])
        if c["status"] == "fail":
            ET.SubElement(case, "failure", message=c["message"][:500]).text = text
        elif c["status"] == "skipped":
            ET.SubElement(case, "skipped", message=c["message"][:500])
        elif c["status"] == "advisory":
            ET.SubElement(case, "system-out").text = "advisory: " + text
    for err in doc["errors"]:
        case = ET.SubElement(suite, "testcase", classname="comms_contract", name="run-error")
        ET.SubElement(case, "error", message=err[:500]).text = err
    if doc["interrupted"]:
        text = f"the run was interrupted by {doc['interrupted']}: its results are incomplete"
        case = ET.SubElement(suite, "testcase", classname="comms_contract", name="interrupted")
        ET.SubElement(case, "error", message=text, type="interrupted").text = text
    _ensure_parent(path)
    ET.ElementTree(suite).write(path, encoding="utf-8", xml_declaration=True)


def terminal_lines(session: ContractSession, *, colour: bool = False) -> list[str]:
    doc = document(session)
    lines = [
        f"comms-contract {__version__}: {doc['target']['base_url']}  profile={doc['profile']} "
        f"seed={doc['seed']}{' strict' if doc['strict'] else ''}"
    ]
    width = max((len(c["id"]) for c in doc["clauses"]), default=10)
    for c in doc["clauses"]:
        status = c["status"].upper()
        if colour:
            status = f"\x1b[{COLOURS[c['status']]}m{status:<8}\x1b[0m"
        else:
            status = f"{status:<8}"
        msg = c["message"].splitlines()[0][:110] if c["message"] else ""
        lines.append(f"  {status} {c['id']:<{width}} {c['level']:<6} {msg}".rstrip())
        if c["status"] in ("fail", "advisory"):
            for ev in c["evidence"][1:3]:
                lines.append(f"           {ev[:160]}")
            lines.append(f"           reproduce: {c['reproduce']}")
    counts = {s: sum(c["status"] == s for c in doc["clauses"]) for s in COLOURS}
    lines.append(
        f"result: {doc['result'].upper()}  ({counts['pass']} pass, {counts['fail']} fail, "
        f"{counts['advisory']} advisory, {counts['skipped']} skipped)  requests={doc['requests']} "
        f"waited={doc['waited_s']}s duration={doc['duration_s']}s seed={doc['seed']}"
    )
    for err in doc["errors"]:
        lines.append(f"error: {err}")
    return lines


def colour_wanted() -> bool:
    return os.environ.get("NO_COLOR") is None and os.isatty(1)


def _ensure_parent(path: str) -> None:
    Path(path).parent.mkdir(parents=True, exist_ok=True)
