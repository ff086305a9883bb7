"""A small, correct driver on the standard library only; each faulty client overrides one step.

Protocol (``comms-contract check-client``): read COMMS_BASE_URL, COMMS_ACCOUNT_ID,
COMMS_AUTH_TOKEN and COMMS_LIST_PARAMS; print every id on its own line; exit 0, or exit 1 on
an API error (printing nothing, so no partial list is presented as complete).
"""

from __future__ import annotations

import base64
import email.utils
import json
import os
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from typing import Any

Pairs = list[tuple[str, str]]


class ApiError(Exception):
    def __init__(self, status: int, body: bytes) -> None:
        super().__init__(f"HTTP {status}: {body[:200].decode('utf-8', 'replace')}")
        self.status = status


class Driver:
    max_throttled_attempts = 5  # per request, for 429/503

    def __init__(self) -> None:
        self.base = os.environ["COMMS_BASE_URL"].rstrip("/")
        self.account = os.environ["COMMS_ACCOUNT_ID"]
        self.secret = os.environ["COMMS_AUTH_TOKEN"]
        self.params: dict[str, Any] = json.loads(os.environ.get("COMMS_LIST_PARAMS") or "{}")

    # ---- one request -------------------------------------------------------------------------
    def auth_header(self) -> str | None:
        pair = f"{self.account}:{self.secret}".encode()
        return "Basic " + base64.b64encode(pair).decode()

    def query(self, token: str | None) -> Pairs:
        pairs = [(k, self.format_param(k, v)) for k, v in self.params.items()]
        if token is not None:
            pairs.append(("pageToken", token))
        return pairs

    def format_param(self, name: str, value: Any) -> str:
        return str(value)

    def encode(self, pairs: Pairs) -> str:
        return urllib.parse.urlencode(pairs)  # '+' -> %2B, '/' -> %2F, '=' -> %3D

    def send(self, pairs: Pairs) -> tuple[int, Any, bytes]:
        url = f"{self.base}/v1/PushNotifications/Operations"
        query = self.encode(pairs)
        request = urllib.request.Request(url + ("?" + query if query else ""))  # noqa: S310
        auth = self.auth_header()
        if auth:
            request.add_header("Authorization", auth)
        try:
            with urllib.request.urlopen(request, timeout=20) as response:  # noqa: S310 - loopback
                return response.status, response.headers, response.read()
        except urllib.error.HTTPError as err:
            return err.code, err.headers, err.read()

    # ---- retries -----------------------------------------------------------------------------
    def retry_delay(self, headers: Any) -> float:
        value = (headers.get("Retry-After") or "1").strip()
        if value.isdigit():
            return float(value)
        when = email.utils.parsedate_to_datetime(value)
        return max(0.0, when.timestamp() - time.time())

    def on_throttled(self, status: int, headers: Any, attempt: int) -> None:
        """Wait Retry-After before the same request is repeated; give up after a few tries."""
        if attempt >= self.max_throttled_attempts:
            raise ApiError(status, b"still throttled")
        time.sleep(self.retry_delay(headers))

    def on_server_error(self, status: int, body: bytes, attempt: int) -> None:
        raise ApiError(status, body)  # a 500 is not retried

    def fetch(self, pairs: Pairs) -> dict[str, Any]:
        attempt = 0
        while True:
            attempt += 1
            status, headers, body = self.send(pairs)
            if status == 200:
                return json.loads(body)
            if status in (429, 503):
                self.on_throttled(status, headers, attempt)
            elif status >= 500:
                self.on_server_error(status, body, attempt)
            else:
                raise ApiError(status, body)

    # ---- the walk ----------------------------------------------------------------------------
    def next_token(self, body: dict[str, Any]) -> str | None:
        return (body.get("pagination") or {}).get("next") or None  # absent, null and "" end

    def operation_id(self, op: dict[str, Any]) -> str | None:
        return op["id"]

    def walk(self) -> Iterator[str]:
        token = None
        while True:
            body = self.fetch(self.query(token))
            for op in body["operations"]:
                op_id = self.operation_id(op)
                if op_id is not None:
                    yield op_id
            token = self.next_token(body)
            if token is None:
                return

    def collect(self) -> list[str]:
        return list(self.walk())

    def main(self) -> int:
        try:
            ids = self.collect()
        except ApiError as err:
            print(f"driver: {err}", file=sys.stderr)
            return 1
        sys.stdout.write("".join(f"{i}\n" for i in ids))
        return 0


def run(driver_class: type[Driver]) -> None:
    sys.exit(driver_class().main())
