"""TikTok Events API 2.0 connector (see docs/platforms/tiktok.md)."""

from connectors.tiktok.connector import TikTokConnector
from connectors.tiktok.settings import Settings, TikTokSite

__all__ = ["Settings", "TikTokConnector", "TikTokSite"]
