"""Real sockets for the self-tests: an ASGI app on a free loopback port.

Transport failures (refused connections, TLS, DNS) and the installed CLI can only be tested
against a real socket; the in-process transport never fails that way. The server itself is
the package's one loopback helper (``comms_contract.loopback``), also used by the client kit
and the benchmark.
"""

from __future__ import annotations

import socket
from collections.abc import Iterator
from contextlib import contextmanager

from comms_contract.loopback import LoopbackServer


def free_port() -> int:
    """A loopback port nobody listens on (bound, then released)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def serve(app: object) -> Iterator[str]:
    """Run ``app`` on 127.0.0.1 in a thread; yields the base URL."""
    with LoopbackServer(app) as server:
        yield server.url
