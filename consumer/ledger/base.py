"""The ledger contract every backend implements, and the per-platform retention policy."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable

DEFAULT_TTL_DAYS = 7.0
"""Longer than every platform's deduplication window (Meta's is 48 hours): a skip is never the
only thing standing between a redelivered event and a double count on the platform."""

LedgerQuery = Mapping[str, Sequence[str]]
"""platform slug -> event ids (one batch's worth)."""


@runtime_checkable
class DeliveryLedger(Protocol):
    """Remembers accepted (platform, event id) pairs for a retention period.

    Semantics every backend guarantees:
    - ``accepted_many`` is one query / one round trip for a whole batch, over all platforms, and
      returns only pairs whose retention has not passed.
    - ``record_many`` is idempotent; recording again extends the retention.
    - Outages raise :class:`consumer.enrich.store.StoreUnavailable`.
    """

    async def accepted_many(self, query: LedgerQuery) -> dict[str, set[str]]:
        """platform -> the subset of its event ids that platform already accepted."""
        ...

    async def record_many(self, accepted: LedgerQuery, ttl_s: Mapping[str, float]) -> None:
        """Remember that each platform accepted those event ids, for ``ttl_s[platform]`` seconds."""
        ...

    async def accepted(self, platform: str, event_ids: Sequence[str]) -> set[str]:
        """The subset of ``event_ids`` that ``platform`` already accepted (one platform)."""
        ...

    async def record(self, platform: str, event_ids: Sequence[str], ttl_s: float) -> None:
        """Remember acceptance for one platform."""
        ...

    async def close(self) -> None:
        """Release connections and threads."""
        ...


class LedgerBase:
    """Single-platform calls in terms of the batch calls, so backends write only those."""

    async def accepted_many(self, query: LedgerQuery) -> dict[str, set[str]]:
        """Implemented by the backend."""
        raise NotImplementedError

    async def record_many(self, accepted: LedgerQuery, ttl_s: Mapping[str, float]) -> None:
        """Implemented by the backend."""
        raise NotImplementedError

    async def accepted(self, platform: str, event_ids: Sequence[str]) -> set[str]:
        """One platform's accepted subset, via ``accepted_many``."""
        found = await self.accepted_many({platform: event_ids})
        return found.get(platform, set())

    async def record(self, platform: str, event_ids: Sequence[str], ttl_s: float) -> None:
        """One platform's record, via ``record_many``."""
        await self.record_many({platform: event_ids}, {platform: ttl_s})


@dataclass(frozen=True)
class LedgerTtl:
    """How long acceptance is remembered per platform (days; ``default_days`` for the rest).

    Configured as ``ledger.ttl_days`` so an operator can lengthen it for a platform whose
    deduplication window is longer, without code changes."""

    default_days: float = DEFAULT_TTL_DAYS
    per_platform_days: Mapping[str, float] = field(default_factory=dict)

    def seconds(self, platform: str) -> float:
        """Retention in seconds for ``platform``."""
        return float(self.per_platform_days.get(platform, self.default_days)) * 86400.0

    def for_platforms(self, platforms: Sequence[str]) -> dict[str, float]:
        """``seconds`` for each platform, as ``record_many`` wants it."""
        return {p: self.seconds(p) for p in platforms}
