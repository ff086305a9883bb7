"""Throttling and budgets: Retry-After is waited out (capped), the same request is repeated,
a 429 without Retry-After is a RETRY-AFTER-429 violation that the run survives, and the
rate limit, request budget and per-request timeout do what they say. Read-only by default.
"""

from __future__ import annotations

import asyncio
import email.utils
import itertools
import json
import re
import time
from collections.abc import Callable

import httpx
import pytest
from harness import run_against
from loopback import serve
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from comms_contract import cli
from comms_contract.cli import run_suite
from comms_contract.config import parse_rate
from comms_contract.http import (
    ClientSettings,
    ContractClient,
    Target,
    TargetError,
    parse_retry_after,
)
from comms_contract.lanes import Lanes
from comms_contract.ledger import Ledger
from comms_contract.profiles import PROFILES
from comms_contract.server import ReferenceServer
from comms_contract.server.app import ApiError, Credentials
from comms_contract.session import RunConfig

FEW = ["AUTH", "SIZE-RANGE", "CT", "ERROR-BODY"]


class Recording(ReferenceServer):
    """Records (time, method, query) of every request it sees."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.log: list[tuple[float, str, str]] = []

    def respond(self, request: Request) -> Response:
        self.log.append((time.monotonic(), request.method, request.url.query))
        return super().respond(request)


class Throttling(Recording):
    """Answers every ``every``-th request with ``status`` and the header ``header()`` gives."""

    def __init__(
        self, every: int, header: Callable[[], str | None], status: int = 429, **kw
    ) -> None:
        super().__init__(**kw)
        self.every, self.header, self.status = every, header, status
        self.throttled: list[int] = []  # indexes into log

    def respond(self, request: Request) -> Response:
        if (len(self.log) + 1) % self.every == 0:
            self.log.append((time.monotonic(), request.method, request.url.query))
            self.throttled.append(len(self.log) - 1)
            value = self.header()
            headers = {"Retry-After": value} if value is not None else {}
            body = {"code": 20429, "message": "Too Many Requests", "more_info": "", "status": 429}
            body["status"] = self.status
            return JSONResponse(body, status_code=self.status, headers=headers)
        return super().respond(request)


def run(app: object, clauses=FEW, profile: str = "quick", seed: int = 1, **settings):
    settings.setdefault("max_wait", 0.05)
    out = run_against(app, clauses=clauses, profile=profile, seed=seed, **settings)
    return out.code, out.session, {r.id: r for r in out.session.ledger.results()}


def assert_repeated(app: Throttling) -> None:
    """Every throttled request was sent again, unchanged, right after the wait."""
    for i in app.throttled:
        assert i + 1 < len(app.log), "the run ended on a throttled answer"
        assert app.log[i + 1][1:] == app.log[i][1:]


def test_parse_retry_after_forms():
    assert parse_retry_after("7") == 7.0
    now = time.time()
    date = email.utils.formatdate(now + 30, usegmt=True)
    assert 28 <= parse_retry_after(date, now=now) <= 31
    assert parse_retry_after(email.utils.formatdate(now - 30, usegmt=True), now=now) == 0.0
    assert parse_retry_after("soon") is None and parse_retry_after(None) is None


@pytest.mark.parametrize(
    ("status", "header"),
    [
        (429, lambda: "1"),  # delay-seconds, capped to max_wait
        (429, lambda: email.utils.formatdate(time.time() + 3600, usegmt=True)),  # HTTP-date
        (503, lambda: "2"),
    ],
    ids=["429-seconds", "429-http-date", "503-seconds"],
)
def test_retry_after_is_waited_out_and_the_request_repeated(status, header):
    app = Throttling(every=7, header=header, status=status)
    clause = "RETRY-AFTER-429" if status == 429 else "RETRY-AFTER-503"
    code, session, results = run(app, clauses=[*FEW, clause], max_wait=0.05)
    assert code == 0, "\n".join(session.errors)
    assert len(app.throttled) >= 5
    assert_repeated(app)
    assert session.ledger.checked.get(clause), "throttled answers were checked"
    assert all(r.status != "fail" for r in results.values())
    # every request counted (throttled ones too); every wait capped at max_wait
    assert session.requests == len(app.log)
    assert session.waited == pytest.approx(0.05 * len(app.throttled), abs=1e-6)


def test_429_without_retry_after_is_a_violation_but_the_run_goes_on():
    app = Throttling(every=9, header=lambda: None, status=429)
    code, session, _results = run(app, clauses=None, max_wait=0.02)
    statuses = {r.id: r.status for r in session.ledger.results()}
    assert code == 1 and not session.errors
    assert statuses["RETRY-AFTER-429"] == "fail"
    assert_repeated(app)
    # the run reached the end: every other clause has its normal (reference) result
    assert {c for c, s in statuses.items() if s == "fail"} == {"RETRY-AFTER-429"}
    assert statuses["AUTH"] == statuses["NO-5XX"] == "pass"
    assert session.waited > 0


def test_rate_limit_spaces_requests():
    assert parse_rate("10/s") == 10 and parse_rate("120/min") == 2 and parse_rate("5") == 5
    app = Recording()
    code, _session, _ = run(app, rate_limit=10, max_requests=12)
    times = [t for t, _, _ in app.log]
    assert len(times) == 12
    gaps = [b - a for a, b in itertools.pairwise(times)]
    assert sum(gaps) / len(gaps) >= 0.09
    assert code == 0


def test_max_requests_caps_the_run_and_reports_skips(tmp_path):
    app = Recording()
    report = tmp_path / "r.json"
    creds = Credentials()
    config = RunConfig(
        target=Target(None, creds.account_id, creds.auth_token),
        profile=PROFILES["quick"],
        client=ClientSettings(max_requests=15),
        app=app,
        report_json=str(report),
    )
    code, session = run_suite(config)
    assert code == 0, session.errors
    assert len(app.log) == session.requests == 15
    doc = json.loads(report.read_text())
    assert doc["requests"] == 15
    skipped = [c for c in doc["clauses"] if c["status"] == "skipped"]
    assert any("request budget of 15 spent" in c["message"] for c in skipped)


def test_default_run_is_read_only_and_probes_only_when_asked():
    app = Recording()
    run(app, clauses=None, max_requests=None)
    assert {m for _, m, _ in app.log} == {"GET"}
    probing = Recording()
    _, _, results = run(probing, clauses=["METHODS"], probe_methods=True)
    assert {"POST", "PUT", "PATCH", "DELETE"} <= {m for _, m, _ in probing.log}
    assert results["METHODS"].status == "pass"


async def slow_app(scope, receive, send):
    """Answers nothing for 60 s, or until the client hangs up: a per-request timeout must cut
    it short."""
    if scope["type"] != "http":
        return

    async def hang_up() -> None:
        while (await receive())["type"] != "http.disconnect":
            pass

    try:
        await asyncio.wait_for(hang_up(), 60)  # the client gave up: nobody to answer
    except asyncio.TimeoutError:
        await JSONResponse({})(scope, receive, send)


def test_per_request_timeout(capsys):
    with serve(slow_app) as base:
        started = time.monotonic()
        code = cli.main(
            [
                *("run", "--base-url", base, "--account-id", "AC1", "--auth-token", "t0ken"),
                *("--timeout", "0.3", "--clause", "AUTH"),
            ]
        )
        elapsed = time.monotonic() - started
    err = capsys.readouterr().err
    # not a timing assertion: the server would stay silent for 60 s; ending well before that
    # (with generous room for a loaded CI machine) shows --timeout cut the exchange short
    assert code == 2 and elapsed < 45, elapsed
    assert "did not answer within 0.3s" in err and "Traceback" not in err


def test_waited_is_wall_time_not_the_lanes_waits_summed():
    """Breaker, 2026-11-30: "waited 215.0 s" in a 168 s run, the lanes' waits for the same
    Retry-After added up; and "waited 300.1 s" in an interrupted 285 s run, a pause counted
    whole as soon as it was set. Overlapping pauses count once, a running one up to now."""

    now = [100.0]
    lanes = Lanes(8, clock=lambda: now[0])
    for _ in range(8):  # eight lanes get the same 5 s Retry-After at once (until 105)
        lanes.pause(5.0)
    now[0] = 103.0
    assert lanes.paused == pytest.approx(3.0)  # so far
    lanes.pause(5.0)  # until 108: 3 more seconds held off, not 5
    now[0] = 108.0
    assert lanes.paused == pytest.approx(8.0)
    now[0] = 120.0
    lanes.pause(1.0)  # after the pause ended: a new one, counted as it elapses
    assert lanes.paused == pytest.approx(8.0)
    now[0] = 120.25
    assert lanes.paused == pytest.approx(8.25)  # interrupted now: 0.25 s of it was waited
    now[0] = 125.0
    assert lanes.paused == pytest.approx(9.0)


class ThrottlesForever(ReferenceServer):
    """Answers like the reference until ``after`` requests, then 429 (Retry-After: 0) forever."""

    def __init__(self, after: int, **kw) -> None:
        super().__init__(**kw)
        self.after, self.refused = after, 0

    def respond(self, request: Request) -> Response:
        if self.requests <= self.after:
            return super().respond(request)
        self.refused += 1
        body = {"code": 20429, "message": "Too Many Requests", "status": 429}
        return JSONResponse(body, 429, {"Retry-After": "0"})


def test_a_throttle_that_never_lifts_stops_every_lane_at_once():
    """Breaker, 2026-11-30: against a throttle that never lifts, each piece of work sent ahead
    ran to its own 6 refusals (about a minute with --max-wait 1, 400 requests here) and the
    clause table said 'no check for this clause ran'. The first request that gives up stops
    the run: exit 2 with its one line, no more requests, clauses 'not reached'."""
    app = ThrottlesForever(40, seed=1)
    out = run_against(app, profile="quick", workers=4, max_wait=0.01)
    assert out.code == 2
    attempts = ClientSettings().max_attempts
    assert [e for e in out.session.errors if f"kept answering 429 after {attempts} attempts" in e]
    assert app.refused <= attempts * 4, app.refused  # at most one request's attempts per lane
    statuses = {r.id: (r.status, r.message) for r in out.session.ledger.results()}
    assert statuses["WALK-EXACTLY-ONCE"] == (
        "skipped",
        "not reached: the run stopped (see its error)",
    )
    assert out.lines[-1].startswith("result: ERROR")


class RevokesAfter(ReferenceServer):
    """Accepts the credentials for ``after`` requests, then answers 401 to everything (the
    token rotated or revoked mid-run)."""

    def __init__(self, after: int, **kw) -> None:
        super().__init__(**kw)
        self.accepted_for = after  # not ``after``: ReferenceServer.after pages a list

    def authenticate(self, request: Request) -> None:
        super().authenticate(request)
        if self.requests > self.accepted_for:
            raise ApiError(401, 20003, "Authentication Error - invalid credentials")


def test_credentials_revoked_mid_run_stop_the_run_with_one_line():
    """Breaker, 2026-11-30: a target that started refusing the token after 50 requests got
    about 100 findings ('a valid query got 401, not 200') spread over SIZE-RANGE, STATUS-ENUM,
    DATE-FORMAT, DATE-ORDER, TOKEN-GARBAGE and ENVELOPE, and nothing said the credentials had
    stopped working. Now: exit 2, one line, the clauses not reached."""
    out = run_against(RevokesAfter(50, seed=1), profile="quick", workers=4, max_wait=0.01)
    assert out.code == 2, out.explain()
    assert [e for e in out.session.errors if "stopped accepting the credentials" in e]
    # not "after N requests": N counts the refused ones sent while it was confirmed
    assert [e for e in out.session.errors if "(noticed at request " in e], out.session.errors
    assert not out.failed, out.explain()  # no clause charged with the revocation


def test_a_throttle_that_lets_the_run_through_is_not_given_up_on():
    """CI, 2026-11-30: a limiter refusing every 5th request (RETRY-AFTER-429's mutant) landed
    on one lane's repeats six times running while the other lanes were answered; that lane
    gave up and the run ended in exit 2 'kept answering 429', not exit 1 with the clause.
    While other lanes get answers between its attempts, a request tries on (to twice the
    attempts); with no answer anywhere in between, it gives up as before."""
    most = ClientSettings().max_attempts
    unlucky = {"attempts": 0}

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.params.get("pageSize") == "7":
            unlucky["attempts"] += 1
            if unlucky["attempts"] <= most + 3:
                return httpx.Response(429, json={"code": 20429, "message": "slow down"})
        return httpx.Response(200, json={"operations": [], "meta": {}})

    def another_lane_is_answered(seconds: float) -> None:  # while this request waits
        client.get({"pageSize": "1"})

    target = Target("https://api.example", "AC1", "tok-abcdefgh")
    client = ContractClient(
        target,
        Ledger(),
        settings=ClientSettings(max_wait=0.0),
        transport=httpx.MockTransport(handler),
        sleep=another_lane_is_answered,
    )
    assert client.get({"pageSize": "7"}).status == 200
    assert unlucky["attempts"] == most + 4

    alone = ContractClient(
        target,
        Ledger(),
        settings=ClientSettings(max_wait=0.0),
        transport=httpx.MockTransport(lambda r: httpx.Response(429, json={"code": 1})),
        sleep=lambda s: None,
    )
    with pytest.raises(TargetError, match=f"kept answering 429 after {most} attempts"):
        alone.get({"pageSize": "7"})


class Clock:
    """A fake clock for a client and its lanes: sleeping moves it on."""

    def __init__(self) -> None:
        self.now = 0.0

    def sleep(self, seconds: float) -> None:
        self.now += max(0.0, seconds)

    def client(self, handler: Callable[[httpx.Request], httpx.Response]) -> ContractClient:
        return ContractClient(
            Target("https://api.example", "AC1", "tok-abcdefgh"),
            Ledger(),
            transport=httpx.MockTransport(handler),
            lanes=Lanes(1, sleep=self.sleep, clock=lambda: self.now),
            sleep=self.sleep,
        )


PAGE = {"operations": [], "pagination": {"next": None, "self": None}}


def test_retry_after_0_from_a_bucket_that_refills_is_not_a_throttle_that_never_lifts():
    """Fresh breaker, 2026-11-30: a token bucket answering 429 with Retry-After: 0 until it
    refills 50 ms later made every run exit 2 ('kept answering 429 after 11 attempts (waited
    0.0s)'): the repeats went out within a millisecond. Retry-After is a minimum; the suite
    backs off 0.05 s, doubling (at most 2 s), before each repeat."""
    clock = Clock()

    def bucket(request: httpx.Request) -> httpx.Response:
        if clock.now < 0.3:  # empty for 300 ms
            return httpx.Response(429, headers={"Retry-After": "0"}, json={"code": 20429})
        return httpx.Response(200, json=PAGE)

    assert clock.client(bucket).get({"pageSize": "1"}).status == 200
    assert 0.3 <= clock.now < 1.0, clock.now


def test_a_maintenance_window_of_seven_seconds_is_waited_out():
    """Fresh breaker, 2026-11-30: 503 with Retry-After: 1 for 7 s ended the run after 6
    attempts (5 s waited). CONTRACT.md section 5 lets a client give up after 10 throttled
    answers in a row; the suite holds itself to the same: 10 repeats."""
    clock = Clock()

    def maintenance(request: httpx.Request) -> httpx.Response:
        if clock.now < 7.0:
            return httpx.Response(503, headers={"Retry-After": "1"}, json={"code": 20503})
        return httpx.Response(200, json=PAGE)

    ex = clock.client(maintenance).get({"pageSize": "1"})
    assert ex.status == 200 and ex.attempts == 8, (ex.status, ex.attempts)

    def forever(request: httpx.Request) -> httpx.Response:
        return httpx.Response(503, headers={"Retry-After": "1"}, json={"code": 20503})

    with pytest.raises(TargetError, match="after 10 attempts"):
        Clock().client(forever).get({"pageSize": "1"})


def test_the_give_up_line_shortens_a_long_page_token():
    """Fresh breaker, 2026-11-30: the one-line error quoted a 500-character URL."""
    clock = Clock()
    refuse = lambda request: httpx.Response(429, headers={"Retry-After": "0"}, json={})  # noqa: E731
    with pytest.raises(TargetError) as info:
        clock.client(refuse).get([("pageToken", "A" * 400), ("pageSize", "2")])
    assert len(str(info.value)) < 250 and "A" * 37 + "..." in str(info.value), str(info.value)


def test_the_give_up_line_never_cuts_the_token_in_half():
    """The line cuts long values at 40 characters; a page token that carries the run's
    token (an echo) must be scrubbed before the cut, or a piece of it survives."""
    clock = Clock()
    secret = "tok-abcdefgh"  # Clock.client's token
    refuse = lambda request: httpx.Response(429, headers={"Retry-After": "0"}, json={})  # noqa: E731
    with pytest.raises(TargetError) as info:
        clock.client(refuse).get([("pageToken", "x" * 27 + secret + "y" * 30)])
    line = str(info.value)
    assert "tok-abcd" not in line and "abcdefgh" not in line, line


def test_the_give_up_line_never_waited_longer_than_the_run():
    """Breaker, 2026-11-30: one lane against 429 with Retry-After: 1 forever gave up with
    "(waited 12.6s)" while the run's summary said "waited 9.0 s": the backoff floor beyond
    the Retry-After (1.6 s, then 2 s) was waited but not counted. The run's waited time is
    every wait, overlaps once, so it is never less than one request's."""
    clock = Clock()
    client = clock.client(lambda r: httpx.Response(429, headers={"Retry-After": "1"}, json={}))
    with pytest.raises(TargetError, match=r"waited (\d+\.\d)s") as err:
        client.get({"pageSize": "1"})
    gave_up = float(re.search(r"waited (\d+\.\d)s", str(err.value))[1])
    assert gave_up == pytest.approx(clock.now, abs=0.05)  # every second of it was waited
    assert client.lanes.paused == pytest.approx(clock.now)
