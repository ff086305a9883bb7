"""An ASGI app under uvicorn in a daemon thread, on a loopback socket: the one helper for
every real-socket server the project starts (the client kit's scenario server, the
benchmark's target, the self-tests' servers).

The socket is bound before uvicorn starts, so the port is known at once and no other process
can take it between choosing and listening (``port=0``: any free port).
"""

from __future__ import annotations

import socket
import threading
import time
from typing import Any


class LoopbackServer:
    """``with LoopbackServer(app) as srv:`` serves ``app`` at ``srv.url`` until the block ends."""

    def __init__(self, app: Any, host: str = "127.0.0.1", port: int = 0) -> None:
        import uvicorn

        self.app = app
        self._sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        # Accepted sockets inherit TCP_NODELAY; asyncio sets it only on sockets created with
        # proto=IPPROTO_TCP, and without it a keep-alive client waits 40 ms per request
        # (Nagle against delayed ACK).
        self._sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self._sock.bind((host, port))
        self.host, self.port = self._sock.getsockname()[:2]
        config = uvicorn.Config(
            app,
            lifespan="off",
            log_level="error",  # a driver's h2c upgrade offer is nobody's business
            access_log=False,
            timeout_graceful_shutdown=1,
        )
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(
            target=self._server.run, kwargs={"sockets": [self._sock]}, daemon=True
        )

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    base_url = url

    def __enter__(self) -> LoopbackServer:
        self._thread.start()
        deadline = time.monotonic() + 10
        while not self._server.started:
            if time.monotonic() > deadline or not self._thread.is_alive():
                raise RuntimeError("the loopback server did not start within 10 s")
            time.sleep(0.01)
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.should_exit = True
        self._thread.join(10)
        self._sock.close()
