"""The admin endpoint: pause and resume a platform (`capi-relay pause|resume`).

It listens on ``admin.http_host:http_port`` (default ``127.0.0.1:9401``: only someone on the
pod or host can call it, e.g. through ``kubectl exec`` or a port-forward). When
``admin.token_env`` names a variable, every request must carry ``Authorization: Bearer
<its value>`` — required before the endpoint may listen on another address.

A decision is written to the control topic first (so every replica and every later start
sees it) and applied here at once; the other replicas apply it when they read it (within a
second).
"""

from __future__ import annotations

import asyncio
import hmac
from collections.abc import Collection
from typing import Any

import structlog
from aiohttp import web

from consumer.control.state import PauseRecord, PlatformControl, now_ms
from consumer.control.topic import ControlTopic, ControlTopicError

log = structlog.get_logger("capi_relay.control")

LOOPBACK = ("127.0.0.1", "::1", "localhost")


def build_admin_app(
    control: PlatformControl,
    platforms: Collection[str],
    topic: ControlTopic | None = None,
    token: str | None = None,
) -> web.Application:
    """``POST /platforms/{slug}/pause`` (JSON body ``{"reason": ...}``), ``POST
    /platforms/{slug}/resume`` and ``GET /control``."""

    def authorised(request: web.Request) -> bool:
        if token is None:
            return True
        given = request.headers.get("Authorization", "")
        return hmac.compare_digest(given.encode(), f"Bearer {token}".encode())

    async def decide(request: web.Request, paused: bool) -> web.Response:
        if not authorised(request):
            return web.json_response({"error": "missing or wrong admin token"}, status=401)
        slug = request.match_info["slug"]
        if slug not in platforms:
            known = ", ".join(sorted(platforms))
            return web.json_response(
                {"error": f"platform {slug!r} is not delivered here ({known})"}, status=404
            )
        if not paused and control.paused_in_config(slug):
            return web.json_response(
                {"error": f"platforms.{slug}.paused is true in the configuration file; change it there"},
                status=409,
            )
        reason: str | None = None
        if paused and request.can_read_body:
            try:
                body: Any = await request.json()
            except ValueError:
                return web.json_response({"error": "the body must be JSON"}, status=400)
            reason = str(body.get("reason")) if isinstance(body, dict) and body.get("reason") else None
        try:
            if topic is not None:
                record = await asyncio.to_thread(topic.publish, slug, paused, reason)
            else:
                record = PauseRecord(paused, reason, now_ms(), "admin")
        except ControlTopicError as exc:
            return web.json_response({"error": str(exc)}, status=503)
        control.apply(slug, record)
        return web.json_response({"platform": slug, **control.snapshot()[slug]})

    async def pause(request: web.Request) -> web.Response:
        return await decide(request, True)

    async def resume(request: web.Request) -> web.Response:
        return await decide(request, False)

    async def show(request: web.Request) -> web.Response:
        if not authorised(request):
            return web.json_response({"error": "missing or wrong admin token"}, status=401)
        return web.json_response(control.snapshot())

    app = web.Application()
    app.router.add_post("/platforms/{slug}/pause", pause)
    app.router.add_post("/platforms/{slug}/resume", resume)
    app.router.add_get("/control", show)
    return app


async def start_admin_server(host: str, port: int, app: web.Application) -> tuple[web.AppRunner, int] | None:
    """Serve the admin app; a port already taken is logged and the relay runs on without it
    (delivering matters more than the admin endpoint)."""
    runner = web.AppRunner(app, access_log=None, handle_signals=False)
    await runner.setup()
    try:
        await web.TCPSite(runner, host, port).start()
    except OSError as exc:
        await runner.cleanup()
        log.error("admin_endpoint_unavailable", host=host, port=port, error=str(exc))
        return None
    addresses = runner.addresses
    return runner, int(addresses[0][1]) if addresses else port
