"""Click-ID enrichment: store captured click IDs and fill them into later events.

Entry points: :func:`consumer.enrich.capture.prepare_capture` (capture path),
:class:`consumer.enrich.enricher.Enricher` (event path), the store protocol in
:mod:`consumer.enrich.store` and its backends (``sqlite_store``, ``redis_store``,
``memory_store``). See docs/enrichment.md.
"""

from consumer.enrich.capture import prepare_capture
from consumer.enrich.enricher import Enricher, EnrichStats
from consumer.enrich.model import DEFAULT_KEY_ORDER, StoredCapture
from consumer.enrich.store import ClickIdStore, StoreUnavailable
from consumer.enrich.ttl import TtlPolicy

__all__ = [
    "DEFAULT_KEY_ORDER",
    "ClickIdStore",
    "EnrichStats",
    "Enricher",
    "StoreUnavailable",
    "StoredCapture",
    "TtlPolicy",
    "prepare_capture",
]
