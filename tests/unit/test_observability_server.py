"""The health, readiness and metrics endpoints answer what Kubernetes and Prometheus expect.

Why: a wrong liveness answer restarts healthy pods (or keeps stuck ones); a wrong readiness
answer stalls rollouts; a broken /metrics blinds the alerts.
"""

from __future__ import annotations

import asyncio
import time

import aiohttp

from consumer.observability import metrics
from consumer.observability.gauges import refresh_circuit_gauges
from consumer.observability.server import start_observability_server


class Probe:
    """A readiness probe the test flips."""

    def __init__(self) -> None:
        self.ready = False
        self.reason = "no partitions assigned yet"
        self.broken = False

    def is_ready(self) -> tuple[bool, str]:
        """The current answer."""
        if self.broken:
            raise RuntimeError("engine gone")
        return self.ready, self.reason


async def get(port: int, path: str) -> tuple[int, str, str]:
    """Status, body and content type of one GET."""
    async with aiohttp.ClientSession() as session, session.get(f"http://127.0.0.1:{port}{path}") as resp:
        return resp.status, await resp.text(), resp.headers.get("Content-Type", "")


async def test_endpoints_and_free_port() -> None:
    """Port 0 binds a free port; each endpoint answers its question."""
    probe = Probe()
    server = await start_observability_server("127.0.0.1", 0, probe)
    try:
        assert server.port > 0
        status, body, _ = await get(server.port, "/healthz")
        assert (status, body.strip()) == (200, "ok")

        status, body, _ = await get(server.port, "/readyz")
        assert status == 503 and "no partitions" in body
        probe.ready, probe.reason = True, "2 partition(s) assigned"
        status, body, _ = await get(server.port, "/readyz")
        assert status == 200 and "2 partition(s)" in body
        probe.broken = True
        status, body, _ = await get(server.port, "/readyz")
        assert status == 503 and "RuntimeError" in body

        metrics.DELIVERIES.labels("unit-test", "delivered").inc()
        status, body, ctype = await get(server.port, "/metrics")
        assert status == 200 and ctype.startswith("text/plain")
        assert 'capi_deliveries_total{outcome="delivered",platform="unit-test"}' in body
        assert (await get(server.port, "/nope"))[0] == 404
    finally:
        await server.stop()


async def test_healthz_turns_503_when_the_loop_stalls() -> None:
    """A heartbeat older than the threshold means the loop was blocked: 503."""
    server = await start_observability_server(
        "127.0.0.1", 0, Probe(), stale_after_s=0.3, heartbeat_interval_s=0.05
    )
    try:
        assert (await get(server.port, "/healthz"))[0] == 200
        time.sleep(0.5)  # block the event loop on purpose: no heartbeat can run
        stalled = asyncio.create_task(get(server.port, "/healthz"))
        status, body, _ = await stalled
        # The request may be served before the heartbeat task gets the loop back.
        assert status in (200, 503)
        server.heartbeat.last -= 10
        status, body, _ = await get(server.port, "/healthz")
        assert status == 503 and "stalled" in body
        await asyncio.sleep(0.15)  # the heartbeat resumes
        assert (await get(server.port, "/healthz"))[0] == 200
    finally:
        await server.stop()


class FakeCircuit:
    """The two attributes the gauge refresher reads."""

    def __init__(self, state: int, reason: str = "") -> None:
        self.state = state
        self.reason = reason


class FakeDispatcher:
    """A dispatcher with a circuit."""

    def __init__(self, circuit: FakeCircuit) -> None:
        self.circuit = circuit


async def test_circuit_gauges_are_refreshed_on_scrape() -> None:
    """capi_circuit_state / capi_circuit_auth_open reflect the breakers at scrape time."""
    dispatchers = {
        "unit-open": FakeDispatcher(FakeCircuit(1, "auth")),
        "unit-closed": FakeDispatcher(FakeCircuit(0)),
    }
    server = await start_observability_server(
        "127.0.0.1", 0, Probe(), before_scrape=lambda: refresh_circuit_gauges(dispatchers)
    )
    try:
        body = (await get(server.port, "/metrics"))[1]
        assert 'capi_circuit_state{platform="unit-open"} 1.0' in body
        assert 'capi_circuit_auth_open{platform="unit-open"} 1.0' in body
        assert 'capi_circuit_auth_open{platform="unit-closed"} 0.0' in body
        dispatchers["unit-open"].circuit = FakeCircuit(2, "outage")
        body = (await get(server.port, "/metrics"))[1]
        assert 'capi_circuit_state{platform="unit-open"} 2.0' in body
        assert 'capi_circuit_auth_open{platform="unit-open"} 0.0' in body
    finally:
        await server.stop()
