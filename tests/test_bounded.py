"""Bounded resources against hostile transports (issue 9 item 4), over real loopback sockets.

A server that answers the first request like this API and then dribbles its body or its
headers, streams an endless body, or sends a gzip bomb: every run ends in exit 1 with a NO-5XX
finding (the target had answered like this API, so a broken answer is a violation), within
seconds, with bounded memory, and with no Python frame in its output. Before any valid answer
the same faults are connection trouble (exit 2, one line).
"""

from __future__ import annotations

import asyncio
import os
import resource
import socket
import socketserver
import subprocess
import sys
import threading
import time
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache
from pathlib import Path

import pytest
from loopback import serve

from comms_contract.server import ReferenceServer
from comms_contract.server.app import Credentials

CREDS = Credentials()
ROOT = Path(__file__).resolve().parents[1]


def run_cli(base: str, *extra: str, timeout: float = 120) -> tuple[int, str, float, int]:
    """``comms-contract run`` in a subprocess: (exit code, output, seconds, peak RSS in KiB)."""
    env = {**os.environ, "COMMS_AUTH_TOKEN": CREDS.auth_token}
    env.pop("COMMS_BASE_URL", None)
    cmd = [sys.executable, "-m", "comms_contract", "run", "--base-url", base]
    cmd += ["--account-id", CREDS.account_id, "--profile", "quick", *extra]
    started = time.monotonic()
    proc = subprocess.Popen(
        cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, cwd=ROOT
    )
    try:
        out, _ = proc.communicate(timeout=timeout)
    finally:
        if proc.poll() is None:
            proc.kill()
    # wait4 would race communicate(); RUSAGE_CHILDREN is the max over every child waited for,
    # so it is read before and after: a rise belongs to this child
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return proc.returncode, out.decode("utf-8", "replace"), time.monotonic() - started, peak


def run_here(capsys, base: str, *extra: str) -> tuple[int, str, float]:
    """``comms-contract run`` in this process (no interpreter start-up to pay)."""
    from comms_contract import cli

    started = time.monotonic()
    code = cli.main(
        [
            *("run", "--base-url", base, "--account-id", CREDS.account_id),
            *("--auth-token", CREDS.auth_token, "--profile", "quick", *extra),
        ]
    )
    captured = capsys.readouterr()
    return code, captured.out + captured.err, time.monotonic() - started


def assert_clean_output(out: str) -> None:
    assert "Traceback" not in out and 'File "' not in out, out
    assert "internal error" not in out, out
    assert "Task was destroyed" not in out, out  # no asyncio noise from abandoned lanes


class FirstThen:
    """Answers the first ``first`` requests like the reference server, then with ``hostile``."""

    def __init__(self, hostile, first: int = 1) -> None:
        self.reference = ReferenceServer(seed=1)
        self.hostile, self.first, self.seen = hostile, first, 0

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            return await self.reference(scope, receive, send)
        self.seen += 1
        app = self.reference if self.seen <= self.first else self.hostile
        await app(scope, receive, send)


def streaming(chunks, *, headers=(), delay: float = 0.0):
    """An ASGI app answering 200 with the body pieces ``chunks()`` yields, ``delay`` apart,
    until the client goes away.

    uvicorn's ``send`` returns at once once the client has disconnected, so an endless body
    that did not watch for ``http.disconnect`` (and yield to the event loop) would spin for
    ever after the suite cut it at its cap, and starve every later request: the run then ends
    on timeouts instead of "too large" (the "known regression" of the trust round was this)."""

    async def app(scope, receive, send) -> None:
        gone = asyncio.Event()

        async def watch() -> None:
            while (await receive())["type"] != "http.disconnect":
                pass
            gone.set()

        watcher = asyncio.ensure_future(watch())
        try:
            await send(
                {
                    "type": "http.response.start",
                    "status": 200,
                    "headers": [(b"content-type", b"application/json"), *headers],
                }
            )
            for piece in chunks():
                if gone.is_set():
                    return
                await send({"type": "http.response.body", "body": piece, "more_body": True})
                await asyncio.sleep(delay)  # 0: still yields, so the watcher can run
            await send({"type": "http.response.body", "body": b""})
        finally:
            watcher.cancel()

    return app


def dribble() -> Iterator[bytes]:
    yield from (bytes([b]) for b in b'{"operations": [], "pagination": {"self": "x"}}')


def endless() -> Iterator[bytes]:
    block = b" " * 65536
    while True:
        yield block


@cache
def gzip_bomb() -> bytes:
    """About 1 MB of gzip that inflates to 1 GiB of spaces."""
    z = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    block = b" " * (1 << 20)
    return b"".join([*(z.compress(block) for _ in range(1024)), z.flush()])


def test_dribbled_body_is_cut_at_the_timeout_and_is_a_violation(capsys):
    app = FirstThen(streaming(dribble, delay=0.3))
    with serve(app) as base:
        code, out, took = run_here(capsys, base, "--timeout", "2")
    assert code == 1, out
    assert "no complete answer within 2s" in out and "NO-5XX" in out, out
    assert took < 60, took  # at most three stalled requests, then the run stops
    assert_clean_output(out)


def test_endless_body_stops_at_the_cap(capsys):
    app = FirstThen(streaming(endless))
    with serve(app) as base:
        code, out, _ = run_here(capsys, base, "--timeout", "20")
    assert code == 1, out
    assert "too large" in out and "NO-5XX" in out, out
    assert_clean_output(out)


