"""Publishing sample events and captures: `produce-sample`, the demo and the benchmark."""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Mapping

from confluent_kafka import Producer

from consumer.codec import Codec
from consumer.config import SchemaRegistrySettings
from consumer.contract import CAPTURE_TYPE
from consumer.registry import SubjectStrategy, build_client
from consumer.sample import SampleGenerator


def produce_samples(
    bootstrap: str,
    count: int,
    *,
    topics: Mapping[str, str],
    registry_url: str | None = None,
    registry_settings: SchemaRegistrySettings | None = None,
    subject_strategy: SubjectStrategy | None = None,
    seed: int = 7,
    captures: int = 0,
    capture_topic: str = "identity.click-ids",
    now_ms: int | None = None,
) -> dict[str, int]:
    """Produce ``count`` mixed events (and ``captures`` click-ID captures for pooled users,
    first, so enrichment can find them); returns counts per event type.

    With a registry (``registry_url`` overrides the URL of ``registry_settings``, whose auth and
    TLS settings are used), the schemas are registered the normal way — shared types as subjects
    of their own, event schemas referring to them — under the subjects of ``subject_strategy``
    (default: the settings', i.e. Confluent's TopicNameStrategy), and values are framed in the
    Confluent wire format.
    """
    settings = registry_settings or SchemaRegistrySettings()
    if registry_url:
        settings = settings.model_copy(update={"url": registry_url})
    strategy = subject_strategy or settings.subject_name_strategy
    registry = build_client(settings)
    codec = Codec(registry, topics)
    topic_for = {event_type: topic for topic, event_type in topics.items()}
    schema_ids = (
        {t: codec.schema_id_for(t, topic=topic, strategy=strategy) for t, topic in topic_for.items()}
        if registry
        else {}
    )
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
    capture_id = (
        codec.schema_id_for(CAPTURE_TYPE, topic=capture_topic, strategy=strategy) if registry else None
    )
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
