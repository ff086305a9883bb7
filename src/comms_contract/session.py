"""One contract run: its settings, the target, the HTTP client and the ledger.

The pytest plugin creates it at configure time, so contract modules can read the profile and
seed when they are imported (schemathesis and hypothesis need both at decoration time).
"""

from __future__ import annotations

import importlib
import inspect
import shlex
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from itertools import chain, repeat
from typing import Any

import httpx

from comms_contract.catalog import Policy
from comms_contract.checks import Verdict, check_error, check_list_page, media_type, parse_json
from comms_contract.http import ClientSettings, ContractClient, Exchange, Target, asgi_transport
from comms_contract.lanes import Ahead, Lanes, default_workers
from comms_contract.ledger import BudgetExhausted, Ledger, TargetError
from comms_contract.profiles import PROFILES, Profile
from comms_contract.redact import REDACTOR


@dataclass
class RunConfig:
    target: Target
    profile: Profile = PROFILES["ci"]
    seed: int = 1
    policy: Policy = field(default_factory=Policy)
    selected: frozenset[str] | None = None
    client: ClientSettings = field(default_factory=ClientSettings)
    allow_insecure_http: bool = False
    probe_methods: bool = False
    app: Any = None  # an ASGI app to test in-process instead of a base URL
    app_spec: str | None = None  # how the user named it (module:attr), for replay commands
    report_json: str | None = None
    junit_xml: str | None = None
    report_html: str | None = None
    shrink: bool | None = None  # None: shrink in-process and in thorough runs (see .shrink)


def load_app(spec: str) -> Any:
    """``module:attribute`` -> the ASGI app (called first if it is a factory function)."""
    module, _, attr = spec.partition(":")
    obj = getattr(importlib.import_module(module), attr or "app")
    if inspect.isfunction(obj) and not inspect.signature(obj).parameters:
        return obj()
    return obj


