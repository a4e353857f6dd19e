"""Every connector coerces the settings it is given through `own_settings`: the base model is
re-validated against the connector's own, and a key the connector does not know fails at once."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from connectors.base import ConnectorSettings, own_settings
from connectors.meta.settings import Settings as MetaSettings


def test_own_model_passes_through_unchanged() -> None:
    mine = MetaSettings.model_validate({"pixel_id": "1", "base_url": "http://127.0.0.1:1"})
    assert own_settings(mine, MetaSettings) is mine


def test_base_model_is_revalidated_against_the_connector_model() -> None:
    base = ConnectorSettings(base_url="http://127.0.0.1:1")
    with pytest.raises(ValidationError):  # Meta needs its pixel id: reported at construction
        own_settings(base, MetaSettings)
