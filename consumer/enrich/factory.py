"""Build the configured click-ID store and enricher (the app's only knowledge of backends)."""

from __future__ import annotations

from consumer.config import StoreSettings
from consumer.enrich.enricher import Enricher
from consumer.enrich.store import ClickIdStore
from consumer.enrich.ttl import TtlPolicy
from consumer.store_check import open_sqlite


def build_store(settings: StoreSettings) -> ClickIdStore | None:
    """The backend named by ``store.backend`` (None for ``none``)."""
    ttl = TtlPolicy.from_settings(settings.ttl_days or None)
    if settings.backend == "sqlite":
        from consumer.enrich.sqlite_store import SqliteClickIdStore

        open_sqlite(settings.sqlite_path, "click-ID store")  # StoreOpenError: a start-up error
        return SqliteClickIdStore(settings.sqlite_path, ttl)
    if settings.backend == "redis":
        from consumer.enrich.redis_store import RedisClickIdStore

        return RedisClickIdStore(settings.redis_url, ttl)
    return None


def build_enricher(settings: StoreSettings, store: ClickIdStore) -> Enricher:
    """An enricher over ``store`` with the configured key order and TTLs."""
    return Enricher(store, key_order=settings.key_order, ttl_days_by_kind=settings.ttl_days or None)
