"""LinkedIn Conversions API connector (see docs/platforms/linkedin.md)."""

from connectors.linkedin.connector import LinkedInConnector
from connectors.linkedin.settings import ConversionRules, LinkedInSite, Settings

__all__ = ["ConversionRules", "LinkedInConnector", "LinkedInSite", "Settings"]
