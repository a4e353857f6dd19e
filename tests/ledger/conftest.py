"""Fixtures for ledger tests: every backend (memory, SQLite in a tmp dir, a real Redis)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from consumer.devtools.redis_local import RedisServer
from consumer.ledger.base import LedgerBase
from consumer.ledger.memory import MemoryLedger
from consumer.ledger.redis import RedisLedger
from consumer.ledger.sqlite import SqliteLedger


class Clock:
    """A settable wall clock (seconds), so TTL tests need not wait."""

    def __init__(self, now: float = 1_700_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


@pytest.fixture(scope="session")
def ledger_redis() -> Iterator[RedisServer]:
    """One redis-server for the ledger tests."""
    with RedisServer() as server:
        yield server


@pytest.fixture
def clock() -> Clock:
    """The injectable clock shared by a test's ledger."""
    return Clock()


@pytest.fixture(params=["memory", "sqlite", "redis"])
async def ledger(request: pytest.FixtureRequest, tmp_path: Path, clock: Clock) -> AsyncIterator[LedgerBase]:
    """Each backend in turn, empty."""
    backend: LedgerBase
    if request.param == "memory":
        backend = MemoryLedger(clock)
    elif request.param == "sqlite":
        backend = SqliteLedger(tmp_path / "ledger.db", clock=clock)
    else:
        server: RedisServer = request.getfixturevalue("ledger_redis")
        backend = RedisLedger(server.url, key_prefix=f"t{id(request)}:")  # PXAT: real clock
    yield backend
    await backend.close()
