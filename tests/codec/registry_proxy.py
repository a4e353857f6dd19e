"""A tiny HTTP proxy in front of the test registry that demands basic auth.

Why: Apicurio's own authentication needs an identity server; a loopback proxy gives a registry
endpoint that refuses requests without the right credentials and records what it was sent.
"""

from __future__ import annotations

import asyncio
import base64
import threading
from urllib.parse import urlsplit

from aiohttp import ClientSession, web

from consumer.devtools import procs


class RegistryProxy:
    """Forward every request to ``upstream`` (a registry base URL); a context manager."""

    def __init__(self, upstream: str, *, user: str | None = None, password: str | None = None) -> None:
        parts = urlsplit(upstream)
        self._origin = f"{parts.scheme}://{parts.netloc}"
        self._path = parts.path.rstrip("/")
        self._expected = (
            "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode() if user is not None else None
        )
        self.port = procs.free_port()
        self.authorizations: list[str | None] = []
        self.refused = 0
        self.forwarded = 0
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._runner: web.AppRunner | None = None
        self._site: web.TCPSite | None = None
        self._session: ClientSession | None = None

    @property
    def url(self) -> str:
        """The registry URL to give clients: same path as upstream, our port."""
        return f"http://127.0.0.1:{self.port}{self._path}"

    def __enter__(self) -> RegistryProxy:
        self._thread.start()
        self._call(self._start())
        return self

    def __exit__(self, *_exc: object) -> None:
        self._call(self._stop())
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(5)

    def _call(self, coro: object) -> None:
        asyncio.run_coroutine_threadsafe(coro, self._loop).result(30)  # type: ignore[arg-type]

    async def _start(self) -> None:
        self._session = ClientSession()
        await self._open_site()

    async def _open_site(self) -> None:
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", self._forward)
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        self._site = web.TCPSite(self._runner, "127.0.0.1", self.port, reuse_address=True)
        await self._site.start()

    async def _close_site(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = self._site = None

    async def _stop(self) -> None:
        await self._close_site()
        if self._session is not None:
            await self._session.close()

    async def _forward(self, request: web.Request) -> web.StreamResponse:
        authorization = request.headers.get("Authorization")
        self.authorizations.append(authorization)
        if self._expected is not None and authorization != self._expected:
            self.refused += 1
            return web.json_response(
                {"error_code": 401, "message": "Unauthorized"},
                status=401,
                headers={"WWW-Authenticate": 'Basic realm="registry"'},
            )
        assert self._session is not None
        headers = {k: v for k, v in request.headers.items() if k.lower() not in ("host", "authorization")}
        async with self._session.request(
            request.method, self._origin + request.rel_url.path_qs, data=await request.read(), headers=headers
        ) as upstream:
            body = await upstream.read()
            self.forwarded += 1
            return web.Response(body=body, status=upstream.status, content_type=upstream.content_type)
