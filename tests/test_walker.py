"""The walker: follows next, records every exchange, never loops, never leaks credentials.

Pages here come from a scripted ``get`` (no server), so each stop reason is exact; one test
walks the reference server through the real client to show retries happen underneath.
"""

from __future__ import annotations

import json
from collections.abc import Sequence

import httpx
import pytest
from starlette.requests import Request
from starlette.responses import Response

from comms_contract.http import ClientSettings, ContractClient, Exchange, Target
from comms_contract.ledger import Ledger
from comms_contract.server import ReferenceServer
from comms_contract.server.app import ApiError, Credentials
from comms_contract.transport import ASGISyncTransport
from comms_contract.walker import ABSENT, pages_needed, start, step, walk

URL = "http://example.invalid/v1/PushNotifications/Operations"


def exchange(params: Sequence[tuple[str, str]], status: int, body: object) -> Exchange:
    return Exchange(
        "GET",
        URL,
        list(params),
        status,
        httpx.Headers({"content-type": "application/json"}),
        json.dumps(body).encode(),
        True,
    )


def ops(*ids: str) -> list[dict]:
    return [{"id": i} for i in ids]


class Scripted:
    """Answers by pageToken: {token or None: (status, operations, next, self)}."""

    def __init__(self, script: dict) -> None:
        self.script = script
        self.sent: list[list[tuple[str, str]]] = []

    def __call__(self, params: Sequence[tuple[str, str]]) -> Exchange:
        self.sent.append(list(params))
        token = dict(params).get("pageToken")
        status, items, nxt, this = self.script[token]
        pagination = {"self": this} if nxt is ABSENT else {"next": nxt, "self": this}
        return exchange(params, status, {"operations": items, "pagination": pagination})


def test_follows_next_to_the_end_and_records_everything() -> None:
    get = Scripted(
        {
            None: (200, ops("a", "b"), "t1", "t0"),
            "t1": (200, ops("c", "d"), "t2", "t1"),
            "t2": (200, ops("e"), None, "t2"),
        }
    )
    w = walk(get, [("status", "COMPLETED"), ("pageSize", "2")])
    assert w.complete and w.stopped == "end"
    assert w.ids == ["a", "b", "c", "d", "e"]
    assert w.tokens == [None, "t1", "t2"]
    assert w.markers == ["t1", "t2", None]
    assert w.selfs == ["t0", "t1", "t2"]
    assert get.sent[1] == [("status", "COMPLETED"), ("pageSize", "2"), ("pageToken", "t1")]


def test_filters_can_be_left_out_with_the_token_and_sizes_vary() -> None:
    get = Scripted({None: (200, ops("a"), "t1", "s0"), "t1": (200, ops("b", "c"), ABSENT, "t1")})
    w = walk(get, [("status", "SCHEDULED")], page_sizes=[1, 2], resend_filters=False)
    assert w.complete and w.markers[-1] is ABSENT
    assert get.sent == [
        [("status", "SCHEDULED"), ("pageSize", "1")],
        [("pageSize", "2"), ("pageToken", "t1")],
    ]
    assert w.sizes == [1, 2] and w.resent == [True, False]


def test_empty_string_next_ends_the_walk() -> None:
    w = walk(Scripted({None: (200, ops("a"), "", "s0")}))
    assert w.complete and w.markers == [""]


def test_repeated_token_stops_the_walk() -> None:
    get = Scripted({None: (200, ops("a"), "t1", "s0"), "t1": (200, ops("b"), "t1", "t1")})
    w = walk(get)
    assert w.stopped == "repeated-token"
    assert len(get.sent) == 2


def test_cycle_back_to_the_first_page_stops_the_walk() -> None:
    get = Scripted(
        {
            None: (200, ops("a"), "t1", "first"),
            "t1": (200, ops("b"), "t2", "t1"),
            "t2": (200, ops("c"), "first", "t2"),  # next = page one's self
        }
    )
    w = walk(get)
    assert w.stopped == "repeated-token" and w.ids == ["a", "b", "c"]
    assert len(get.sent) == 3


def test_cycle_through_an_earlier_next_stops_the_walk() -> None:
    get = Scripted(
        {
            None: (200, ops("a"), "t1", "s0"),
            "t1": (200, ops("b"), "t2", "x1"),
            "t2": (200, ops("c"), "t1", "x2"),
        }
    )
    w = walk(get)
    assert w.stopped == "repeated-token" and len(get.sent) == 3


