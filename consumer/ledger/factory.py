"""Build the configured ledger (the app's and the replay's only knowledge of ledger backends)."""

from __future__ import annotations

from consumer.config import Settings
from consumer.ledger.base import DeliveryLedger, LedgerTtl
from consumer.ledger.guard import LedgerGuard
from consumer.store_check import open_sqlite


def ledger_backend(settings: Settings) -> str:
    """The effective backend: ``ledger.backend``, else the click-ID store's; ``none`` if disabled."""
    cfg = settings.ledger
    if not cfg.enabled:
        return "none"
    return cfg.backend or settings.store.backend


def build_ledger(settings: Settings) -> DeliveryLedger | None:
    """The backend named by the settings (None when the ledger is off)."""
    cfg = settings.ledger
    backend = ledger_backend(settings)
    if backend == "sqlite":
        from consumer.ledger.sqlite import SqliteLedger

        path = cfg.sqlite_path or settings.store.sqlite_path
        open_sqlite(path, "delivery ledger")  # StoreOpenError: a start-up error
        return SqliteLedger(path)
    if backend == "redis":
        from consumer.ledger.redis import RedisLedger

        return RedisLedger(cfg.redis_url or settings.store.redis_url)
    return None


def build_ledger_guard(settings: Settings) -> LedgerGuard | None:
    """The engine-facing guard over the configured ledger (None when off)."""
    ledger = build_ledger(settings)
    if ledger is None:
        return None
    cfg = settings.ledger
    return LedgerGuard(
        ledger,
        LedgerTtl(cfg.default_ttl_days, dict(cfg.ttl_days)),
        flush_interval_s=cfg.flush_interval_ms / 1000,
        flush_max=cfg.flush_max_items,
    )
