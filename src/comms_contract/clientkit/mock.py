"""``comms_mock``: a scenario served through respx, for testing a Python (httpx) client in-process.

respx patches httpx's network transports; each matched request is handed to the scenario
server synchronously (no event loop, so sync and async clients both work), recorded with its
raw query string, and graded afterwards by the same clauses as ``check-client``. A client that
loops (more requests than the walk can need) gets ``ConformanceError`` from its next request.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from urllib.parse import urlsplit

import httpx
import respx
from starlette.requests import Request

from comms_contract.clientkit.grader import DriverRun, ScenarioResult, grade
from comms_contract.clientkit.recorder import Hit
from comms_contract.clientkit.scenarios import Built, Scenario, scenario
from comms_contract.server.app import Credentials

DEFAULT_BASE_URL = "https://comms.twilio.com"


class ConformanceError(AssertionError):
    """A client clause failed; the message lists each clause and the offending requests."""


class CommsMock:
    """One scenario at ``base_url`` through a respx router (start with ``with`` or ``start()``)."""

    def __init__(
        self,
        scenario_name: str = "multi-page",
        *,
        base_url: str = DEFAULT_BASE_URL,
        credentials: Credentials | None = None,
        seed: int = 0,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.credentials = credentials or Credentials()
        self.seed = seed
        self.router = respx.MockRouter(assert_all_called=False, assert_all_mocked=True)
        self.router.route(host=urlsplit(self.base_url).hostname).mock(side_effect=self._forward)
        self.use(scenario_name)

    # ---- scenario ------------------------------------------------------------------------------
    def use(self, scenario_name: str) -> CommsMock:
        """Switch to a fresh copy of a scenario (clears the recorded calls)."""
        self.scenario: Scenario = scenario(scenario_name)
        prefix = urlsplit(self.base_url).path
        self.built: Built = self.scenario.build(self.credentials, self.seed, prefix)
        return self

    @property
    def params(self) -> dict[str, Any]:
        """The list query the scenario is built for (what a driver gets in COMMS_LIST_PARAMS)."""
        return dict(self.built.params)

    @property
    def expected_ids(self) -> list[str]:
        return list(self.built.expected)

    @property
    def account_id(self) -> str:
        return self.credentials.account_id

    @property
    def auth_token(self) -> str:
        return self.credentials.auth_token

    @property
    def calls(self) -> list[Hit]:
        """Every request so far, as received (Authorization reduced to scheme and validity)."""
        return self.built.server.log.hits

    # ---- routing -------------------------------------------------------------------------------
    def _forward(self, request: httpx.Request) -> httpx.Response:
        url = request.url
        scope = {
            "type": "http",
            "asgi": {"version": "3.0"},
            "http_version": "1.1",
            "method": request.method,
            "scheme": url.scheme,
            "path": url.path,
            "raw_path": url.raw_path.split(b"?", 1)[0],
            "query_string": url.query,
            "root_path": "",
            "headers": [(k.lower(), v) for k, v in request.headers.raw],
            "server": (url.host, url.port or (443 if url.scheme == "https" else 80)),
            "client": ("127.0.0.1", 0),
        }
        server = self.built.server
        response = server.handle(scope, Request(scope))
        if server.cut_kind == "runaway":  # a loop: stop the client here, naming the clause
            run = DriverRun(exit_code=None, cut=server.cut, cut_kind=server.cut_kind)
            result = grade(self.scenario, self.built, server.log.hits, run, server.log.dropped)
            raise ConformanceError(self._describe(result))
        return httpx.Response(
            response.status_code,
            headers=[(k.decode("latin-1"), v.decode("latin-1")) for k, v in response.raw_headers],
            content=response.body,
            request=request,
        )

    def start(self) -> CommsMock:
        self.router.start()
        return self

    def stop(self) -> None:
        self.router.stop()

    def __enter__(self) -> CommsMock:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # ---- grading -------------------------------------------------------------------------------
    def grade(
        self, ids: Sequence[str] | None, error: BaseException | bool | None = None
    ) -> ScenarioResult:
        """Grade the calls so far and the client's result: the ids it returned, or the error it
        raised (``ids=None`` with ``error``: the call failed, as a driver's non-zero exit)."""
        failed = bool(error) or ids is None
        run = DriverRun(
            exit_code=1 if failed else 0,
            output=[str(i) for i in ids or ()],
            stderr_tail=repr(error) if isinstance(error, BaseException) else "",
        )
        log = self.built.server.log
        return grade(self.scenario, self.built, log.hits, run, log.dropped)

    def assert_conforms(
        self, ids: Sequence[str] | None, error: BaseException | bool | None = None
    ) -> ScenarioResult:
        """``grade`` and raise ``ConformanceError`` naming every failed clause."""
        result = self.grade(ids, error)
        if not result.passed:
            raise ConformanceError(self._describe(result))
        return result

    @staticmethod
    def _describe(result: ScenarioResult) -> str:
        lines = [f"scenario {result.name}: client clauses violated"]
        for v in result.verdicts:
            if v.status == "fail":
                lines.append(f"  {v.id}: {v.message}")
                lines.extend(f"      {e}" for e in v.evidence)
        return "\n".join(lines)
