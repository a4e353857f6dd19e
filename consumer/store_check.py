"""A store that cannot be opened is a start-up error, not an outage to wait out.

The SQLite click-ID store and ledger used to open lazily on first use: an unwritable directory,
a corrupt file or a path whose parent is a file then showed up after the relay had joined its
group — as an endless ``click_id_store_unavailable`` retry or a traceback. `open_sqlite` tries
the real thing at build time (create the directory, open, switch to WAL, read the schema, take
and release a write lock) and raises `StoreOpenError` with one line naming the store, the path
and the reason; the CLI prints it and exits 2. Later failures stay outages (retried).
"""

from __future__ import annotations

import contextlib
import sqlite3
from pathlib import Path
from urllib.parse import urlsplit


class StoreOpenError(RuntimeError):
    """A configured store cannot be opened; the message names it, its path and the reason."""


def open_sqlite(path: str | Path, label: str) -> None:
    """Check that the SQLite file at ``path`` can be created or opened for writing."""
    target = Path(path)
    parent = target.parent
    for ancestor in (parent, *parent.parents):
        if ancestor.exists() and not ancestor.is_dir():
            raise StoreOpenError(f"{label} {target}: cannot open: {ancestor} is a file, not a directory")
    try:
        parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise StoreOpenError(f"{label} {target}: cannot create directory {parent}: {exc.strerror}") from None
    if target.exists() and target.is_dir():
        raise StoreOpenError(f"{label} {target}: cannot open: it is a directory")
    conn: sqlite3.Connection | None = None
    try:
        conn = sqlite3.connect(str(target), timeout=5.0, isolation_level=None)
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
        conn.execute("BEGIN IMMEDIATE")
        conn.execute("ROLLBACK")
    except sqlite3.DatabaseError as exc:
        raise StoreOpenError(f"{label} {target}: cannot open: {_reason(exc, parent)}") from None
    finally:
        if conn is not None:
            with contextlib.suppress(sqlite3.Error):
                conn.close()


def _reason(exc: sqlite3.DatabaseError, parent: Path) -> str:
    """SQLite's message, plus the likely cause where SQLite's own words do not say it."""
    text = str(exc)
    if "unable to open" in text or "readonly" in text:
        return f"{text} (is {parent} writable by this user?)"
    if "not a database" in text or "malformed" in text:
        return f"{text} (the file is not a valid SQLite database; move it away to start empty)"
    return text


def redis_location(url: str) -> str:
    """``host:port/db`` of a Redis URL — what outage messages name (never the password)."""
    parts = urlsplit(url)
    port = f":{parts.port}" if parts.port else ""
    return f"{parts.hostname or '?'}{port}{parts.path or ''}"
