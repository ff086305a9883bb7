"""Worked example for SDK authors (docs/sdk-authors.md embeds this file verbatim).

A small httpx-based client for List Push Notification Operations, tested with the
``comms_mock`` fixture of the comms-contract pytest plugin: each test runs the client against a
scenario and grades its traffic and result by the client clauses of docs/contract.md section 5.
"""

from __future__ import annotations

import email.utils
import time
from collections.abc import Iterator

import httpx
import pytest


class CommsError(Exception):
    """An API error the caller must see (never a silently shortened list)."""


class OperationsClient:
    def __init__(self, account_id: str, auth_token: str, base_url: str) -> None:
        self._http = httpx.Client(base_url=base_url, auth=(account_id, auth_token), timeout=30)

    def _get(self, params: dict[str, str]) -> dict:
        for _attempt in range(5):
            r = self._http.get("/v1/PushNotifications/Operations", params=params)
            if r.status_code not in (429, 503):
                break
            time.sleep(_retry_after(r.headers.get("Retry-After")))  # then the same request
        if r.status_code != 200:
            raise CommsError(f"HTTP {r.status_code}: {r.text[:200]}")
        return r.json()

    def list_operations(self, **query: object) -> Iterator[dict]:
        params = {k: str(v) for k, v in query.items()}
        while True:
            page = self._get(params)
            yield from page["operations"]
            token = (page.get("pagination") or {}).get("next")
            if not token:  # absent, null and "" all end the list
                return
            params = {**params, "pageToken": token}


def _retry_after(value: str | None) -> float:
    if value is None:
        return 1.0
    if value.isdigit():
        return float(value)
    return max(0.0, email.utils.parsedate_to_datetime(value).timestamp() - time.time())


# ---- the tests --------------------------------------------------------------------------------
def run_client(mock) -> tuple[list[str] | None, Exception | None]:
    client = OperationsClient(mock.account_id, mock.auth_token, mock.base_url)
    try:
        return [op["id"] for op in client.list_operations(**mock.params)], None
    except CommsError as exc:
        return None, exc


@pytest.mark.parametrize(
    "comms_mock",
    ["multi-page", "filtered", "empty", "exact-multiple", "unknown-fields", "bad-request-400"],
    indirect=True,
)
def test_client_conforms(comms_mock):
    ids, error = run_client(comms_mock)
    comms_mock.assert_conforms(ids, error)


def test_client_waits_for_retry_after(comms_mock):
    comms_mock.use("throttle-429-seconds")
    ids, error = run_client(comms_mock)
    result = comms_mock.assert_conforms(ids, error)
    assert result.verdict("CLIENT-RETRY-AFTER").status == "pass"
    assert [c.status for c in comms_mock.calls].count(429) == 1


def test_a_faulty_client_is_caught(comms_mock):
    """The same client with one bug (no percent-encoding of the token) fails the right clause."""
    client = OperationsClient(comms_mock.account_id, comms_mock.auth_token, comms_mock.base_url)
    raw = httpx.Client(base_url=comms_mock.base_url, auth=(comms_mock.account_id, "x"))
    first = client._get({"pageSize": "25"})
    raw.get(f"/v1/PushNotifications/Operations?pageToken={first['pagination']['next']}")
    result = comms_mock.grade(None, error=True)
    assert {"CLIENT-TOKEN-VERBATIM", "CLIENT-AUTH"} <= result.failed