def test_gzip_bomb_stays_under_500_mb():
    bomb = gzip_bomb()
    assert len(bomb) < 2_000_000
    app = FirstThen(streaming(lambda: iter([bomb]), headers=[(b"content-encoding", b"gzip")]))
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    with serve(app) as base:
        code, out, took, peak = run_cli(base, "--timeout", "30")
    assert code == 1, out
    assert "too large" in out, out
    assert_clean_output(out)
    if peak > before:  # else an earlier child of this process peaked higher: nothing to learn
        assert peak < 500 * 1024, f"peak RSS {peak // 1024} MiB"
    print(f"gzip bomb: exit {code} in {took:.1f}s, peak RSS {peak // 1024} MiB")


# ---- headers dribbled: below HTTP, so a raw socket server ---------------------------------------
class _RawHandler(socketserver.BaseRequestHandler):
    def handle(self) -> None:
        sock: socket.socket = self.request
        server = self.server
        while True:
            data = b""
            while b"\r\n\r\n" not in data:
                piece = sock.recv(65536)
                if not piece:
                    return
                data += piece
            with server.lock:  # type: ignore[attr-defined]
                server.seen += 1  # type: ignore[attr-defined]
                n = server.seen  # type: ignore[attr-defined]
            if n <= 1:
                sock.sendall(server.page)  # type: ignore[attr-defined]
                continue
            head = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nX-Slow: " + b"a" * 200
            try:
                for b in head:
                    sock.sendall(bytes([b]))
                    time.sleep(0.2)
            except OSError:
                return
            return


@contextmanager
def raw_server(page: bytes) -> Iterator[str]:
    server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), _RawHandler)
    server.daemon_threads = True
    server.lock = threading.Lock()  # type: ignore[attr-defined]
    server.seen = 0  # type: ignore[attr-defined]
    server.page = page  # type: ignore[attr-defined]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def canned_page() -> bytes:
    body = b'{"operations": [], "pagination": {"next": null, "self": "c2VsZg"}}'
    head = (
        f"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
    ).encode()
    return head + body


def test_dribbled_headers_are_cut_at_the_timeout(capsys):
    with raw_server(canned_page()) as base:
        code, out, took = run_here(capsys, base, "--timeout", "1.5")
    assert code == 1, out
    assert "no complete answer within 1.5s" in out, out
    assert took < 60, took
    assert_clean_output(out)


def test_dribbled_headers_before_any_answer_are_connection_trouble(capsys):
    """No valid answer yet: not this API, or not up; exit 2 with one line."""
    with raw_server(b"") as base:
        # seen starts at 0: make the very first request the dribbled one
        code, out, took = run_here(capsys, base, "--timeout", "1")
    assert code in (1, 2), out  # see the assertion below for which
    assert code == 2 and "did not answer within 1s" in out, out
    assert took < 60
    assert_clean_output(out)


@pytest.fixture(autouse=True)
def _first_request_is_hostile_when_page_empty(monkeypatch):
    """With an empty canned page, the raw server dribbles from the very first request."""
    original = _RawHandler.handle

    def handle(self) -> None:
        if not self.server.page and self.server.seen == 0:  # type: ignore[attr-defined]
            self.server.seen = 1  # type: ignore[attr-defined]
        original(self)

    monkeypatch.setattr(_RawHandler, "handle", handle)


# ---- the same bounds in-process (an ASGI app under test, no socket) --------------------------
def test_in_process_endless_body_stops_at_the_cap():
    from harness import run_against
    from hostile import assert_no_crash

    out = run_against(FirstThen(streaming(endless)), max_body=1_000_000, timeout=20)
    assert_no_crash(out)
    assert out.code == 1 and "NO-5XX" in out.failed
    assert any("too large" in f.message for f in out.session.ledger.findings["NO-5XX"])


def test_in_process_stalled_app_is_cut_at_the_timeout():
    from harness import run_against
    from hostile import assert_no_crash

    started = time.monotonic()
    out = run_against(FirstThen(streaming(dribble, delay=0.3)), timeout=1)
    assert_no_crash(out)
    assert out.code == 1 and "NO-5XX" in out.failed
    assert any("within 1s" in f.message for f in out.session.ledger.findings["NO-5XX"])
    assert time.monotonic() - started < 60


def test_a_broken_answer_fails_a_run_limited_to_other_clauses(capsys, tmp_path):
    """Breaker finding: with ``--clause SIZE-RANGE`` a stalled answer (NO-5XX, not selected)
    was dropped and the run passed. A broken answer is always reported; the clauses the run
    no longer reached say why."""
    import json

    app = FirstThen(streaming(dribble, delay=0.3))
    report = tmp_path / "r.json"
    with serve(app) as base:
        code, out, _ = run_here(
            capsys,
            base,
            "--timeout",
            "2",
            "--clause",
            "SIZE-RANGE,STATUS-ENUM",
            "--report-json",
            str(report),
        )
    assert code == 1, out
    assert "NO-5XX" in out, out
    assert_clean_output(out)
    doc = json.loads(report.read_text())
    messages = {c["id"]: c["message"] for c in doc["clauses"]}
    assert any("no complete answer" in m for m in messages.values()), messages
