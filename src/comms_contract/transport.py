"""A synchronous httpx transport that calls an ASGI app in-process (no socket, no thread).

httpx only ships an async ASGI transport and Starlette's TestClient hops through a thread
portal (about 4x slower); a private event loop per transport is the cheap middle way.
"""

from __future__ import annotations

import asyncio

import httpx


class ASGISyncTransport(httpx.BaseTransport):
    def __init__(self, app: object) -> None:
        self._inner = httpx.ASGITransport(app=app)  # type: ignore[arg-type]
        self._loop = asyncio.new_event_loop()

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        async def call() -> tuple[int, httpx.Headers, bytes]:
            async_request = httpx.Request(
                request.method, request.url, headers=request.headers, content=request.read()
            )
            response = await self._inner.handle_async_request(async_request)
            body = await response.aread()
            return response.status_code, response.headers, body

        status, headers, body = self._loop.run_until_complete(call())
        return httpx.Response(status, headers=headers, content=body, request=request)

    def close(self) -> None:
        self._loop.close()