class ContractSession:
    def __init__(self, config: RunConfig) -> None:
        self.config = config
        # known to the redactor before any test runs: a test may print them before it sends
        REDACTOR.add(config.target.account_id, config.target.auth_token)
        self.ledger = Ledger(config.policy, config.selected)
        self.started = time.monotonic()
        self.issued_tokens: set[str] = set()
        self.errors: list[str] = []
        self.fatal: str | None = None  # why the target could not be tested further (redacted)
        self.verbosity = 0  # pytest's -v count (the plugin sets it)
        # the signal that ended the run early ("SIGINT", "SIGTERM"...), None for a whole run;
        # an interrupted run is never reported as a pass: the writers read this
        self.interrupted: str | None = None
        self.reports_written = False
        self.broken_answers = 0  # requests that got no complete answer (see plugin)
        self._commands: dict[tuple[str | None, int], str] = {}
        self.runner = False  # True under ``comms-contract run``, which prints the report
        self._client: ContractClient | None = None
        self._first_page: Exchange | None = None
        self.reference = None
        self._reference_walk = None
        self._ahead: Ahead | None = None
        self.planning = False  # True while plan_ahead draws a hypothesis test's cases
        # requests in the order the checks take them: what a one-lane run has sent so far,
        # whatever the lanes sent ahead (live-data staleness is measured in these)
        self.checked_requests = 0

    @property
    def profile(self) -> Profile:
        return self.config.profile

    @property
    def seed(self) -> int:
        return self.config.seed

    @property
    def shrink(self) -> bool:
        """Shrink failing examples in-process (cheap) and in thorough runs; against a remote
        target in quick/ci runs, report the first failing example instead: shrinking can send
        thousands of requests to a shared staging API."""
        if self.config.shrink is not None:
            return self.config.shrink
        in_process = self.config.target.embedded or self.config.app is not None
        return in_process or self.profile.name == "thorough"

    @property
    def strict(self) -> bool:
        return self.config.policy.strict

    # ---- the client, built on first use, with a preflight that turns bad targets into errors
    @property
    def client(self) -> ContractClient:
        if self._client is None:
            self._client = self._build_client()
            self._preflight()
        return self._client

    def _build_client(self) -> ContractClient:
        target = self.config.target
        transport: httpx.AsyncBaseTransport | None = None
        # an exception in an in-process app becomes the 500 a server would send (NO-5XX),
        # not a Python exception in the middle of a contract test
        cap = self.config.client.max_body
        if self.config.app is not None:
            transport = asgi_transport(self.config.app, cap)
        elif target.embedded:
            from comms_contract.server import ReferenceServer
            from comms_contract.server.app import Credentials

            # the embedded server takes the run's credentials, whatever they are: a user with
            # staging's COMMS_ACCOUNT_ID/COMMS_AUTH_TOKEN exported still gets the Quick start's
            # passing run (breaker: "credentials rejected" from the embedded server)
            self.reference = ReferenceServer(
                seed=self.seed, credentials=Credentials(target.account_id, target.auth_token)
            )
            transport = asgi_transport(self.reference, cap)
        settings = self.config.client
        lanes = Lanes(
            self.workers, rate_limit=settings.rate_limit, max_requests=settings.max_requests
        )
        return ContractClient(
            target, self.ledger, transport=transport, settings=settings, lanes=lanes
        )

    def _preflight(self) -> None:
        assert self._client is not None
        ex = self._client.get([])
        where = self.config.target.url
        if ex.status in (401, 403):
            raise TargetError(
                f"credentials rejected: {where} answered {ex.status} to an authenticated GET; "
                "check --account-id/--auth-token (COMMS_ACCOUNT_ID/COMMS_AUTH_TOKEN)"
            )
        html_page = media_type(ex) == "text/html" and not parse_json(ex)[0]
        if ex.status == 404 or (ex.status < 500 and html_page):
            raise TargetError(
                f"{where} answered {ex.status} {ex.content_type or ''} - not this API; is the base "
                "URL the API root (e.g. https://comms.twilio.com, without /v1)?"
            )
        if ex.status in (301, 302, 307, 308):
            raise TargetError(
                f"{where} redirects ({ex.status}) to {ex.headers.get('location')}"
                "; use that base URL"
            )
        # from here on the target has answered like this API: a stalled, oversized or cut
        # answer is a violation (NO-5XX), no longer "cannot connect" (exit 2)
        self._client.established = True
        self._first_page = ex

    def first_page(self) -> Exchange:
        client = self.client
        assert self._first_page is not None
        del client
        return self._first_page

    def reference_walk(self, *, refresh: bool = False):
        """The unfiltered walk at pageSize=1000, fetched once per run (``refresh``: again, for a
        second observation). Walk-level checks compare against it instead of re-walking."""
        from comms_contract.walker import walk

        if refresh or self._reference_walk is None:
            self._reference_walk = walk(self._fetch, [("pageSize", "1000")], max_pages=1000)
        return self._reference_walk

    # ---- lanes: independent requests and walks sent ahead, in parallel ------------------------
    @property
    def workers(self) -> int:
        """Concurrent lanes: ``--workers``, else 1 in-process and a few against a URL."""
        in_process = self.config.target.embedded or self.config.app is not None
        return self.config.client.workers or default_workers(in_process)

    def plan_ahead(self, items: Sequence[Any]) -> int:
        """Send ahead, on idle lanes, the requests and walks the selected contract tests will
        ask for; returns how many pieces of work went out. With one lane nothing is.

        A test module names its tests' fixed work in ``plan_ahead(comms, wanted)``; a
        hypothesis test marked ``@pytest.mark.ahead`` is run once with ``comms.planning``
        set, drawing the same cases as its real run will (same seed, no database), and
        plans each case's request instead of sending it."""
        if self.workers < 2 or self._ahead is not None:
            return 0
        self.client  # noqa: B018 - preflight first: a bad target fails here, as it would later
        self._ahead = Ahead(self._client.lanes)  # type: ignore[union-attr]
        wanted: dict[Any, Wanted] = {}
        first: dict[Any, int] = {}  # a module's work is needed from its first test on
        drawn = []
        for position, item in enumerate(items):
            module = getattr(item, "module", None)
            if item.get_closest_marker("ahead") is not None:
                drawn.append((position, item))
            if module is None or not hasattr(module, "plan_ahead"):
                continue
            params = getattr(getattr(item, "callspec", None), "params", {})
            wanted.setdefault(module, Wanted()).add(item.originalname, params)
            first.setdefault(module, position)
        sent = 0
        try:
            for module, tests in wanted.items():
                self._ahead.need = first[module]
                _quietly(lambda m=module, t=tests: m.plan_ahead(self, t))
            sent += self._ahead.start()  # walks first: the dry runs below take CPU time
            self.planning = True
            for position, item in drawn:
                if list(inspect.signature(item.obj).parameters) == ["comms"]:
                    self._ahead.need = position
                    _quietly(lambda i=item: i.obj(comms=self))
        except (TargetError, BudgetExhausted):
            pass  # the tests meet it themselves, each where it matters
        finally:
            self.planning = False
        return sent + self._ahead.start()

    def ahead_get(self, params: Any) -> None:
        """Plan one GET for ``plan_ahead`` (taken by the first ``get`` with these params)."""
        if self._ahead is not None:
            self._ahead.plan(("get", _pairs(params)), lambda: self._fetch(params, ahead=True))

    def ahead_walk(
        self,
        params: Any,
        *,
        sizes: Sequence[int | None] | None = None,
        resend_filters: bool = True,
        max_pages: int = 10_000,
        cost: int = 1,
    ) -> None:
        """Plan one walk for ``plan_ahead`` (taken by the first ``walk`` with these
        arguments); ``cost``: its expected pages, so the longest walks start first."""
        if self._ahead is not None:
            key = _walk_key(params, sizes, resend_filters, max_pages)
            self._ahead.plan(
                key,
                lambda: self._walk(params, sizes, resend_filters, max_pages, ahead=True),
                cost=cost,
            )

    def walk(
        self,
        params: Any = (),
        *,
        sizes: Sequence[int | None] | None = None,
        resend_filters: bool = True,
        max_pages: int = 10_000,
    ):
        """A whole walk from the first page (``walker.walk``); ``sizes``: the pageSize of each
        request in turn, the last one repeating (None: the query's own)."""
        if self._ahead is None:
            return self._walk(params, sizes, resend_filters, max_pages)
        fetched = []
        w = self._ahead.take(
            _walk_key(params, sizes, resend_filters, max_pages),
            lambda: fetched.append(1) or self._walk(params, sizes, resend_filters, max_pages),
        )
        if not fetched:
            self.checked_requests += len(w.exchanges)
        return w

    def _walk(
        self,
        params: Any,
        sizes: Sequence[int | None] | None,
        resend_filters: bool,
        max_pages: int,
        ahead: bool = False,
    ):
        from comms_contract.walker import walk

        plan = chain(sizes, repeat(sizes[-1])) if sizes else None
        return walk(
            (lambda p: self._fetch(p, ahead=True)) if ahead else self._fetch,
            params,
            page_sizes=plan,
            resend_filters=resend_filters,
            max_pages=max_pages,
        )

    # ---- helpers for contract tests -------------------------------------------------------
    def get(self, params: Any = None, **kwargs: Any) -> Exchange:
        """One request; a GET sent ahead with exactly these params is taken instead."""
        if self._ahead is None or kwargs:
            return self._fetch(params, **kwargs)
        fetched = []
        ex = self._ahead.take(
            ("get", _pairs(params)), lambda: fetched.append(1) or self._fetch(params)
        )
        if not fetched:
            self.checked_requests += 1
        return ex

    def _fetch(self, params: Any = None, *, ahead: bool = False, **kwargs: Any) -> Exchange:
        """Send one request (``ahead``: for work sent ahead, counted when a check takes it)."""
        ex = self.client.get(params, **kwargs)
        if not ahead:
            self.checked_requests += 1
        if ex.status == 200:
            try:
                pagination = ex.json().get("pagination") or {}
                for key in ("next", "self"):
                    if isinstance(pagination.get(key), str) and pagination[key]:
                        self.issued_tokens.add(pagination[key])
            except (ValueError, AttributeError):
                pass
        return ex

    def verdict(self, exchange: Exchange | None = None) -> Verdict:
        return Verdict(self.ledger, exchange)

    def check_response(self, exchange: Exchange) -> dict | None:
        """Schema and per-response checks for any answer; returns a usable 200 body."""
        v = self.verdict(exchange)
        body = None
        if exchange.status == 200:
            body = check_list_page(v, exchange, strict=self.strict)
        elif exchange.status >= 400:
            check_error(v, exchange)
        v.done()
        return body

    @property
    def target_label(self) -> str:
        if self.config.app is not None:
            name = self.config.app_spec or type(self.config.app).__name__
            return f"in-process ASGI app {name}"
        if self.config.target.embedded:
            return "embedded reference server"
        return self.config.target.root

    def suite_command(self, clause: str | None = None) -> str:
        # a walk asks for one per finding it raises: built once per clause and ledger change
        key = (clause, self.ledger.version(clause) if clause else 0)
        if key not in self._commands:
            self._commands[key] = self._suite_command(clause)
        return self._commands[key]

    def _suite_command(self, clause: str | None = None) -> str:
        """The command that replays this run, or only ``clause``'s checks, with the same seed,
        profile, strictness, throttling and budget (credentials stay in the environment).

        With the same seed a test draws the same cases, so a replay sends the requests that
        found the failure (the clause's tests are the ones the run reported it from first).
        """
        cfg = self.config
        client = cfg.client
        app = bool(cfg.app_spec)
        flag = (lambda name: f"--comms-{name}") if app else (lambda name: f"--{name}")
        if app:
            parts = ["pytest", "--pyargs", "comms_contract.contracts", "--comms-app"]
            parts.append(shlex.quote(cfg.app_spec or ""))
        else:
            parts = ["comms-contract", "run"]
            if not cfg.target.embedded:
                parts += ["--base-url", shlex.quote(cfg.target.root)]
        parts += [flag("profile"), self.profile.name, flag("seed"), str(self.seed)]
        if self.strict:
            parts.append(flag("strict"))
        if clause and clause in cfg.policy.downgraded:
            parts += [flag("downgrade"), clause]
        defaults = ClientSettings()
        if client.rate_limit:
            rate = f"{client.rate_limit:g}" if app else f"{client.rate_limit:g}/s"
            parts += [flag("rate-limit"), rate]
        if client.max_requests is not None:
            parts += [flag("max-requests"), str(client.max_requests)]
        if client.timeout != defaults.timeout:
            parts += [flag("timeout"), f"{client.timeout:g}"]
        if client.max_wait != defaults.max_wait:
            parts += [flag("max-wait"), f"{client.max_wait:g}"]
        if cfg.probe_methods:
            parts.append(flag("probe-methods"))
        if cfg.allow_insecure_http:
            parts.append(flag("allow-insecure-http"))
        if clause:
            parts += [flag("clause"), clause]
            companion = self.ledger.companion(clause)
            if companion:  # the test that found the example shown first runs under it
                parts += [flag("clause"), companion]
        return " ".join(parts)

    def close(self) -> None:
        if self._client is not None:
            self._client.lanes.close()
            self._client.close()

    @property
    def requests(self) -> int:
        return self._client.requests if self._client else 0

    @property
    def waited(self) -> float:
        # wall time held off, not the lanes' waits summed (8 lanes waiting the same 5 s
        # Retry-After at once waited 5 s, not 40)
        return self._client.lanes.paused if self._client else 0.0

    @property
    def duration(self) -> float:
        return time.monotonic() - self.started


