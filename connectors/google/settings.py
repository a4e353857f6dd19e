"""Configuration of the Google connector (the ``platforms.google`` block of the YAML config).

Only identifiers live here (customer ids, conversion action ids); the OAuth token and the
developer token are secrets and reach the connector through ``Credentials`` from the engine's
credentials provider, never through settings.
"""

from __future__ import annotations

import re
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from connectors.base import EVENT_TYPES, ConnectorSettings

DATA_MANAGER_HOST = "https://datamanager.googleapis.com"
ADS_API_HOST = "https://googleads.googleapis.com"
ADS_API_VERSION = "v24"
"""Default Google Ads API version (``ads_api_version``), the one the goldens test: ClickConversion
is unchanged v22..v24; v24 was released in April 2026, so it stays supported well into 2027."""
DATA_MANAGER_VERSION = "v1"
"""Default Data Manager API version (``data_manager_version``)."""

_ACTION_RE = re.compile(r"(?:customers/(\d{10})/conversionActions/)?(\d+)")
_CUSTOMER_RE = re.compile(r"\d{10}")


def _customer_id(value: str | None) -> str | None:
    """Accept '123-456-7890' or '1234567890' and keep the 10 digits Google's APIs want."""
    if value is None or value == "":
        return None
    digits = value.replace("-", "").strip()
    if _CUSTOMER_RE.fullmatch(digits) is None:
        raise ValueError(f"a Google Ads customer id has 10 digits (hyphens allowed), got {value!r}")
    return digits


def _actions(value: dict[str, str] | None) -> dict[str, str] | None:
    """Check the event-type keys and that each action is an id or an Ads API resource name."""
    if value is None:
        return None
    for event_type, action in value.items():
        if event_type not in EVENT_TYPES:
            raise ValueError(f"unknown event type {event_type!r}; known: {', '.join(EVENT_TYPES)}")
        if _ACTION_RE.fullmatch(action.strip()) is None:
            raise ValueError(
                f"conversion action for {event_type!r} must be a numeric id or "
                f"'customers/<cid>/conversionActions/<id>', got {action!r}"
            )
    return {k: v.strip() for k, v in value.items()}


def action_id(action: str) -> str:
    """The numeric conversion action id of a configured action (id or resource name)."""
    match = _ACTION_RE.fullmatch(action)
    assert match is not None  # validated by the settings model
    return match.group(2)


def action_customer(action: str) -> str | None:
    """The customer id embedded in a resource-name action, if any."""
    match = _ACTION_RE.fullmatch(action)
    return match.group(1) if match else None


CustomerId = Annotated[str | None, AfterValidator(_customer_id)]
Actions = Annotated[dict[str, str] | None, AfterValidator(_actions)]


class SiteSettings(BaseModel):
    """Per-site overrides (selected by ``event.context.site_id``); unset fields inherit."""

    model_config = ConfigDict(extra="forbid")

    customer_id: CustomerId = None
    login_customer_id: CustomerId = None
    conversion_actions: Actions = None



class Settings(ConnectorSettings):
    """Google connector settings: which API, which account, one conversion action per event type.

    ``api`` picks the Data Manager API (the path Google requires for new integrations since June
    2026) or the Google Ads API ``uploadClickConversions`` (existing adopters only).
    ``base_url`` empty means the real host of the chosen API.
    """

    api: Literal["data_manager", "ads_api"] = "data_manager"
    data_manager_version: str = Field(
        default=DATA_MANAGER_VERSION,
        pattern=r"^v[0-9]+$",
        description="Data Manager API version in the URL (/<version>/events:ingest).",
    )
    ads_api_version: str = Field(
        default=ADS_API_VERSION,
        pattern=r"^v[0-9]+$",
        description="Google Ads API version in the URL; each is sunset about a year after release, "
        "so change it to follow Google's deprecation schedule (ClickConversion is unchanged v22-v24).",
    )
    customer_id: CustomerId = None
    login_customer_id: CustomerId = None
    conversion_actions: Annotated[dict[str, str], AfterValidator(_actions)] = Field(default_factory=dict)
    validate_only: bool = False
    default_phone_region: str = "US"
    require_ad_user_data_granted: bool = False
    too_recent_retry_after_s: float = 6 * 3600.0
    send_user_agent: bool = True
    send_ip_address: bool = False
    send_address: bool = True
    braid_drops_user_identifiers: bool = True
    sites: dict[str, SiteSettings] = Field(default_factory=dict)


    @property
    def effective_base_url(self) -> str:
        """``base_url`` without a trailing slash, or the chosen API's real host."""
        if self.base_url:
            return self.base_url.rstrip("/")
        return DATA_MANAGER_HOST if self.api == "data_manager" else ADS_API_HOST

    @property
    def is_validate_only(self) -> bool:
        """``validate_only`` or the generic ``test_mode``: Google's test mode is validation."""
        return self.validate_only or self.test_mode
