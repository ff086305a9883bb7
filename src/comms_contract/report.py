"""Run reports: the JSON document, JUnit XML (one testcase per clause) and the terminal table.

Every string passes through the redactor before it is written; values are shortened only
after that (a cut could leave a piece of a secret the redactor no longer recognises).
The terminal report is bounded: a few distinct examples per failing clause, simplest first,
one replay command; everything else goes to the reports (or to the terminal with ``-v``).
"""

from __future__ import annotations

import json
import re
import shutil
import textwrap
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

from comms_contract import OPERATIONS_PATH, __version__
from comms_contract.ledger import ClauseResult, Finding, Ledger, kind
from comms_contract.printable import printable, xml_safe
from comms_contract.redact import redact
from comms_contract.session import ContractSession

COLOURS = {
    **{"pass": "32", "fail": "31", "advisory": "33", "skipped": "90"},
    **{"error": "31", "interrupted": "33"},
}
STATUS_WORDS = ("pass", "fail", "advisory", "skipped")
FINDINGS_PER_CLAUSE = 200  # in the JSON report; findings_total says how many there were
DETAIL_LINES = 40  # free-form evidence lines kept per finding in the JSON report
TERMINAL_LINES = 200  # what a default run may print, at most (examples shrink to fit)
_REQUEST_LINE = re.compile(r"^([A-Z]+) (\S+) -> (\d{3}) \((.*)\)$")


def verdict(session: ContractSession, results: list[ClauseResult]) -> str:
    if session.interrupted:
        return "interrupted"
    if session.errors:
        return "error"
    return "fail" if any(r.status == "fail" for r in results) else "pass"


# ---- the JSON document ----------------------------------------------------------------------
def finding_document(f: Finding) -> dict[str, Any]:
    """One finding as structured evidence: the request it is about (method, URL, status,
    content type, a body excerpt), the replayable curl command, the clause and the message,
    and the remaining evidence lines (walk transcripts) as ``details``."""
    request: dict[str, Any] | None = None
    curl = ""
    details: list[str] = []
    if f.exchange is not None:
        x = f.exchange
        request = {
            "method": x.method,
            "url": x.url,
            "status": x.status,
            "content_type": x.content_type,
            "body_excerpt": x.body,
        }
        curl = x.curl
    for line in f.evidence:
        m = _REQUEST_LINE.match(line)
        if m and request is None:
            request = {
                "method": m[1],
                "url": m[2],
                "status": int(m[3]),
                "content_type": m[4],
                "body_excerpt": None,
            }
        elif m and request is not None and m[2] == request["url"]:
            continue  # the same request, already structured
        elif line.startswith("reproduce: curl"):
            curl = curl or line.removeprefix("reproduce: ")
        elif line.startswith("replay: "):
            continue  # the clause's replay command is given once, in "reproduce"
        else:
            details.append(line)
    more = len(details) - DETAIL_LINES
    if more > 0:
        details = [*details[:DETAIL_LINES], f"... {more} more lines"]
    return {
        "clause": f.clause,
        "message": f.message,
        "advisory": f.advisory,
        "test": f.test,
        "request": request,
        "curl": curl,
        "details": details,
    }


def document(
    session: ContractSession, findings_per_clause: int = FINDINGS_PER_CLAUSE
) -> dict[str, Any]:
    """The run as the JSON report writes it (every string redacted); ``findings_per_clause``
    bounds each clause's structured evidence (``findings_total`` says how many there were)."""
    results = session.ledger.results()
    ledger = session.ledger
    clauses = []
    for r in results:
        ordered = ledger.ordered(r.id)
        clauses.append(
            {
                "id": r.id,
                "level": r.level,
                "status": r.status,
                "message": r.message,
                "notices": r.notices,
                "downgraded": r.downgraded,
                "reproduce": session.suite_command(r.id)
                if r.status in ("fail", "advisory")
                else "",
                "time_s": round(ledger.seconds.get(r.id, 0.0), 3),
                "findings_total": len(r.findings),
                "evidence": [finding_document(f) for f in ordered[:findings_per_clause]],
                "tests": r.tests,
            }
        )
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
        "clauses": clauses,
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


