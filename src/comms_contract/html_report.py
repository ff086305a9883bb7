"""The HTML report: one self-contained file a CI system can keep as an artifact.

No external CSS, scripts or fonts (CI artifact viewers often block them, and a report must
open offline years later). It is rendered from the same redacted document as the JSON
report, and every value is escaped, so a hostile response body cannot inject markup.
"""

from __future__ import annotations

import html
from pathlib import Path
from typing import Any

from comms_contract.printable import printable
from comms_contract.redact import redact
from comms_contract.report import document, shorten_runs
from comms_contract.session import ContractSession

STATUS_ORDER = ("fail", "advisory", "pass", "skipped")
EVIDENCE_FINDINGS = 10  # per clause; the JSON report keeps more
DETAIL_LINES = 12  # transcript lines per finding

CSS = """
:root { --fail:#c62828; --advisory:#b26a00; --pass:#2e7d32; --skipped:#6b7280;
        --ink:#1f2937; --muted:#6b7280; --line:#e5e7eb; --bg:#f8fafc; }
* { box-sizing: border-box; }
body { margin:0; font:14px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;
       color:var(--ink); background:var(--bg); }
main { max-width:1180px; margin:0 auto; padding:28px 32px 48px; }
header { display:flex; align-items:center; gap:16px; margin-bottom:20px; }
h1 { font-size:22px; margin:0; font-weight:650; }
h2 { font-size:16px; margin:28px 0 10px; }
.verdict { padding:4px 14px; border-radius:999px; color:#fff; font-weight:700;
           letter-spacing:.04em; font-size:13px; }
.verdict.pass { background:var(--pass); } .verdict.fail { background:var(--fail); }
.verdict.error { background:#7f1d1d; } .verdict.interrupted { background:#b26a00; }
.facts { display:grid; grid-template-columns:repeat(auto-fill,minmax(170px,1fr)); gap:10px; }
.fact { background:#fff; border:1px solid var(--line); border-radius:8px; padding:10px 14px; }
.fact .k { color:var(--muted); font-size:12px; text-transform:uppercase; letter-spacing:.05em; }
.fact .v { font-size:16px; font-weight:600; overflow-wrap:anywhere; }
.counts { display:flex; gap:10px; margin-top:14px; flex-wrap:wrap; }
.count { border-radius:6px; padding:3px 10px; font-weight:600; color:#fff; font-size:13px; }
.errors { background:#fef2f2; border:1px solid #fecaca; border-radius:8px; padding:10px 16px; }
table { width:100%; border-collapse:collapse; background:#fff; border:1px solid var(--line);
        border-radius:8px; overflow:hidden; }
th, td { text-align:left; padding:8px 12px; border-bottom:1px solid var(--line);
         vertical-align:top; }
th { background:#f1f5f9; font-size:12px; text-transform:uppercase; letter-spacing:.05em;
     color:var(--muted); }
td.id { font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace; white-space:nowrap; }
tr.fail td:first-child { box-shadow:inset 4px 0 var(--fail); }
tr.advisory td:first-child { box-shadow:inset 4px 0 var(--advisory); }
.status { display:inline-block; min-width:76px; text-align:center; border-radius:4px;
          padding:1px 8px; font-size:12px; font-weight:700; color:#fff; }
.fail { --c:var(--fail); } .advisory { --c:var(--advisory); } .pass { --c:var(--pass); }
.skipped { --c:var(--skipped); }
.status, .count { background:var(--c); }
td.msg { overflow-wrap:anywhere; }
.failure { background:#fff; border:1px solid var(--line); border-left:4px solid var(--c);
           border-radius:8px; padding:12px 16px; margin-bottom:12px; }
.failure h3 { margin:0 0 6px; font-size:15px; }
pre { background:#0f172a; color:#e2e8f0; padding:10px 12px; border-radius:6px; margin:6px 0;
      white-space:pre-wrap; overflow-wrap:anywhere;
      font:12.5px/1.45 ui-monospace,SFMono-Regular,Menlo,Consolas,monospace; }
.label { color:var(--muted); font-size:12px; text-transform:uppercase; letter-spacing:.05em; }
footer { margin-top:28px; color:var(--muted); font-size:12px; }
"""


def _e(value: Any) -> str:
    return html.escape(printable(redact(str(value))), quote=True)


def _short(value: Any) -> str:
    """Scrubbed first, then long unbroken values (a pageToken of thousands of characters)
    shortened in place, then escaped: never cut before scrubbing, a cut could hide a secret
    from the redactor."""
    return html.escape(printable(shorten_runs(redact(str(value)))), quote=True)


