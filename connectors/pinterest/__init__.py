"""Pinterest API for Conversions (v5) connector (see docs/platforms/pinterest.md)."""

from connectors.pinterest.connector import PinterestConnector
from connectors.pinterest.settings import PinterestSite, Settings

__all__ = ["PinterestConnector", "PinterestSite", "Settings"]
