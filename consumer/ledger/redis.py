"""The ledger on Redis, for deployments with several replicas (they must share what was accepted).

One key per (platform, event id) with an absolute expiry (``PXAT``), so Redis purges it; a batch
lookup is one ``MGET`` over every platform's keys, a record is one pipeline of ``SET``s.
"""

from __future__ import annotations

import time
from collections.abc import Mapping

import redis.asyncio as aioredis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import ReadOnlyError
from redis.exceptions import TimeoutError as RedisTimeoutError

from consumer.ledger.base import LedgerBase, LedgerQuery
from consumer.storage import Clock, StoreUnavailable, wall_clock_ms
from consumer.store_check import redis_location

_OUTAGE_ERRORS: tuple[type[BaseException], ...] = (
    RedisConnectionError,
    RedisTimeoutError,
    ReadOnlyError,
    TimeoutError,
    OSError,
)


class RedisLedger(LedgerBase):
    """:class:`~consumer.ledger.base.DeliveryLedger` on a standalone Redis."""

    def __init__(
        self,
        url: str,
        *,
        key_prefix: str = "capi:ledger:",
        socket_timeout_s: float = 1.0,
        connect_timeout_s: float = 0.5,
        clock: Clock = time.time,
        client: aioredis.Redis | None = None,
    ) -> None:
        """Connect lazily; short timeouts because a slow ledger must not slow delivery (the
        guard falls back to sending when it raises)."""
        self._prefix = key_prefix
        self._clock = clock
        self._where = redis_location(url)  # named in outage messages, without credentials
        self._redis = client or aioredis.Redis.from_url(
            url,
            socket_timeout=socket_timeout_s,
            socket_connect_timeout=connect_timeout_s,
            retry=Retry(NoBackoff(), 1),
        )

    def _key(self, platform: str, event_id: str) -> str:
        return f"{self._prefix}{platform}:{event_id}"

    async def accepted_many(self, query: LedgerQuery) -> dict[str, set[str]]:
        """One ``MGET`` for the whole batch."""
        pairs = [(p, e) for p, ids in query.items() for e in dict.fromkeys(ids)]
        if not pairs:
            return {}
        try:
            values = await self._redis.mget([self._key(p, e) for p, e in pairs])
        except _OUTAGE_ERRORS as exc:
            raise StoreUnavailable(f"Redis delivery ledger {self._where}: {exc}") from exc
        found: dict[str, set[str]] = {}
        for (platform, event_id), value in zip(pairs, values, strict=True):
            if value is not None:
                found.setdefault(platform, set()).add(event_id)
        return found

    async def record_many(self, accepted: LedgerQuery, ttl_s: Mapping[str, float]) -> None:
        """One non-transactional pipeline of ``SET key 1 PXAT expiry``."""
        now = wall_clock_ms(self._clock)
        try:
            async with self._redis.pipeline(transaction=False) as pipe:
                queued = 0
                for platform, ids in accepted.items():
                    expiry = now + int(ttl_s[platform] * 1000)
                    for event_id in ids:
                        pipe.set(self._key(platform, event_id), b"1", pxat=expiry)
                        queued += 1
                if queued:
                    await pipe.execute()
        except _OUTAGE_ERRORS as exc:
            raise StoreUnavailable(f"Redis delivery ledger {self._where}: {exc}") from exc

    async def close(self) -> None:
        """Close the connection pool."""
        await self._redis.aclose()
