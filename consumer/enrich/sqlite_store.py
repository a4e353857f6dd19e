"""The embedded default click-ID store: one SQLite file, no server to run.

SQLite calls block, so every call runs on one dedicated worker thread that owns the only
connection; the event loop only awaits futures and never stalls on disk I/O. WAL mode with
``synchronous=NORMAL`` gives durable-enough writes (the compacted topic can always rebuild the
store) at a fraction of the fsync cost.
"""

from __future__ import annotations

import asyncio
import sqlite3
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TypeVar

import orjson

from consumer.enrich.model import StoredCapture
from consumer.enrich.store import CaptureRecord, Clock, StoreUnavailable, wall_clock_ms
from consumer.enrich.ttl import TtlPolicy

T = TypeVar("T")

_SCHEMA = """
CREATE TABLE IF NOT EXISTS click_ids (
    key TEXT PRIMARY KEY,
    capture_id TEXT NOT NULL,
    capture_time_ms INTEGER NOT NULL,
    expires_at_ms INTEGER NOT NULL,
    payload BLOB NOT NULL
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS click_ids_expiry ON click_ids (expires_at_ms);
"""

# Newer wins: greater capture time, ties broken by capture id (order-independent, idempotent).
_UPSERT = """
INSERT INTO click_ids (key, capture_id, capture_time_ms, expires_at_ms, payload)
VALUES (?, ?, ?, ?, ?)
ON CONFLICT (key) DO UPDATE SET
    capture_id = excluded.capture_id,
    capture_time_ms = excluded.capture_time_ms,
    expires_at_ms = excluded.expires_at_ms,
    payload = excluded.payload
WHERE excluded.capture_time_ms > click_ids.capture_time_ms
   OR (excluded.capture_time_ms = click_ids.capture_time_ms AND excluded.capture_id >= click_ids.capture_id)
"""

_MAX_VARS = 900  # below every SQLite build's host-parameter limit


class SqliteClickIdStore:
    """:class:`~consumer.enrich.store.ClickIdStore` on a local SQLite file."""

    def __init__(
        self,
        path: str | Path,
        ttl: TtlPolicy | None = None,
        *,
        purge_interval_s: float = 300.0,
        busy_timeout_ms: int = 5000,
        clock: Clock = time.time,
    ) -> None:
        """Open (lazily, on the worker thread) the database at ``path``, creating it if needed."""
        self._path = str(path)
        self._ttl = ttl or TtlPolicy()
        self._clock = clock
        self._purge_interval_ms = int(purge_interval_s * 1000)
        self._busy_timeout_ms = busy_timeout_ms
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="clickid-sqlite")
        self._conn: sqlite3.Connection | None = None
        self._last_purge_ms = 0
        self._closed = False

    # -- worker-thread side -------------------------------------------------------------------
    def _connection(self) -> sqlite3.Connection:
        if self._conn is None:
            conn = sqlite3.connect(self._path, timeout=self._busy_timeout_ms / 1000, isolation_level=None)
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=NORMAL")
            conn.executescript(_SCHEMA)
            self._conn = conn
        return self._conn

    def _upsert_sync(self, records: Sequence[CaptureRecord]) -> None:
        rows: list[tuple[str, str, int, int, bytes]] = []
        for keys, capture in records:
            expiry = self._ttl.record_expiry_ms(capture.capture_time_ms, capture.click_ids)
            payload = orjson.dumps(capture.to_json_obj())
            rows.extend((k, capture.capture_id, capture.capture_time_ms, expiry, payload) for k in keys)
        conn = self._connection()
        conn.execute("BEGIN")
        try:
            conn.executemany(_UPSERT, rows)
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        now = wall_clock_ms(self._clock)
        if now - self._last_purge_ms >= self._purge_interval_ms:
            self._purge_sync(now)

    def _lookup_sync(self, keys: Sequence[str]) -> dict[str, StoredCapture]:
        conn = self._connection()
        now = wall_clock_ms(self._clock)
        unique = list(dict.fromkeys(keys))
        found: dict[str, StoredCapture] = {}
        for start in range(0, len(unique), _MAX_VARS):
            chunk = unique[start : start + _MAX_VARS]
            marks = ",".join("?" * len(chunk))
            cursor = conn.execute(
                f"SELECT key, payload FROM click_ids WHERE key IN ({marks}) AND expires_at_ms > ?",
                (*chunk, now),
            )
            for key, payload in cursor:
                found[key] = StoredCapture.from_json_obj(orjson.loads(payload))
        return found

    def _purge_sync(self, now_ms: int) -> int:
        cursor = self._connection().execute("DELETE FROM click_ids WHERE expires_at_ms <= ?", (now_ms,))
        self._last_purge_ms = now_ms
        return cursor.rowcount

    def _ping_sync(self) -> None:
        self._connection().execute("SELECT 1").fetchone()

    def _close_sync(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    # -- event-loop side ----------------------------------------------------------------------
    async def _run(self, fn: Callable[[], T]) -> T:
        if self._closed:
            raise StoreUnavailable("SQLite click-ID store is closed")
        loop = asyncio.get_running_loop()
        try:
            return await loop.run_in_executor(self._executor, fn)
        except sqlite3.DatabaseError as exc:  # locked, disk I/O error, cannot open, corrupt
            raise StoreUnavailable(f"SQLite click-ID store {self._path}: {exc}") from exc

    async def upsert_many(self, records: Sequence[CaptureRecord]) -> None:
        """One transaction with one ``executemany`` for the whole batch."""
        if records:
            await self._run(lambda: self._upsert_sync(records))

    async def lookup_many(self, keys: Sequence[str]) -> dict[str, StoredCapture]:
        """One ``SELECT ... WHERE key IN (...)`` (chunked only beyond 900 keys)."""
        if not keys:
            return {}
        return await self._run(lambda: self._lookup_sync(keys))

    async def purge_expired(self) -> int:
        """Delete expired rows now (also done every ``purge_interval_s`` during upserts)."""
        return await self._run(lambda: self._purge_sync(wall_clock_ms(self._clock)))

    async def ping(self) -> None:
        """Open the file if needed and run a trivial query."""
        await self._run(self._ping_sync)

    async def close(self) -> None:
        """Close the connection on its own thread, then stop the thread."""
        if self._closed:
            return
        loop = asyncio.get_running_loop()
        await loop.run_in_executor(self._executor, self._close_sync)
        self._closed = True
        self._executor.shutdown(wait=True)
