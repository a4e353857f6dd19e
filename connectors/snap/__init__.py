"""Snap Conversions API v3 connector (see docs/platforms/snap.md)."""

from connectors.snap.connector import SnapConnector
from connectors.snap.settings import Settings, SnapSite

__all__ = ["Settings", "SnapConnector", "SnapSite"]
