"""Settings of the Snap Conversions API v3 connector (the YAML block ``platforms.snap``).

Web and offline events go to a Snap Pixel; Snap has no lead event, so lead and qualified are
mapped to configurable standard events (``SIGN_UP`` and ``CUSTOM_EVENT_1`` by default).
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from connectors.base import ConnectorSettings

API_VERSION = "v3"
"""The version this connector is tested against (its golden cases); the default of ``api_version``."""

class SnapSite(BaseModel):
    """Per-site override, selected by ``event["context"]["site_id"]``."""

    model_config = ConfigDict(extra="forbid")

    pixel_id: str = Field(min_length=1)


class Settings(ConnectorSettings):
    """Snap connector settings. ``test_mode`` sends to ``/events/validate`` (nothing recorded)."""

    base_url: str = "https://tr.snapchat.com"
    api_version: str = Field(
        default=API_VERSION,
        pattern=r"^v[0-9]+$",
        description="Conversions API version in the URL; the payload is built for v3. Change it to "
        "follow the platform's deprecation calendar.",
    )
    pixel_id: str = Field(min_length=1, description="Snap Pixel id the events are sent to.")
    event_names: dict[str, str] = Field(
        default_factory=lambda: {"purchase": "PURCHASE", "lead": "SIGN_UP", "qualified": "CUSTOM_EVENT_1"},
        description="Snap standard event per business event type (Snap has no LEAD event).",
    )
    integration: str | None = Field(
        default=None, description="Partner name sent as 'integration' (partners only)."
    )
    opt_out_on_personalization_denied: bool = Field(
        default=True, description="Set opt_out=true when consent.ad_personalization is DENIED."
    )
    default_phone_region: str = "US"
    future_tolerance_s: int = Field(default=300, ge=0)
    sites: dict[str, SnapSite] = Field(default_factory=dict)
