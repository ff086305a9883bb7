"""The grader: one verdict per client clause, from the recorded traffic and the driver's output.

Each check looks only at what a client is responsible for. When a client fails a valid walk
(it exits non-zero, is killed at the timeout, or is ended by the kit as a runaway or a hang)
and no traffic clause explains why, the scenario's ``blame`` clause is charged, so every failed
scenario names at least one clause. A verdict is ``pass``, ``fail``, ``n/a`` or ``advisory``
(reported, never failing the run: lower-case ``t``/``z`` in dates, CONTRACT.md §5).
"""

from __future__ import annotations

import re
import signal
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote

from comms_contract import rfc3339
from comms_contract.clientkit.clauses import client_clause, client_clause_ids
from comms_contract.clientkit.recorder import Hit
from comms_contract.clientkit.scenarios import (
    MAX_500_ATTEMPTS,
    MAX_THROTTLED,
    OVERWAIT,
    Built,
    Scenario,
)
from comms_contract.redact import redact

THROTTLED = (429, 503)
_FRACTION = re.compile(r"[.](\d+)")
_NAIVE = re.compile(r"^\d{4}-\d\d-\d\d[Tt ]\d\d:\d\d(:\d\d(\.\d+)?)?$")
_PAGE_SIZE = re.compile(r"^[1-9][0-9]{0,3}$")
# the built-in caps SDKs are known to ship (max pages, max items): a walk that passes
# CLIENT-NO-SILENT-CAP must go past both (the long-walk scenario does)
CAP_PAGES = 1_000
CAP_ITEMS = 10_000


@dataclass
class DriverRun:
    """What the client did, seen from outside: exit code, printed ids, stderr, time."""

    exit_code: int | None  # None: killed at the timeout or ended by the kit
    timed_out: bool = False
    output: list[str] = field(default_factory=list)
    stderr_tail: str = ""
    duration: float = 0.0
    cut: str = ""  # why the kit ended the driver early (a runaway or a hang), else ""
    cut_kind: str = ""  # runaway | hang | early (a repeat before Retry-After) | output (a flood)

    @property
    def ok(self) -> bool:
        return self.exit_code == 0 and not self.timed_out and not self.cut

    def describe(self, stderr: bool = True) -> str:
        """ "exited 1 (stderr: ...)" or "was killed ...": for messages and the report."""
        if self.cut:
            return f"was stopped after {self.duration:.1f}s, {self.cut}"
        if self.timed_out:
            return f"was killed after {self.duration:.0f}s without finishing"
        text = self.stderr_tail.strip()
        tail = f" (stderr: {text.splitlines()[-1][:160]})" if stderr and text else ""
        if self.exit_code is not None and self.exit_code < 0:  # subprocess: -N is signal N
            return f"was killed by {_signal_name(-self.exit_code)}{tail}"
        return f"exited {self.exit_code}{tail}"


def _signal_name(number: int) -> str:
    try:
        return signal.Signals(number).name
    except ValueError:
        return f"signal {number}"


@dataclass
class ClauseVerdict:
    id: str
    status: str  # pass | fail | n/a | advisory
    message: str = ""
    evidence: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "status": self.status,
            "message": redact(self.message),
            "evidence": [redact(e) for e in self.evidence],
        }


@dataclass
class ScenarioResult:
    name: str
    summary: str
    expect: str
    params: dict[str, Any]
    run: DriverRun
    hits: list[Hit]
    verdicts: list[ClauseVerdict]
    dropped: int = 0
    notes: list[str] = field(default_factory=list)
    zone: str = ""  # the TZ the driver ran under ("" in-process)

    @property
    def label(self) -> str:
        """The scenario's name, with the driver's time zone when the kit set one."""
        return f"{self.name} [TZ={self.zone}]" if self.zone else self.name

    @property
    def failed(self) -> set[str]:
        return {v.id for v in self.verdicts if v.status == "fail"}

    @property
    def advisories(self) -> set[str]:
        return {v.id for v in self.verdicts if v.status == "advisory"}

    @property
    def passed(self) -> bool:
        return not self.failed

    def verdict(self, clause_id: str) -> ClauseVerdict:
        return next(v for v in self.verdicts if v.id == clause_id)

    def to_json(self) -> dict[str, Any]:
        return {
            "scenario": self.name,
            "tz": self.zone or None,  # None: TZ=UTC under check-client, the host zone in-process
            "summary": self.summary,
            "expect": self.expect,
            "list_params": self.params,
            "result": "pass" if self.passed else "fail",
            "exit_code": self.run.exit_code,
            "timed_out": self.run.timed_out,
            "ended_by_kit": redact(self.run.cut) or None,
            "duration_s": round(self.run.duration, 3),
            "requests": len(self.hits) + self.dropped,
            "ids_printed": len(self.run.output),
            "stderr_tail": redact(self.run.stderr_tail[-2000:]),
            "notes": [redact(n) for n in self.notes],
            "clauses": [v.to_json() for v in self.verdicts],
            "traffic": [h.to_json() for h in self.hits[:200]],
        }


