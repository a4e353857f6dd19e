"""Building the parts every command needs from the settings — connectors, credentials, the
Schema Registry client — below `consumer.app`, so the relay, `dlq`, `trace` and the receipt
writer share them without importing the relay's wiring (nothing imports upward into app.py).
"""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError

from connectors.base import Connector
from connectors.contract_checks import contract_checked
from connectors.registry import connector_class
from consumer.config import ConfigError, PlatformConfig, Settings
from consumer.delivery.credentials_api import CredentialsSource
from consumer.registry import build_client


def build_connectors(settings: Settings) -> dict[str, Connector]:
    """Instantiate each routed, enabled platform with its validated settings."""
    out: dict[str, Connector] = {}
    for slug in settings.routed_platforms():
        cls = contract_checked(connector_class(slug))  # value/currency refused once for all
        pcfg = settings.platforms.get(slug, PlatformConfig())
        platform_settings = dict(pcfg.settings)
        if "default_phone_region" in cls.settings_model.model_fields:
            platform_settings.setdefault("default_phone_region", settings.default_phone_region)
        try:
            out[slug] = cls(cls.settings_model.model_validate(platform_settings))
        except ValidationError as exc:  # one line naming the key, like load_settings
            problems = "; ".join(
                f"{'.'.join(str(p) for p in ('platforms', slug, 'settings', *err['loc']))}: {err['msg']}"
                for err in exc.errors()
            )
            raise ConfigError(f"invalid configuration: {problems}") from None
    return out


def build_credentials(settings: Settings) -> CredentialsSource:
    """The credentials provider for every routed platform: static tokens from the environment
    variables the config names (``token_env``), or OAuth refresh (``oauth``), plus extra
    headers such as Google's developer token (``extra_env``). Invalid blocks fail at start."""
    from consumer.delivery.credentials import CredentialsProvider, CredentialsSettings

    blocks = {
        slug: CredentialsSettings.model_validate(settings.platforms.get(slug, PlatformConfig()).credentials)
        for slug in settings.routed_platforms()
    }
    return CredentialsProvider(blocks)


def registry_client(settings: Settings) -> Any:
    """A Schema Registry client when a URL is configured (``mock://`` works for tests), with
    the basic auth and TLS settings of ``schema_registry``."""
    return build_client(settings.schema_registry)
