"""Pause and resume a platform at runtime (real broker, sandbox, relay subprocesses, the CLI):
while paused it receives nothing and the others everything; after resume it receives every
held event; a restart in between keeps it paused (the control topic); 0 dead-lettered, 0
missing."""

from __future__ import annotations

import asyncio
import json
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any

import pytest
from confluent_kafka import Consumer, TopicPartition
from prometheus_client import REGISTRY

from consumer.app import build_relay, run_relay
from consumer.config import load_settings
from consumer.control.state import PauseRecord
from consumer.delivery.credentials_api import StaticCredentials
from consumer.demo_settings import sandbox_credentials
from consumer.kafka.dlq import headers_dict
from consumer.kafka.retry_topic import H_RETRY_ATTEMPT
from sandbox.testing import running_sandbox, sandbox_process
from tests.integration.relay_harness import RelayProcess, Scenario, verify, wait_until

pytestmark = pytest.mark.integration

SLUGS = ["meta", "tiktok"]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "consumer.cli", *args], capture_output=True, text=True, timeout=60
    )


def test_pause_restart_resume_loses_nothing(kafka_bootstrap: str, tmp_path: Path) -> None:
    scenario = Scenario(kafka_bootstrap, partitions=2)
    scenario.create_topics()
    admin_port = _free_port()
    admin_url = f"http://127.0.0.1:{admin_port}"
    with sandbox_process(seed=1) as sandbox:
        config = scenario.config(
            sandbox.base_url,
            SLUGS,
            admin={"http_port": admin_port},
            topics={"control": f"{scenario.prefix}.control"},
            consumer={"drain_deadline_s": 3, "commit_interval_ms": 500},
        )

        def received(slug: str) -> set[str]:
            return {e["event_id"] for e in sandbox.events(slug)}

        relay = RelayProcess(config, tmp_path, "relay1")
        try:
            scenario.produce(150, seed=1)
            first = set(scenario.produced)
            assert wait_until(lambda: all(received(s) >= first for s in SLUGS), 120), "first batch"

            paused = _cli("pause", "tiktok", "--reason", "token rotation", "--url", admin_url)
            assert paused.returncode == 0, paused.stderr
            assert paused.stdout.strip() == "tiktok: paused (token rotation)"
            scenario.produce(150, seed=2)
            assert wait_until(lambda: received("meta") >= set(scenario.produced), 120), "meta flows on"
            assert received("tiktok") == first  # nothing while paused

            code, _ = relay.terminate()
            assert code == 0
        finally:
            relay.stop_quietly()

        relay = RelayProcess(config, tmp_path, "relay2")
        try:
            scenario.produce(100, seed=3)
            assert wait_until(lambda: received("meta") >= set(scenario.produced), 120), "after restart"
            assert received("tiktok") == first  # still paused after the restart

            resumed = _cli("resume", "tiktok", "--url", admin_url)
            assert resumed.returncode == 0, resumed.stderr
            assert resumed.stdout.strip() == "tiktok: resumed"
            assert wait_until(lambda: received("tiktok") >= set(scenario.produced), 120), "held events"
            assert wait_until(scenario.fully_committed, 60, 1)
            code, _ = relay.terminate()
            assert code == 0
        finally:
            relay.stop_quietly()
        verdict = verify(scenario, SLUGS, {slug: sandbox.events(slug) for slug in SLUGS})
    assert verdict.missing == []
    assert sum(verdict.dead_lettered.values()) == 0 and verdict.decode_records == 0
    assert _cli("pause", "nope", "--url", admin_url).returncode == 2  # relay gone: one line, exit 2


