"""The embedded default ledger: a table in a local SQLite file (by default the click-ID store's).

One row per (platform, event id) with an absolute expiry; lookups ignore expired rows and a
purge deletes them every few minutes during writes.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Mapping
from pathlib import Path

from consumer.ledger.base import LedgerBase, LedgerQuery
from consumer.ledger.sqlite_worker import MAX_SQL_VARS, SqliteWorker, transaction
from consumer.storage import Clock, wall_clock_ms

_SCHEMA = """
CREATE TABLE IF NOT EXISTS delivery_ledger (
    platform TEXT NOT NULL,
    event_id TEXT NOT NULL,
    expires_at_ms INTEGER NOT NULL,
    PRIMARY KEY (platform, event_id)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS delivery_ledger_expiry ON delivery_ledger (expires_at_ms);
"""

_UPSERT = """
INSERT INTO delivery_ledger (platform, event_id, expires_at_ms) VALUES (?, ?, ?)
ON CONFLICT (platform, event_id) DO UPDATE SET expires_at_ms = excluded.expires_at_ms
WHERE excluded.expires_at_ms > delivery_ledger.expires_at_ms
"""


class SqliteLedger(LedgerBase):
    """:class:`~consumer.ledger.base.DeliveryLedger` on a SQLite file."""

    def __init__(
        self, path: str | Path, *, purge_interval_s: float = 300.0, clock: Clock = time.time
    ) -> None:
        self._worker = SqliteWorker(path, _SCHEMA, label="delivery-ledger")
        self._clock = clock
        self._purge_interval_ms = int(purge_interval_s * 1000)
        self._last_purge_ms = 0

    def _accepted_sync(self, conn: sqlite3.Connection, query: LedgerQuery) -> dict[str, set[str]]:
        now = wall_clock_ms(self._clock)
        found: dict[str, set[str]] = {}
        for platform, ids in query.items():
            unique = list(dict.fromkeys(ids))
            for start in range(0, len(unique), MAX_SQL_VARS):
                chunk = unique[start : start + MAX_SQL_VARS]
                marks = ",".join("?" * len(chunk))
                rows = conn.execute(
                    "SELECT event_id FROM delivery_ledger WHERE platform = ? "
                    f"AND event_id IN ({marks}) AND expires_at_ms > ?",
                    (platform, *chunk, now),
                ).fetchall()
                if rows:
                    found.setdefault(platform, set()).update(r[0] for r in rows)
        return found

    def _record_sync(
        self, conn: sqlite3.Connection, accepted: LedgerQuery, ttl_s: Mapping[str, float]
    ) -> None:
        now = wall_clock_ms(self._clock)
        rows = [
            (platform, event_id, now + int(ttl_s[platform] * 1000))
            for platform, ids in accepted.items()
            for event_id in ids
        ]

        def write(c: sqlite3.Connection) -> None:
            c.executemany(_UPSERT, rows)

        transaction(conn, write)
        if now - self._last_purge_ms >= self._purge_interval_ms:
            conn.execute("DELETE FROM delivery_ledger WHERE expires_at_ms <= ?", (now,))
            self._last_purge_ms = now

    async def accepted_many(self, query: LedgerQuery) -> dict[str, set[str]]:
        """One executor hop; one ``SELECT ... IN`` per platform (chunked beyond 900 ids)."""
        if not any(query.values()):
            return {}
        return await self._worker.run(lambda c: self._accepted_sync(c, query))

    async def record_many(self, accepted: LedgerQuery, ttl_s: Mapping[str, float]) -> None:
        """One transaction with one ``executemany``."""
        if any(accepted.values()):
            await self._worker.run(lambda c: self._record_sync(c, accepted, ttl_s))

    async def close(self) -> None:
        """Close the connection and its thread."""
        await self._worker.close()
