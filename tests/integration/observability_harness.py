"""A short, real relay run for the observability tests: real broker, in-process sandbox,
sample events with personal data, `build_relay`/`run_relay`.

Why shared: the metrics test and the no-PII-in-logs test need the same run; building it twice
would let the two drift apart.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from confluent_kafka import Consumer, Producer, TopicPartition

from consumer.app import Relay, build_relay, run_relay
from consumer.codec import Codec
from consumer.config import Settings, load_settings
from consumer.delivery.credentials_api import StaticCredentials
from consumer.engine import Engine
from consumer.observability.kafka_health import BrokerHealth
from consumer.sample import SampleGenerator
from sandbox.testing import SandboxHandle

PLATFORMS = ("meta", "tiktok")
TOKEN = "sandbox-token"


@dataclass
class Traffic:
    """What was produced: event ids with their personal data, and poison messages."""

    events: list[dict[str, Any]] = field(default_factory=list)
    poison: int = 0

    @property
    def total(self) -> int:
        """Messages on the source topics."""
        return len(self.events) + self.poison


def relay_settings(bootstrap: str, topics: dict[str, str], dlq: str, sandbox: SandboxHandle) -> Settings:
    """Settings for meta and tiktok against the sandbox, fast commits and a short drain."""
    return load_settings(
        kafka={"bootstrap_servers": bootstrap, "group_id": f"obs-{uuid.uuid4().hex[:8]}"},
        topics={"events": topics, "dlq": dlq, "retry": f"{dlq}.retry"},
        store={"backend": "none"},
        routing={"purchase": list(PLATFORMS), "lead": list(PLATFORMS)},
        platforms={
            "meta": {"settings": {"base_url": sandbox.url_for("meta"), "pixel_id": "1234567890"}},
            "tiktok": {"settings": {"base_url": sandbox.url_for("tiktok"), "pixel_code": "CPIXEL123"}},
        },
        consumer={"commit_interval_ms": 200, "drain_deadline_s": 10},
        delivery={"retry": {"max_attempts": 2, "base_delay_s": 0.05, "max_delay_s": 0.1, "budget_s": 5}},
    )


def wire_broker_health(settings: Settings, health: BrokerHealth) -> None:
    """Pass librdkafka's statistics and error callbacks to the relay's consumer (the same wiring
    the lead adds to `build_relay`)."""
    extra: dict[str, Any] = settings.kafka.extra
    extra.update(
        {"statistics.interval.ms": 500, "stats_cb": health.on_statistics, "error_cb": health.on_error}
    )


def produce(bootstrap: str, topics: dict[str, str], n: int, poison: int = 0) -> Traffic:
    """Produce ``n`` sample events (purchases and leads) and ``poison`` undecodable messages."""
    by_type = {etype: topic for topic, etype in topics.items()}
    codec = Codec(None, topics)
    gen = SampleGenerator(seed=11, click_id_share=0.5)
    producer = Producer({"bootstrap.servers": bootstrap, "linger.ms": 5})
    traffic = Traffic()
    now_ms = int(time.time() * 1000)
    while len(traffic.events) < n:
        event = gen.purchase(now_ms) if len(traffic.events) % 2 == 0 else gen.lead(now_ms)
        traffic.events.append(event)
        producer.produce(by_type[event["type"]], key=event["event_id"].encode(), value=codec.encode(event))
    first_topic = next(iter(topics))
    for i in range(poison):
        producer.produce(first_topic, key=f"poison-{i}".encode(), value=b"\x00not avro at all \xff\xfe")
    traffic.poison = poison
    assert producer.flush(30) == 0
    return traffic


def finished(total: int, also: Callable[[], bool] | None = None) -> Callable[[Engine], bool]:
    """Stop condition: every source message reached its end (and ``also()`` holds)."""

    def check(engine: Engine) -> bool:
        done = engine.stats.messages_finished >= total and engine.in_flight == 0
        return done and (also is None or also())

    return check


async def run_until_finished(
    relay: Relay, total: int, also: Callable[[], bool] | None = None, timeout_s: float = 90.0
) -> bool:
    """Run the relay until all ``total`` messages are finished (or fail after ``timeout_s``)."""
    return await asyncio.wait_for(
        run_relay(relay, stop_when=finished(total, also), install_signals=False), timeout=timeout_s
    )


def build(settings: Settings) -> Relay:
    """The relay with the sandbox token for every platform."""
    return build_relay(settings, credentials=StaticCredentials(tokens=dict.fromkeys(PLATFORMS, TOKEN)))


def topic_record_count(bootstrap: str, topic: str) -> int:
    """Records in a (fresh, single-partition) topic: its high watermark."""
    consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": f"wm-{uuid.uuid4().hex[:8]}"})
    try:
        metadata = consumer.list_topics(topic, timeout=10)
        total = 0
        for pid in metadata.topics[topic].partitions:
            low, high = consumer.get_watermark_offsets(TopicPartition(topic, pid), timeout=10)
            total += high - low
        return total
    finally:
        consumer.close()
