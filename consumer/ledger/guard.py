"""The ledger as the engine and the replay use it: batch lookups that never block delivery, and
buffered writes.

* A lookup that fails (``StoreUnavailable``) returns "nothing accepted": the events are sent and
  the platform's own deduplication holds. After a failure, lookups are skipped for
  ``cooldown_s`` so a dead ledger costs one timeout, not one per batch. Each fallback is counted
  in ``capi_ledger_fallbacks_total{op="lookup"}``.
* Acceptances are buffered and written every ``flush_interval_s`` or ``flush_max`` items, in one
  round trip. The unit finishes without waiting for that write: the ledger is an optimisation,
  and the crash window it leaves (platform answered, buffer not yet written) is the only source
  of duplicates left. Hence the short default interval (20 ms): with WAL and
  ``synchronous=NORMAL`` a SQLite commit costs no fsync, and under load ``flush_max`` triggers
  first anyway; at 100 ms the buffer held a quarter of the duplicates the ledger is there to
  prevent. A failed write is dropped and counted (``op="record"``).
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Iterable, Mapping, Sequence

import structlog

from consumer.ledger.base import DeliveryLedger, LedgerTtl
from consumer.observability import metrics
from consumer.storage import StoreUnavailable

log = structlog.get_logger("capi_relay.ledger")


class LedgerGuard:
    """Wraps a :class:`~consumer.ledger.base.DeliveryLedger` with fallback and write buffering."""

    def __init__(
        self,
        ledger: DeliveryLedger,
        ttl: LedgerTtl | None = None,
        *,
        flush_interval_s: float = 0.02,
        flush_max: int = 500,
        cooldown_s: float = 5.0,
    ) -> None:
        self.ledger = ledger
        self.ttl = ttl or LedgerTtl()
        self._flush_interval_s = flush_interval_s
        self._flush_max = flush_max
        self._cooldown_s = cooldown_s
        self._down_until = 0.0
        self._buffer: dict[str, list[str]] = {}
        self._buffered = 0
        self._wake: asyncio.Event | None = None
        self._task: asyncio.Task[None] | None = None
        self.fallbacks = 0
        self.recorded = 0

    # -- lookups -------------------------------------------------------------------------------

    async def lookup(self, query: Mapping[str, Sequence[str]]) -> dict[str, set[str]]:
        """platform -> event ids already accepted; ``{}`` when the ledger is unavailable."""
        if not any(query.values()):
            return {}
        if time.monotonic() < self._down_until:
            self._fallback("lookup")
            return {}
        try:
            return await self.ledger.accepted_many(query)
        except StoreUnavailable as exc:
            self._down_until = time.monotonic() + self._cooldown_s
            self._fallback("lookup")
            log.warning("ledger_unavailable", op="lookup", error=str(exc), retry_in_s=self._cooldown_s)
            return {}

    def _fallback(self, op: str) -> None:
        self.fallbacks += 1
        metrics.LEDGER_FALLBACKS.labels(op).inc()

    # -- writes --------------------------------------------------------------------------------

    def note(self, platform: str, event_id: str) -> None:
        """Remember (soon) that ``platform`` accepted ``event_id``."""
        self.note_many(platform, (event_id,))

    def note_many(self, platform: str, event_ids: Iterable[str]) -> None:
        """Remember (soon) that ``platform`` accepted each of ``event_ids`` (one request's)."""
        buffer = self._buffer.get(platform)
        if buffer is None:
            buffer = self._buffer[platform] = []
        before = len(buffer)
        buffer.extend(event_ids)
        self._buffered += len(buffer) - before
        if self._task is None:
            self.start()
        if self._buffered >= self._flush_max and self._wake is not None:
            self._wake.set()

    def start(self) -> None:
        """Start the flush loop on the running event loop (done on first ``note`` otherwise)."""
        if self._task is None:
            self._wake = asyncio.Event()
            self._task = asyncio.get_running_loop().create_task(self._flush_loop(), name="ledger-flush")

    async def _flush_loop(self) -> None:
        assert self._wake is not None
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout=self._flush_interval_s)
            self._wake.clear()
            await self.flush()

    async def flush(self) -> None:
        """Write what is buffered now (one round trip); a failure drops it and is counted."""
        if not self._buffered:
            return
        batch, self._buffer, self._buffered = self._buffer, {}, 0
        try:
            await self.ledger.record_many(batch, self.ttl.for_platforms(list(batch)))
            self.recorded += sum(len(ids) for ids in batch.values())
        except StoreUnavailable as exc:
            self._fallback("record")
            dropped = sum(len(ids) for ids in batch.values())
            log.warning("ledger_unavailable", op="record", error=str(exc), dropped=dropped)

    async def close(self) -> None:
        """Stop the loop, write what is left, close the backend."""
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
            self._task = None
        await self.flush()
        await self.ledger.close()
