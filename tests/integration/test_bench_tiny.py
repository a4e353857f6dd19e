"""The benchmark command end to end with a tiny event count: correctness only, never timing.

Why: `python -m bench.relay_bench` is how we back the performance claims; if it silently
stopped delivering (a config drift, a renamed setting), its figures would be meaningless. This
runs every phase but the 1M-event RSS one (incl. the two-process phase (d) and the second
latency run) and asserts counts: every event accepted by each of
the three platforms, the relay finished all of them, and the JSON carries every key.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from bench import peer, relay_bench

pytestmark = pytest.mark.integration

N = 300


def test_tiny_benchmark_delivers_every_event(
    kafka_bootstrap: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("KAFKA_BOOTSTRAP_SERVERS", kafka_bootstrap)
    out = tmp_path / "bench.json"
    args = ["--events", str(N), "--skip-rss", "--out", str(out), "--partitions", "2"]
    args += ["--rate", "200", "--latency-seconds", "1", "--naive-seconds", "1", "--relay-timeout", "120"]
    assert relay_bench.main(args) == 0

    report = json.loads(out.read_text(encoding="utf-8"))
    assert set(relay_bench.KEYS) <= set(report)
    assert report["events"] == N
    for key in ("ceiling_eps", "relay_eps", "naive_eps", "cpu_s_per_1k", "p50_ms", "p99_ms"):
        assert report[key] is not None and report[key] >= 0, key
    assert report["peak_rss_mb"] is None  # skipped

    throughput = report["details"]["throughput"]
    assert throughput["ceiling"]["events"] == N
    assert throughput["relay"]["finished"] == N
    assert throughput["sandbox_unique_accepted"] == {"meta": N, "google": N, "tiktok": N}
    assert throughput["naive"]["events"] >= 1
    assert throughput["naive"]["failed"] == 0

    # (e): the official SDK as the peer, when the bench extra is installed
    if peer.SDK_MISSING is None:
        assert throughput_peer(report)["failed"] == 0 and throughput_peer(report)["events"] >= 1
        assert report["peer_eps"] > 0 and report["ratio_relay_peer"] > 0
    else:
        assert report["peer_eps"] is None and "skipped" in report["details"]["peer"]

    latency = report["details"]["latency"]
    produced = latency["produced"]
    assert produced == 200
    assert latency["relay"]["finished"] == produced
    assert latency["sandbox_unique_accepted"] == {"meta": produced, "google": produced, "tiktok": produced}
    assert latency["per_platform"]["google"]["count"] == produced
    for slug in ("meta", "google", "tiktok"):  # exact latencies: every event joined by its id
        assert latency["exact_per_platform"][slug]["count"] == produced, slug

    # (d): two relay processes in one group share the same backlog; together they deliver all
    scale = report["details"]["scale_out"]
    assert scale["processes"] == 2 and scale["events"] == N
    assert sum(scale["per_process_finished"]) >= N
    assert report["scale_out_eps"] > 0

    # the second latency run, at a load one process sustains (skipped below 100 events/s)
    sustained = report["details"].get("latency_sustainable")
    if report["relay_eps"] >= 200:
        assert sustained is not None
    if sustained is not None:
        total = sustained["produced"]
        assert sustained["sandbox_unique_accepted"] == {"meta": total, "google": total, "tiktok": total}


def throughput_peer(report: dict[str, Any]) -> dict[str, Any]:
    """The details of phase (e)."""
    details: dict[str, Any] = report["details"]["peer"]
    return details
