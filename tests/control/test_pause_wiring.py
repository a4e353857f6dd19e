"""Which way a paused platform's units are held is decided once, when the relay is built: on
the retry topic when delayed retries are on, in the dispatcher's memory when they are off."""

from __future__ import annotations

from typing import Any

import pytest

from consumer.app import build_relay
from consumer.config import load_settings
from consumer.delivery.credentials_api import StaticCredentials
from consumer.demo_settings import sandbox_credentials, sandbox_platforms


def _settings(enabled: bool) -> Any:
    return load_settings(
        kafka={"bootstrap_servers": "127.0.0.1:1", "group_id": "g"},
        topics={"events": {"t.purchase": "purchase"}},
        store={"backend": "none"},
        routing={"purchase": ["meta"]},
        platforms=sandbox_platforms("http://127.0.0.1:1", ["meta"]),
        delivery={"delayed_retry": {"enabled": enabled}},
    )


@pytest.mark.parametrize("enabled", [True, False])
async def test_paused_units_are_parked_only_with_a_retry_topic(enabled: bool) -> None:
    tokens, extra = sandbox_credentials(["meta"])
    relay = build_relay(_settings(enabled), credentials=StaticCredentials(tokens, extra=extra))
    try:
        dispatcher = relay.dispatchers["meta"]
        assert dispatcher.control is relay.control
        assert dispatcher.park_paused is enabled
        assert (dispatcher.on_resume is not None) is enabled
    finally:
        relay.engine._source.close()
