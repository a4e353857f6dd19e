"""One validated settings model: a YAML file plus ``CAPI_``-prefixed environment overrides.

Errors name the bad key (pydantic's location path), secrets are referenced by environment
variable name and never inlined, and Kafka options pass straight through to librdkafka so SASL
and SSL need no code changes.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

from connectors.base import EVENT_TYPES
from consumer.config_errors import validation_lines
from consumer.contract import DEFAULT_TOPICS


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class KafkaSettings(_Strict):
    """Broker connection and consumer group; ``extra`` is passed to librdkafka unchanged."""

    bootstrap_servers: str = "127.0.0.1:9092"
    group_id: str = "capi-relay"
    extra: dict[str, str | int | bool] = Field(default_factory=dict)

    def client_config(self, **more: Any) -> dict[str, Any]:
        """Bootstrap servers plus the connection settings of ``extra`` (security, SASL, SSL) —
        what every producer, admin client and side consumer needs; consumer tuning in ``extra``
        stays with the relay's own consumer. ``more`` adds settings (e.g. ``group.id``)."""
        connection = {k: v for k, v in self.extra.items() if k.startswith(("security.", "sasl.", "ssl."))}
        return {"bootstrap.servers": self.bootstrap_servers, **more, **connection}


class TopicSettings(_Strict):
    """Which topics carry which event type, and where dead letters and receipts go."""

    events: dict[str, str] = Field(default_factory=lambda: dict(DEFAULT_TOPICS))
    dlq: str = "capi.dlq"
    click_ids: str = "identity.click-ids"
    receipts: str = "capi.receipts"
    control: str = "capi.control"  # compacted: pause decisions shared by replicas (consumer/control)
    retry: str = "capi.retry"  # delayed retries (one partition per delay tier)
    create_missing: bool = True  # create missing DLQ/receipts/retry/control topics at start

    @field_validator("events")
    @classmethod
    def _known_types(cls, value: dict[str, str]) -> dict[str, str]:
        bad = {t: e for t, e in value.items() if e not in EVENT_TYPES}
        if bad:
            raise ValueError(f"unknown event type(s) {bad}; use one of {', '.join(EVENT_TYPES)}")
        return value


class SchemaRegistrySettings(_Strict):
    """Schema Registry; without a URL, messages are plain Avro with the local schemas.

    Secrets are named by environment variable (``user:password`` for basic auth, the key's
    password for TLS) and must be set when named, so a missing one fails at start, not at the
    first unknown schema id. ``subject_name_strategy`` is what ``produce-sample`` registers under
    (Confluent's topic, record or topic_record strategy); the relay reads by schema id.
    """

    url: str | None = None
    basic_auth_user_info_env: str | None = None
    ssl_ca_location: str | None = None
    ssl_certificate_location: str | None = None
    ssl_key_location: str | None = None
    ssl_key_password_env: str | None = None
    subject_name_strategy: Literal["topic", "record", "topic_record"] = "topic"

    @model_validator(mode="after")
    def _secrets_present(self) -> SchemaRegistrySettings:
        if self.basic_auth_user_info_env:
            value = os.environ.get(self.basic_auth_user_info_env)
            if value is None:
                raise ValueError(f"environment variable {self.basic_auth_user_info_env} is not set")
            if ":" not in value:
                raise ValueError(f"environment variable {self.basic_auth_user_info_env} is not user:password")
        if self.ssl_key_password_env and self.ssl_key_password_env not in os.environ:
            raise ValueError(f"environment variable {self.ssl_key_password_env} is not set")
        return self


class StoreSettings(_Strict):
    """The click-ID store (and delivery ledger) backend."""

    backend: Literal["sqlite", "redis", "none"] = "sqlite"
    sqlite_path: str = "var/capi-relay.db"
    redis_url: str = "redis://127.0.0.1:6379/0"
    ttl_days: dict[str, float] = Field(default_factory=dict)
    key_order: list[str] = Field(
        default_factory=lambda: ["external_id", "lead_id", "anonymous_id", "session_id", "email_sha256"]
    )