# ---- JUnit XML --------------------------------------------------------------------------------
def evidence_text(c: dict[str, Any], limit: int = 20) -> str:
    """A clause's findings as plain text (JUnit failure bodies): one paragraph per finding."""
    out: list[str] = []
    for e in c["evidence"][:limit]:
        if e["message"] != c["message"]:  # the headline is the failure's message attribute
            out.append(e["message"])
        req = e["request"]
        if req:
            out.append(
                f"    {req['method']} {req['url']} -> {req['status']} ({req['content_type']})"
            )
        if e["curl"]:
            out.append(f"    {e['curl']}")
        out.extend(f"    {line}" for line in e["details"])
    more = c["findings_total"] - min(limit, len(c["evidence"]))
    if more > 0:
        out.append(f"... {more} more findings in the JSON report")
    return "\n".join(out)


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
            suite,
            "testcase",
            classname=f"comms_contract.{c['level']}",
            name=f"{c['id']}",
            time=f"{c['time_s']:.3f}",
        )
        # the message attribute carries the headline; the body adds what it does not say
        body = "\n".join(x for x in (evidence_text(c), f"reproduce: {c['reproduce']}") if x)
        if c["status"] == "fail":
            ET.SubElement(case, "failure", message=c["message"][:500]).text = body
        elif c["status"] == "skipped":
            ET.SubElement(case, "skipped", message=c["message"][:500])
        out = [f"notice: {n}" for n in c.get("notices", [])]
        if c["status"] == "advisory":
            out.append(f"advisory: {c['message']}\n{body}")
        if out:
            ET.SubElement(case, "system-out").text = "\n".join(out)
    for err in doc["errors"]:
        case = ET.SubElement(suite, "testcase", classname="comms_contract", name="run-error")
        ET.SubElement(case, "error", message=err[:500])
    if doc["interrupted"]:
        text = f"the run was interrupted by {doc['interrupted']}: its results are incomplete"
        case = ET.SubElement(suite, "testcase", classname="comms_contract", name="interrupted")
        ET.SubElement(case, "error", message=text, type="interrupted")
    for element in suite.iter():  # a last guard: XML 1.0 cannot carry most C0 characters
        element.text = xml_safe(element.text) if element.text else element.text
        for key, value in element.attrib.items():
            element.attrib[key] = xml_safe(value)
    _ensure_parent(path)
    ET.ElementTree(suite).write(path, encoding="utf-8", xml_declaration=True)


# ---- the terminal -----------------------------------------------------------------------------
def terminal_width() -> int:
    """Columns to fit: ``COLUMNS``, else the terminal's, else 80 (CI logs, pipes)."""
    return max(40, shutil.get_terminal_size((80, 24)).columns)


def shorten(text: str, width: int) -> str:
    """``text`` in at most ``width`` characters, its middle replaced by an ellipsis.

    For display only, and only on scrubbed text: never on a command meant to be pasted.
    """
    if len(text) <= width:
        return text
    keep = max(width - 1, 2)
    head = (keep + 1) // 2
    return text[:head] + "…" + text[len(text) - (keep - head) :]


_LONG_RUN = re.compile(r"[^\s&=?/,;'\"]{48,}")


def shorten_runs(text: str) -> str:
    """Long unbroken values (a pageToken of thousands of characters) shortened in place."""
    return _LONG_RUN.sub(lambda m: f"{m[0][:16]}…({len(m[0])} chars)…{m[0][-8:]}", text)


def _paint(text: str, status: str, colour: bool) -> str:
    return f"\x1b[{COLOURS[status]}m{text}\x1b[0m" if colour else text


def _wrap(text: str, width: int, indent: str, first: str = "", max_lines: int = 0) -> list[str]:
    """Prose wrapped to ``width``; with ``max_lines``, the last kept line ends in an ellipsis."""
    lines = textwrap.wrap(
        " ".join(text.split()),
        width=max(width, len(first) + 20, len(indent) + 20),
        initial_indent=first,
        subsequent_indent=indent,
        break_on_hyphens=False,
    ) or [first.rstrip()]
    if max_lines and len(lines) > max_lines:
        lines = lines[:max_lines]
        lines[-1] = lines[-1][: max(width - 1, len(indent) + 1)].rstrip() + "…"
    return lines


