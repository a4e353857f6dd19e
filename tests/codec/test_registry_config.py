"""The registry client's configuration and subject names, without a registry.

Why: credentials and TLS files only matter against a secured registry, where a setting that
never reaches the client shows up as a confusing 401 or certificate error in production.
"""

from __future__ import annotations

from pathlib import Path

import certifi
import pytest
from confluent_kafka.schema_registry import SchemaRegistryClient

from consumer.cli import main
from consumer.config import load_settings
from consumer.registry import client_config, subject_name


def test_auth_and_tls_settings_reach_the_client_config(monkeypatch: pytest.MonkeyPatch) -> None:
    """Secrets come from the named variables, file locations pass through, unset ones stay out."""
    monkeypatch.setenv("REG_USER_INFO", "relay:secret")
    monkeypatch.setenv("REG_KEY_PASSWORD", "keypass")
    settings = load_settings(
        schema_registry={
            "url": "https://registry.example:8081",
            "basic_auth_user_info_env": "REG_USER_INFO",
            "ssl_ca_location": certifi.where(),
            "ssl_key_password_env": "REG_KEY_PASSWORD",
            "ssl_certificate_location": "/etc/relay/client.pem",
        }
    ).schema_registry
    config = client_config(settings)
    assert config == {
        "url": "https://registry.example:8081",
        "basic.auth.user.info": "relay:secret",
        "ssl.ca.location": certifi.where(),
        "ssl.certificate.location": "/etc/relay/client.pem",
        "ssl.key.password": "keypass",
    }


def test_client_accepts_the_config(monkeypatch: pytest.MonkeyPatch) -> None:
    """confluent-kafka's client takes every key we produce (it rejects unknown ones)."""
    monkeypatch.setenv("REG_USER_INFO", "relay:secret")
    settings = load_settings(
        schema_registry={
            "url": "https://registry.example:8081",
            "basic_auth_user_info_env": "REG_USER_INFO",
            "ssl_ca_location": certifi.where(),
        }
    ).schema_registry
    SchemaRegistryClient(client_config(settings))


@pytest.mark.parametrize(
    ("strategy", "subject"),
    [
        ("topic", "events.purchase-value"),
        ("record", "com.capirelay.events.Purchase"),
        ("topic_record", "events.purchase-com.capirelay.events.Purchase"),
    ],
)
def test_confluents_three_subject_name_strategies(strategy: str, subject: str) -> None:
    assert subject_name(strategy, "events.purchase", "com.capirelay.events.Purchase") == subject  # type: ignore[arg-type]


def test_run_without_the_named_credentials_variable_exits_2_naming_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Before this setting reached the client it was silently ignored; now a missing variable
    stops `capi-relay run` at start with one line naming it."""
    monkeypatch.delenv("REG_MISSING_USER_INFO", raising=False)
    path = tmp_path / "config.yaml"
    path.write_text(
        "schema_registry:\n  url: http://127.0.0.1:1\n  basic_auth_user_info_env: REG_MISSING_USER_INFO\n"
    )
    assert main(["run", "--config", str(path)]) == 2
    err = capsys.readouterr().err.strip()
    assert "REG_MISSING_USER_INFO is not set" in err and len(err.splitlines()) == 1