class LedgerSettings(_Strict):
    """The delivery ledger: skip (event, platform) pairs the platform already accepted.

    ``backend`` None means the click-ID store's backend (and its SQLite file or Redis URL unless
    overridden); ``ttl_days`` per platform, ``default_ttl_days`` for the rest."""

    enabled: bool = True
    backend: Literal["sqlite", "redis", "none"] | None = None
    sqlite_path: str | None = None
    redis_url: str | None = None
    default_ttl_days: float = Field(7.0, gt=0)
    ttl_days: dict[str, float] = Field(default_factory=dict)
    flush_interval_ms: int = Field(20, ge=1)  # the crash window's buffered part (see guard.py)
    flush_max_items: int = Field(500, ge=1)


class ReceiptSettings(_Strict):
    """Receipts: one record per terminal (event, platform) outcome on ``topics.receipts``."""

    enabled: bool = True


class RetrySettings(_Strict):
    """Per-event retry budget: attempts and wall time, whichever ends first."""

    max_attempts: int = Field(8, ge=1)
    base_delay_s: float = Field(0.5, gt=0)
    max_delay_s: float = Field(60.0, gt=0)
    budget_s: float = Field(900.0, gt=0)


class DelayedRetrySettings(_Strict):
    """After the in-process attempts: park the unit on the retry topic and try again later, along
    ``delays_s`` (then its last value again) with up to ``jitter`` added, a platform's hint
    honoured at any length, until the next attempt would fall after the platform's window minus
    ``window_margin_s`` (or its ``max_age_s``) — only then is it dead-lettered as expired.
    ``max_wait_s`` caps every single wait, hints included (to scale a test down; leave unset)."""

    enabled: bool = True
    delays_s: list[float] = Field(
        default_factory=lambda: [60.0, 300.0, 1800.0, 7200.0, 21600.0], min_length=1
    )
    jitter: float = Field(0.1, ge=0, le=1)
    max_wait_s: float | None = Field(None, gt=0)
    window_margin_s: float = Field(3600.0, ge=0)

    @field_validator("delays_s")
    @classmethod
    def _ascending(cls, value: list[float]) -> list[float]:
        if any(d <= 0 for d in value) or value != sorted(value):
            raise ValueError("delays must be positive and ascending")
        return value


class CircuitSettings(_Strict):
    """When a platform is considered down, and how often it is probed while down."""

    failure_threshold: int = Field(5, ge=1)
    cooldown_s: float = Field(10.0, gt=0)


class PlatformConfig(_Strict):
    """One platform: the connector's own settings, credentials references and delivery limits."""

    enabled: bool = True
    paused: bool = False  # held from the start (resume needs a file change); see consumer/control
    settings: dict[str, Any] = Field(default_factory=dict)
    credentials: dict[str, Any] = Field(default_factory=dict)
    max_batch_events: int | None = Field(None, ge=1)
    linger_ms: int | None = Field(None, ge=0)
    max_connections: int = Field(8, ge=1)
    timeout_s: float = Field(10.0, gt=0)
    max_age_s: float | None = Field(None, gt=0)  # give up (DLQ expired) earlier than the window


class DeliverySettings(_Strict):
    """Bounds on in-flight work and the shared retry/circuit policy."""

    max_in_flight_events: int = Field(20_000, ge=1)
    max_in_flight_bytes: int = Field(64 * 1024 * 1024, ge=1024)
    retry: RetrySettings = Field(default_factory=RetrySettings)
    delayed_retry: DelayedRetrySettings = Field(default_factory=DelayedRetrySettings)
    circuit: CircuitSettings = Field(default_factory=CircuitSettings)


class ConsumerSettings(_Strict):
    """Polling, commit cadence and the shutdown deadline."""

    batch_size: int = Field(500, ge=1)
    poll_timeout_s: float = Field(0.1, ge=0)
    commit_interval_ms: int = Field(2000, ge=100)
    drain_deadline_s: float = Field(25.0, gt=0)


