"""/status and `capi-relay status` show an injected outage (circuit open, last error) and its
recovery — a real relay (broker, in-process sandbox) with its observability server."""

from __future__ import annotations

import asyncio
import json
import os
import sys
from typing import Any

import aiohttp
import pytest

from consumer.app import Relay, run_relay
from sandbox.testing import running_sandbox
from tests.conftest import NewTopicFactory
from tests.integration.observability_harness import build, produce, relay_settings

pytestmark = pytest.mark.integration


async def _status(session: aiohttp.ClientSession, port: int) -> dict[str, Any]:
    async with session.get(f"http://127.0.0.1:{port}/status") as resp:
        assert resp.status == 200
        doc: dict[str, Any] = await resp.json()
        return doc


async def _until(predicate: Any, session: aiohttp.ClientSession, relay: Relay, timeout: float = 60) -> Any:
    deadline = asyncio.get_running_loop().time() + timeout
    while asyncio.get_running_loop().time() < deadline:
        if relay.observability is not None:
            doc = await _status(session, relay.observability.port)
            if predicate(doc):
                return doc
        await asyncio.sleep(0.2)
    raise AssertionError("status never reached the expected state")


async def _cli_status(port: int, *extra: str) -> tuple[int, str]:
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "consumer.cli",
        "status",
        "--url",
        f"http://127.0.0.1:{port}/status",
        *extra,
        stdout=asyncio.subprocess.PIPE,
        env={**os.environ, "PYTHONPATH": os.getcwd()},
    )
    out, _ = await proc.communicate()
    return proc.returncode or 0, out.decode()


async def test_outage_shows_open_circuit_and_last_error_then_recovery(
    kafka_bootstrap: str, new_topic: NewTopicFactory
) -> None:
    topics = {new_topic(1): "purchase", new_topic(1): "lead"}
    dlq = new_topic(1)
    traffic = produce(kafka_bootstrap, topics, n=20)
    async with (
        running_sandbox(faults={"tiktok": {"outage": {"status": 503}}}) as sandbox,
        aiohttp.ClientSession() as session,
    ):
        settings = relay_settings(kafka_bootstrap, topics, dlq, sandbox)
        settings.observability.http_host = "127.0.0.1"
        settings.observability.http_port = 0
        settings.delivery.retry.max_attempts = 100
        settings.delivery.retry.budget_s = 300
        settings.delivery.retry.max_delay_s = 0.2
        settings.delivery.circuit.failure_threshold = 2
        settings.delivery.circuit.cooldown_s = 0.3
        relay = build(settings)
        stop = asyncio.Event()
        task = asyncio.create_task(
            run_relay(relay, stop_when=lambda _e: stop.is_set(), install_signals=False)
        )
        try:
            down = await _until(
                lambda d: (
                    d["platforms"]["tiktok"]["circuit"] != "closed"
                    and d["platforms"]["tiktok"]["last_error"] is not None
                    and d["platforms"]["meta"]["since_start"]["delivered"] == len(traffic.events)
                    and d["ready"]
                ),  # librdkafka's first statistics (5 s) report the broker UP
                session,
                relay,
            )
            tiktok = down["platforms"]["tiktok"]
            assert tiktok["last_error"]["http_status"] == 503
            assert tiktok["last_success"] is None
            assert tiktok["in_flight"] + tiktok["waiting_retry"] == len(traffic.events)
            assert tiktok["since_start"]["dead_lettered"] == 0
            assert down["platforms"]["meta"]["circuit"] == "closed"
            sources = [p for p in down["consumer"]["assigned_partitions"] if ".retry[" not in p]
            assert len(sources) == 2  # the two source topics (the retry topic's tiers besides)
            assert relay.observability is not None
            code, out = await _cli_status(relay.observability.port, "--json")
            assert code == 0 and json.loads(out)["platforms"]["tiktok"]["last_error"]["http_status"] == 503
            code, table = await _cli_status(relay.observability.port)
            assert code == 0 and "tiktok" in table and "HTTP 503" in table

            sandbox.set_faults("tiktok", outage=None)
            up = await _until(
                lambda d: d["platforms"]["tiktok"]["since_start"]["delivered"] == len(traffic.events),
                session,
                relay,
            )
            tiktok = up["platforms"]["tiktok"]
            assert tiktok["circuit"] == "closed" and tiktok["last_success"] is not None
            assert tiktok["in_flight"] == 0 and tiktok["waiting_retry"] == 0
        finally:
            stop.set()
            await asyncio.wait_for(task, 60)
