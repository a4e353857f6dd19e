"""Output topics must exist before the relay starts: a dead-letter or receipt write to a missing
topic (on a broker that does not auto-create) would retry forever and hold every commit. So the
relay checks them at start, creates them if it may, and otherwise fails with a clear message."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from confluent_kafka import KafkaException
from confluent_kafka.admin import AdminClient, NewTopic

from consumer.observability.kafka_log import with_logger


class MissingTopicError(RuntimeError):
    """An output topic does not exist and could not be created."""


def ensure_topics(
    admin_config: Mapping[str, Any],
    topics: Sequence[str],
    *,
    create: bool = True,
    partitions: int = -1,
    replication_factor: int = -1,
    timeout_s: float = 15.0,
) -> list[str]:
    """Make sure ``topics`` exist; returns the ones created. ``-1`` uses the broker's defaults."""
    admin = AdminClient(with_logger(admin_config))
    try:
        existing = set(admin.list_topics(timeout=timeout_s).topics)
    except KafkaException as exc:
        raise MissingTopicError(f"cannot list topics to check {', '.join(topics)}: {exc}") from None
    missing = [t for t in dict.fromkeys(topics) if t not in existing]
    if not missing:
        return []
    if not create:
        raise MissingTopicError(f"output topic(s) {', '.join(missing)} do not exist; create them first")
    futures = admin.create_topics(
        [NewTopic(t, num_partitions=partitions, replication_factor=replication_factor) for t in missing],
        request_timeout=timeout_s,
    )
    for topic, future in futures.items():
        try:
            future.result(timeout=timeout_s)
        except KafkaException as exc:
            if "TOPIC_ALREADY_EXISTS" in str(exc):
                continue
            raise MissingTopicError(
                f"output topic {topic} does not exist and could not be created ({exc}); "
                "create it, or grant the relay CREATE on it"
            ) from None
    return missing


def partition_count(admin_config: Mapping[str, Any], topic: str, timeout_s: float = 15.0) -> int:
    """How many partitions ``topic`` has (it must exist)."""
    admin = AdminClient(with_logger(dict(admin_config)))
    try:
        metadata = admin.list_topics(topic, timeout=timeout_s)
    except KafkaException as exc:
        raise MissingTopicError(f"cannot read the metadata of {topic}: {exc}") from None
    info = metadata.topics.get(topic)
    if info is None or info.error is not None or not info.partitions:
        raise MissingTopicError(f"topic {topic} does not exist")
    return len(info.partitions)
