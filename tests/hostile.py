"""Hostile targets for the no-crash self-tests (issue 9): servers whose answers are broken in
ways that once crashed the suite, and the assertion every run against them must satisfy.

Each class reproduces one failing input of issue 9; ``tests/test_no_crash.py`` runs them and
``tests/test_hostile.py`` mutates answers at random on top of the same base.
"""

from __future__ import annotations

import json
import re
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from comms_contract.server.app import Page, ReferenceServer

FRAME_MARKERS = ("Traceback", 'File "')


def assert_no_crash(outcome: Any, *, codes: tuple[int, ...] = (0, 1)) -> str:
    """The run ended 0/1 (or ``codes``), with no internal error and no Python frame anywhere
    in what a user would read (terminal lines and the runner's error lines)."""
    from comms_contract.report import document, terminal_lines

    session = outcome.session
    text = "\n".join([*terminal_lines(session), *session.errors])
    doc = json.dumps(document(session))
    assert outcome.code in codes, f"exit {outcome.code}\n{text}"
    assert not session.errors, text
    for marker in (*FRAME_MARKERS, "internal error"):
        assert marker not in text and marker not in doc, f"{marker!r} in the output:\n{text}"
    # README: "no Python frames or pytest test ids unless -v" (breaker: skip reasons named
    # test_fuzzed_query, test_first_page_shape[plain], ...)
    ids = re.findall(r"\btest_[a-z0-9_]+", "\n".join(terminal_lines(session)))
    assert not ids, f"pytest test ids in the default output: {ids}\n{text}"
    return text


class IgnoresPageSize(ReferenceServer):
    """Always answers 50 items per page, whatever pageSize says."""

    def parse_page_size(self, raw: str | None) -> int | None:
        return None


class SpaceInCreatedAt(ReferenceServer):
    """Writes createdAt as '2026-11-29 15:50:54' (a space, no offset): not RFC 3339."""

    def render_operation(self, op) -> dict[str, Any]:
        out = super().render_operation(op)
        out["createdAt"] = out["createdAt"][:19].replace("T", " ")
        return out


class EveryNth(ReferenceServer):
    """Every ``n``-th answer is replaced by ``broken()``; the others are correct."""

    def __init__(self, broken, n: int = 7, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.broken, self.n, self.seen = broken, n, 0

    def respond(self, request: Request) -> Response:
        self.seen += 1
        if self.seen % self.n == 0:
            return self.broken()
        return super().respond(request)


def raw(body: bytes, status: int = 200, **headers: str) -> Response:
    headers = {"content-type": "application/json", **headers}
    return Response(body, status_code=status, headers=headers)


BROKEN_ANSWERS = {
    "empty 200": lambda: raw(b""),
    "[] body": lambda: raw(b"[]"),
    "null body": lambda: raw(b"null"),
    'string body "x"': lambda: raw(b'"x"'),
    "100,000 nested arrays": lambda: raw(b"[" * 100_000 + b"]" * 100_000),
    "nested 900 deep in operations": lambda: raw(
        b'{"operations": [' + b"[" * 900 + b"]" * 900 + b'], "pagination": {"self": "x"}}'
    ),
    "non-UTF-8 body": lambda: raw(b'{"operations": [], "pagination": {"self": "\xff\xfe"}}'),
    "control characters": lambda: raw(b'{"operations": [], "pagination": {"self": "a\x01b"}}'),
    "NaN in stats": lambda: raw(b'{"operations": [NaN], "pagination": {"self": "x"}}'),
    "Retry-After superscript two": lambda: JSONResponse(
        {"message": "slow down"}, status_code=429, headers={"Retry-After": "\u00b2"}
    ),
    "Retry-After 400 digits": lambda: JSONResponse(
        {"message": "slow down"}, status_code=429, headers={"Retry-After": "9" * 400}
    ),
    "Retry-After negative": lambda: JSONResponse(
        {"message": "slow down"}, status_code=503, headers={"Retry-After": "-5"}
    ),
    "Retry-After garbage date": lambda: JSONResponse(
        {"message": "slow down"}, status_code=429, headers={"Retry-After": "Mon, 99 Foo 99999 ::"}
    ),
    "500 with an HTML body": lambda: Response(
        b"<html>oops</html>", status_code=500, media_type="text/html"
    ),
    "operations an object": lambda: raw(b'{"operations": {}, "pagination": {"self": "x"}}'),
    "pagination a list": lambda: raw(b'{"operations": [], "pagination": []}'),
    "next a number": lambda: raw(b'{"operations": [], "pagination": {"self": "x", "next": 7}}'),
}


def page_json(server: ReferenceServer, page: Page) -> dict[str, Any]:
    return json.loads(ReferenceServer.render_page(server, page).body)
