"""Checks on single responses, each finding tied to a clause id.

A ``Verdict`` collects findings for one exchange: advisory ones go to the ledger at once,
run-failing ones are raised together so pytest reports every clause a response broke.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable
from typing import Any

from comms_contract import STATS_FIELDS, rfc3339, schemas
from comms_contract.http import Exchange
from comms_contract.ledger import ClauseViolations, Finding, Ledger, Observed

MAX_MESSAGE = 1000  # characters of a finding's message
JSON_TYPES = ("application/json", "application/problem+json")


class Verdict:
    def __init__(self, ledger: Ledger, exchange: Exchange | None = None) -> None:
        self.ledger = ledger
        self.exchange = exchange
        self.failing: list[Finding] = []
        self._observed: Observed | None = None
        self._evidence: tuple[Exchange, tuple[str, ...]] | None = None

    def evidence(self) -> tuple[str, ...]:
        """The exchange's line and replay command, built (and scrubbed) once per exchange: a
        page of 1,000 malformed operations gives thousands of findings."""
        ex = self.exchange
        if ex is None:
            return ()
        if self._evidence is None or self._evidence[0] is not ex:
            self._evidence = (ex, (ex.line(), "reproduce: " + ex.curl()))
        return self._evidence[1]

    def fail(
        self,
        clause: str,
        message: str,
        *,
        advisory: bool = False,
        evidence: Iterable[str] | None = None,
    ) -> None:
        if not self.ledger.wants(clause):
            return  # outside a --clause selection: the ledger would drop it; don't fail the test
        ev = tuple(evidence) if evidence is not None else self.evidence()
        if len(message) > MAX_MESSAGE:  # a target's value quoted in full could be megabytes
            message = message[:MAX_MESSAGE] + "..."
        if self._observed is None and self.exchange is not None:
            self._observed = self.exchange.observed()  # once per exchange: it scrubs the body
        finding = Finding(clause, message, ev, advisory, self._observed)
        if self.ledger.fails_run(finding):
            self.failing.append(finding)
        else:
            self.ledger.record(finding)

    def observe(self, *clauses: str) -> None:
        """These clauses were evaluated on real data (see ``Ledger.observe``)."""
        for clause in clauses:
            self.ledger.observe(clause)

    def lack(self, clause: str, reason: str) -> None:
        """Too little data to evaluate ``clause`` (see ``Ledger.lack``)."""
        self.ledger.lack(clause, reason)

    def check(self, clause: str, ok: bool, message: str) -> bool:
        """``clause`` evaluated to ``ok`` on real data: observed, and a finding if not ok."""
        self.observe(clause)
        if not ok:
            self.fail(clause, message)
        return ok

    def done(self) -> None:
        if self.failing:
            raise ClauseViolations(self.failing)


def media_type(exchange: Exchange) -> str:
    return exchange.content_type.split(";")[0].strip().lower()


def parse_json(exchange: Exchange) -> tuple[bool, Any]:
    try:
        return True, exchange.json()
    except (ValueError, UnicodeDecodeError):
        return False, None


def field_text(op: Any, name: str, limit: int = 60) -> str:
    """An operation's field as a message shows it: a string as is, any other JSON value as
    JSON (``null``, ``["PROCESSING"]``), a missing field as ``(no id)``; at most ``limit``
    characters. Target data: ``op`` may be any JSON value."""
    if not isinstance(op, dict) or name not in op:
        return f"(no {name})"
    value = op[name]
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, default=str)
    return text if len(text) <= limit else text[:limit] + "..."


def why_not_json(exchange: Exchange) -> str:
    """Why ``exchange``'s body is not usable JSON, then its head: "not JSON: Expecting value
    at byte 0; body: '<html>...'". An empty body says so rather than showing ``''``."""
    try:
        exchange.json()
        reason = "usable JSON"  # callers ask only after parse_json failed
    except (ValueError, UnicodeDecodeError) as exc:
        reason = str(exc)
    head = exchange.snippet(120)
    return f"{reason}; body: {head!r}" if head else reason


def page_operations(exchange: Exchange) -> list[Any] | None:
    """The ``operations`` list of a 200 whose body is the list envelope (an object with an
    ``operations`` list and a ``pagination`` object whose ``next``, if any, is a string or
    null), else None. The one accessor for target
    data that checks and walks index: anything else is not a page to compare or iterate."""
    if exchange.status != 200:
        return None
    ok, body = parse_json(exchange)
    if not ok or not isinstance(body, dict):
        return None
    ops, pagination = body.get("operations"), body.get("pagination")
    if not isinstance(ops, list) or not isinstance(pagination, dict):
        return None
    nxt = pagination.get("next")
    return ops if nxt is None or isinstance(nxt, str) else None  # a numeric next: no page


def page_pagination(exchange: Exchange) -> dict[str, Any]:
    """The ``pagination`` object of a usable list page (see ``page_operations``), else ``{}``:
    token-reading checks read it through this, never through ``exchange.json()``."""
    if page_operations(exchange) is None:
        return {}
    pagination = exchange.json()["pagination"]
    return pagination if isinstance(pagination, dict) else {}