class ObservabilitySettings(_Strict):
    """Health/metrics endpoint and log format."""

    http_host: str = "0.0.0.0"
    http_port: int | None = 9400
    log_format: Literal["auto", "json", "console"] = "auto"
    log_level: str = "INFO"
    # /healthz fails when assigned partitions have lag and no message finished for this long
    # (0: off). Longer than the default retry budget, so a platform outage alone never trips it.
    wedged_after_s: float = Field(1800.0, ge=0)


class AdminSettings(_Strict):
    """The admin endpoint (pause/resume). Loopback only unless ``token_env`` names the variable
    holding a token every request must present; ``http_port`` None switches it off."""

    http_host: str = "127.0.0.1"
    http_port: int | None = 9401
    token_env: str | None = None


class Settings(BaseSettings):
    """The whole configuration. Environment variables override the file, e.g.
    ``CAPI_KAFKA__BOOTSTRAP_SERVERS=broker:9092`` or ``CAPI_STORE__BACKEND=redis``."""

    model_config = SettingsConfigDict(
        env_prefix="CAPI_", env_nested_delimiter="__", extra="forbid", validate_default=True
    )

    kafka: KafkaSettings = Field(default_factory=KafkaSettings)
    topics: TopicSettings = Field(default_factory=TopicSettings)
    schema_registry: SchemaRegistrySettings = Field(default_factory=SchemaRegistrySettings)
    store: StoreSettings = Field(default_factory=StoreSettings)
    ledger: LedgerSettings = Field(default_factory=LedgerSettings)
    receipts: ReceiptSettings = Field(default_factory=ReceiptSettings)
    routing: dict[str, list[str]] = Field(
        default_factory=lambda: {t: ["meta", "google", "tiktok"] for t in EVENT_TYPES}
    )
    platforms: dict[str, PlatformConfig] = Field(default_factory=dict)
    delivery: DeliverySettings = Field(default_factory=DeliverySettings)
    consumer: ConsumerSettings = Field(default_factory=ConsumerSettings)
    observability: ObservabilitySettings = Field(default_factory=ObservabilitySettings)
    admin: AdminSettings = Field(default_factory=AdminSettings)
    default_phone_region: str = "US"

    @field_validator("routing")
    @classmethod
    def _routing_types(cls, value: dict[str, list[str]]) -> dict[str, list[str]]:
        bad = sorted(set(value) - set(EVENT_TYPES))
        if bad:
            raise ValueError(f"unknown event type(s) {bad}; use {', '.join(EVENT_TYPES)}")
        return value

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        """Environment first, then the file (passed as init kwargs)."""
        return (env_settings, init_settings)

    def routed_platforms(self) -> list[str]:
        """Every platform some event type is routed to and that is enabled."""
        seen: list[str] = []
        for platforms in self.routing.values():
            for slug in platforms:
                if slug not in seen and self.platforms.get(slug, PlatformConfig()).enabled:
                    seen.append(slug)
        return seen


class ConfigError(Exception):
    """The configuration file is missing, unreadable or invalid; the message names the key.

    ``problems`` holds one line per problem (``key.path: message``); ``str()`` joins them."""

    def __init__(self, *problems: str) -> None:
        super().__init__("\n".join(problems))
        self.problems = list(problems)


def load_settings(path: str | Path | None = None, **overrides: Any) -> Settings:
    """Read and validate the YAML file (if any) with environment overrides applied."""
    data: dict[str, Any] = {}
    if path is not None:
        try:
            loaded = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
        except OSError as exc:
            raise ConfigError(f"cannot read config {path}: {exc.strerror}") from None
        except yaml.YAMLError as exc:
            raise ConfigError(f"config {path} is not valid YAML: {exc}") from None
        if loaded is not None and not isinstance(loaded, dict):
            raise ConfigError(f"config {path} must be a mapping at the top level")
        data = loaded or {}
    data.update(overrides)
    try:
        return Settings(**data)
    except ValidationError as exc:
        raise ConfigError(*validation_lines(exc)) from None
