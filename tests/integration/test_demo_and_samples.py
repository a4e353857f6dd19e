"""The README's main command (`capi-relay demo`) and `produce-sample` work end to end."""

from __future__ import annotations

import json
import uuid

import pytest
from confluent_kafka import Consumer, TopicPartition

from consumer.cli import main
from consumer.demo import run_demo

pytestmark = pytest.mark.integration


def test_demo_relays_everything_and_prints_the_table(capsys: pytest.CaptureFixture[str]) -> None:
    assert run_demo(events=400) == 0
    out = capsys.readouterr().out
    assert "accepted" in out and "dead-lettered" in out
    for slug in ("meta", "google", "tiktok"):
        assert slug in out


def test_produce_sample_publishes_every_type(
    kafka_bootstrap: str, capsys: pytest.CaptureFixture[str]
) -> None:
    prefix = f"ps{uuid.uuid4().hex[:6]}"
    config = {
        "topics": {
            "events": {f"{prefix}.{t}": t for t in ("purchase", "lead", "qualified")},
            "click_ids": f"{prefix}.click-ids",
        }
    }
    path = f"/tmp/{prefix}.yaml"
    with open(path, "w", encoding="utf-8") as fh:
        json.dump(config, fh)  # JSON is YAML
    assert (
        main(
            [
                "produce-sample",
                "--bootstrap",
                kafka_bootstrap,
                "--config",
                path,
                "--count",
                "300",
                "--captures",
                "20",
            ]
        )
        == 0
    )
    counts = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert counts["captures"] == 20
    assert counts["purchase"] + counts["lead"] + counts["qualified"] == 300
    consumer = Consumer({"bootstrap.servers": kafka_bootstrap, "group.id": prefix})
    for event_type in ("purchase", "lead", "qualified"):
        _, high = consumer.get_watermark_offsets(TopicPartition(f"{prefix}.{event_type}", 0), timeout=10)
        assert high == counts[event_type]
    consumer.close()