def evidence_lines(c: dict[str, Any]) -> str:
    """A clause's findings (at most ``EVIDENCE_FINDINGS``) as text: message, request, body
    excerpt, curl and details, one paragraph per finding."""
    out: list[str] = []
    for e in c["evidence"][:EVIDENCE_FINDINGS]:
        out.append(e["message"])
        req = e["request"]
        if req:
            ct = req["content_type"]
            out.append(f"  {req['method']} {req['url']} -> {req['status']} ({ct})")
            if req.get("body_excerpt"):
                out.append(f"  body: {req['body_excerpt']}")
        if e["curl"]:
            out.append(f"  {e['curl']}")
        details = e["details"][:DETAIL_LINES]
        out.extend(f"  {d}" for d in details)
        if len(e["details"]) > len(details):
            out.append(f"  ... {len(e['details']) - len(details)} more lines")
    more = c.get("findings_total", len(c["evidence"])) - min(EVIDENCE_FINDINGS, len(c["evidence"]))
    if more > 0:
        out.append(f"... {more} more findings in the JSON report")
    return "\n".join(out)


def render(doc: dict[str, Any]) -> str:
    """The report page for a (redacted) JSON report document."""
    clauses = doc["clauses"]
    counts = {s: sum(c["status"] == s for c in clauses) for s in STATUS_ORDER}
    tool = f"{doc['tool']['name']} {doc['tool']['version']}"
    facts = [
        ("Target", doc["target"]["base_url"]),
        ("Profile", doc["profile"] + (" (strict)" if doc.get("strict") else "")),
        ("Seed", doc["seed"]),
        ("Requests", doc["requests"]),
        ("Waiting (Retry-After)", f"{doc['waited_s']:.1f} s"),
        ("Duration", f"{doc['duration_s']:.1f} s"),
    ]
    out = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{_e(tool)} report: {_e(doc['result'].upper())}</title>",
        f"<style>{CSS}</style></head><body><main>",
        f'<header><h1>{_e(tool)} conformance report</h1><span class="verdict '
        f'{_e(doc["result"])}" id="result">{_e(doc["result"].upper())}</span></header>',
        '<section class="facts">',
    ]
    for key, value in facts:
        out.append(f'<div class="fact"><div class="k">{_e(key)}</div>')
        out.append(f'<div class="v">{_e(value)}</div></div>')
    out.append("</section>")
    out.append('<div class="counts">')
    for status in STATUS_ORDER:
        out.append(f'<span class="count {status}">{counts[status]} {status}</span>')
    out.append("</div>")
    if doc.get("interrupted"):
        out.append(
            f'<div class="errors" id="interrupted"><p>Interrupted by {_e(doc["interrupted"])}: '
            "the run stopped early and its results are incomplete.</p></div>"
        )
    if doc["errors"]:
        out.append('<h2>Run errors</h2><div class="errors" id="errors">')
        out.extend(f"<p>{_e(err)}</p>" for err in doc["errors"])
        out.append("</div>")
    out.append('<h2>Clauses</h2><table id="clauses"><thead><tr><th>Clause</th><th>Level</th>')
    out.append("<th>Status</th><th>Result</th></tr></thead><tbody>")
    for c in clauses:
        level = c["level"] + (" (downgraded)" if c.get("downgraded") else "")
        link = (
            f'<a href="#failure-{_e(c["id"])}">{_e(c["id"])}</a>' if c["evidence"] else _e(c["id"])
        )
        out.append(
            f'<tr class="{_e(c["status"])}" data-clause="{_e(c["id"])}"><td class="id">{link}</td>'
            f'<td>{_e(level)}</td><td><span class="status {_e(c["status"])}">'
            f'{_e(c["status"].upper())}</span></td><td class="msg">{_short(c["message"])}'
            + "".join(f"<br><strong>notice:</strong> {_e(n)}" for n in c.get("notices", []))
            + "</td></tr>"
        )
    out.append("</tbody></table>")
    findings = [c for c in clauses if c["status"] in ("fail", "advisory")]
    if findings:
        out.append('<h2>Failures and advisories</h2><section id="failures">')
        for c in sorted(findings, key=lambda c: STATUS_ORDER.index(c["status"])):
            out.append(
                f'<div class="failure {_e(c["status"])}" id="failure-{_e(c["id"])}">'
                f'<h3>{_e(c["id"])} <span class="status {_e(c["status"])}">'
                f"{_e(c['status'].upper())}</span></h3><p>{_short(c['message'])}</p>"
            )
            if c["evidence"]:
                out.append('<div class="label">Evidence</div>')
                out.append(f'<pre class="evidence">{_short(evidence_lines(c))}</pre>')
            out.append('<div class="label">Replay this clause (same seed)</div>')
            out.append(f'<pre class="reproduce">{_e(c["reproduce"])}</pre></div>')
        out.append("</section>")
    out.append(
        f"<footer>Generated by {_e(tool)}. Credentials are never written to this report; "
        "replay commands read them from COMMS_ACCOUNT_ID / COMMS_AUTH_TOKEN.</footer>"
    )
    out.append("</main></body></html>")
    return "\n".join(out) + "\n"


def write_html(session: ContractSession, path: str) -> None:
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(render(document(session)), encoding="utf-8")