def _request_line(f: dict[str, Any], root: str) -> str:
    req = f["request"]
    if req:
        url = req["url"]
        if url.startswith(root):
            url = url[len(root) :] or "/"
        if url.startswith(OPERATIONS_PATH):  # the one path of the API: the query is the news
            url = "…/Operations" + url[len(OPERATIONS_PATH) :]
        ct = f" {req['content_type']}" if req["content_type"] else ""
        return shorten_runs(f"{req['method']} {url} -> {req['status']}{ct}")
    if f["details"]:
        return shorten_runs(f["details"][0].replace(root + OPERATIONS_PATH, "…/Operations"))
    return ""


def examples_per_clause(failing: int) -> int:
    """Examples under each failing clause: 3, fewer when many clauses fail (bounded output)."""
    if failing <= 6:
        return 3
    return 2 if failing <= 12 else 1


def _kinds(ordered: list[Finding]) -> list[list[Finding]]:
    """Findings (in display order: replayable, then simplest, first) grouped by kind."""
    groups: dict[str, list[Finding]] = {}
    for f in ordered:
        groups.setdefault(kind(f), []).append(f)
    return list(groups.values())


def clause_block(
    c: dict[str, Any],
    findings: list[Finding],
    *,
    examples: int,
    width: int,
    root: str,
    verbose: bool,
    ledger: Ledger,
) -> list[str]:
    """The lines under a failing or advisory clause: examples, a count of the rest, a replay."""
    pad = " " * 11
    out: list[str] = []
    groups = _kinds(ledger.ordered(c["id"]))
    shown = groups if verbose else groups[:examples]
    for group in shown:
        f = _redacted(finding_document(group[0]))  # scrubbed before anything is shortened
        message = f["message"] if verbose else shorten_runs(f["message"])
        out += _wrap(message, width, pad + "  ", pad + "- ", max_lines=0 if verbose else 2)
        line = _request_line(f, root)
        if line:
            out.append(pad + "  " + (line if verbose else shorten(line, width - len(pad) - 2)))
        if verbose:
            if f["curl"]:
                out.append(pad + "  " + f["curl"])
            out += [pad + "  " + d for d in f["details"]]
            if len(group) > 1:
                out.append(f"{pad}  (and {len(group) - 1} more like it)")
    rest_kinds = len(groups) - len(shown)
    if rest_kinds > 0:
        rest = sum(len(g) for g in groups[len(shown) :])
        more = "and " if shown else ""
        out += _wrap(
            f"{more}{rest_kinds} {'more ' * bool(shown)}kind{'s' * (rest_kinds != 1)} ({rest} "
            f"finding{'s' * (rest != 1)}): in the reports (--report-json), or run with -v",
            width,
            pad,
            pad,
            max_lines=2 if shown else 1,  # the tightest budget: one line per clause
        )
    out.append(pad + "replay:")
    out.append(pad + "  " + c["reproduce"])  # a command: whole, on its own line, never cut
    return out


def terminal_lines(
    session: ContractSession,
    *,
    colour: bool = False,
    width: int | None = None,
    verbose: bool = False,
    only_touched: bool = False,
) -> list[str]:
    """The run as a person reads it: a header, one line per clause (examples and one replay
    under each failing clause), the verdict last. ``only_touched``: list only the clauses the
    session's tests carried or reported on (a user's own tests), and count the others."""
    width = width or terminal_width()
    doc = document(session, findings_per_clause=0)  # examples are taken from the ledger
    lines: list[str] = []
    for examples in (3, 2, 1, 0):  # fewer examples until the report fits TERMINAL_LINES
        lines = _render(session, doc, colour, width, verbose, only_touched, examples)
        if verbose or len(lines) <= TERMINAL_LINES:
            break
    return lines


