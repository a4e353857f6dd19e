"""The ledger contract on every backend: batch lookups, idempotent records, per-platform TTL."""

from __future__ import annotations

from pathlib import Path

import pytest

from consumer.enrich.store import StoreUnavailable
from consumer.ledger.base import LedgerBase, LedgerTtl
from consumer.ledger.redis import RedisLedger
from consumer.ledger.sqlite import SqliteLedger
from tests.ledger.conftest import Clock

DAY = 86400.0


async def test_records_are_per_platform(ledger: LedgerBase) -> None:
    await ledger.record_many({"meta": ["a", "b"], "google": ["b"]}, {"meta": DAY, "google": DAY})
    found = await ledger.accepted_many({"meta": ["a", "b", "c"], "google": ["a", "b"], "tiktok": ["a"]})
    assert found == {"meta": {"a", "b"}, "google": {"b"}}
    assert await ledger.accepted("meta", ["c"]) == set()


async def test_record_is_idempotent_and_single_platform_calls_work(ledger: LedgerBase) -> None:
    await ledger.record("meta", ["x", "x"], DAY)
    await ledger.record("meta", ["x"], DAY)
    assert await ledger.accepted("meta", ["x", "y", "x"]) == {"x"}


async def test_empty_queries_cost_nothing(ledger: LedgerBase) -> None:
    assert await ledger.accepted_many({}) == {}
    assert await ledger.accepted_many({"meta": []}) == {}
    await ledger.record_many({}, {})


async def test_ttl_expires_per_platform(ledger: LedgerBase, clock: Clock) -> None:
    ttl = LedgerTtl(default_days=7, per_platform_days={"google": 30})
    await ledger.record_many({"meta": ["e"], "google": ["e"]}, ttl.for_platforms(["meta", "google"]))
    if isinstance(ledger, RedisLedger):
        pytest.skip("Redis expires keys on its own clock (PXAT), not the injected one")
    clock.now += 8 * DAY
    assert await ledger.accepted_many({"meta": ["e"], "google": ["e"]}) == {"google": {"e"}}
    clock.now += 30 * DAY
    assert await ledger.accepted_many({"meta": ["e"], "google": ["e"]}) == {}


async def test_recording_again_extends_retention(ledger: LedgerBase, clock: Clock) -> None:
    if isinstance(ledger, RedisLedger):
        pytest.skip("Redis expiry uses its own clock")
    await ledger.record("meta", ["e"], DAY)
    clock.now += 0.9 * DAY
    await ledger.record("meta", ["e"], DAY)
    clock.now += 0.5 * DAY
    assert await ledger.accepted("meta", ["e"]) == {"e"}


async def test_large_batches_are_chunked(ledger: LedgerBase) -> None:
    ids = [f"ev-{i}" for i in range(2500)]
    await ledger.record("meta", ids[::2], DAY)
    assert await ledger.accepted("meta", ids) == set(ids[::2])


async def test_sqlite_survives_reopen(tmp_path: Path) -> None:
    first = SqliteLedger(tmp_path / "l.db")
    await first.record("meta", ["kept"], DAY)
    await first.close()
    second = SqliteLedger(tmp_path / "l.db")
    assert await second.accepted("meta", ["kept"]) == {"kept"}
    await second.close()


async def test_sqlite_unusable_file_is_an_outage(tmp_path: Path) -> None:
    ledger = SqliteLedger(tmp_path / "missing-dir" / "l.db")
    with pytest.raises(StoreUnavailable):
        await ledger.accepted("meta", ["a"])
    await ledger.close()
    with pytest.raises(StoreUnavailable):
        await ledger.accepted("meta", ["a"])


async def test_redis_down_is_an_outage() -> None:
    from consumer.devtools.redis_local import _free_port

    ledger = RedisLedger(f"redis://127.0.0.1:{_free_port()}/0")
    with pytest.raises(StoreUnavailable):
        await ledger.accepted("meta", ["a"])
    with pytest.raises(StoreUnavailable):
        await ledger.record("meta", ["a"], DAY)
    await ledger.close()
