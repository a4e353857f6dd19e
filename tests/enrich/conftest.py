"""Fixtures for the click-ID enrichment tests: a real Redis, SQLite in a tmp dir, and helpers."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
import redis

from consumer.devtools.redis_local import RedisServer
from consumer.enrich.memory_store import InMemoryClickIdStore
from consumer.enrich.redis_store import RedisClickIdStore
from consumer.enrich.sqlite_store import SqliteClickIdStore
from consumer.enrich.store import ClickIdStore
from consumer.enrich.ttl import TtlPolicy

REPO_ROOT = Path(__file__).resolve().parents[2]
SHARED = (REPO_ROOT / ".." / "shared").resolve()
DAY_MS = 86_400_000


def now_ms() -> int:
    """Wall clock in epoch ms."""
    return int(time.time() * 1000)


def capture(
    capture_id: str, t_ms: int, click_ids: dict[str, Any] | None = None, **identity: Any
) -> dict[str, Any]:
    """A decoded ClickIdCapture with defaults for every optional field."""
    record: dict[str, Any] = {
        "capture_id": capture_id,
        "capture_time": t_ms,
        "external_id": None,
        "anonymous_id": None,
        "session_id": None,
        "lead_id": None,
        "email_sha256": None,
        "click_ids": dict(click_ids or {}),
        "landing_url": None,
        "referrer_url": None,
        "cookie_domain": None,
        "ip_address": "203.0.113.9",
        "user_agent": "Mozilla/5.0 test",
        "site_id": None,
    }
    record.update(identity)
    return record


def purchase(
    event_id: str, t_ms: int, click_ids: dict[str, Any] | None = None, **user: Any
) -> dict[str, Any]:
    """A decoded purchase event with only the given user identifiers."""
    return {
        "type": "purchase",
        "event_id": event_id,
        "event_time": t_ms,
        "order_id": "O-" + event_id,
        "value": 10.0,
        "currency": "EUR",
        "items": [],
        "user": dict(user),
        "click_ids": dict(click_ids or {}),
        "consent": {"ad_user_data": "GRANTED"},
        "context": {"action_source": "WEBSITE", "ip_address": None, "user_agent": None},
    }


@pytest.fixture(scope="session")
def redis_server() -> Iterator[RedisServer]:
    """One real redis-server for the session (tests flush it before use)."""
    try:
        server = RedisServer()
    except RuntimeError as exc:
        pytest.skip(str(exc))
    with server:
        yield server


TTL = TtlPolicy(default_days=90, by_kind={"ttclid": 28})


@pytest.fixture(params=["memory", "sqlite", "redis"])
async def store(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[ClickIdStore]:
    """The same suite runs against every backend, each starting empty."""
    backend: ClickIdStore
    if request.param == "memory":
        backend = InMemoryClickIdStore(TTL)
    elif request.param == "sqlite":
        backend = SqliteClickIdStore(tmp_path / "click_ids.db", TTL)
    else:
        server: RedisServer = request.getfixturevalue("redis_server")
        with redis.Redis.from_url(server.url) as client:
            client.flushdb()
        backend = RedisClickIdStore(server.url, TTL)
    yield backend
    await backend.close()