def _render(
    session: ContractSession,
    doc: dict[str, Any],
    colour: bool,
    width: int,
    verbose: bool,
    only_touched: bool,
    most_examples: int,
) -> list[str]:
    ledger = session.ledger
    by_id = {r.id: r for r in ledger.results()}
    clauses = doc["clauses"]
    hidden = []
    if only_touched:
        hidden = [c for c in clauses if c["id"] not in ledger.touched]
        clauses = [c for c in clauses if c["id"] in ledger.touched]
    header = (
        f"comms-contract {__version__}: {doc['target']['base_url']}  "
        f"profile={doc['profile']} seed={doc['seed']}{' strict' if doc['strict'] else ''}"
    )
    lines = _wrap(header, width, "    ", max_lines=2)
    idw = max((len(c["id"]) for c in clauses), default=10)
    col = 2 + 8 + 1 + idw + 1 + 6 + 1
    failing = sum(c["status"] in ("fail", "advisory") for c in clauses)
    examples = min(most_examples, examples_per_clause(failing))
    root = session.config.target.root
    for c in clauses:
        status = _paint(f"{c['status'].upper():<8}", c["status"], colour)
        first = f"  {status} {c['id']:<{idw}} {c['level']:<6} "
        visible = col  # the painted status adds invisible escape codes
        msg = c["message"]
        if c["status"] in ("fail", "advisory"):
            total = c["findings_total"]
            kinds = len({kind(f) for f in by_id[c["id"]].findings})
            msg = ""
            if total > 1:
                of = f" of {kinds} kinds" if 1 < kinds < total else ""
                msg = f"{total} findings{of}, e.g.:"
        most = 2 if c["status"] == "skipped" else 1  # a skip's reason says what to do
        row = _wrap(
            shorten_runs(msg), width - (visible - len(first)), " " * col, first, max_lines=most
        )
        if width - col < 24:  # a narrow terminal: the message goes under the row
            row = [first.rstrip()]
            if msg and (examples or c["status"] == "skipped"):  # else the count line says it
                row += _wrap(shorten_runs(msg), width, " " * 11, " " * 11, most)
        lines += [r.rstrip() for r in row]
        for text in c.get("notices", []):  # never cut: a security notice must be read whole
            lines += [r.rstrip() for r in _wrap(text, width, " " * 13, "    notice: ", 0)]
        if c["status"] in ("fail", "advisory"):
            lines += clause_block(
                c,
                list(by_id[c["id"]].findings),
                examples=min(1, examples) if c["status"] == "advisory" else examples,
                width=width,
                root=root,
                verbose=verbose,
                ledger=ledger,
            )
    if hidden:
        # a run that stopped did not reach them: not the same as tests not about them
        why = f"not reached: {ledger.stopped}" if ledger.stopped else "not touched by these tests"
        lines += _wrap(
            f"{len(hidden)} other clauses {why} ({', '.join(c['id'] for c in hidden)})",
            width,
            "    ",
            "  ",
            max_lines=2,
        )
    counts = {s: sum(c["status"] == s for c in clauses) for s in STATUS_WORDS}
    shown = ", ".join(f"{n} {s}" for s, n in counts.items() if n) or "no clauses"
    waited = f", waited {doc['waited_s']:.1f} s" if doc["waited_s"] else ""
    facts = f"{doc['requests']} requests, {doc['duration_s']:.1f} s{waited}, seed {doc['seed']}"
    if doc["errors"]:
        n = len(doc["errors"])
        # the runner prints them on stderr; under plain pytest they are listed here (a
        # verifier, 2026-11-30: "1 run error (on stderr)" with nothing on stderr)
        facts += f"; {n} run error{'s' * (n != 1)} ({'on stderr' if session.runner else 'below'})"
    if doc["interrupted"]:
        facts += f"; interrupted by {doc['interrupted']}: the results are incomplete"
    lines += _wrap(facts, width, "  ")
    if not session.runner:
        for text in doc["errors"]:  # scrubbed again at this exit; printable: target bytes
            lines += _wrap(redact(printable(text)), width, "    ", "  error: ", max_lines=3)
    verdict_line = f"result: {doc['result'].upper()}  {shown}"
    if len(verdict_line) > width:
        verdict_line = f"result: {doc['result'].upper()}"  # one line, whatever the width
    lines.append(
        verdict_line.replace(
            doc["result"].upper(), _paint(doc["result"].upper(), doc["result"], colour), 1
        )
    )
    return lines


def _ensure_parent(path: str) -> None:
    Path(path).parent.mkdir(parents=True, exist_ok=True)
