"""The operator-facing HTTP endpoints: ``/metrics``, ``/healthz`` and ``/readyz``.

Kubernetes needs two different answers. Liveness (``/healthz``) asks "is this process stuck?":
a heartbeat task refreshes a timestamp every second, so if the event loop is blocked the
timestamp goes stale (or the request times out) and the pod is restarted. Readiness
(``/readyz``) asks "is this instance doing its job?": partitions assigned (or the consumer group
stable) and the broker reachable recently, as judged by a `ReadinessProbe` the relay provides.
The server runs on the relay's own event loop, which is exactly what liveness must observe.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable, Mapping
from typing import Any, Protocol

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, generate_latest


class ReadinessProbe(Protocol):
    """Anything that can say whether the relay is ready, and why not."""

    def is_ready(self) -> tuple[bool, str]: ...


class Heartbeat:
    """A timestamp a background task refreshes every ``interval_s`` while the loop runs."""

    def __init__(self, interval_s: float = 1.0) -> None:
        self.interval_s = interval_s
        self.last = time.monotonic()
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        """Begin beating on the running loop."""
        self.last = time.monotonic()
        self._task = asyncio.get_running_loop().create_task(self._beat())

    async def _beat(self) -> None:
        while True:
            self.last = time.monotonic()
            await asyncio.sleep(self.interval_s)

    def age(self) -> float:
        """Seconds since the last beat."""
        return time.monotonic() - self.last

    async def stop(self) -> None:
        """Cancel the task and wait for it."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None


class ObservabilityServer:
    """A started server; `port` is the bound port (useful when 0 was asked for)."""

    def __init__(self, runner: web.AppRunner, port: int, heartbeat: Heartbeat) -> None:
        self._runner = runner
        self.port = port
        self.heartbeat = heartbeat

    async def stop(self) -> None:
        """Stop serving and stop the heartbeat."""
        await self.heartbeat.stop()
        await self._runner.cleanup()


def build_app(
    readiness: ReadinessProbe,
    heartbeat: Heartbeat,
    stale_after_s: float = 10.0,
    before_scrape: Callable[[], None] | None = None,
    json_routes: Mapping[str, Callable[[], Any]] | None = None,
    liveness: Callable[[], tuple[bool, str]] | None = None,
) -> web.Application:
    """The aiohttp application (exposed separately so tests can drive it directly).
    ``before_scrape`` refreshes pull-style gauges (e.g. circuit state) before rendering;
    ``json_routes`` adds GET paths answered with a document built per request (``/status``);
    ``liveness`` is a further "is it wedged?" check (see `liveness.WedgeDetector`)."""

    async def metrics_handler(_request: web.Request) -> web.Response:
        if before_scrape is not None:
            # Stale gauges are better than no metrics at all.
            with contextlib.suppress(Exception):
                before_scrape()
        body = generate_latest(REGISTRY)
        return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE_LATEST})

    async def healthz(_request: web.Request) -> web.Response:
        age = heartbeat.age()
        if age > stale_after_s:
            return web.Response(status=503, text=f"event loop stalled: last heartbeat {age:.1f}s ago\n")
        if liveness is not None:
            alive, reason = liveness()
            if not alive:
                return web.Response(status=503, text=f"{reason}\n")
        return web.Response(text="ok\n")

    async def readyz(_request: web.Request) -> web.Response:
        try:
            ok, reason = readiness.is_ready()
        except Exception as exc:  # a broken probe must read as "not ready", never as a 500 loop
            ok, reason = False, f"readiness check failed: {type(exc).__name__}"
        return web.Response(status=200 if ok else 503, text=f"{reason}\n")

    app = web.Application()
    app.router.add_get("/metrics", metrics_handler)
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/readyz", readyz)
    for path, build in (json_routes or {}).items():
        app.router.add_get(path, _json_handler(build))
    return app


def _json_handler(build: Callable[[], Any]) -> Callable[[web.Request], Any]:
    async def handler(_request: web.Request) -> web.Response:
        return web.json_response(build())

    return handler


async def start_observability_server(
    host: str,
    port: int,
    readiness: ReadinessProbe,
    *,
    stale_after_s: float = 10.0,
    heartbeat_interval_s: float = 1.0,
    before_scrape: Callable[[], None] | None = None,
    json_routes: Mapping[str, Callable[[], Any]] | None = None,
    liveness: Callable[[], tuple[bool, str]] | None = None,
) -> ObservabilityServer:
    """Serve ``/metrics``, ``/healthz``, ``/readyz`` (and ``json_routes``) on ``host:port``
    (0 = a free port)."""
    heartbeat = Heartbeat(heartbeat_interval_s)
    app = build_app(readiness, heartbeat, stale_after_s, before_scrape, json_routes, liveness)
    runner = web.AppRunner(app, access_log=None, handle_signals=False)
    await runner.setup()
    site = web.TCPSite(runner, host, port)
    await site.start()
    addresses = runner.addresses
    bound = int(addresses[0][1]) if addresses else port
    heartbeat.start()
    return ObservabilityServer(runner, bound, heartbeat)
