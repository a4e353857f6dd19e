"""One SQLite connection owned by one worker thread, awaited from the event loop.

SQLite calls block, so a store keeps its only connection on a dedicated thread and the loop just
awaits futures. Disk and locking errors surface as ``StoreUnavailable`` so callers treat them
like any other backend outage. Written to be shared by every SQLite-backed store (the delivery
ledger uses it; the click-ID store keeps the same pattern inline).
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TypeVar

from consumer.storage import StoreUnavailable

T = TypeVar("T")

MAX_SQL_VARS = 900
"""Below every SQLite build's host-parameter limit: chunk ``IN (...)`` lists at this size."""


class SqliteWorker:
    """Lazily opens ``path`` (WAL, ``synchronous=NORMAL``, ``schema`` applied) on its thread."""

    def __init__(self, path: str | Path, schema: str, *, label: str, busy_timeout_ms: int = 5000) -> None:
        self._path = str(path)
        self._schema = schema
        self._label = label
        self._busy_timeout_s = busy_timeout_ms / 1000
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix=f"{label}-sqlite")
        self._conn: sqlite3.Connection | None = None
        self._closed = False

    def _connection(self) -> sqlite3.Connection:
        if self._conn is None:
            conn = sqlite3.connect(self._path, timeout=self._busy_timeout_s, isolation_level=None)
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=NORMAL")
            conn.executescript(self._schema)
            self._conn = conn
        return self._conn

    async def run(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        """Run ``fn(connection)`` on the worker thread; SQLite errors become StoreUnavailable."""
        if self._closed:
            raise StoreUnavailable(f"{self._label}: closed")
        loop = asyncio.get_running_loop()
        try:
            return await loop.run_in_executor(self._executor, lambda: fn(self._connection()))
        except (sqlite3.OperationalError, sqlite3.DatabaseError) as exc:
            raise StoreUnavailable(f"{self._label} {self._path}: {exc}") from exc

    async def close(self) -> None:
        """Close the connection on its own thread, then stop the thread."""
        if self._closed:
            return
        self._closed = True

        def close_sync() -> None:
            if self._conn is not None:
                self._conn.close()
                self._conn = None

        await asyncio.get_running_loop().run_in_executor(self._executor, close_sync)
        self._executor.shutdown(wait=True)


def transaction(conn: sqlite3.Connection, body: Callable[[sqlite3.Connection], None]) -> None:
    """Run ``body`` inside BEGIN/COMMIT, rolling back on any error."""
    conn.execute("BEGIN")
    try:
        body(conn)
        conn.execute("COMMIT")
    except BaseException:
        conn.execute("ROLLBACK")
        raise
