"""The traffic recorder: every request a client sends, as the server received it.

The raw query string is kept exactly as it arrived (the ASGI scope's ``query_string``), so the
grader can tell a percent-encoded ``%2B`` from a raw ``+``. The Authorization header is never
stored: only its scheme and whether it was valid HTTP Basic for the scenario's credentials.
"""

from __future__ import annotations

import base64
import binascii
import json
import threading
import time
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from typing import Any
from urllib.parse import parse_qsl

from comms_contract.redact import redact

# Headers never recorded (credentials, cookies) whatever their value.
SECRET_HEADERS = frozenset({"authorization", "proxy-authorization", "cookie", "set-cookie"})
# Seconds a repeat may come before Retry-After has elapsed and still count as having waited.
# The server stamps the throttled answer before sending it and the repeat after receiving it,
# so a client that waits at least Retry-After from when it got the answer is never early; the
# 5 ms cover timer granularity (Node's timers may fire up to 1 ms early, a Java client truncates
# an HTTP-date wait to whole milliseconds). A jitter of -10 % on Retry-After: 1 is 100 ms early.
RETRY_TOLERANCE = 0.005
MAX_RECORDED = 5000  # a runaway client (a loop) must not exhaust memory


def classify_auth(header: str | None, account_id: str, auth_token: str) -> tuple[str, bool]:
    """(scheme as sent, or "" when absent; True when it is Basic for exactly these credentials)."""
    if not header:
        return "", False
    scheme, _, value = header.strip().partition(" ")
    if scheme.lower() != "basic":
        return scheme[:20], False
    try:
        decoded = base64.b64decode(value.strip(), validate=True).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError):
        return scheme, False
    user, sep, password = decoded.partition(":")
    return scheme, bool(sep) and user == account_id and password == auth_token


@dataclass
class Hit:
    """One recorded request and what the scenario server answered."""

    seq: int
    t: float  # seconds since the log started (monotonic clock)
    wall: float  # wall-clock arrival time (Retry-After HTTP-dates are wall-clock)
    method: str
    path: str
    raw_query: str
    params: list[tuple[str, str]]
    auth_scheme: str
    auth_ok: bool
    headers: dict[str, str] = field(default_factory=dict)
    token_kind: str = "none"  # noqa: S105 - none | empty | next | self | unknown
    page: int | None = None  # the page of the walk this request asked for, when known
    status: int = 0
    retry_after: str | None = None
    media_type: str = ""  # the answer's Content-Type (problem+json errors are a FREE branch)
    wait_until: float | None = None  # wall time before which a repeat is early
    early_by: float | None = None  # set by the server: how early this repeat came
    ids: list[str] = field(default_factory=list)
    next_token: str | None = None
    end: bool = False  # a 200 that ended the walk (next absent, null or "")
    fault: str = ""  # the scenario's injected answer, if any

    def values(self, name: str) -> list[str]:
        return [v for k, v in self.params if k == name]

    def key(self) -> tuple[str, tuple[tuple[str, str], ...]]:
        """What makes two requests "the same request": method and the decoded parameters."""
        return self.method, tuple(sorted(self.params))

    @property
    def auth_text(self) -> str:
        if not self.auth_scheme:
            return "no Authorization"
        return f"{self.auth_scheme} " + ("valid" if self.auth_ok else "invalid")

    def line(self) -> str:
        """One evidence line: number, time, request as received, auth verdict, answer."""
        query = redact(self.raw_query)  # before the cut, so no piece escapes whole
        query = query if len(query) <= 400 else query[:400] + "..."
        target = self.path + (f"?{query}" if query else "")
        answer = str(self.status)
        if self.retry_after:
            answer += f" Retry-After: {self.retry_after}"
        if self.status == 200:
            answer += f" ({len(self.ids)} ids, " + ("end)" if self.end else "next)")
        extra = f"  [{self.fault}]" if self.fault else ""
        if self.early_by is not None:
            extra += f"  [came {self.early_by:.2f}s before Retry-After elapsed]"
        head = f"#{self.seq} +{self.t:.2f}s {self.method} {target} [{self.auth_text}]"
        return redact(f"{head} -> {answer}{extra}")

    def to_json(self) -> dict[str, Any]:
        doc = asdict(self)
        doc["params"] = [list(p) for p in self.params]
        doc["ids"] = len(self.ids)
        return json.loads(redact(json.dumps(doc)))


class TrafficLog:
    """The requests of one scenario run, in arrival order (thread-safe: uvicorn's loop thread
    writes, the runner reads)."""

    def __init__(self, account_id: str, auth_token: str) -> None:
        self._account_id = account_id
        self._auth_token = auth_token
        self._lock = threading.Lock()
        self._hits: list[Hit] = []
        self.dropped = 0
        self.started = time.monotonic()
        self._count = 0

    def open(
        self, method: str, path: str, raw_query: bytes, headers: Iterable[tuple[bytes, bytes]]
    ) -> Hit:
        """Record a request on arrival; flag it when it beats the last answer's Retry-After."""
        now_wall, now = time.time(), time.monotonic()
        text = raw_query.decode("latin-1")
        kept: dict[str, str] = {}
        auth: str | None = None
        for k, v in headers:
            name = k.decode("latin-1").lower()
            if name == "authorization":
                auth = v.decode("latin-1")
            elif name not in SECRET_HEADERS:
                kept[name] = v.decode("latin-1")[:200]
        scheme, ok = classify_auth(auth, self._account_id, self._auth_token)
        with self._lock:
            self._count += 1
            hit = Hit(
                seq=self._count,
                t=now - self.started,
                wall=now_wall,
                method=method,
                path=path,
                raw_query=text,
                params=parse_qsl(text, keep_blank_values=True),
                auth_scheme=scheme,
                auth_ok=ok,
                headers=kept,
            )
            last = self._hits[-1] if self._hits else None
            if last is not None and last.wait_until is not None:
                early = last.wait_until - now_wall
                if early > RETRY_TOLERANCE:
                    hit.early_by = early
            if len(self._hits) < MAX_RECORDED:
                self._hits.append(hit)
            else:
                self.dropped += 1
        return hit

    @property
    def hits(self) -> list[Hit]:
        with self._lock:
            return list(self._hits)

    def clear(self) -> None:
        with self._lock:
            self._hits.clear()
            self._count = 0
            self.dropped = 0
            self.started = time.monotonic()
