"""The click-ID store contract shared by every backend (SQLite, Redis, in-memory).

The engine and the capture ingester depend only on this protocol, so the embedded SQLite default
and a shared Redis are interchangeable, and tests can run one suite against all of them.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol, runtime_checkable

from consumer.enrich.model import StoredCapture
from consumer.storage import Clock, StoreUnavailable, wall_clock_ms

__all__ = ["Clock", "StoreUnavailable", "wall_clock_ms"]  # re-exported: the backends' contract

CaptureRecord = tuple[list[str], StoredCapture]
"""One capture with the identity keys it is stored under (see ``prepare_capture``)."""


@runtime_checkable
class ClickIdStore(Protocol):
    """Where captures live between the landing hit and the conversion.

    Semantics every backend guarantees:
    - ``upsert_many`` stores each capture under each of its keys. Re-applying the same capture is
      a no-op and an older capture never replaces a newer one for the same key (newer =
      greater ``(capture_time_ms, capture_id)``), so replays of the compacted topic converge.
    - ``lookup_many`` makes one query / one round trip per call and returns only keys that hold
      a capture whose retention (the longest TTL of its click-ID kinds) has not passed.
    - Outages raise :class:`StoreUnavailable`.
    """

    async def upsert_many(self, records: Sequence[CaptureRecord]) -> None:
        """Store captures under their identity keys (newer wins, idempotent)."""
        ...

    async def lookup_many(self, keys: Sequence[str]) -> dict[str, StoredCapture]:
        """Captures for those of ``keys`` that have a live one."""
        ...

    async def ping(self) -> None:
        """Raise :class:`StoreUnavailable` unless the backend answers (readiness checks)."""
        ...

    async def close(self) -> None:
        """Release connections and threads; the store is unusable afterwards."""
        ...



