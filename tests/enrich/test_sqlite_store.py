"""SQLite specifics: WAL, the worker thread, purging expired rows."""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path

from consumer.enrich.model import StoredCapture
from consumer.enrich.sqlite_store import SqliteClickIdStore
from consumer.enrich.ttl import TtlPolicy
from tests.enrich.conftest import DAY_MS, now_ms


async def test_wal_purge_and_worker_thread(tmp_path: Path) -> None:
    now = now_ms()
    path = tmp_path / "ids.db"
    clock_s = [now / 1000]
    store = SqliteClickIdStore(path, TtlPolicy(by_kind={"ttclid": 28}), clock=lambda: clock_s[0])
    try:
        await store.upsert_many(
            [
                (["external_id:a"], StoredCapture("a", now - 20 * DAY_MS, {"ttclid": "T"}, "external_id:a")),
                (["external_id:b"], StoredCapture("b", now - 20 * DAY_MS, {"gclid": "G"}, "external_id:b")),
            ]
        )
        clock_s[0] += 10 * DAY_MS / 1000  # ttclid record (28 d) is now expired, gclid (90 d) is not
        assert list(await store.lookup_many(["external_id:a", "external_id:b"])) == ["external_id:b"]
        assert await store.purge_expired() == 1
        main_thread = threading.get_ident()
        worker = await store._run(threading.get_ident)
        assert worker != main_thread
    finally:
        await store.close()
    with sqlite3.connect(path) as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert conn.execute("SELECT count(*) FROM click_ids").fetchone()[0] == 1


async def test_large_lookup_is_chunked(tmp_path: Path) -> None:
    store = SqliteClickIdStore(tmp_path / "ids.db")
    try:
        keys = [f"session_id:{i}" for i in range(2000)]
        await store.upsert_many([([k], StoredCapture(k, now_ms(), {"gclid": k}, k)) for k in keys])
        found = await store.lookup_many(keys)
        assert len(found) == 2000 and found["session_id:1999"].click_ids == {"gclid": "session_id:1999"}
    finally:
        await store.close()
