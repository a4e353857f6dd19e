"""Microsoft Advertising UET Conversions API connector (see docs/platforms/microsoft.md)."""

from connectors.microsoft.connector import MicrosoftConnector
from connectors.microsoft.settings import MicrosoftSite, Settings

__all__ = ["MicrosoftConnector", "MicrosoftSite", "Settings"]
