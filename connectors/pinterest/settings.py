"""Settings of the Pinterest API for Conversions connector (the YAML block ``platforms.pinterest``).

Events are sent per ad account; qualified leads have no standard Pinterest event and go as
``custom`` unless the operator maps them to another event (e.g. an advertiser-defined one).
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from connectors.base import ConnectorSettings

API_VERSION = "v5"
"""The version this connector is tested against (its golden cases); the default of ``api_version``."""

class PinterestSite(BaseModel):
    """Per-site override, selected by ``event["context"]["site_id"]``."""

    model_config = ConfigDict(extra="forbid")

    ad_account_id: str = Field(min_length=1)


class Settings(ConnectorSettings):
    """Pinterest connector settings. ``test_mode`` adds ``?test=true`` (validated, not recorded)."""

    base_url: str = "https://api.pinterest.com"
    api_version: str = Field(
        default=API_VERSION,
        pattern=r"^v[0-9]+$",
        description="Pinterest API version in the URL; the payload is built for v5. Change it to follow "
        "the platform's deprecation calendar.",
    )
    ad_account_id: str = Field(min_length=1, description="Ad account the events are sent to.")
    event_names: dict[str, str] = Field(
        default_factory=lambda: {"purchase": "checkout", "lead": "lead", "qualified": "custom"},
        description="Pinterest event_name per business event type.",
    )
    partner_name: str | None = Field(
        default=None, description="partner_name ('ss-<partner>'), only for third-party partners."
    )
    opt_out_on_personalization_denied: bool = Field(
        default=True,
        description="Set opt_out=true (user opted out of tracking) when consent.ad_personalization "
        "is DENIED; otherwise opt_out=false is sent explicitly.",
    )
    default_phone_region: str = "US"
    future_tolerance_s: int = Field(default=300, ge=0)
    sites: dict[str, PinterestSite] = Field(default_factory=dict)
