"""A store that cannot be opened is named, with its path and the reason, at start (exit 2)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from consumer.demo_settings import SANDBOX_TOKEN
from consumer.store_check import StoreOpenError, open_sqlite
from tests.integration.relay_harness import Scenario


def test_a_corrupt_file_is_refused_with_its_path(tmp_path: Path) -> None:
    db = tmp_path / "store.db"
    db.write_bytes(b"this is not sqlite" * 100)
    with pytest.raises(StoreOpenError, match=rf"click-ID store {db}: cannot open: file is not a database"):
        open_sqlite(db, "click-ID store")


def test_a_parent_that_is_a_file_is_refused(tmp_path: Path) -> None:
    (tmp_path / "var").write_text("x")
    with pytest.raises(StoreOpenError, match="var is a file, not a directory"):
        open_sqlite(tmp_path / "var" / "store.db", "delivery ledger")


def test_an_unwritable_directory_is_refused() -> None:
    # /proc refuses new files even to root (permission bits would not stop root)
    with pytest.raises(StoreOpenError, match=r"click-ID store /proc/self/capi.db: cannot"):
        open_sqlite("/proc/self/capi.db", "click-ID store")


def test_a_fresh_path_is_created(tmp_path: Path) -> None:
    open_sqlite(tmp_path / "a" / "b" / "store.db", "click-ID store")
    assert (tmp_path / "a" / "b" / "store.db").is_file()


def test_run_exits_2_with_one_line_naming_the_path(tmp_path: Path) -> None:
    db = tmp_path / "store.db"
    db.write_bytes(b"\x00garbage" * 512)
    config = tmp_path / "relay.yaml"
    settings = Scenario("127.0.0.1:1").config("http://127.0.0.1:1", ["meta"])
    settings["store"] = {"backend": "sqlite", "sqlite_path": str(db)}
    config.write_text(yaml.safe_dump(settings))
    done = subprocess.run(
        [sys.executable, "-m", "consumer.cli", "run", "--config", str(config)],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "CAPI_SANDBOX_TOKEN": SANDBOX_TOKEN},
    )
    assert done.returncode == 2
    assert "Traceback" not in done.stderr
    naming = [line for line in done.stderr.splitlines() if str(db) in line]
    assert len(naming) == 1  # the start-up checks name the store once, with SQLite's reason
    assert f"click-ID store {db}: cannot open: file is not a database" in naming[0]
    assert "move it away to start empty" in naming[0]
