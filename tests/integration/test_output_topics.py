"""The relay makes sure its output topics exist before it starts."""

from __future__ import annotations

import uuid

import pytest
from confluent_kafka.admin import AdminClient

from consumer.kafka.topics import MissingTopicError, ensure_topics

pytestmark = pytest.mark.integration


def test_missing_output_topics_are_created_or_reported(kafka_bootstrap: str) -> None:
    name = f"out-{uuid.uuid4().hex[:8]}"
    config = {"bootstrap.servers": kafka_bootstrap}
    with pytest.raises(MissingTopicError, match=name):
        ensure_topics(config, [name], create=False)
    assert ensure_topics(config, [name, name]) == [name]
    assert name in AdminClient(config).list_topics(timeout=10).topics
    assert ensure_topics(config, [name], create=False) == []
