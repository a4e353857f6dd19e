"""Google Ads conversions: Data Manager API ``events:ingest`` (default) or the Google Ads API
``uploadClickConversions`` (existing adopters). See docs/platforms/google.md."""

from connectors.google.connector import GoogleConnector
from connectors.google.settings import Settings, SiteSettings

__all__ = ["GoogleConnector", "Settings", "SiteSettings"]
