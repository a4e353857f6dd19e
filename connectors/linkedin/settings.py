"""Settings of the LinkedIn Conversions API connector (the YAML block ``platforms.linkedin``).

LinkedIn counts a conversion against a *conversion rule* (created with
``conversionMethod=CONVERSIONS_API``), not an event name, so the operator names one rule per
business event type. Brands with their own ad account override the rules per site; their
tokens are configured per site in the credentials block (the item route is the site id).
"""

from __future__ import annotations

import re

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from connectors.base import ConnectorSettings, refuse_test_mode

RULE_URN_PREFIX = "urn:lla:llaPartnerConversion:"
_RULE_ID = re.compile(r"^[0-9]+$")
_VERSION = re.compile(r"^20[0-9]{2}(0[1-9]|1[0-2])$")


def rule_urn(value: str) -> str:
    """The conversion rule URN for a bare rule id or a URN (validated, whitespace trimmed)."""
    text = value.strip()
    rule_id = text.removeprefix(RULE_URN_PREFIX)
    if not _RULE_ID.match(rule_id):
        raise ValueError(f"expected a numeric rule id or '{RULE_URN_PREFIX}<id>', got {value!r}")
    return RULE_URN_PREFIX + rule_id


class ConversionRules(BaseModel):
    """One conversion rule per business event type; a type without a rule is not sent
    (its events are refused with ``not_configured``)."""

    model_config = ConfigDict(extra="forbid")

    purchase: str | None = None
    lead: str | None = None
    qualified: str | None = None

    @field_validator("purchase", "lead", "qualified")
    @classmethod
    def _urn(cls, value: str | None) -> str | None:
        """Accept a bare id or a URN; store the URN LinkedIn expects."""
        return None if value is None else rule_urn(value)


class LinkedInSite(BaseModel):
    """Per-site override, selected by ``event["context"]["site_id"]``: a brand with its own ad
    account has its own rules (and its own token, configured under the site's route)."""

    model_config = ConfigDict(extra="forbid")

    conversion_rules: ConversionRules
    test_conversion_rules: ConversionRules | None = None


class Settings(ConnectorSettings):
    """LinkedIn connector settings; defaults keep personal data hashed (names are opt-in)."""

    base_url: str = "https://api.linkedin.com"
    linkedin_version: str | None = Field(
        default=None,
        description="LinkedIn-Version header (YYYYMM); None uses the connector's pinned version. "
        "Each monthly version is sunset about a year after release (HTTP 426).",
    )
    conversion_rules: ConversionRules = Field(
        default_factory=ConversionRules,
        description="Conversion rule (id or urn:lla:llaPartnerConversion:<id>) per event type.",
    )
    test_conversion_rules: ConversionRules | None = Field(
        default=None,
        description="Rules used when test_mode is on: LinkedIn has no test endpoint, so tests go "
        "to dedicated rules that no campaign is associated with.",
    )
    send_user_info: bool = Field(
        default=False,
        description="Send userInfo.firstName/lastName. LinkedIn takes names only in plain text, so "
        "this is off by default (personal data leaves only hashed unless the operator opts in).",
    )
    send_external_id: bool = Field(
        default=True,
        description="Send user.externalIds (the advertiser's own user id, unhashed as LinkedIn "
        "requires; at most one).",
    )
    future_tolerance_s: int = Field(default=300, ge=0)
    sites: dict[str, LinkedInSite] = Field(default_factory=dict)

    @field_validator("linkedin_version")
    @classmethod
    def _version(cls, value: str | None) -> str | None:
        """LinkedIn versions are YYYYMM strings."""
        if value is not None and not _VERSION.match(value):
            raise ValueError(f"LinkedIn-Version must be YYYYMM, got {value!r}")
        return value

    @model_validator(mode="after")
    def _test_marker(self) -> Settings:
        """LinkedIn has no test endpoint: a test run goes to rules no campaign is associated with,
        so every route (the global rules and each site's) needs its ``test_conversion_rules``."""
        if not self.test_mode:
            return self
        if self.test_conversion_rules is None:
            raise refuse_test_mode("LinkedIn", "test_conversion_rules (rules no campaign is associated with)")
        missing = sorted(site for site, cfg in self.sites.items() if cfg.test_conversion_rules is None)
        if missing:
            raise refuse_test_mode("LinkedIn", f"test_conversion_rules for site(s) {', '.join(missing)}")
        return self
