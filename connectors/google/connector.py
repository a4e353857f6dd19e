"""The Google connector the registry names: one slug, two wire APIs chosen by ``settings.api``."""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar

from connectors.base import (
    BatchLimits,
    ConnectorSettings,
    Credentials,
    Event,
    HttpRequest,
    HttpResponse,
    Item,
    ItemOutcome,
    Reject,
    own_settings,
)
from connectors.google.ads_api import AdsApi
from connectors.google.common import WINDOW_DAYS
from connectors.google.datamanager import DataManagerApi
from connectors.google.settings import ADS_API_VERSION, DATA_MANAGER_VERSION, Settings


class GoogleConnector:
    """Google Ads conversions through the Data Manager API (default) or the Google Ads API.

    Both accept up to 2,000 events a request; batches default to 1,000 because the Data
    Manager API fails a whole request for one bad event (the engine then splits).
    """

    slug: ClassVar[str] = "google"
    api_version: ClassVar[str] = f"datamanager-{DATA_MANAGER_VERSION},googleads-{ADS_API_VERSION}"
    limits: ClassVar[BatchLimits] = BatchLimits(max_events=1000, max_bytes=5_000_000, linger_ms=1000)
    window_days: ClassVar[float] = WINDOW_DAYS
    settings_model: ClassVar[type[ConnectorSettings]] = Settings
    credential_kind: ClassVar[str] = "oauth"

    def __init__(self, settings: ConnectorSettings) -> None:
        settings = own_settings(settings, Settings)
        self.settings = settings
        self._impl: AdsApi | DataManagerApi = (
            AdsApi(settings) if settings.api == "ads_api" else DataManagerApi(settings)
        )

    def map_event(self, event: Event, now_ms: int) -> Item | Reject:
        """Map one enriched event to a Google conversion, or refuse it with a reason."""
        return self._impl.map_event(event, now_ms)

    def build_request(self, items: Sequence[Item], credentials: Credentials) -> HttpRequest:
        """One request for ``items`` (all with the same route)."""
        return self._impl.build_request(items, credentials)

    def classify(self, response: HttpResponse, items: Sequence[Item]) -> list[ItemOutcome]:
        """One outcome per item, in order."""
        return self._impl.classify(response, items)