def answer_fault(ledger: Ledger, exchange: Exchange, *, strict: bool = False) -> Finding | None:
    """Why an answer that should be a list page is none: NO-5XX for a 5xx; the clause a 200
    breaks (CT, ENVELOPE, OP-SHAPE, SELF...) when its body is no usable page; None for a usable
    page or a non-5xx error (the caller judges those).

    Checks that compare pages ask this first, so a broken answer is charged to its own clause,
    never to the clause being compared (a malformed page is no "different page")."""
    evidence = (exchange.line(), "reproduce: " + exchange.curl())
    if exchange.status >= 500:
        return Finding("NO-5XX", f"{exchange.status} to a query that needs a page", evidence)
    if exchange.status != 200 or page_operations(exchange) is not None:
        return None
    v = Verdict(ledger, exchange)
    check_list_page(v, exchange, strict=strict)
    order = ("ENVELOPE", "CT", "SELF", "OP-SHAPE")
    failing = sorted(v.failing, key=lambda f: order.index(f.clause) if f.clause in order else 9)
    if failing:
        return failing[0]
    message = f"200 body is not the list envelope: {exchange.snippet(120)!r}"
    return Finding("ENVELOPE", message, evidence)


def check_error(v: Verdict, exchange: Exchange) -> None:
    """ERROR-BODY: a JSON object with a JSON media type (field names are FREE)."""
    v.observe("ERROR-BODY")
    ok, body = parse_json(exchange)
    if media_type(exchange) not in JSON_TYPES:
        v.fail(
            "ERROR-BODY",
            f"{exchange.status} answered with Content-Type "
            f"{exchange.content_type or '(none)'!r}, not application/json or problem+json: "
            f"{exchange.snippet(120)!r}",
        )
    elif not ok:
        v.fail(
            "ERROR-BODY", f"{exchange.status} body is not usable as JSON: {why_not_json(exchange)}"
        )
    elif not isinstance(body, dict):
        v.fail(
            "ERROR-BODY", f"{exchange.status} body is not a JSON object: {exchange.snippet(120)!r}"
        )
    else:  # field names are FREE: record which style the target uses
        style = (
            "Twilio code/message fields"
            if "code" in body or "message" in body
            else "RFC 9457 fields"
            if "title" in body or "type" in body or "detail" in body
            else "other fields"
        )
        v.ledger.note("ERROR-BODY", f"seen: {media_type(exchange)} error objects ({style})")


def _schema_clause(error_path: list, validator_kind: str, strict: bool) -> str:
    if strict and validator_kind in ("unevaluatedProperties", "additionalProperties"):
        return "EXTRA-FIELDS"
    if error_path[:1] == ["operations"] and len(error_path) > 1:
        return "OP-SHAPE"
    if error_path[:1] == ["pagination"] and validator_kind == "required":
        return "ENVELOPE"
    return "ENVELOPE"


def check_list_page(v: Verdict, exchange: Exchange, *, strict: bool = False) -> dict | None:
    """CT, ENVELOPE, OP-SHAPE, EXTRA-FIELDS, UPDATED-AFTER-CREATED, IDS-UNIQUE (page), SELF
    presence and the LAST-PAGE "" advisory on one 200 response. Returns the body if usable."""
    v.observe("CT", "ENVELOPE")
    if media_type(exchange) != "application/json":
        v.fail("CT", f"200 answered with Content-Type {exchange.content_type or '(none)'!r}")
    ok, body = parse_json(exchange)
    if not ok:
        v.fail("ENVELOPE", f"200 body is not usable as JSON: {why_not_json(exchange)}")
        return None
    v.observe("EXTRA-FIELDS")
    if isinstance(body, dict) and isinstance(body.get("pagination"), dict):
        v.observe("SELF")
    _note_free_shape(v, exchange, body)
    seen: set[tuple[str, str]] = set()
    for err in schemas.list_page_errors(body, strict=strict):
        path = list(err.path)
        clause = _schema_clause(path, err.validator, strict)
        if path == ["pagination"] and err.validator == "required" and "'self'" in err.message:
            clause = "SELF"
        elif path[:2] == ["pagination", "self"] and not (strict and clause == "EXTRA-FIELDS"):
            clause = "SELF"  # self null or "": no token for this page, as good as absent
        where = "/".join(map(str, path)) or "(body)"
        key = (clause, where)
        if key not in seen:
            seen.add(key)
            v.fail(clause, f"at {where}: {err.message[:200]}")
    if not isinstance(body, dict):
        return None
    ops = body.get("operations")
    if isinstance(ops, list):
        check_operations(v, [o for o in ops if isinstance(o, dict)])
    pagination = body.get("pagination")
    if isinstance(pagination, dict) and pagination.get("next") == "":
        v.fail(
            "LAST-PAGE",
            'next is "" (an empty string): clients are known to loop on it; '
            "use null or leave it out",
            advisory=True,
        )
    return body if isinstance(ops, list) and isinstance(pagination, dict) else None


