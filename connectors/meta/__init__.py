"""Meta Conversions API connector (see docs/platforms/meta.md)."""

from connectors.meta.connector import MetaConnector
from connectors.meta.settings import MetaSite, Settings

__all__ = ["MetaConnector", "MetaSite", "Settings"]