def test_a_paused_platform_is_parked_past_the_in_flight_cap_and_back_at_once_on_resume(
    kafka_bootstrap: str, tmp_path: Path
) -> None:
    """More events than ``max_in_flight_events`` while TikTok is paused: they are parked on the
    retry topic, so Meta receives everything and the source commits fully meanwhile; a stop
    while paused does not wait for the drain deadline; after a restart and a resume TikTok
    receives every parked event well before the shortest retry tier (30 s) would hand it out."""
    scenario = Scenario(kafka_bootstrap, partitions=2)
    scenario.create_topics()
    admin_port = _free_port()
    admin_url = f"http://127.0.0.1:{admin_port}"
    status_port = _free_port()
    with sandbox_process(seed=2) as sandbox:
        config = scenario.config(
            sandbox.base_url,
            SLUGS,
            admin={"http_port": admin_port},
            topics={"control": f"{scenario.prefix}.control"},
            consumer={"drain_deadline_s": 20, "commit_interval_ms": 500},
            delivery={"max_in_flight_events": 20, "delayed_retry": {"delays_s": [30, 60]}},
            observability={"http_host": "127.0.0.1", "http_port": status_port},
        )

        def tiktok_status() -> dict[str, object]:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{status_port}/status", timeout=5) as r:
                    platforms: dict[str, dict[str, object]] = json.load(r)["platforms"]
                    return platforms["tiktok"]
            except OSError:
                return {}

        def received(slug: str) -> set[str]:
            return {e["event_id"] for e in sandbox.events(slug)}

        relay = RelayProcess(config, tmp_path, "paused1")
        try:
            relay.wait_started()
            assert wait_until(lambda: _cli("pause", "tiktok", "--url", admin_url).returncode == 0, 60, 1)
            scenario.produce(200, seed=4)
            assert wait_until(lambda: received("meta") >= set(scenario.produced), 120), "meta flows on"
            assert wait_until(scenario.fully_committed, 60, 1), "source committed while paused"
            assert received("tiktok") == set()
            held = len(scenario.produced)  # every event goes to tiktok too: all parked, none in memory
            assert wait_until(lambda: tiktok_status().get("waiting_retry") == held, 30), tiktok_status()
            assert tiktok_status()["paused"] is True and tiktok_status()["in_flight"] == 0
            code, seconds = relay.terminate()
            assert code == 0 and seconds < 15  # nothing held in memory: no drain-deadline wait
        finally:
            relay.stop_quietly()

        relay = RelayProcess(config, tmp_path, "paused2")
        try:
            scenario.produce(50, seed=5)
            assert wait_until(lambda: received("meta") >= set(scenario.produced), 120), "after restart"
            assert received("tiktok") == set()  # still paused
            assert wait_until(lambda: _cli("resume", "tiktok", "--url", admin_url).returncode == 0, 30, 1)
            started = time.monotonic()
            assert wait_until(lambda: received("tiktok") >= set(scenario.produced), 60, 0.2), "parked"
            assert time.monotonic() - started < 20  # taken on resume, not when the 30 s tier is due
            assert wait_until(scenario.fully_committed, 60, 1)
            code, _ = relay.terminate()
            assert code == 0
        finally:
            relay.stop_quietly()
        verdict = verify(scenario, SLUGS, {slug: sandbox.events(slug) for slug in SLUGS})
    assert verdict.missing == []
    assert sum(verdict.dead_lettered.values()) == 0 and verdict.decode_records == 0


async def test_a_pause_longer_than_the_first_tier_re_parks_without_counting_attempts(
    kafka_bootstrap: str,
) -> None:
    """The first tier is 1 s and TikTok stays paused for 6 s: its parked events are read again
    and parked again several times — always as attempt 0 (being paused is no failed attempt),
    none dead-lettered — and after the resume each is delivered once."""
    n = 30
    scenario = Scenario(kafka_bootstrap, partitions=1)
    scenario.create_topics()
    scenario.produce(n, seed=6)
    async with running_sandbox() as sandbox:
        config = scenario.config(
            sandbox.base_url,
            SLUGS,
            admin={"http_port": None},
            topics={"control": f"{scenario.prefix}.control"},
            delivery={"delayed_retry": {"delays_s": [1, 60], "jitter": 0}},
        )
        tokens, extra = sandbox_credentials(SLUGS)
        relay = build_relay(load_settings(**config), credentials=StaticCredentials(tokens, extra=extra))
        assert relay.control is not None
        control = relay.control
        control.apply("tiktok", PauseRecord(True, "long"))

        def holds() -> float:
            return (
                REGISTRY.get_sample_value(
                    "capi_retry_scheduled_total", {"platform": "tiktok", "cause": "hold"}
                )
                or 0.0
            )

        def redelivered() -> float:
            return REGISTRY.get_sample_value("capi_retry_redelivered_total", {"platform": "tiktok"}) or 0.0

        before, taken, started, seen = holds(), redelivered(), time.monotonic(), {}

        def step(_engine: object) -> bool:
            accepted = {slug: len(sandbox.state.events(slug)) for slug in SLUGS}
            if "parks" not in seen and time.monotonic() - started > 6:
                seen["tiktok_while_paused"] = accepted["tiktok"]
                seen["parks"] = holds() - before
                seen["redelivered"] = redelivered() - taken
                control.apply("tiktok", PauseRecord(False))
            return "parks" in seen and accepted == {"meta": n, "tiktok": n}

        await asyncio.wait_for(run_relay(relay, stop_when=step, install_signals=False), 90)
        counts = {slug: {e["count"] for e in sandbox.state.events(slug)} for slug in SLUGS}
    assert seen["tiktok_while_paused"] == 0
    assert seen["parks"] >= 3 * n  # parked, then parked again at least twice
    assert seen["redelivered"] == 0  # a re-read while paused is no new attempt
    assert scenario.dlq_records() == []
    assert counts == {"meta": {1}, "tiktok": {1}}
    attempts = {
        headers_dict(msg.headers())[H_RETRY_ATTEMPT] for msg in _read_topic(kafka_bootstrap, scenario.retry)
    }
    assert attempts == {"0"}


def _read_topic(bootstrap: str, topic: str) -> list[Any]:
    consumer = Consumer(
        {"bootstrap.servers": bootstrap, "group.id": f"read-{topic}", "auto.offset.reset": "earliest"}
    )
    meta = consumer.list_topics(topic, timeout=10).topics[topic]
    ends = {
        p: consumer.get_watermark_offsets(TopicPartition(topic, p), timeout=10)[1] for p in meta.partitions
    }
    consumer.assign([TopicPartition(topic, p, 0) for p in ends])
    out: list[Any] = []
    deadline = time.monotonic() + 30
    while len(out) < sum(ends.values()) and time.monotonic() < deadline:
        out += [m for m in consumer.consume(500, 1.0) if m.error() is None]
    consumer.close()
    return out
