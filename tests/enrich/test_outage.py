"""Store outages surface as StoreUnavailable, and the store recovers once the backend is back."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from consumer.devtools.redis_local import RedisServer
from consumer.enrich.enricher import Enricher
from consumer.enrich.memory_store import InMemoryClickIdStore
from consumer.enrich.model import StoredCapture
from consumer.enrich.redis_store import RedisClickIdStore
from consumer.enrich.sqlite_store import SqliteClickIdStore
from consumer.enrich.store import StoreUnavailable
from tests.enrich.conftest import now_ms, purchase


@pytest.fixture
def own_redis() -> Iterator[RedisServer]:
    """A server this test may stop and restart without disturbing the shared one."""
    try:
        server = RedisServer()
    except RuntimeError as exc:
        pytest.skip(str(exc))
    server.start()
    yield server
    server.stop()


async def test_redis_outage_raises_then_recovers(own_redis: RedisServer) -> None:
    store = RedisClickIdStore(own_redis.url, socket_timeout_s=0.5, connect_timeout_s=0.5)
    record = (["external_id:u"], StoredCapture("c", now_ms(), {"gclid": "G"}, "external_id:u"))
    try:
        await store.upsert_many([record])
        assert "external_id:u" in await store.lookup_many(["external_id:u"])
        own_redis.kill()
        with pytest.raises(StoreUnavailable):
            await store.lookup_many(["external_id:u"])
        with pytest.raises(StoreUnavailable):
            await store.upsert_many([record])
        with pytest.raises(StoreUnavailable):
            await store.ping()
        own_redis.start()  # same port, empty (no persistence)
        assert await store.lookup_many(["external_id:u"]) == {}
        await store.upsert_many([record])
        assert "external_id:u" in await store.lookup_many(["external_id:u"])
    finally:
        await store.close()


async def test_enricher_raises_and_leaves_events_untouched_on_outage() -> None:
    store = InMemoryClickIdStore()
    enricher = Enricher(store)
    store.fail = True
    event = purchase("e", now_ms(), external_id="u")
    with pytest.raises(StoreUnavailable):
        await enricher.enrich_batch([event], now_ms())
    assert "_enrichment" not in event and event["click_ids"] == {}
    assert enricher.stats.error == 1
    store.fail = False
    await enricher.enrich_batch([event], now_ms())
    assert event["_enrichment"]["capture_id"] is None


async def test_sqlite_unopenable_file_is_unavailable(tmp_path: Path) -> None:
    store = SqliteClickIdStore(tmp_path / "missing-dir" / "db.sqlite")
    with pytest.raises(StoreUnavailable):
        await store.ping()
    await store.close()