class Failure(Exception):
    """Raised inside a check: the clause fails with this message and these requests."""

    def __init__(self, message: str, hits: Sequence[Hit] = (), extra: Sequence[str] = ()) -> None:
        super().__init__(message)
        self.message = message
        self.evidence = [h.line() for h in hits[:4]] + list(extra)


class NotApplicable(Exception):
    """The scenario does not exercise the clause."""


class Advisory(Failure):
    """The clause holds, with a finding worth reporting that does not fail the run."""


@dataclass
class Context:
    scenario: Scenario
    built: Built
    hits: list[Hit]
    run: DriverRun
    zone: str = ""

    @property
    def output(self) -> list[str]:
        return [line.strip() for line in self.run.output if line.strip()]


# ---- checks, one per clause ---------------------------------------------------------------------
def check_auth(ctx: Context) -> str:
    if not ctx.hits:
        raise NotApplicable("no request was made")
    bad = [h for h in ctx.hits if not h.auth_ok]
    if bad:
        h = bad[0]
        why = {
            "": "no Authorization header",
        }.get(h.auth_scheme)
        if why is None:
            why = (
                f"{h.auth_scheme} scheme instead of Basic"
                if h.auth_scheme.lower() != "basic"
                else "Basic credentials that are not account_id:auth_token from the environment"
            )
        raise Failure(f"{len(bad)} of {len(ctx.hits)} requests lacked valid HTTP Basic: {why}", bad)
    return f"all {len(ctx.hits)} requests used HTTP Basic with the right credentials"


def check_follow_next(ctx: Context) -> str:
    if not ctx.hits:
        if ctx.scenario.blame == "CLIENT-DATES":
            raise NotApplicable("no request was made (charged to the date clause)")
        raise Failure(f"the client made no request and {ctx.run.describe()}")
    selfish = [h for h in ctx.hits if h.token_kind == "self"]  # noqa: S105
    if selfish:
        raise Failure(
            f"{len(selfish)} request(s) sent a page's pagination.self as pageToken: follow "
            "pagination.next",
            selfish,
        )
    if ctx.run.cut_kind == "runaway":
        pages = Counter(h.page for h in ctx.hits if h.status == 200 and h.page is not None)
        if pages:
            page, n = pages.most_common(1)[0]
            if n > 1:
                again = [h for h in ctx.hits if h.page == page and h.status == 200]
                raise Failure(
                    f"fetched page {page} {n} times (a loop: follow next, each page once); "
                    f"the kit {ctx.run.cut}",
                    [again[0], again[1], again[-1]],
                )
    last = ctx.hits[-1]
    followed = any(h.token_kind == "next" for h in ctx.hits)  # noqa: S105
    if ctx.run.ok and last.status == 200 and last.next_token and not followed:
        raise Failure(
            f"the client stopped after page {last.page} and exited 0 although that page's "
            "pagination.next was a token (more pages were pending)",
            [last],
        )
    return "followed next to the end"


