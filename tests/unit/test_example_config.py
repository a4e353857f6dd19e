"""config.example.yaml is what users copy: it must ask only for the secrets its platforms need.

Google's Data Manager API (the example's default ``api``) authenticates with OAuth alone; the
developer token is a Google Ads API header (https://developers.google.com/google-ads/api/rest/auth),
so requiring one for Data Manager would stop a relay that needs none.
"""

from __future__ import annotations

from pathlib import Path

from connectors.google.settings import Settings as GoogleSettings
from consumer.builders import build_connectors
from consumer.config import load_settings
from consumer.delivery.credentials import CredentialsSettings

EXAMPLE = Path(__file__).resolve().parents[2] / "config.example.yaml"


def test_example_google_data_manager_needs_no_developer_token() -> None:
    settings = load_settings(EXAMPLE)
    google = settings.platforms["google"]
    connector_settings = GoogleSettings.model_validate(google.settings)
    credentials = CredentialsSettings.model_validate(google.credentials)
    assert connector_settings.api == "data_manager"
    assert "developer-token" not in credentials.extra_env
    assert "google" in build_connectors(settings)
