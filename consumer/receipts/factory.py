"""Building the receipt writer from settings outside the relay's own wiring (`dlq replay`), so
every writer of receipts uses the same topic, codec (Schema Registry wire format when one is
configured) and producer settings, and finds its topic present before it writes."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from consumer.config import Settings
from consumer.receipts.codec import ReceiptCodec
from consumer.receipts.writer import ReceiptWriter


def ensure_receipts_topic(settings: Settings) -> bool:
    """Make sure ``topics.receipts`` exists (created if ``topics.create_missing``), as the relay
    does at start: a write to a missing topic would retry forever and hold every commit.
    Returns whether it was created; raises `MissingTopicError` when it cannot exist."""
    from consumer.kafka.topics import ensure_topics

    created = ensure_topics(
        settings.kafka.client_config(), [settings.topics.receipts], create=settings.topics.create_missing
    )
    return bool(created)


def build_receipt_writer(
    settings: Settings, producer_config: Mapping[str, Any] | None = None
) -> ReceiptWriter | None:
    """The relay's receipt writer for ``settings`` (None when ``receipts.enabled`` is false)."""
    if not settings.receipts.enabled:
        return None
    from consumer.builders import registry_client

    topic = settings.topics.receipts
    config = dict(producer_config) if producer_config is not None else settings.kafka.client_config()
    return ReceiptWriter(config, topic, ReceiptCodec(registry_client(settings), topic))
