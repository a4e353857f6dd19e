"""Settings of the TikTok Events API 2.0 connector (the YAML block ``platforms.tiktok``).

Web events go to a pixel; qualified leads go to a CRM event set when one is configured, since
TikTok models deep-funnel lead stages as CRM events. Per-site overrides select other pixels.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, model_validator

from connectors.base import ConnectorSettings, refuse_test_mode

API_VERSION = "v1.3"
"""The version this connector is tested against (its golden cases); the default of ``api_version``."""

class TikTokSite(BaseModel):
    """Per-site override, selected by ``event["context"]["site_id"]``."""

    model_config = ConfigDict(extra="forbid")

    pixel_code: str = Field(min_length=1)
    crm_event_set_id: str | None = None
    test_event_code: str | None = None


class Settings(ConnectorSettings):
    """TikTok connector settings; defaults follow TikTok's current standard event names."""

    base_url: str = "https://business-api.tiktok.com"
    api_version: str = Field(
        default=API_VERSION,
        pattern=r"^v[0-9]+\.[0-9]+$",
        description="TikTok Business API version in the URL (/open_api/<version>/event/track/). Change "
        "it to follow the platform's deprecation calendar.",
    )
    pixel_code: str = Field(min_length=1, description="Pixel code: event_source_id of web events.")
    crm_event_set_id: str | None = Field(
        default=None,
        description="CRM event set id for qualified leads (event_source crm); without one they "
        "are sent to the pixel as web events.",
    )
    event_names: dict[str, str] = Field(
        default_factory=lambda: {"purchase": "Purchase", "lead": "Lead"},
        description="TikTok event per business event type (purchase, lead); legacy setups may "
        "use CompletePayment / SubmitForm.",
    )
    qualified_event_name: str | None = Field(
        default=None,
        description="Fixed event name for qualified leads; None sends the CRM stage name, or "
        "qualified_fallback_event_name if the stage is empty.",
    )
    qualified_fallback_event_name: str = "QualifiedLead"
    default_lead_event_source: str = Field(
        default="In-house CRM", description="lead.lead_event_source when the event has no crm_name."
    )
    test_event_code: str | None = None
    partner_name: str | None = Field(default=None, description="Optional top-level partner_name.")
    default_phone_region: str = "US"
    future_tolerance_s: int = Field(default=300, ge=0)
    sites: dict[str, TikTokSite] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _test_marker(self) -> Settings:
        """TikTok's test marker is the top-level ``test_event_code`` (Events Manager > Test Events)."""
        if self.test_mode and not self.test_event_code:
            raise refuse_test_mode("TikTok", "test_event_code (Events Manager > Test Events)")
        return self
