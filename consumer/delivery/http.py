"""The one shared aiohttp session: every platform's requests go through it, each platform
capped in concurrent connections and given its own timeout, so a slow platform cannot starve
the sockets of the others."""

from __future__ import annotations

import asyncio
import time

import aiohttp

from connectors.base import HttpRequest, HttpResponse


class HttpSender:
    """Sends built requests; never raises for network trouble (status 0 with ``error``)."""

    def __init__(self, total_connections: int = 256) -> None:
        self._total = total_connections
        self._session: aiohttp.ClientSession | None = None
        self._limits: dict[str, asyncio.Semaphore] = {}
        self._timeouts: dict[str, aiohttp.ClientTimeout] = {}

    def configure(self, platform: str, max_connections: int, timeout_s: float) -> None:
        """Set a platform's connection cap and request timeout."""
        self._limits[platform] = asyncio.Semaphore(max_connections)
        self._timeouts[platform] = aiohttp.ClientTimeout(total=timeout_s)

    async def start(self) -> None:
        """Open the session (inside the running loop)."""
        if self._session is None:
            connector = aiohttp.TCPConnector(limit=self._total, ttl_dns_cache=300, keepalive_timeout=30)
            self._session = aiohttp.ClientSession(connector=connector, auto_decompress=True)

    async def send(self, platform: str, request: HttpRequest) -> tuple[HttpResponse, float]:
        """Send and return the response and the round-trip seconds."""
        if self._session is None:
            await self.start()
        assert self._session is not None
        limit = self._limits.get(platform)
        if limit is None:
            self.configure(platform, 8, 10.0)
            limit = self._limits[platform]
        async with limit:
            started = time.perf_counter()
            try:
                async with self._session.request(
                    request.method,
                    request.url,
                    data=request.body,
                    headers=dict(request.headers),
                    timeout=self._timeouts[platform],
                ) as resp:
                    body = await resp.read()
                    response = HttpResponse(resp.status, dict(resp.headers), body)
            except TimeoutError:
                response = HttpResponse(0, error="timeout")
            except aiohttp.ClientError as exc:
                response = HttpResponse(0, error=f"{type(exc).__name__}: {exc}")
            return response, time.perf_counter() - started

    async def close(self) -> None:
        """Close the session and its sockets."""
        if self._session is not None:
            await self._session.close()
            self._session = None