def test_a_page_whose_next_equals_its_own_wrong_self_is_followed() -> None:
    """self pointing at the next page is a SELF fault, not a cycle: the walk goes on."""
    get = Scripted({None: (200, ops("a"), "t1", "t1"), "t1": (200, ops("b"), None, "t1")})
    assert walk(get).complete


def test_too_many_pages_stops_the_walk() -> None:
    script = {None: (200, ops("x0"), "t1", "s0")}
    for i in range(1, 50):
        script[f"t{i}"] = (200, ops(f"x{i}"), f"t{i + 1}", f"t{i}")
    get = Scripted(script)
    w = walk(get, max_pages=5)
    assert w.stopped == "too-many-pages" and len(w.pages) == 5 and len(get.sent) == 5


def test_error_stops_the_walk_and_is_kept() -> None:
    get = Scripted({None: (200, ops("a"), "t1", "s0"), "t1": (500, [], None, None)})
    w = walk(get)
    assert w.stopped == "error" and not w.complete
    assert [e.status for e in w.exchanges] == [200, 500] and len(w.pages) == 1


def test_bad_body_stops_the_walk() -> None:
    def get(params: Sequence[tuple[str, str]]) -> Exchange:
        return exchange(params, 200, {"items": []})

    assert walk(get).stopped == "bad-body"


def test_step_by_step_and_no_step_after_the_end() -> None:
    get = Scripted({None: (200, ops("a"), "t1", "s0"), "t1": (200, ops("b"), None, "t1")})
    w = start([("pageSize", "1")])
    step(get, w, size=1)
    assert not w.finished and w.next_token == "t1"
    step(get, w, size=1)
    assert w.complete
    with pytest.raises(ValueError):
        step(get, w, size=1)


def test_pages_needed() -> None:
    assert pages_needed(0, [5]) == 1
    assert pages_needed(10, [5]) == 2
    assert pages_needed(11, [5]) == 3
    assert pages_needed(10, [3, 7]) == 2
    assert pages_needed(10, [None]) == 1


def test_transcript_shows_tokens_and_never_credentials() -> None:
    secret = "walker-secret-token-93c1"
    creds = Credentials(auth_token=secret)
    app = ReferenceServer(seed=2, credentials=creds)
    target = Target(None, creds.account_id, secret)
    client = ContractClient(target, Ledger(), transport=ASGISyncTransport(app))
    w = walk(client.get, [("pageSize", "40")])
    assert w.complete and len(w.pages) == 4
    text = "\n".join(w.transcript())
    assert "pageToken=" in text and "[40 ops]" in text
    assert secret not in text and creds.account_id + ":" not in text
    assert "Authorization" not in text


def test_long_transcripts_keep_both_ends() -> None:
    script = {None: (200, ops("x0"), "t1", "s0")}
    for i in range(1, 60):
        script[f"t{i}"] = (200, ops(f"x{i}"), f"t{i + 1}" if i < 59 else None, f"t{i}")
    w = walk(Scripted(script))
    lines = w.transcript(limit=20)
    assert len(lines) == 21 and "left out" in lines[5]
    assert lines[0].startswith("page 1:") and lines[-1].startswith("page 60:")


class ThrottledOnce(ReferenceServer):
    """The second request gets 429 with Retry-After: 0."""

    def respond(self, request: Request) -> Response:
        self.__dict__["n"] = self.__dict__.get("n", 0) + 1
        if self.__dict__["n"] == 2:
            return self.error(ApiError(429, 20429, "slow down", {"Retry-After": "0"}))
        return super().respond(request)


def test_throttling_is_retried_underneath_the_walk() -> None:
    creds = Credentials()
    app = ThrottledOnce(seed=3)
    client = ContractClient(
        Target(None, creds.account_id, creds.auth_token),
        Ledger(),
        transport=ASGISyncTransport(app),
        settings=ClientSettings(max_wait=0.01),
        sleep=lambda s: None,
    )
    w = walk(client.get, [("pageSize", "50")])
    assert w.complete and len(w.ids) == len(set(w.ids)) == 160
    assert w.exchanges[1].attempts == 2 and all(e.status == 200 for e in w.exchanges)


def test_a_token_spelled_absent_is_a_token() -> None:
    """The end-of-walk marker is an object, not a string a real token could equal."""
    get = Scripted({None: (200, ops("a"), "absent", "s0"), "absent": (200, ops("b"), None, "s1")})
    w = walk(get)
    assert w.complete and w.ids == ["a", "b"] and w.markers == ["absent", None]
