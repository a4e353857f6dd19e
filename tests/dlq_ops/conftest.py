"""Fixtures for DLQ operations against the real broker and the sandbox: relay settings pointed
at a sandbox, producing events, writing and reading dead-letter records."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from typing import Any

from confluent_kafka import Producer

from consumer.codec import Codec
from consumer.config import Settings, load_settings
from consumer.delivery.credentials_api import StaticCredentials
from consumer.dlq_ops.records import DlqReader, DlqRecord
from consumer.kafka.dlq import DeadLetter, DeadLetterWriter
from consumer.sample import SampleGenerator

TOKEN = "sandbox-token"
PLATFORMS = ("meta", "tiktok")


def credentials() -> StaticCredentials:
    """The sandbox's accepted token for every platform under test."""
    return StaticCredentials(tokens=dict.fromkeys(PLATFORMS, TOKEN))


def relay_settings(
    bootstrap: str,
    events: Mapping[str, str],
    dlq: str,
    url_for: Callable[[str], str],
    group: str = "capi-relay-test",
    **overrides: Any,
) -> Settings:
    """Meta and TikTok for every event type, a quick retry budget, tokens from the environment."""
    data: dict[str, Any] = {
        "kafka": {"bootstrap_servers": bootstrap, "group_id": group},
        "topics": {"events": dict(events), "dlq": dlq, "retry": f"{dlq}.retry"},
        "store": {"backend": "none"},
        "routing": {t: list(PLATFORMS) for t in ("purchase", "lead", "qualified")},
        "platforms": {
            "meta": {
                "settings": {"base_url": url_for("meta"), "pixel_id": "1234567890"},
                "credentials": {"token_env": "CAPI_TEST_META_TOKEN"},
                "linger_ms": 50,
            },
            "tiktok": {
                "settings": {"base_url": url_for("tiktok"), "pixel_code": "CTESTPIXEL01"},
                "credentials": {"token_env": "CAPI_TEST_TIKTOK_TOKEN"},
                "linger_ms": 50,
            },
        },
        "delivery": {
            "retry": {"max_attempts": 2, "base_delay_s": 0.05, "max_delay_s": 0.1, "budget_s": 3.0},
            "circuit": {"failure_threshold": 100, "cooldown_s": 0.2},
            # these tests make dead letters to replay: the relay gives up after its in-process
            # attempts, as it does with delayed retries off
            "delayed_retry": {"enabled": False},
        },
        "consumer": {"drain_deadline_s": 10.0, "commit_interval_ms": 200},
        "observability": {"http_port": None},
    }
    data.update(overrides)
    return load_settings(None, **data)


def sample_events(
    n: int, seed: int = 11, now_ms: int | None = None, types: tuple[str, ...] = ("purchase", "lead")
) -> list[dict[str, Any]]:
    """``n`` events cycling through ``types`` (purchase and lead by default)."""
    now_ms = now_ms or int(time.time() * 1000)
    gen = SampleGenerator(seed=seed)
    return [getattr(gen, types[i % len(types)])(now_ms) for i in range(n)]


def produce_events(bootstrap: str, topics_by_type: Mapping[str, str], events: list[dict[str, Any]]) -> None:
    """Plain-Avro events onto their type's topic."""
    codec = Codec(None, {t: e for e, t in topics_by_type.items()})
    producer = Producer({"bootstrap.servers": bootstrap, "linger.ms": 5})
    for event in events:
        producer.produce(
            topics_by_type[event["type"]], key=event["event_id"].encode(), value=codec.encode(event)
        )
    assert producer.flush(30) == 0


def dead_letter_for(
    event: dict[str, Any],
    source_topic: str,
    offset: int,
    *,
    platform: str = "meta",
    value: bytes | None = None,
    **kw: Any,
) -> DeadLetter:
    """The dead letter the relay would have written after ``platform`` failed this event."""
    codec = Codec(None, {source_topic: event["type"]})
    fields: dict[str, Any] = {
        "stage": "deliver",
        "outcome": "exhausted",
        "reason": "HTTP 503",
        "attempts": 2,
        "error_code": "503",
    }
    fields.update(kw)
    return DeadLetter(
        topic=source_topic,
        partition=0,
        offset=offset,
        key=event["event_id"].encode(),
        value=codec.encode(event) if value is None else value,
        headers=[],
        platform=platform,
        event_id=event["event_id"] if platform != "*" else None,
        event_type=event["type"] if platform != "*" else None,
        **fields,
    )


async def write_letters(bootstrap: str, dlq: str, letters: list[DeadLetter]) -> None:
    """Write dead letters with the engine's own writer, in order, each acknowledged."""
    writer = DeadLetterWriter({"bootstrap.servers": bootstrap}, dlq)
    writer.start()
    for letter in letters:
        await writer.write(letter)
    await writer.close()


def read_dlq(bootstrap: str, dlq: str) -> list[DlqRecord]:
    """Every record currently in the dead-letter topic."""
    reader = DlqReader({"bootstrap.servers": bootstrap, "group.id": "test-dlq-reader"}, dlq)
    try:
        reader.plan(use_committed=False)
        return list(reader.read_all(idle_timeout_s=20))
    finally:
        reader.close()
