"""Side clients (DLQ writer and reader, receipts, admin, trace) connect like the relay does: same
bootstrap servers and security settings, but none of the relay consumer's own tuning."""

from __future__ import annotations

from consumer.config import load_settings


def test_client_config_carries_connection_settings_only() -> None:
    settings = load_settings(
        kafka={
            "bootstrap_servers": "broker-1:9093",
            "extra": {
                "security.protocol": "SASL_SSL",
                "sasl.mechanism": "PLAIN",
                "ssl.ca.location": "/etc/ca.pem",
                "fetch.wait.max.ms": 50,
                "queued.max.messages.kbytes": 1024,
            },
        }
    )
    config = settings.kafka.client_config()
    assert config == {
        "bootstrap.servers": "broker-1:9093",
        "security.protocol": "SASL_SSL",
        "sasl.mechanism": "PLAIN",
        "ssl.ca.location": "/etc/ca.pem",
    }
    assert settings.kafka.client_config(**{"group.id": "g"})["group.id"] == "g"
