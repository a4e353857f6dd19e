"""The explicit list of platforms. Adding one means one line here and its own module; nothing in
``consumer/`` changes. Entries are import paths so that a broken or slow connector module only
costs the deployments that enable it."""

from __future__ import annotations

import importlib
from functools import cache
from typing import Any

CONNECTORS: dict[str, str] = {
    "meta": "connectors.meta:MetaConnector",
    "google": "connectors.google:GoogleConnector",
    "tiktok": "connectors.tiktok:TikTokConnector",
    "linkedin": "connectors.linkedin:LinkedInConnector",
    "snap": "connectors.snap:SnapConnector",
    "pinterest": "connectors.pinterest:PinterestConnector",
    "reddit": "connectors.reddit:RedditConnector",
    "microsoft": "connectors.microsoft:MicrosoftConnector",
}


class UnknownPlatformError(KeyError):
    """A configuration or CLI named a platform that is not in the registry."""


@cache
def connector_class(slug: str) -> Any:
    """The connector class for ``slug``; raises UnknownPlatformError with the known slugs."""
    try:
        target = CONNECTORS[slug]
    except KeyError:
        raise UnknownPlatformError(
            f"unknown platform {slug!r}; known: {', '.join(sorted(CONNECTORS))}"
        ) from None
    module_name, _, attr = target.partition(":")
    return getattr(importlib.import_module(module_name), attr)
