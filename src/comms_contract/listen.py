"""Listening sockets for ``comms-contract serve``: bind first, then tell the user where.

The banner must show the port really bound (``--port 0`` asks the OS for a free one) and a
URL that can be pasted (an IPv6 host in brackets, RFC 3986 section 3.2.2); a busy port or an
unknown host is one line and exit 2, never a banner followed by a traceback.
"""

from __future__ import annotations

import contextlib
import socket
import sys
from typing import Any

from comms_contract.http import ConfigError


def bind(host: str, port: int) -> socket.socket:
    """A listening TCP socket on ``host``:``port``; ``ConfigError`` with one line if not."""
    try:
        family, kind, proto, _, address = socket.getaddrinfo(
            host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE
        )[0]
    except (OSError, UnicodeError) as exc:
        raise ConfigError(f"cannot listen on host {host!r}: {exc}") from None
    sock = socket.socket(family, kind, proto)
    try:
        if sys.platform != "win32":
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(address)
        sock.listen(128)
    except OSError as exc:
        sock.close()
        if exc.errno in (98, 48, 10048):  # EADDRINUSE on Linux, macOS, Windows
            raise ConfigError(
                f"port {port} on {host} is already in use; choose another with --port "
                "(--port 0: any free port)"
            ) from None
        raise ConfigError(f"cannot listen on {host} port {port}: {exc.strerror or exc}") from None
    sock.set_inheritable(True)
    return sock


def base_url(sock: socket.socket) -> str:
    """``http://HOST:PORT`` for a bound socket (IPv6 hosts in brackets)."""
    host, port = sock.getsockname()[:2]
    if sock.family == socket.AF_INET6:
        host = f"[{host}]"
    return f"http://{host}:{port}"


def serve_forever(app: Any, sock: socket.socket) -> None:
    """Run ``app`` under uvicorn on the already bound socket until Ctrl-C."""
    import uvicorn

    config = uvicorn.Config(app, log_level="warning", lifespan="off")
    with contextlib.closing(sock):
        uvicorn.Server(config).run(sockets=[sock])
