"""The request pipeline every platform endpoint runs through.

Order: count -> latency -> request-level fault -> auth -> platform handler. Keeping this in
one place means a new platform gets latency, outages, throttling, timeouts and consistent
stats for free.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable

from aiohttp import web

from sandbox.config import FaultSettings
from sandbox.faults import FaultKind, pick_fault
from sandbox.platform import Endpoint, RequestContext
from sandbox.runtime import Runtime

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def make_handler(runtime: Runtime, slug: str, endpoint: Endpoint) -> Handler:
    """Wrap one endpoint with the shared fault/auth/recording pipeline."""
    recorder = runtime.state[slug]

    async def handler(request: web.Request) -> web.StreamResponse:
        recorder.requests += 1
        settings = runtime.faults[slug]
        rng = runtime.rngs[slug]
        delay_ms = settings.latency_ms
        if settings.latency_jitter_ms:
            delay_ms += rng.uniform(0.0, settings.latency_jitter_ms)
        if delay_ms > 0:
            await asyncio.sleep(delay_ms / 1000.0)
        now_s = runtime.clock()
        fault = pick_fault(settings, rng, now_s)
        if fault is not None:
            recorder.note_fault(fault.value)
            recorder.rejected_requests += 1
            return await _fault_response(runtime, endpoint, settings, fault, now_s, rng.choice)
        ctx = RequestContext(
            slug=slug,
            recorder=recorder,
            settings=settings,
            seed=runtime.seed,
            now_ms=int(now_s * 1000),
            tokens=runtime.tokens_for(slug),
            developer_tokens=runtime.config.developer_tokens,
        )
        denied = endpoint.authenticate(request, ctx)
        if denied is not None:
            recorder.rejected_requests += 1
            return denied
        return await endpoint.handle(request, ctx)

    return handler


async def _fault_response(
    runtime: Runtime,
    endpoint: Endpoint,
    settings: FaultSettings,
    fault: FaultKind,
    now_s: float,
    choice: Callable[[tuple[int, ...]], int],
) -> web.Response:
    """Build (and for timeouts, delay) the answer for an injected request-level fault."""
    if fault is FaultKind.OUTAGE:
        outage = settings.outage
        assert outage is not None
        retry_after = None if outage.until is None else max(1, int(outage.until - now_s + 0.999))
        return endpoint.outage(outage.status, retry_after)
    if fault is FaultKind.TIMEOUT:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(runtime.closing.wait(), timeout=settings.timeout_hold_s)
        return endpoint.server_error(504)
    if fault is FaultKind.ERROR_5XX:
        return endpoint.server_error(choice(settings.error_5xx_statuses))
    if fault is FaultKind.THROTTLE:
        return endpoint.throttled(settings.retry_after_s)
    return endpoint.body_error(choice(settings.body_error_codes))
