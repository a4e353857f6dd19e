"""Admin API under `/_sandbox/`: what was received, and runtime fault control.

Why HTTP: the sandbox often runs in its own process (benchmark, kill tests), so tests and
the demo read stats and flip faults without sharing memory.
"""

from __future__ import annotations

from typing import Any

import orjson
from aiohttp import web

from sandbox.config import ConfigError
from sandbox.platform import json_response
from sandbox.runtime import Runtime

RUNTIME_KEY: web.AppKey[Runtime] = web.AppKey("sandbox_runtime", Runtime)


def _runtime(request: web.Request) -> Runtime:
    return request.app[RUNTIME_KEY]


def _platform(request: web.Request) -> str:
    slug = request.match_info["platform"]
    if slug not in _runtime(request).platforms:
        raise web.HTTPNotFound(
            text=orjson.dumps({"error": f"unknown platform {slug!r}"}).decode(),
            content_type="application/json",
        )
    return slug


async def health(request: web.Request) -> web.Response:
    """Liveness, and the list of platforms served."""
    return json_response({"ok": True, "platforms": sorted(_runtime(request).platforms)})


async def stats(request: web.Request) -> web.Response:
    """`{platform: {requests, accepted_events, unique_events, ...}}`."""
    return json_response(_runtime(request).state.stats())


async def events(request: web.Request) -> web.Response:
    """Accepted events of one platform; optional `offset`/`limit` paging and `event_id` lookup."""
    slug = _platform(request)
    recorder = _runtime(request).state[slug]
    event_id = request.query.get("event_id")
    if event_id is not None:
        rows = [row for row in recorder.events() if row["event_id"] == event_id]
        return json_response(rows)
    try:
        offset = int(request.query.get("offset", "0"))
        limit_raw = request.query.get("limit")
        limit = None if limit_raw is None else int(limit_raw)
    except ValueError as exc:
        raise web.HTTPBadRequest(text=f"bad paging parameter: {exc}") from exc
    return json_response(recorder.events(offset=max(0, offset), limit=limit))


async def latency(request: web.Request) -> web.Response:
    """p50/p90/p99/max of (first accepted - event time) in ms over the platform's accepted events."""
    slug = _platform(request)
    return json_response(_runtime(request).state.latency(slug))


async def get_faults(request: web.Request) -> web.Response:
    """Current fault settings of every platform."""
    return json_response(_runtime(request).faults_view())


async def set_faults(request: web.Request) -> web.Response:
    """Merge `{platform|"*": {setting: value}}` into the current faults; 400 names a bad key."""
    try:
        body: Any = orjson.loads(await request.read())
    except orjson.JSONDecodeError as exc:
        return json_response({"error": f"invalid JSON: {exc}"}, 400)
    if not isinstance(body, dict):
        return json_response({"error": "body must be an object {platform: {setting: value}}"}, 400)
    try:
        return json_response(_runtime(request).apply_faults(body))
    except ConfigError as exc:
        return json_response({"error": str(exc)}, 400)


async def reset(request: web.Request) -> web.Response:
    """Forget all records; with body `{"faults": true}` also restore the start-up faults."""
    runtime = _runtime(request)
    raw = await request.read()
    options: Any = orjson.loads(raw) if raw.strip() else {}
    runtime.state.reset()
    if isinstance(options, dict) and options.get("faults"):
        runtime.reset_faults()
    return json_response({"ok": True})


def add_admin_routes(app: web.Application) -> None:
    """Register the `/_sandbox/` routes."""
    app.router.add_get("/_sandbox/health", health)
    app.router.add_get("/_sandbox/stats", stats)
    app.router.add_get("/_sandbox/events/{platform}", events)
    app.router.add_get("/_sandbox/latency/{platform}", latency)
    app.router.add_get("/_sandbox/faults", get_faults)
    app.router.add_post("/_sandbox/faults", set_faults)
    app.router.add_post("/_sandbox/reset", reset)
