"""Settings of the Reddit Conversions API v3 connector (the YAML block ``platforms.reddit``).

Reddit has fixed tracking types (``PURCHASE``, ``LEAD`` ...) plus ``CUSTOM`` with a free name,
so purchases and leads map to standard types and qualified leads to a configurable custom name.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from connectors.base import ConnectorSettings, refuse_test_mode

TrackingType = Literal[
    "PAGE_VISIT",
    "VIEW_CONTENT",
    "SEARCH",
    "ADD_TO_CART",
    "ADD_TO_WISHLIST",
    "LEAD",
    "PURCHASE",
    "SIGN_UP",
    "CUSTOM",
]


def _default_tracking_types() -> dict[str, TrackingType]:
    return {"purchase": "PURCHASE", "lead": "LEAD", "qualified": "CUSTOM"}


API_VERSION = "v3"
"""The version this connector is tested against (its golden cases); the default of ``api_version``."""

class RedditSite(BaseModel):
    """Per-site override, selected by ``event["context"]["site_id"]``."""

    model_config = ConfigDict(extra="forbid")

    pixel_id: str = Field(min_length=1)
    test_id: str | None = None


class Settings(ConnectorSettings):
    """Reddit connector settings; defaults follow Reddit's v3 standard tracking types."""

    base_url: str = "https://ads-api.reddit.com"
    api_version: str = Field(
        default=API_VERSION,
        pattern=r"^v[0-9]+$",
        description="Reddit Ads API version in the URL (/api/<version>/pixels/…); the payload is built "
        "for v3. Change it to follow the platform's deprecation calendar.",
    )
    pixel_id: str = Field(min_length=1, description="Reddit pixel id (t2_… / a2_…), the URL path id.")
    tracking_types: dict[str, TrackingType] = Field(
        default_factory=_default_tracking_types,
        description="Reddit tracking_type per business event type.",
    )
    custom_event_names: dict[str, str] = Field(
        default_factory=lambda: {"qualified": "qualified_lead"},
        description="custom_event_name (<= 64 chars) for event types mapped to CUSTOM.",
    )
    qualified_name_from_stage: bool = Field(
        default=False,
        description="Use the CRM stage as custom_event_name for qualified leads (falls back to "
        "custom_event_names['qualified'] when the stage is empty).",
    )
    test_id: str | None = Field(
        default=None, description="data.test_id from Events Manager: events show up as test events."
    )
    partner: str | None = Field(default=None, description="Optional data.partner.")
    hash_conversion_id: bool = Field(
        default=False,
        description="SHA-256 the metadata.conversion_id (Segment does; match what your pixel sends).",
    )
    default_phone_region: str = "US"
    future_tolerance_s: int = Field(default=300, ge=0, le=300)
    sites: dict[str, RedditSite] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _test_marker(self) -> Settings:
        """Reddit's test marker is ``data.test_id`` (Events Manager > Test events)."""
        if self.test_mode and not self.test_id:
            raise refuse_test_mode("Reddit", "test_id (Events Manager > Test events)")
        return self