def check_token_verbatim(ctx: Context) -> str:
    issued = set(ctx.built.server.next_pages) | set(ctx.built.server.self_pages)
    # a request after the walk's end is CLIENT-NO-EXTRA-REQUEST's, whatever token it carries
    # ("null", from a null next): one fault, one clause (breaker, 2026-11-30)
    end = next((i for i, h in enumerate(ctx.hits) if h.end), len(ctx.hits))
    sent = [h for h in ctx.hits[: end + 1] if h.values("pageToken")]
    if not sent:
        raise NotApplicable("no pageToken was sent")
    for h in sent:
        values = h.values("pageToken")
        if len(values) > 1:
            raise Failure(f"pageToken sent {len(values)} times in one request", [h])
        v = values[0]
        if v == "" or v in issued:
            continue
        if v.replace(" ", "+") in issued:
            why = "a raw '+' (not percent-encoded as %2B) decoded to a space"
        elif "%" in v and unquote(v) in issued:
            why = "the token was percent-encoded twice"
        else:
            why = "the decoded value is not a token the server issued"
        raise Failure(f"pageToken was not the issued token byte-for-byte: {why}", [h])
    return f"{len(sent)} pageToken(s) sent exactly as issued"


def check_pagesize(ctx: Context) -> str:
    wanted = ctx.built.params.get("pageSize")
    for h in ctx.hits:
        values = h.values("pageSize")
        if len(values) > 1:
            raise Failure(f"pageSize sent {len(values)} times in one request", [h])
        for v in values:
            if not _PAGE_SIZE.match(v) or int(v) > 1000:
                raise Failure(f"pageSize={v!r} is not an integer in 1..1000", [h])
            if wanted is not None and int(v) != int(wanted):
                raise Failure(f"the caller asked for pageSize {wanted}, the client sent {v}", [h])
    if wanted is not None and ctx.hits and not ctx.hits[0].values("pageSize"):
        raise Failure(
            f"the caller asked for pageSize {wanted}; the first request omitted it", ctx.hits[:1]
        )
    if not any(h.values("pageSize") for h in ctx.hits):
        raise NotApplicable("no pageSize was sent")
    return "every pageSize within 1..1000, as asked"


