"""Pause and resume a platform at runtime (real broker, sandbox, relay subprocesses, the CLI):
while paused it receives nothing and the others everything; after resume it receives every
held event; a restart in between keeps it paused (the control topic); 0 dead-lettered, 0
missing."""

from __future__ import annotations

import socket
import subprocess
import sys
from pathlib import Path

import pytest

from sandbox.testing import sandbox_process
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
