"""Acceptance: the broker is SIGKILLed and restarted (same ports, same data directory) while
events keep arriving. Every event reaches every platform (0 missing), duplicates stay within the
delivery ledger's crash window, /readyz never answers 200 with no partitions assigned, consumer
errors are logged as `consume_error`, and librdkafka's own lines come out as JSON like the rest."""

from __future__ import annotations

import json
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from consumer.devtools import procs
from consumer.devtools.kafka_local import LocalKafka
from sandbox.testing import sandbox_process
from tests.integration.relay_harness import RelayProcess, Scenario, verify, wait_until

pytestmark = [pytest.mark.integration, pytest.mark.slow]

TWO = ["meta", "google"]


def readyz(port: int) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/readyz", timeout=2) as answer:
            return answer.status, answer.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode()
    except OSError as exc:
        return 0, str(exc)


def test_broker_sigkill_and_restart_mid_run(tmp_path: Path) -> None:
    kafka = LocalKafka(data_dir=tmp_path / "broker").start()
    try:
        scenario = Scenario(kafka.bootstrap_servers)
        scenario.create_topics()
        scenario.produce(1_500, seed=71)
        obs_port = procs.free_port()
        with sandbox_process() as sandbox:
            config = scenario.config(
                sandbox.base_url,
                TWO,
                ledger={"backend": "sqlite", "sqlite_path": str(tmp_path / "ledger.db")},
                topics={"receipts": f"{scenario.prefix}.receipts"},
                observability={"http_port": obs_port, "http_host": "127.0.0.1", "log_format": "json"},
            )
            relay = RelayProcess(config, tmp_path)
            accepted = lambda: sandbox.stats().get("meta", {}).get("accepted_events", 0)  # noqa: E731
            try:
                assert wait_until(lambda: accepted() > 300, timeout=90, interval=0.2)
                assert wait_until(lambda: readyz(obs_port)[0] == 200, timeout=30)

                def keep_producing() -> None:
                    for round_no in range(6):
                        scenario.produce(250, seed=100 + round_no)
                        time.sleep(0.5)

                producer = threading.Thread(target=keep_producing)
                producer.start()
                time.sleep(1)
                kafka.kill()
                answers: list[tuple[int, str]] = []
                deadline = time.monotonic() + 3
                while time.monotonic() < deadline:
                    answers.append(readyz(obs_port))
                    time.sleep(0.2)
                kafka.restart()
                deadline = time.monotonic() + 30
                while time.monotonic() < deadline:
                    answers.append(readyz(obs_port))
                    time.sleep(0.2)
                producer.join(120)
                assert wait_until(scenario.fully_committed, timeout=240, interval=2), "lag did not reach 0"
                code, _ = relay.terminate()
                assert code == 0
            finally:
                relay.stop_quietly()
            verdict = verify(scenario, TWO, {slug: sandbox.events(slug) for slug in TWO})
    finally:
        kafka.stop()
    assert verdict.missing == []
    print(f"\nbroker restart: events={len(scenario.produced)} duplicates={verdict.duplicates}")
    assert verdict.duplicates <= len(scenario.produced) // 100
    assert not [a for a in answers if a[0] == 200 and a[1].startswith("0 partition")], answers
    assert answers[-1][0] == 200
    lines = relay.log.read_text().splitlines()
    assert not [line for line in lines if line.startswith("%")], "raw librdkafka lines in a JSON run"
    events = [json.loads(line) for line in lines if line.startswith("{")]
    assert any(e["event"] == "consume_error" for e in events)
