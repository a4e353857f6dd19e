"""Which ledger the settings build: off, the store's backend, or an explicit one."""

from __future__ import annotations

from pathlib import Path

from consumer.config import load_settings
from consumer.ledger.factory import build_ledger, build_ledger_guard, ledger_backend
from consumer.ledger.sqlite import SqliteLedger


async def test_defaults_follow_the_store(tmp_path: Path) -> None:
    settings = load_settings(store={"backend": "sqlite", "sqlite_path": str(tmp_path / "s" / "x.db")})
    assert ledger_backend(settings) == "sqlite"
    ledger = build_ledger(settings)
    assert isinstance(ledger, SqliteLedger)
    await ledger.record("meta", ["a"], 60)
    await ledger.close()
    assert (tmp_path / "s" / "x.db").exists()


def test_off_when_disabled_or_store_none() -> None:
    assert build_ledger(load_settings(store={"backend": "none"})) is None
    assert build_ledger(load_settings(ledger={"enabled": False})) is None
    assert ledger_backend(load_settings(store={"backend": "none"}, ledger={"backend": "redis"})) == "redis"


async def test_guard_gets_the_configured_ttls(tmp_path: Path) -> None:
    settings = load_settings(
        ledger={"backend": "sqlite", "sqlite_path": str(tmp_path / "l.db"), "ttl_days": {"google": 30}}
    )
    guard = build_ledger_guard(settings)
    assert guard is not None
    assert guard.ttl.seconds("google") == 30 * 86400
    assert guard.ttl.seconds("meta") == 7 * 86400
    await guard.close()
