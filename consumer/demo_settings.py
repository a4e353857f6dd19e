"""Settings that point every platform at the local sandbox: the embedded default used by
`capi-relay demo`, the tests and the benchmark. Real deployments never use these ids."""

from __future__ import annotations

from typing import Any

from connectors.registry import CONNECTORS

SANDBOX_TOKEN = "sandbox-token"
SANDBOX_DEVELOPER_TOKEN = "sandbox-dev-token"

# Ids in the shapes the platforms (and the strict sandbox) expect.
_IDS: dict[str, dict[str, Any]] = {
    "meta": {"pixel_id": "1234567890"},
    "google": {
        "customer_id": "1234567890",
        "conversion_actions": {"purchase": "111111", "lead": "222222", "qualified": "333333"},
    },
    "tiktok": {"pixel_code": "CSANDBOX123"},
    "linkedin": {
        "conversion_rules": {
            "purchase": "urn:lla:llaPartnerConversion:1001",
            "lead": "urn:lla:llaPartnerConversion:1002",
            "qualified": "urn:lla:llaPartnerConversion:1003",
        }
    },
    "snap": {"pixel_id": "11111111-2222-3333-4444-555555555555"},
    "pinterest": {"ad_account_id": "549755885175"},
    "reddit": {"pixel_id": "t2_sandbox"},
    "microsoft": {"uet_tag_id": "187000000"},
}


def sandbox_platform_settings(slug: str, base_url: str) -> dict[str, Any]:
    """The connector settings block for ``slug`` delivering to the sandbox at ``base_url``."""
    return {**_IDS.get(slug, {}), "base_url": f"{base_url.rstrip('/')}/{slug}"}


def sandbox_platforms(base_url: str, slugs: list[str] | None = None) -> dict[str, Any]:
    """``platforms:`` config for the given slugs (default: all registered)."""
    return {
        slug: {"settings": sandbox_platform_settings(slug, base_url)} for slug in (slugs or list(CONNECTORS))
    }


def sandbox_credentials(slugs: list[str] | None = None) -> tuple[dict[str, str], dict[str, dict[str, str]]]:
    """Tokens and extra headers the sandbox accepts, for StaticCredentials."""
    slugs = slugs or list(CONNECTORS)
    return {s: SANDBOX_TOKEN for s in slugs}, {"google": {"developer-token": SANDBOX_DEVELOPER_TOKEN}}
