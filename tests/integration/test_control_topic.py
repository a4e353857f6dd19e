"""The control topic against the real broker: created compacted, decisions read back at start
by a new relay of the same group (and only that group), followed while running."""

from __future__ import annotations

import time
import uuid

import pytest
from confluent_kafka.admin import AdminClient, ConfigResource

from consumer.control.state import PlatformControl
from consumer.control.topic import ControlTopic, ensure_control_topic

pytestmark = pytest.mark.integration


def test_decisions_survive_and_stay_in_their_group(kafka_bootstrap: str) -> None:
    client = {"bootstrap.servers": kafka_bootstrap}
    topic = f"control-{uuid.uuid4().hex[:8]}"
    assert ensure_control_topic(client, topic) is True
    assert ensure_control_topic(client, topic) is False
    resource = ConfigResource(ConfigResource.Type.TOPIC, topic)
    admin = AdminClient(client)
    configs = admin.describe_configs([resource])[resource].result(timeout=30)
    assert configs["cleanup.policy"].value == "compact"

    writer = ControlTopic(client, topic, "group-a", PlatformControl())
    writer.load()
    writer.publish("meta", True, "rotation")
    writer.publish("tiktok", True, None)
    writer.publish("tiktok", False, None)
    ControlTopic(client, topic, "group-b", PlatformControl()).publish("snap", True, None)

    control = PlatformControl()
    reader = ControlTopic(client, topic, "group-a", control)
    assert reader.load() == 3
    assert control.is_paused("meta") and control.pause_reason("meta") == "rotation"
    assert not control.is_paused("tiktok") and not control.is_paused("snap")

    writer.publish("meta", False, None)
    deadline = time.monotonic() + 30
    while control.is_paused("meta") and time.monotonic() < deadline:
        reader.poll()
        time.sleep(0.1)
    assert not control.is_paused("meta")
    reader.close()
    writer.close()