def too_few(what: str, needed: int, had: int) -> str:
    """The reason a clause is skipped for want of data (CONTRACT.md section 4)."""
    return f"{what}: {needed} operation(s) needed, the answer held {had}"


KNOWN_FIELDS = {
    "": {"operations", "pagination"},
    "pagination": {"next", "self"},
    "operation": {"id", "status", "stats", "createdAt", "updatedAt"},
    "stats": set(STATS_FIELDS),
}


def _note_free_shape(v: Verdict, exchange: Exchange, body: Any) -> None:
    """Record the FREE choices a 200 shows: Content-Type parameters (CT), unknown fields
    (EXTRA-FIELDS) and the precision of createdAt (OP-SHAPE: stores keep s, ms or µs)."""
    params = exchange.content_type.partition(";")[2].strip()
    v.ledger.note(
        "CT", f"seen: Content-Type parameters {params!r}" if params else "seen: no parameters"
    )
    if not isinstance(body, dict):
        return
    operations = body.get("operations")
    ops = [o for o in operations if isinstance(o, dict)] if isinstance(operations, list) else []
    unknown = set(body) - KNOWN_FIELDS[""]
    pagination = body.get("pagination")
    if isinstance(pagination, dict):
        unknown |= {f"pagination.{k}" for k in set(pagination) - KNOWN_FIELDS["pagination"]}
    for o in ops:
        unknown |= {f"operation.{k}" for k in set(o) - KNOWN_FIELDS["operation"]}
        if isinstance(o.get("stats"), dict):
            unknown |= {f"stats.{k}" for k in set(o["stats"]) - KNOWN_FIELDS["stats"]}
        created = o.get("createdAt")
        if isinstance(created, str) and rfc3339.parse(created, strict_case=False) is not None:
            frac = created[19:].split("Z")[0].split("z")[0].split("+")[0].split("-")[0]
            digits = len(frac) - 1 if frac.startswith(".") else 0
            v.ledger.note("OP-SHAPE", f"seen: createdAt with {digits} fraction digits")
    v.ledger.note(
        "EXTRA-FIELDS",
        f"seen: unknown fields ({', '.join(sorted(unknown)[:4])})" if unknown else "seen: none",
    )


def check_operations(v: Verdict, ops: list[dict]) -> None:
    """OP-SHAPE's data, IDS-UNIQUE within the page, UPDATED-AFTER-CREATED and the STATS-SUMS
    observation; each clause is observed only when the page holds what it is about."""
    if ops:
        v.observe("OP-SHAPE")
    else:
        v.lack("OP-SHAPE", too_few("no operation to check the shape of", 1, 0))
    ids = [o.get("id") for o in ops]
    counts = Counter(i for i in ids if isinstance(i, str))
    dupes = sorted(i for i, n in counts.items() if n > 1)
    if len(ids) >= 2:
        v.observe("IDS-UNIQUE")
    else:
        v.lack("IDS-UNIQUE", too_few("no pair of ids to compare in one page", 2, len(ids)))
    if dupes:
        v.fail("IDS-UNIQUE", f"ids repeated within one page: {', '.join(dupes[:3])}")
    compared = stats_seen = False
    for o in ops:
        created, updated = o.get("createdAt"), o.get("updatedAt")
        if isinstance(created, str) and isinstance(updated, str):
            c = rfc3339.parse(created, strict_case=False)
            u = rfc3339.parse(updated, strict_case=False)
            compared = compared or (c is not None and u is not None)
            if c is not None and u is not None and u < c:
                v.fail(
                    "UPDATED-AFTER-CREATED",
                    f"{field_text(o, 'id')}: updatedAt {updated} is before createdAt {created}",
                )
        stats = o.get("stats")
        if isinstance(stats, dict) and all(isinstance(stats.get(k), int) for k in STATS_FIELDS):
            buckets = sum(stats[k] for k in ("scheduled", "queued", "sent", "failed", "canceled"))
            adds_up = buckets + stats["unaddressable"] == stats["total"]
            stats_seen = True
            v.ledger.note(
                "STATS-SUMS",
                "seen: stats that add up to total"
                if adds_up
                else "seen: stats that do not add up to total (allowed)",
            )
    if compared:
        v.observe("UPDATED-AFTER-CREATED")
    else:
        v.lack(
            "UPDATED-AFTER-CREATED",
            too_few("no operation with both dates to compare", 1, 0) + _of(ops, "both dates"),
        )
    if stats_seen:
        v.observe("STATS-SUMS")
    else:
        v.lack(
            "STATS-SUMS",
            too_few("no operation with integer stats to add up", 1, 0) + _of(ops, "them"),
        )


def _of(ops: list, what: str) -> str:
    """Why the operations a page held do not count (a breaker read "1 operation(s) needed,
    the answer held 50" as a contradiction: the 50 had string stats)."""
    if not ops:
        return ""
    return f" (none of its {len(ops)} operation{'s' * (len(ops) != 1)} had {what})"
