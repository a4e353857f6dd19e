"""The capture path: keep the click-ID store up to date from the compacted capture topic.

Its own consumer group (so it reads every capture regardless of how event partitions are
spread), at-least-once (offsets committed only after the store write), idempotent upserts (a
replayed capture is a no-op in the store). Captures that cannot be decoded are skipped and
counted: a landing-page bug must not stop attribution for everyone else.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from typing import Any

import structlog
from confluent_kafka import Consumer

from consumer.codec import Codec, DecodeError
from consumer.enrich.capture import prepare_capture
from consumer.enrich.store import ClickIdStore, StoreUnavailable
from consumer.observability.kafka_log import with_logger
from consumer.waits import sleep_or_stop

log = structlog.get_logger("capi_relay.ingest")


class CaptureIngester:
    """Consumes `identity.click-ids` and upserts captures in batches."""

    def __init__(
        self,
        consumer_config: Mapping[str, Any],
        topic: str,
        codec: Codec,
        store: ClickIdStore,
        on_keys_written: Any = None,
        batch_size: int = 500,
    ) -> None:
        config = {
            **consumer_config,
            "enable.auto.commit": False,
            "enable.auto.offset.store": False,
            "auto.offset.reset": "earliest",
        }
        self._consumer = Consumer(with_logger(config))
        self._consumer.subscribe([topic])
        self._codec = codec
        self._store = store
        self._on_keys_written = on_keys_written
        self._batch_size = batch_size
        self.ingested = 0
        self.skipped = 0
        self._stop = asyncio.Event()

    def stop(self) -> None:
        """Finish the current batch and return."""
        self._stop.set()

    async def run(self) -> None:
        """Ingest until `stop`; store outages make the batch wait and retry."""
        try:
            while not self._stop.is_set():
                messages = self._consumer.consume(self._batch_size, 0)
                if not messages:
                    await asyncio.sleep(0.05)
                    continue
                records = []
                for msg in messages:
                    if msg.error() is not None:
                        continue
                    try:
                        prepared = prepare_capture(self._codec.decode_capture(msg.value()))
                    except DecodeError as exc:
                        self.skipped += 1
                        log.warning("capture_undecodable", reason=exc.reason, offset=msg.offset())
                        continue
                    if prepared is not None:
                        records.append(prepared)
                if not await self._write(records):
                    return  # stopped during a store outage: not committed, read again next time
                self._consumer.commit(asynchronous=True)
                self.ingested += len(records)
        finally:
            self._consumer.close()

    async def _write(self, records: list[Any]) -> bool:
        """Store the batch, retrying a store outage; False if stopped before it was stored."""
        delay = 0.2
        while records:
            try:
                await self._store.upsert_many(records)
                if self._on_keys_written is not None:
                    self._on_keys_written([k for keys, _ in records for k in keys])
                return True
            except StoreUnavailable as exc:
                log.warning("click_id_store_unavailable", error=str(exc), retry_in_s=delay)
                if await sleep_or_stop(self._stop, delay):
                    return False
                delay = min(delay * 2, 30.0)
        return True
