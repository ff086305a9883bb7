"""``comms-contract serve --scenario NAME``: one scenario by hand, for debugging an SDK.

Besides the API it answers ``GET /_kit/log`` (the requests recorded so far, as JSON, with the
Authorization header reduced to its scheme and validity) and ``POST /_kit/reset`` (a fresh
scenario: throttles armed again, log cleared). ``--request-log PATH`` appends one JSON line per
request to a file (``-`` for stdout).
"""

from __future__ import annotations

import json
import socket
import sys
import threading
from pathlib import Path
from typing import IO, Any

from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.types import Receive, Scope, Send

from comms_contract.clientkit.recorder import Hit
from comms_contract.clientkit.scenarios import Built, scenario
from comms_contract.server.app import Credentials


class ScenarioApp:
    """The scenario server plus the ``/_kit/`` debugging endpoints."""

    def __init__(
        self, name: str, credentials: Credentials, seed: int = 0, request_log: str | None = None
    ) -> None:
        self.name, self.credentials, self.seed = name, credentials, seed
        self._lock = threading.Lock()
        self._sink: IO[str] | None = None
        if request_log == "-":
            self._sink = sys.stdout
        elif request_log:
            Path(request_log).parent.mkdir(parents=True, exist_ok=True)
            self._sink = open(request_log, "a", encoding="utf-8")
        self.built = self.build()

    def build(self) -> Built:
        built = scenario(self.name).build(self.credentials, self.seed, "")
        built.server.listeners.append(self.write)
        return built

    def write(self, hit: Hit) -> None:
        if self._sink is None:
            return
        with self._lock:
            self._sink.write(json.dumps({"scenario": self.name, **hit.to_json()}) + "\n")
            self._sink.flush()

    def describe(self) -> dict[str, Any]:
        return {
            "scenario": self.name,
            "list_params": self.built.params,
            "expected_ids": len(self.built.expected),
            "requests": [h.to_json() for h in self.built.server.log.hits],
        }

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["path"].startswith("/_kit/"):
            request = Request(scope, receive)
            if scope["path"] == "/_kit/log" and request.method == "GET":
                response = JSONResponse(self.describe())
            elif scope["path"] == "/_kit/reset" and request.method == "POST":
                self.built = self.build()
                response = JSONResponse({"reset": self.name})
            else:
                response = JSONResponse({"error": "GET /_kit/log or POST /_kit/reset"}, 404)
            await response(scope, receive, send)
            return
        await self.built.server(scope, receive, send)

    def close(self) -> None:
        if self._sink is not None and self._sink is not sys.stdout:
            self._sink.close()


def serve_scenario(
    name: str, sock: socket.socket, credentials: Credentials, seed: int, request_log: str | None
) -> int:
    """Serve scenario ``name`` on the bound socket ``sock`` until Ctrl-C."""
    from comms_contract import listen

    app = ScenarioApp(name, credentials, seed, request_log)
    base = listen.base_url(sock)
    sc = scenario(name)
    print(f"comms-contract scenario {name!r}: {sc.summary}")
    print(f"  expect:      {sc.expect} ({len(app.built.expected)} ids)")
    print(f"  base URL:    {base}")
    print(f"  COMMS_LIST_PARAMS='{json.dumps(app.built.params)}'")
    print(f"  account id:  {credentials.account_id}")
    print(f"  auth token:  {credentials.auth_token}   (the mock's own credentials)")
    print(f"  request log: GET {base}/_kit/log; POST {base}/_kit/reset re-arms the scenario")
    sys.stdout.flush()
    try:
        listen.serve_forever(app, sock)
    finally:
        app.close()
    return 0
