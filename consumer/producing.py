"""Publishing sample events and captures: `produce-sample`, the demo and the benchmark."""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Mapping

from confluent_kafka import Producer

from consumer.codec import Codec
from consumer.sample import SampleGenerator


def produce_samples(
    bootstrap: str,
    count: int,
    *,
    topics: Mapping[str, str],
    registry_url: str | None = None,
    seed: int = 7,
    captures: int = 0,
    capture_topic: str = "identity.click-ids",
    now_ms: int | None = None,
) -> dict[str, int]:
    """Produce ``count`` mixed events (and ``captures`` click-ID captures for pooled users,
    first, so enrichment can find them); returns counts per event type."""
    registry = None
    if registry_url:
        from confluent_kafka.schema_registry import SchemaRegistryClient

        registry = SchemaRegistryClient.new_client({"url": registry_url})
    codec = Codec(registry, topics)
    topic_for = {event_type: topic for topic, event_type in topics.items()}
    schema_ids = {t: codec.schema_id_for(t) for t in topic_for} if registry else {}
    producer = Producer(
        {
            "bootstrap.servers": bootstrap,
            "linger.ms": 20,
            "compression.type": "lz4",
            "enable.idempotence": True,
        }
    )
    now_ms = now_ms or int(time.time() * 1000)
    gen = SampleGenerator(seed=seed)
    capture_id = codec.schema_id_for("click_id_capture") if registry else None
    for n in range(captures):
        capture = gen.capture_for_user(n % gen.user_pool, now_ms)
        value = codec.encode({**capture, "type": "click_id_capture"}, capture_id)
        _produce(producer, capture_topic, capture["external_id"], value)
    counts: Counter[str] = Counter()
    for event in gen.events(count, now_ms):
        event_type = event["type"]
        _produce(
            producer,
            topic_for[event_type],
            event["event_id"],
            codec.encode(event, schema_ids.get(event_type)),
        )
        counts[event_type] += 1
    producer.flush(60)
    return {"captures": captures, **counts}


def _produce(producer: Producer, topic: str, key: str, value: bytes) -> None:
    while True:
        try:
            producer.produce(topic, value=value, key=key.encode())
            return
        except BufferError:
            producer.poll(0.1)
