"""The guard: lookups never block delivery, writes are buffered and batched, outages are counted."""

from __future__ import annotations

import asyncio

from consumer.ledger.base import LedgerTtl
from consumer.ledger.guard import LedgerGuard
from consumer.ledger.memory import MemoryLedger
from consumer.observability import metrics


def _fallbacks(op: str) -> float:
    return metrics.LEDGER_FALLBACKS.labels(op)._value.get()


async def test_notes_are_flushed_in_one_batch() -> None:
    backend = MemoryLedger()
    guard = LedgerGuard(backend, LedgerTtl(), flush_interval_s=0.05)
    for i in range(50):
        guard.note("meta", f"e{i}")
    guard.note("google", "e1")
    await asyncio.sleep(0.2)
    assert backend.writes == 1
    assert guard.recorded == 51
    assert await guard.lookup({"meta": ["e1", "zz"], "google": ["e1"]}) == {"meta": {"e1"}, "google": {"e1"}}
    await guard.close()


async def test_flush_max_triggers_an_early_write() -> None:
    backend = MemoryLedger()
    guard = LedgerGuard(backend, flush_interval_s=10, flush_max=10)
    for i in range(10):
        guard.note("meta", f"e{i}")
    await asyncio.sleep(0.05)
    assert backend.writes == 1
    await guard.close()


async def test_close_writes_what_is_left() -> None:
    backend = MemoryLedger()
    guard = LedgerGuard(backend, flush_interval_s=10)
    guard.note("meta", "last")
    await guard.close()
    assert await backend.accepted("meta", ["last"]) == {"last"}


async def test_lookup_outage_falls_back_to_sending_and_cools_down() -> None:
    backend = MemoryLedger()
    await backend.record("meta", ["a"], 3600)
    backend.down = True
    guard = LedgerGuard(backend, cooldown_s=0.2)
    before = _fallbacks("lookup")
    assert await guard.lookup({"meta": ["a"]}) == {}
    lookups = backend.lookups
    assert await guard.lookup({"meta": ["a"]}) == {}  # cooling down: the backend is not asked
    assert backend.lookups == lookups
    assert _fallbacks("lookup") - before == 2
    backend.down = False
    await asyncio.sleep(0.25)
    assert await guard.lookup({"meta": ["a"]}) == {"meta": {"a"}}
    await guard.close()


async def test_record_outage_is_dropped_and_counted() -> None:
    backend = MemoryLedger()
    backend.down = True
    guard = LedgerGuard(backend, flush_interval_s=10)
    before = _fallbacks("record")
    guard.note("meta", "a")
    await guard.flush()
    assert _fallbacks("record") - before == 1
    backend.down = False
    await guard.close()
    assert await backend.accepted("meta", ["a"]) == set()


def test_ttl_defaults_and_overrides() -> None:
    ttl = LedgerTtl(per_platform_days={"google": 90})
    assert ttl.seconds("meta") == 7 * 86400
    assert ttl.for_platforms(["google"]) == {"google": 90 * 86400}
