"""Admin API, latency summary, and the `python -m sandbox` subprocess handle."""

from __future__ import annotations

import json
import urllib.request
from pathlib import Path

import pytest

from sandbox.testing import SandboxHandle, sandbox_process
from tests.sandbox.conftest import Client
from tests.sandbox.payloads import PIXEL_PATH, meta_body, meta_event, meta_headers, now_s


async def test_stats_events_latency(client: Client, sbx: SandboxHandle) -> None:
    event_time = now_s() - 2
    await client.post("meta", PIXEL_PATH, meta_body(meta_event("A", event_time=event_time)), meta_headers())
    await client.post("meta", PIXEL_PATH, meta_body(meta_event("A", event_time=event_time)), meta_headers())
    status, stats = await client.admin("GET", "stats")
    assert status == 200
    from sandbox.platforms import PLATFORMS

    assert set(stats) == {p.slug for p in PLATFORMS} >= {"meta", "google", "tiktok", "linkedin", "microsoft"}
    assert {
        k: stats["meta"][k] for k in ("requests", "accepted_events", "unique_events", "duplicate_events")
    } == {"requests": 2, "accepted_events": 2, "unique_events": 1, "duplicate_events": 1}
    status, events = await client.admin("GET", "events/meta")
    assert events == [
        {
            "event_id": "A",
            "count": 2,
            "first_accepted_ms": events[0]["first_accepted_ms"],
            "event_time_ms": event_time * 1000,
        }
    ]
    status, events = await client.admin("GET", "events/meta?event_id=nope")
    assert events == []
    status, latency = await client.admin("GET", "latency/meta")
    assert (
        latency["count"] == 1
        and 1000 <= latency["p50_ms"] <= 10_000
        and latency["p99_ms"] >= latency["p50_ms"]
    )
    status, _ = await client.admin("GET", "events/nope")
    assert status == 404


async def test_faults_endpoint_merges_and_validates(client: Client) -> None:
    status, faults = await client.admin("POST", "faults", {"meta": {"latency_ms": 5}})
    assert status == 200 and faults["meta"]["latency_ms"] == 5
    status, faults = await client.admin("POST", "faults", {"meta": {"throttle_rate": 0.1}})
    assert faults["meta"]["latency_ms"] == 5 and faults["meta"]["throttle_rate"] == 0.1
    status, body = await client.admin("POST", "faults", {"meta": {"throttle_rate": 2}})
    assert status == 400 and "throttle_rate" in body["error"]
    status, body = await client.admin("POST", "faults", {"meta": {"nope": 1}})
    assert status == 400 and "nope" in body["error"]
    status, body = await client.admin("POST", "faults", {"myspace": {"latency_ms": 1}})
    assert status == 400
    status, faults = await client.admin("GET", "faults")
    assert faults["meta"]["throttle_rate"] == 0.1


async def test_reset(client: Client, sbx: SandboxHandle) -> None:
    sbx.set_faults("tiktok", latency_ms=3)
    await client.post("meta", PIXEL_PATH, meta_body(), meta_headers())
    status, _ = await client.admin("POST", "reset")
    assert status == 200 and sbx.state.stats()["meta"]["requests"] == 0
    assert sbx.runtime.faults["tiktok"].latency_ms == 3
    await client.admin("POST", "reset", {"faults": True})
    assert sbx.runtime.faults["tiktok"].latency_ms == 0


@pytest.mark.slow
def test_sandbox_process(tmp_path: Path) -> None:
    config = tmp_path / "faults.yaml"
    config.write_text("faults:\n  tiktok:\n    error_5xx_rate: 1.0\ntokens:\n  meta: [other-token]\n")
    with sandbox_process(config, seed=1) as proc:
        assert proc.base_url.startswith("http://127.0.0.1:")
        body = json.dumps(meta_body(meta_event("P1"))).encode()
        request = urllib.request.Request(
            proc.url_for("meta") + PIXEL_PATH + "?access_token=other-token",
            data=body,
            headers={"Content-Type": "application/json"},
            method="POST",
        )
        with urllib.request.urlopen(request, timeout=10) as response:
            assert json.loads(response.read())["events_received"] == 1
        assert proc.stats()["meta"]["accepted_events"] == 1
        assert proc.events("meta")[0]["event_id"] == "P1"
        assert proc.set_faults("tiktok", error_5xx_rate=0.0)["tiktok"]["error_5xx_rate"] == 0.0
        proc.reset()
        assert proc.stats()["meta"]["accepted_events"] == 0
        child = proc.process
    assert child.poll() is not None
