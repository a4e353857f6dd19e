"""Enrichment through the real relay: captures published on the capture topic reach later events
that carry only a user id; an expired capture is not used; visitors never mix; a Redis outage
delays delivery and loses nothing."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress
from pathlib import Path
from typing import Any

import orjson
import pytest
from aiohttp import ClientSession, web
from confluent_kafka import Producer
from confluent_kafka.admin import AdminClient, NewTopic

from consumer.app import build_relay, run_relay
from consumer.codec import Codec
from consumer.config import load_settings
from consumer.delivery.credentials_api import StaticCredentials
from consumer.demo_settings import sandbox_credentials
from consumer.devtools.redis_local import RedisServer
from consumer.sample import SampleGenerator, empty_click_ids
from sandbox.testing import running_sandbox
from tests.integration.relay_harness import Scenario, verify

pytestmark = pytest.mark.integration
PLATFORMS = ["meta", "google", "tiktok"]
DAY_MS = 86_400_000


@asynccontextmanager
async def recording_proxy(upstream: str) -> AsyncIterator[tuple[str, list[dict[str, Any]]]]:
    """A pass-through HTTP proxy in front of the sandbox that keeps every JSON body it forwards."""
    bodies: list[dict[str, Any]] = []
    session = ClientSession()

    async def forward(request: web.Request) -> web.Response:
        body = await request.read()
        with suppress(orjson.JSONDecodeError):
            bodies.append({"path": request.path, "json": orjson.loads(body)})
        async with session.request(
            request.method,
            upstream + request.path_qs,
            data=body,
            headers={k: v for k, v in request.headers.items() if k.lower() != "host"},
        ) as resp:
            return web.Response(
                status=resp.status,
                body=await resp.read(),
                headers={
                    k: v for k, v in resp.headers.items() if k.lower() in ("content-type", "retry-after")
                },
            )

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", forward)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    try:
        yield f"http://127.0.0.1:{port}", bodies
    finally:
        await runner.cleanup()
        await session.close()


def _publish(bootstrap: str, topic: str, records: list[tuple[str, bytes]]) -> None:
    producer = Producer({"bootstrap.servers": bootstrap})
    for key, value in records:
        producer.produce(topic, key=key.encode(), value=value)
    assert producer.flush(30) == 0


def _bare_purchase(gen: SampleGenerator, user_id: str, now: int) -> dict[str, Any]:
    event = gen.purchase(now)
    event["user"] = {
        **event["user"],
        "external_id": user_id,
        "email": f"{user_id}@example.com",
        "phone": None,
    }
    event["click_ids"] = empty_click_ids()
    event["event_time"] = now - 60_000
    return event


@pytest.mark.parametrize("backend", ["sqlite", "redis"])
async def test_captured_click_ids_reach_every_platform(
    kafka_bootstrap: str, tmp_path: Path, backend: str
) -> None:
    scenario = Scenario(kafka_bootstrap, partitions=1)
    scenario.create_topics()
    capture_topic = f"{scenario.prefix}.click-ids"
    admin = AdminClient({"bootstrap.servers": kafka_bootstrap})
    spec = NewTopic(capture_topic, 1, 1, config={"cleanup.policy": "compact"})
    admin.create_topics([spec])[capture_topic].result(30)
    now = int(time.time() * 1000)
    gen = SampleGenerator(seed=41)
    codec = Codec(None, scenario.topics)
    fresh = gen.capture_for_user(1, now)
    stale = gen.capture_for_user(2, now)
    stale["capture_time"] = now - 200 * DAY_MS  # older than every click-ID TTL (90 days)
    stale["click_ids"]["fbc"] = f"fb.1.{stale['capture_time']}.{stale['click_ids']['fbclid']}"
    other = gen.capture_for_user(3, now)
    _publish(
        kafka_bootstrap,
        capture_topic,
        [(c["external_id"], codec.encode({**c, "type": "click_id_capture"})) for c in (fresh, stale, other)],
    )

    redis = RedisServer().start() if backend == "redis" else None
    try:
        store = {"backend": backend, "sqlite_path": str(tmp_path / "ids.db")}
        if redis is not None:
            store["redis_url"] = redis.url
        async with running_sandbox() as sandbox, recording_proxy(sandbox.base_url) as (proxy, bodies):
            settings = load_settings(**scenario.config(proxy, PLATFORMS, store=store))
            tokens, extra = sandbox_credentials(PLATFORMS)
            relay = build_relay(settings, credentials=StaticCredentials(tokens, extra=extra))
            # let the capture ingester load the store before any event is published
            task = asyncio.create_task(
                run_relay(relay, stop_when=lambda e: e.stats.messages_finished >= 3, install_signals=False)
            )
            deadline = time.monotonic() + 60
            while relay.ingester.ingested < 3 and time.monotonic() < deadline:
                await asyncio.sleep(0.2)
            assert relay.ingester.ingested == 3
            events = [
                _bare_purchase(gen, fresh["external_id"], now),
                _bare_purchase(gen, stale["external_id"], now),
                _bare_purchase(gen, "user-never-seen", now),
            ]
            topic = next(t for t, kind in scenario.topics.items() if kind == "purchase")
            _publish(kafka_bootstrap, topic, [(e["event_id"], codec.encode(e)) for e in events])
            await asyncio.wait_for(task, timeout=120)
    finally:
        if redis is not None:
            redis.stop()

    def sent(slug: str, event_id: str) -> dict[str, Any]:
        for body in bodies:
            if not body["path"].startswith(f"/{slug}/"):
                continue
            for item in body["json"].get("data") or body["json"].get("events") or []:
                if event_id in orjson.dumps(item).decode():
                    return item
        raise AssertionError(f"{event_id} not sent to {slug}")

    fresh_id, stale_id, unknown_id = (e["event_id"] for e in events)
    ids = fresh["click_ids"]
    meta = sent("meta", fresh_id)["user_data"]
    assert meta["fbc"] == ids["fbc"] and meta["fbp"] == ids["fbp"]
    assert ids["gclid"] in orjson.dumps(sent("google", fresh_id)).decode()
    assert ids["ttclid"] in orjson.dumps(sent("tiktok", fresh_id)).decode()
    # the expired capture supplied nothing, and nobody got another visitor's ids
    assert "fbc" not in sent("meta", stale_id)["user_data"]
    for event_id in (stale_id, unknown_id):
        for slug in PLATFORMS:
            text = orjson.dumps(sent(slug, event_id)).decode()
            for capture in (fresh, other):
                assert capture["click_ids"]["fbclid"] not in text
                assert capture["click_ids"]["ttclid"] not in text


async def test_redis_outage_delays_delivery_and_loses_nothing(kafka_bootstrap: str) -> None:
    scenario = Scenario(kafka_bootstrap)
    scenario.create_topics()
    scenario.produce(3_000, seed=42)
    redis = RedisServer().start()
    try:
        async with running_sandbox() as sandbox:
            settings = load_settings(
                **scenario.config(
                    sandbox.base_url, ["meta"], store={"backend": "redis", "redis_url": redis.url}
                )
            )
            tokens, extra = sandbox_credentials(["meta"])
            relay = build_relay(settings, credentials=StaticCredentials(tokens, extra=extra))
            redis.stop()  # the store is down before the first batch
            task = asyncio.create_task(
                run_relay(
                    relay, stop_when=lambda e: e.stats.messages_finished >= 3_000, install_signals=False
                )
            )
            await asyncio.sleep(4)
            assert relay.engine.stats.messages_finished == 0  # waiting, not skipping enrichment
            assert relay.engine.stats.enrich_retries > 0
            redis.restart()
            await asyncio.wait_for(task, timeout=180)
            verdict = verify(scenario, ["meta"], {"meta": sandbox.state.events("meta")})
    finally:
        redis.stop()
    assert verdict.missing == []
    assert verdict.accepted["meta"] + verdict.dead_lettered["meta"] == 3_000
