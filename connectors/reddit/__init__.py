"""Reddit Conversions API v3 connector (see docs/platforms/reddit.md)."""

from connectors.reddit.connector import RedditConnector
from connectors.reddit.settings import RedditSite, Settings

__all__ = ["RedditConnector", "RedditSite", "Settings"]