def kept_instant(asked: str, sent_ns: int) -> bool:
    """The sent instant is the asked one, or (for a fraction finer than the client's date type)
    the asked one truncated or rounded to milliseconds, microseconds or 100 ns: the resolution
    of JavaScript's and Java's Date, Python's datetime and .NET's ticks. A fraction of 1 to 3
    digits is kept exactly (decision recorded in contracts/client-clauses.toml)."""
    want = rfc3339.parse(asked, strict_case=False)
    if want is None or sent_ns == want:
        return sent_ns == want
    m = _FRACTION.search(asked)
    digits = len(m.group(1)) if m else 0
    for unit, resolution in ((1_000_000, 3), (1_000, 6), (100, 7)):
        if digits > resolution:
            down = want - want % unit
            if sent_ns in (down, (want + unit // 2) // unit * unit):
                return True
    return False


def _shift(sent_ns: int, asked_ns: int, zone: str) -> str:
    """Why a sent instant may differ from the asked one, in words, for the failure message."""
    diff = sent_ns - asked_ns
    size = abs(diff)
    when = "later" if diff > 0 else "earlier"
    if size < 1_000_000_000 and sent_ns % 1_000_000_000 == 0:
        return f"{size / 1e6:g} ms {when}: the fractional seconds were dropped"
    if size % (900 * 1_000_000_000) == 0:
        hours, rest = divmod(size // 1_000_000_000, 3600)
        zone_text = f" (the driver ran under TZ={zone})" if zone else ""
        return (
            f"{hours} h {rest // 60:02d} min {when}: a local-time offset was applied{zone_text} "
            "(a naive UTC date-time treated as host-local?)"
        )
    return f"{size / 1e9:.9f} s {when}"


def check_dates(ctx: Context) -> str:
    wanted = {k: ctx.built.params[k] for k in ("startDate", "endDate") if k in ctx.built.params}
    seen = False
    lower: list[Hit] = []
    for h in ctx.hits:
        for name in ("startDate", "endDate"):
            for v in h.values(name):
                seen = True
                ns = rfc3339.parse(v, strict_case=False)
                if ns is None:
                    if _NAIVE.match(v):
                        why = "a naive date-time without an offset"
                    elif " " in v and rfc3339.parse(v.replace(" ", "+")) is not None:
                        why = "a raw '+' in the offset (not %2B) decoded to a space"
                    else:
                        why = "not an RFC 3339 date-time"
                    raise Failure(f"{name}={v!r}: {why}", [h])
                if rfc3339.is_lowercase_variant(v) and h not in lower:
                    lower.append(h)
                if name in wanted and not kept_instant(wanted[name], ns):
                    asked = rfc3339.parse(wanted[name])
                    raise Failure(
                        f"{name}={v!r} is not the instant the caller asked for ({wanted[name]}): "
                        f"{_shift(ns, asked or 0, ctx.zone)}",
                        [h],
                    )
    if wanted and ctx.hits:
        missing = [k for k in wanted if not ctx.hits[0].values(k)]
        if missing:
            raise Failure(
                f"the first request omitted {', '.join(missing)} the caller asked for", ctx.hits[:1]
            )
    if not seen:
        raise NotApplicable("no date filter was sent")
    if lower:
        raise Advisory(
            "dates written with a lower-case 't' or 'z': valid RFC 3339, but servers may refuse "
            "them (docs/contract.md §5: an advisory); write upper-case 'T' and 'Z'",
            lower,
        )
    return "dates sent as RFC 3339 with an offset, same instants"


def _streaks(hits: list[Hit]) -> list[tuple[int, int]]:
    """(first index, length) of each run of throttled answers to one request, in a row."""
    runs: list[tuple[int, int]] = []
    for i, h in enumerate(hits):
        if h.status not in THROTTLED:
            continue
        prev = hits[i - 1] if i else None
        if runs and prev is not None and prev.status in THROTTLED and prev.key() == h.key():
            runs[-1] = (runs[-1][0], runs[-1][1] + 1)
        else:
            runs.append((i, 1))
    return runs


def check_retry_after(ctx: Context) -> str:
    throttled = [i for i, h in enumerate(ctx.hits) if h.status in THROTTLED]
    if not throttled:
        raise NotApplicable("no throttled answer was served")
    lifts = not ctx.built.never_lifts
    early = [h for h in ctx.hits if h.early_by is not None]
    for i in throttled:
        h = ctx.hits[i]
        if i + 1 >= len(ctx.hits):
            repeated = i and ctx.hits[i - 1].key() == h.key()
            if lifts and ctx.run.cut_kind == "hang":
                raise Failure(
                    f"after the {h.status} (Retry-After: {h.retry_after}) the client "
                    f"{ctx.run.describe()}: a wait more than {OVERWAIT:.0f}s past Retry-After is "
                    "a hang (a wait computed from the wrong clock or time zone is hours off)",
                    [h],
                )
            if lifts or not repeated:
                raise Failure(
                    f"the client gave up after the {h.status} (Retry-After: {h.retry_after}) and "
                    f"{ctx.run.describe()}: wait and repeat the request",
                    [h],
                )
            continue
        after = ctx.hits[i + 1]
        if after.early_by is not None:
            gap = after.t - h.t
            raise Failure(
                f"repeated {gap:.3f}s after a {h.status} with Retry-After: {h.retry_after} "
                f"({after.early_by * 1000:.0f} ms too early; {len(early)} early repeat(s) in "
                f"all, {len(throttled)} throttled answer(s))",
                [h, after],
            )
        if after.key() != h.key():
            raise Failure(
                f"the request after the {h.status} was not the same request (repeat it, same "
                "pageToken and parameters)",
                [h, after],
            )
    return f"waited and repeated after {len(throttled)} throttled answer(s)"


def check_retry_bound(ctx: Context) -> str:
    runs = _streaks(ctx.hits)
    if not runs:
        raise NotApplicable("no throttled answer was served")
    first, longest = max(runs, key=lambda r: r[1])
    if longest > MAX_THROTTLED:
        streak = ctx.hits[first : first + longest]
        raise Failure(
            f"sent one request {longest} times in a row, every one throttled: after at most "
            f"{MAX_THROTTLED} throttled answers in a row, stop and surface the error",
            [streak[0], streak[MAX_THROTTLED - 1], streak[MAX_THROTTLED]],
        )
    if not ctx.built.never_lifts:
        # a throttle that lifts after a few answers cannot show a missing bound: a PASS here
        # would vouch for a clause nothing tested (breaker, 2026-11-30)
        raise NotApplicable(
            f"at most {longest} throttled answer(s) in a row here; the bound is exercised by "
            "the never-lifts scenarios"
        )
    last = ctx.hits[first + longest - 1]
    if ctx.run.ok:
        raise Failure(
            f"exited 0 after a throttle that never lifts ({longest} throttled answer(s)): "
            f"{len(ctx.output)} id(s) presented as a complete list",
            [last],
        )
    if ctx.run.timed_out or ctx.run.cut_kind == "hang":
        raise Failure(
            f"a throttle that never lifts must end in an error, not a hang: after "
            f"{longest} throttled answer(s) the client {ctx.run.describe()}",
            [last],
        )
    return f"stopped after {longest} throttled answer(s) in a row: {ctx.run.describe()}"


def check_no_blind_500(ctx: Context) -> str:
    failed = [h for h in ctx.hits if h.status >= 500 and h.status != 503]
    if not failed:
        raise NotApplicable("no 500 was served")
    counts = Counter(h.key() for h in ctx.hits if h.key() in {f.key() for f in failed})
    key, n = counts.most_common(1)[0]
    if n > MAX_500_ATTEMPTS:
        same = [h for h in ctx.hits if h.key() == key]
        raise Failure(
            f"sent a request answered 500 {n} times (at most {MAX_500_ATTEMPTS} attempts)",
            [same[0], same[-1]],
        )
    return f"a request answered 500 was sent {n} time(s)"


def check_no_extra_request(ctx: Context) -> str:
    for i, h in enumerate(ctx.hits):
        if h.end:
            later = ctx.hits[i + 1 :]
            if later:
                raise Failure(
                    f"{len(later)} request(s) after the last page (request #{h.seq} ended the "
                    "walk)",
                    [h, *later[:3]],
                )
            return "no request after the last page"
    raise NotApplicable("the walk never reached its last page")


def check_exactly_once(ctx: Context) -> str:
    if ctx.scenario.expect != "complete":
        raise NotApplicable("error scenario: no complete list is expected")
    if not ctx.run.ok:
        raise NotApplicable(f"the client {ctx.run.describe()}")
    out, expected = ctx.output, ctx.built.expected
    if out == expected:
        return f"all {len(expected)} ids exactly once, in order"
    dupes = sorted(i for i, n in Counter(out).items() if n > 1)
    printed = set(out)
    missing = [i for i in expected if i not in printed]
    extra = sorted(set(out) - set(expected))
    parts = []
    if dupes:
        parts.append(f"{len(dupes)} id(s) printed more than once (e.g. {dupes[0][:80]!r})")
    if missing:
        parts.append(f"{len(missing)} of {len(expected)} id(s) missing (e.g. {missing[0]})")
    if extra:
        parts.append(f"{len(extra)} unexpected line(s) (e.g. {extra[0][:80]!r})")
    if not parts:
        parts.append("the ids came out in a different order than the server sent them")
    raise Failure(
        "exited 0 but the list is wrong: " + "; ".join(parts), _serving(ctx, dupes, missing)
    )


def _serving(ctx: Context, *groups: list[str]) -> list[Hit]:
    """The requests whose answers held the first id of each group (the proof), else the last."""
    shown: list[Hit] = []
    for ids in groups:
        if ids:
            shown += [h for h in ctx.hits if ids[0] in h.ids and h not in shown][:2]
    return shown or ctx.hits[-1:]


def check_surfaces_errors(ctx: Context) -> str:
    # a 401 to a request without valid credentials, and its repeat with them, are an auth
    # challenge: CLIENT-AUTH's (breaker, 2026-11-30: charged twice)
    errors = [
        h
        for h in ctx.hits
        if 400 <= h.status < 500 and h.status != 429 and not (h.status == 401 and not h.auth_ok)
    ]
    retried = [
        h for h in errors if sum(1 for o in ctx.hits if o.key() == h.key() and o.seq > h.seq)
    ]
    if retried:
        raise Failure(
            f"repeated a request answered {retried[0].status}: 4xx answers are final", retried
        )
    if ctx.scenario.expect != "error":
        if not errors:
            raise NotApplicable("no error was served")
        if ctx.run.ok:
            raise Failure(
                f"got {errors[-1].status} and still exited 0 (a partial list presented as "
                "complete)",
                errors[-1:],
            )
        return f"the {errors[-1].status} reached the caller: {ctx.run.describe()}"
    if ctx.built.never_lifts:
        # ending a throttle that never lifts, with an error, is CLIENT-RETRY-BOUND's: one
        # fault, one clause (a client that retries for ever was charged twice)
        raise NotApplicable("a throttle that never lifts: CLIENT-RETRY-BOUND judges its end")
    failing = [h for h in ctx.hits if h.fault.startswith("persistent")]
    if not failing:
        # a driver that died or hung before the error answer surfaced nothing: its non-zero
        # exit is no credit (breaker, 2026-11-30: SIGKILL after page 1 passed forbidden-403)
        raise Failure(
            f"the client {ctx.run.describe()} before the error answer was served (it never "
            "asked for the page that fails)",
            ctx.hits[-1:],
        )
    if ctx.run.timed_out or ctx.run.cut:
        raise Failure(f"after the error answer the client {ctx.run.describe()}", failing[-1:])
    if ctx.run.exit_code == 0:
        raise Failure(
            f"exited 0 after the {failing[-1].status if failing else 'error'} answer: "
            f"{len(ctx.output)} id(s) presented as a complete list",
            failing[-1:],
        )
    return f"the error reached the caller: {ctx.run.describe()}"


def check_tolerant(ctx: Context) -> str:
    if not ctx.built.server.extras and not ctx.built.paused:
        raise NotApplicable("no unknown fields or values were served")
    if not ctx.run.ok:
        raise NotApplicable(f"the client {ctx.run.describe()}")
    # only what the client was actually served: items on pages it never fetched are
    # CLIENT-FOLLOW-NEXT's business, not proof of intolerance (breaker, 2026-11-30)
    served = {i for h in ctx.hits if h.status == 200 for i in h.ids}
    if ctx.built.paused and not ctx.built.paused & served and not ctx.built.server.extras:
        raise NotApplicable("no operation with the unknown status was served")
    dropped = sorted((ctx.built.paused & served) - set(ctx.output))
    if dropped:
        raise Failure(
            f"{len(dropped)} operation(s) with the unknown status PAUSED were dropped "
            f"(e.g. {dropped[0]}, served by the request below)",
            _serving(ctx, dropped),
        )
    return "unknown fields and status PAUSED tolerated"


def check_no_silent_cap(ctx: Context) -> str:
    if not any(h.token_kind == "next" and h.status == 200 for h in ctx.hits):  # noqa: S105
        raise NotApplicable("next was never followed")
    last = ctx.hits[-1]
    if ctx.run.ok and last.status == 200 and last.next_token:
        raise Failure(
            f"stopped after page {last.page} ({len(ctx.output)} id(s) printed) and exited 0 "
            "although pagination.next was a token: a built-in cap that ends the walk without "
            "an error",
            [last],
        )
    if not ctx.run.ok:
        raise NotApplicable(f"the client {ctx.run.describe()}")
    pages = max((h.page or 0) for h in ctx.hits if h.status == 200)
    if pages <= CAP_PAGES and len(ctx.output) <= CAP_ITEMS:
        # a short walk cannot show a cap of 1,000 pages or 10,000 items (breaker, 2026-11-30)
        raise NotApplicable(
            f"a walk of {pages} page(s) cannot show a cap; long-walk walks past "
            f"{CAP_PAGES:,} pages and {CAP_ITEMS:,} items"
        )
    return f"walked all {pages} page(s), {len(ctx.output)} id(s)"


def check_free_branches(ctx: Context) -> str:
    empty = [h for h in ctx.hits if h.token_kind == "empty"]  # noqa: S105
    if empty:
        raise Failure(
            f"{len(empty)} request(s) sent pageToken= (empty): a server may answer it with 400 "
            "(TOKEN-EMPTY is FREE) and the kit does; omit pageToken on the first request",
            empty,
        )
    if not ctx.hits:
        raise NotApplicable("no request was made")
    if ctx.scenario.expect == "complete" and not ctx.run.ok:
        raise NotApplicable(f"the client {ctx.run.describe()}")
    branches = []
    ends = [h for h in ctx.hits if h.end]
    if ends and ctx.built.server.end_marker != "null":
        branches.append({"absent": "next absent", "empty": 'next ""'}[ctx.built.server.end_marker])
    branches += sorted({str(h.status) for h in ctx.hits if h.status in (401, 403)})
    if any("problem+json" in h.media_type for h in ctx.hits):
        branches.append("problem+json errors")
    if not branches:
        raise NotApplicable("no FREE branch was served here (and no empty pageToken was sent)")
    return "survived " + ", ".join(branches) + "; no empty pageToken sent"


CHECKS: dict[str, Callable[[Context], str]] = {
    "CLIENT-AUTH": check_auth,
    "CLIENT-FOLLOW-NEXT": check_follow_next,
    "CLIENT-NO-SILENT-CAP": check_no_silent_cap,
    "CLIENT-TOKEN-VERBATIM": check_token_verbatim,
    "CLIENT-PAGESIZE": check_pagesize,
    "CLIENT-DATES": check_dates,
    "CLIENT-RETRY-AFTER": check_retry_after,
    "CLIENT-RETRY-BOUND": check_retry_bound,
    "CLIENT-NO-BLIND-500": check_no_blind_500,
    "CLIENT-NO-EXTRA-REQUEST": check_no_extra_request,
    "CLIENT-EXACTLY-ONCE": check_exactly_once,
    "CLIENT-SURFACES-ERRORS": check_surfaces_errors,
    "CLIENT-TOLERANT": check_tolerant,
    "CLIENT-FREE-BRANCHES": check_free_branches,
}


# clauses whose violation makes the printed list wrong by itself: a wrong window, a walk cut
# short or not followed (a duplicate is never explained by them)
EXPLAINS_WRONG_LIST = ("CLIENT-FOLLOW-NEXT", "CLIENT-NO-SILENT-CAP", "CLIENT-DATES")


def _explain_wrong_list(result: ScenarioResult, ctx: Context) -> None:
    """CLIENT-EXACTLY-ONCE reads N/A when the only thing wrong with the list (ids missing,
    extra or out of order, none twice) follows from another clause's violation in the same
    run: one fault, one clause (breaker, 2026-11-30: a date bug also failed EXACTLY-ONCE)."""
    verdict = result.verdict("CLIENT-EXACTLY-ONCE")
    causes = [c for c in EXPLAINS_WRONG_LIST if c in result.failed]
    if verdict.status != "fail" or not causes:
        return
    if any(n > 1 for n in Counter(ctx.output).values()):
        return
    verdict.status = "n/a"
    verdict.message = f"the list is wrong because of {', '.join(causes)}: {verdict.message}"
    verdict.evidence = []


def grade(
    scenario: Scenario,
    built: Built,
    hits: list[Hit],
    run: DriverRun,
    dropped: int = 0,
    zone: str = "",
) -> ScenarioResult:
    """Every client clause's verdict for one scenario run (``zone``: the driver's TZ)."""
    assert set(CHECKS) == set(client_clause_ids()), "grader and client-clauses.toml disagree"
    ctx = Context(scenario, built, hits, run, zone)
    verdicts = []
    for cid in client_clause_ids():
        try:
            verdicts.append(ClauseVerdict(cid, "pass", CHECKS[cid](ctx)))
        except NotApplicable as na:
            verdicts.append(ClauseVerdict(cid, "n/a", str(na)))
        except Advisory as a:
            verdicts.append(ClauseVerdict(cid, "advisory", a.message, a.evidence))
        except Failure as f:
            verdicts.append(ClauseVerdict(cid, "fail", f.message, f.evidence))
    result = ScenarioResult(
        scenario.name,
        scenario.summary,
        scenario.expect,
        built.params,
        run,
        hits,
        verdicts,
        dropped,
        zone=zone,
    )
    _explain_wrong_list(result, ctx)
    if scenario.expect == "complete" and not run.ok:
        if result.failed:
            result.notes.append(
                f"the client {run.describe()}; explained by {', '.join(sorted(result.failed))}"
            )
        else:
            blame = result.verdict(scenario.blame)
            blame.status = "fail"
            blame.message = (
                f"the client {run.describe()} although every answer it got was valid "
                f"({client_clause(scenario.blame).statement})"
            )
            blame.evidence = [h.line() for h in hits[-3:]]
    return result
