"""Settings of the Meta Conversions API connector (the YAML block ``platforms.meta``).

Everything an operator may need to change without code lives here: the dataset (pixel) id and
its per-site overrides, event names, the test-event code, the CRM name for conversion-leads
events and the few policy choices where Meta's documentation leaves room (hashing of
``external_id``, what to do with website events that lack a URL or user agent).
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from connectors.base import ConnectorSettings, refuse_test_mode

ActionSource = Literal[
    "email", "website", "app", "phone_call", "chat", "physical_store", "system_generated", "other"
]


API_VERSION = "v24.0"
"""The version this connector is tested against (its golden cases); the default of ``api_version``."""

class MetaSite(BaseModel):
    """Per-site override, selected by ``event["context"]["site_id"]``: brands with their own
    dataset send to it, optionally with their own Test Events code."""

    model_config = ConfigDict(extra="forbid")

    pixel_id: str = Field(min_length=1)
    test_event_code: str | None = None


class Settings(ConnectorSettings):
    """Meta connector settings; defaults follow Meta's documented recommendations."""

    base_url: str = "https://graph.facebook.com"
    api_version: str = Field(
        default=API_VERSION,
        pattern=r"^v[0-9]+\.[0-9]+$",
        description="Graph API version in the URL (Meta keeps each version about two years; see its "
        "changelog). Change it to follow the platform's deprecation calendar.",
    )
    pixel_id: str = Field(min_length=1, description="Dataset / pixel id the events are sent to.")
    event_names: dict[str, str] = Field(
        default_factory=lambda: {"purchase": "Purchase", "lead": "Lead"},
        description="event_name per business event type (purchase, lead).",
    )
    qualified_event_name: str | None = Field(
        default=None,
        description="Fixed event_name for qualified leads; None sends the CRM stage name "
        "(Meta's conversion-leads pattern), or qualified_fallback_event_name if the stage is empty.",
    )
    qualified_fallback_event_name: str = "QualifiedLead"
    default_lead_event_source: str = Field(
        default="In-house CRM",
        description="custom_data.lead_event_source when the qualified event carries no crm_name.",
    )
    test_event_code: str | None = Field(
        default=None, description="Sent as top-level test_event_code (Events Manager test events)."
    )
    hash_external_id: bool = Field(
        default=True, description="SHA-256 external_id (Meta recommends hashing it)."
    )
    website_fallback_action_source: ActionSource | None = Field(
        default=None,
        description="Website events without page_url or user agent are rejected (Meta requires "
        "both and asks that action_source be accurate); set this to send them with another "
        "action_source instead.",
    )
    opt_out_on_personalization_denied: bool = Field(
        default=True,
        description="Set opt_out=true (attribution only) when consent.ad_personalization is DENIED.",
    )
    default_phone_region: str = "US"
    future_tolerance_s: int = Field(
        default=300, ge=0, description="How far in the future an event_time may be."
    )
    sites: dict[str, MetaSite] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _test_marker(self) -> Settings:
        """Meta's test marker is the top-level ``test_event_code`` (Events Manager > Test events)."""
        if self.test_mode and not self.test_event_code:
            raise refuse_test_mode("Meta", "test_event_code (Events Manager > Test events)")
        return self
