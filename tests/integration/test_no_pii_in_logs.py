"""A real relay run leaves no personal data or token anywhere in its log output.

Why: invariant 5. Events full of emails, phones and names flow through decode, mapping,
delivery, platform errors (including an AUTH failure with a refused secret token) and the DLQ;
whatever any component logs (ours, aiohttp's access log, librdkafka on stderr) is captured at
the file-descriptor level and searched for every raw value.
"""

from __future__ import annotations

import json
import logging
import time

import pytest
import structlog

from consumer.engine import Engine
from consumer.observability.logging import configure_logging
from sandbox.testing import running_sandbox
from tests.conftest import NewTopicFactory
from tests.integration.observability_harness import PLATFORMS, TOKEN, produce, relay_settings

pytestmark = pytest.mark.integration

WRONG_TIKTOK_TOKEN = "tt-secret-1b2c3d4e5f6a7b8c9d0e"


def raw_values(events: list[dict[str, object]]) -> set[str]:
    """Every raw identifier an event carried (emails both as sent and trimmed)."""
    raws: set[str] = set()
    for event in events:
        user = event["user"]
        assert isinstance(user, dict)
        for key in ("email", "phone", "first_name", "last_name", "date_of_birth"):
            value = user.get(key)
            if isinstance(value, str) and value.strip() and len(value.strip()) != 64:
                raws.add(value.strip())
    return raws


async def test_no_raw_identifiers_or_tokens_in_logs(
    kafka_bootstrap: str, new_topic: NewTopicFactory, capfd: pytest.CaptureFixture[str]
) -> None:
    """Run with personal data, a refused token and poison messages; grep everything logged."""
    from consumer.app import build_relay, run_relay
    from consumer.delivery.credentials_api import StaticCredentials

    root_level = logging.getLogger().level
    configure_logging("json", "DEBUG")
    topics = {new_topic(1): "purchase", new_topic(1): "lead"}
    dlq = new_topic(1)
    traffic = produce(kafka_bootstrap, topics, n=30, poison=2)
    raws = raw_values(traffic.events)
    assert len(raws) > 20
    try:
        async with running_sandbox(seed=3, faults={"meta": {"reject_event_rate": 0.2}}) as sandbox:
            settings = relay_settings(kafka_bootstrap, topics, dlq, sandbox)
            settings.consumer.drain_deadline_s = 2
            credentials = StaticCredentials(tokens={"meta": TOKEN, "tiktok": WRONG_TIKTOK_TOKEN})
            relay = build_relay(settings, credentials=credentials)
            started = time.monotonic()

            def enough(engine: Engine) -> bool:
                meta_done = sandbox.state.stats()["meta"]["requests"] > 0
                return meta_done and (
                    engine.stats.messages_finished >= traffic.total or time.monotonic() - started > 8
                )

            structlog.get_logger("capi_relay.test").info("run_start", platforms=list(PLATFORMS))
            # A careless component (ours or a library's) logging whole events and headers:
            for event in traffic.events[:5]:
                logging.getLogger("some.library").debug("payload %s", event)
                with structlog.contextvars.bound_contextvars(event_id=event["event_id"], platform="meta"):
                    structlog.get_logger("capi_relay.test").warning(
                        "careless", payload=event, headers={"Authorization": f"Bearer {TOKEN}"}
                    )
            await run_relay(relay, stop_when=enough, install_signals=False)
            assert sandbox.state.stats()["meta"]["unique_events"] > 0
    finally:
        for handler in list(logging.getLogger().handlers):
            handler.flush()
        out, err = capfd.readouterr()
        structlog.reset_defaults()
        logging.getLogger().setLevel(root_level)
        for handler in list(logging.getLogger().handlers):
            if handler.get_name() == "capi-relay":
                logging.getLogger().removeHandler(handler)

    captured = out + err
    json_lines = [line for line in err.splitlines() if line.startswith("{")]
    assert any(json.loads(line).get("event") == "run_start" for line in json_lines)
    assert len(json_lines) >= 13, "the run and the careless component should have logged"
    leaked = sorted(raw for raw in raws if raw in captured)
    assert leaked == [], f"raw personal data in logs: {len(leaked)} value(s)"
    for secret in (TOKEN, WRONG_TIKTOK_TOKEN):
        assert secret not in captured
