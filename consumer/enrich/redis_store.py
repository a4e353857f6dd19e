"""Click-ID store on Redis, for deployments that run several consumer replicas.

Each identity key maps to one compact JSON value with an absolute expiry (``PXAT``), so Redis
purges expired captures itself. "Newer wins" is decided inside Redis by a small Lua script,
which is atomic without WATCH/MULTI retries; a batch is one pipeline (one round trip), a lookup
is one ``MGET``.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

import orjson
import redis.asyncio as aioredis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import ReadOnlyError
from redis.exceptions import TimeoutError as RedisTimeoutError

from consumer.enrich.model import StoredCapture
from consumer.enrich.store import CaptureRecord, Clock, StoreUnavailable, wall_clock_ms
from consumer.enrich.ttl import TtlPolicy
from consumer.store_check import redis_location

# KEYS[1] = key; ARGV = capture_time_ms, capture_id, value, expire_at_ms.
# Writes unless the stored capture is newer by (capture time, capture id).
_NEWER_WINS = """
local cur = redis.call('GET', KEYS[1])
if cur then
  local ok, obj = pcall(cjson.decode, cur)
  if ok and type(obj) == 'table' and obj['t'] ~= nil then
    local ct = tonumber(obj['t'])
    local t = tonumber(ARGV[1])
    if ct > t or (ct == t and tostring(obj['id']) > ARGV[2]) then
      return 0
    end
  end
end
redis.call('SET', KEYS[1], ARGV[3], 'PXAT', ARGV[4])
return 1
"""

_OUTAGE_ERRORS: tuple[type[BaseException], ...] = (
    RedisConnectionError,
    RedisTimeoutError,
    ReadOnlyError,  # a replica after failover: transient until the client finds the new primary
    TimeoutError,
    OSError,
)


class RedisClickIdStore:
    """:class:`~consumer.enrich.store.ClickIdStore` on a standalone Redis (MGET needs one slot space)."""

    def __init__(
        self,
        url: str,
        ttl: TtlPolicy | None = None,
        *,
        key_prefix: str = "capi:cid:",
        socket_timeout_s: float = 2.0,
        connect_timeout_s: float = 1.0,
        clock: Clock = time.time,
        client: aioredis.Redis | None = None,
    ) -> None:
        """Connect lazily to ``url`` (``redis://host:port/db``); one reconnect try per command.

        The engine owns retry policy (wait and retry the batch), so the client does not back off
        on its own: a dead server surfaces as :class:`StoreUnavailable` within the timeouts.
        """
        self._ttl = ttl or TtlPolicy()
        self._prefix = key_prefix
        self._clock = clock
        self._where = redis_location(url)  # named in outage messages, without credentials
        self._redis = client or aioredis.Redis.from_url(
            url,
            socket_timeout=socket_timeout_s,
            socket_connect_timeout=connect_timeout_s,
            retry=Retry(NoBackoff(), 1),
        )
        self._script = self._redis.register_script(_NEWER_WINS)

    async def upsert_many(self, records: Sequence[CaptureRecord]) -> None:
        """One pipeline with one script call per (key, capture); expired captures are skipped."""
        if not records:
            return
        now = wall_clock_ms(self._clock)
        try:
            async with self._redis.pipeline(transaction=False) as pipe:
                queued = 0
                for keys, capture in records:
                    expiry = self._ttl.record_expiry_ms(capture.capture_time_ms, capture.click_ids)
                    if expiry <= now:
                        continue
                    value = orjson.dumps(capture.to_json_obj())
                    args: list[Any] = [capture.capture_time_ms, capture.capture_id, value, expiry]
                    for key in keys:
                        await self._script(keys=[self._prefix + key], args=args, client=pipe)
                        queued += 1
                if queued:
                    await pipe.execute()
        except _OUTAGE_ERRORS as exc:
            raise StoreUnavailable(f"Redis click-ID store {self._where}: {exc}") from exc

    async def lookup_many(self, keys: Sequence[str]) -> dict[str, StoredCapture]:
        """One ``MGET``; values whose retention passed are filtered even if Redis still has them."""
        if not keys:
            return {}
        unique = list(dict.fromkeys(keys))
        try:
            values = await self._redis.mget([self._prefix + k for k in unique])
        except _OUTAGE_ERRORS as exc:
            raise StoreUnavailable(f"Redis click-ID store {self._where}: {exc}") from exc
        now = wall_clock_ms(self._clock)
        found: dict[str, StoredCapture] = {}
        for key, raw in zip(unique, values, strict=True):
            if raw is None:
                continue
            capture = StoredCapture.from_json_obj(orjson.loads(raw))
            if self._ttl.record_expiry_ms(capture.capture_time_ms, capture.click_ids) > now:
                found[key] = capture
        return found

    async def ping(self) -> None:
        """``PING`` the server."""
        try:
            await self._redis.ping()
        except _OUTAGE_ERRORS as exc:
            raise StoreUnavailable(f"Redis click-ID store {self._where}: {exc}") from exc

    async def close(self) -> None:
        """Close the connection pool."""
        await self._redis.aclose()