def _quietly(plan: Any) -> None:
    """Run a planning step; planning is an optimisation, so whatever it raises (a skip, a
    check that finds nothing to plan) is left for the test itself to meet, except a target
    that cannot be tested or a spent budget, which end the planning."""
    try:
        plan()
    except (TargetError, BudgetExhausted, KeyboardInterrupt, SystemExit):
        raise
    except BaseException:  # noqa: S110 - see above
        pass


class Wanted:
    """The selected tests of one contract module: function name -> parametrizations."""

    def __init__(self) -> None:
        self.tests: dict[str, list[dict[str, Any]]] = {}

    def add(self, name: str, params: dict[str, Any]) -> None:
        self.tests.setdefault(name, []).append(dict(params))

    def __contains__(self, name: object) -> bool:
        return name in self.tests

    def values(self, name: str, param: str) -> list[Any]:
        """The values of ``param`` the selected items of test ``name`` run with."""
        return [p[param] for p in self.tests.get(name, []) if param in p]


def _pairs(params: Any) -> tuple[tuple[str, str], ...]:
    pairs = params.items() if isinstance(params, Mapping) else (params or ())
    return tuple((str(k), str(v)) for k, v in pairs)


def _walk_key(
    params: Any, sizes: Sequence[int | None] | None, resend_filters: bool, max_pages: int
) -> tuple[Any, ...]:
    return ("walk", _pairs(params), tuple(sizes) if sizes else None, resend_filters, max_pages)


_current: ContractSession | None = None
_error: str | None = None


def current() -> ContractSession:
    if _current is None:
        if _error:
            raise RuntimeError(f"comms-contract: {_error}")
        raise RuntimeError("no comms-contract session: run under pytest with the plugin loaded")
    return _current


def install(session: ContractSession | None) -> None:
    global _current, _error
    _current, _error = session, None


def install_error(message: str) -> None:
    """Remember why no session could be built (raised when a contract test asks for one)."""
    global _current, _error
    _current, _error = None, message
