"""Settings of the Microsoft UET Conversions API connector (the YAML block ``platforms.microsoft``).

Microsoft's public material leaves several details unconfirmed (reference §5A, §7). Each such
detail is a setting here whose default is the conservative reading; docs/platforms/microsoft.md
explains every choice.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from connectors.base import ConnectorSettings

API_VERSION = "v1"
"""The version this connector is tested against (its golden cases); the default of ``api_version``."""

class MicrosoftSite(BaseModel):
    """Per-site override, selected by ``event["context"]["site_id"]``."""

    model_config = ConfigDict(extra="forbid")

    uet_tag_id: str = Field(min_length=1)


class Settings(ConnectorSettings):
    """Microsoft UET CAPI settings: tag id, event names per goal, consent and format choices."""

    base_url: str = "https://capi.uet.microsoft.com"
    api_version: str = Field(
        default=API_VERSION,
        pattern=r"^v[0-9]+$",
        description="UET Conversions API version in the URL (/<version>/{tag}/events). Change it to "
        "follow the platform's deprecation calendar.",
    )
    uet_tag_id: str = Field(min_length=1, description="UET tag id: the URL path id.")
    event_names: dict[str, str] = Field(
        default_factory=lambda: {"purchase": "purchase", "lead": "lead", "qualified": "qualified_lead"},
        description="eventName (the custom-event action your conversion goals match) per event type.",
    )
    event_categories: dict[str, str] = Field(
        default_factory=dict, description="Optional customData.eventCategory per event type."
    )
    data_provider: str | None = Field(default=None, description="Optional top-level dataProvider.")
    continue_on_validation_error: bool = Field(
        default=True,
        description="Ask Microsoft to ingest the valid events of a batch and report the invalid ones.",
    )
    continue_on_validation_error_placement: Literal["top", "event"] = Field(
        default="top", description="Where the flag goes: top level or per event (sources disagree)."
    )
    unspecified_ad_storage: Literal["G", "D", "omit"] = Field(
        default="omit",
        description="adStorageConsent for consent.ad_storage UNSPECIFIED. 'omit' (default) leaves the "
        "field out so Microsoft applies its own consent-mode default (granted, except where it "
        "enforces consent mode: EEA, UK, Switzerland) and keeps msclkid; 'G' asserts granted; 'D' "
        "asserts denied (and, with drop_click_id_when_denied, drops msclkid).",
    )
    drop_click_id_when_denied: bool = Field(
        default=True,
        description="Leave msclkid out when ad storage is denied ('D'): it comes from an "
        "advertising cookie the user did not allow.",
    )
    email_rule: Literal["trim_lower", "strip_dots_and_alias"] = Field(
        default="trim_lower",
        description="trim_lower (Segment, our other platforms) or strip_dots_and_alias (walkerOS).",
    )
    phone_format: Literal["e164", "digits"] = Field(
        default="e164", description="Hash '+16505551212' (e164) or '16505551212' (digits)."
    )
    strip_msclkid_suffix: bool = Field(
        default=True, description="Send the 32-hex GUID without UET's '-0'/'-1' new-click suffix."
    )
    default_phone_region: str = "US"
    max_event_age_days: float | None = Field(
        default=7,
        gt=0,
        description="Refuse (outside_window) events older than this many days; null sends every "
        "age and lets Microsoft decide. Microsoft publishes no limit for the UET Conversions API; "
        "7 days is the figure its integrators use (docs/platforms/microsoft.md explains why a "
        "limit is kept by default).",
    )
    future_tolerance_s: int = Field(default=300, ge=0)
    sites: dict[str, MicrosoftSite] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _test_marker(self) -> Settings:
        """Microsoft's UET Conversions API documents no test marker: refuse test_mode rather than
        record test events as live (a separate UET tag is the way to test)."""
        if self.test_mode:
            raise ValueError(
                "test_mode: true is refused: Microsoft's UET Conversions API has no test marker, so "
                "test events would be recorded as live; test with a separate UET tag instead"
            )
        return self
