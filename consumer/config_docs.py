"""One sentence per configuration key: the descriptions `docs/configuration.md` and the Helm
chart's JSON Schema carry (`consumer.config_schema` merges them into the settings models'
schema). A key without a description fails the reference test, so a new setting is
documented in the commit that adds it."""

from __future__ import annotations

DESCRIPTIONS: dict[str, str] = {
    "kafka": "Broker connection and consumer group.",
    "kafka.bootstrap_servers": "Comma-separated `host:port` list of the Kafka brokers.",
    "kafka.group_id": "Consumer group of the relay; every replica uses the same one. Also scopes "
    "pause decisions on the control topic.",
    "kafka.extra": "librdkafka settings passed as is (`security.protocol`, `sasl.*`, `ssl.*`, consumer "
    "tuning); the connection ones are used by every client the relay opens.",
    "topics": "Which topics carry which event type, and where dead letters, receipts and pause decisions go.",
    "topics.events": "Source topic -> event type (`purchase`, `lead`, `qualified`).",
    "topics.dlq": "Dead-letter topic (original bytes plus reason headers).",
    "topics.click_ids": "Compacted topic of click-ID captures fed into the click-ID store.",
    "topics.receipts": "Topic of receipts: one record per terminal (event, platform) outcome.",
    "topics.retry": "Retry topic of units waiting for a later attempt (one partition per delay tier "
    "of `delivery.delayed_retry.delays_s`); consumed by the relay itself.",
    "topics.control": "Compacted control topic holding pause decisions per (consumer group, platform), "
    "shared by every replica and read at start.",
    "topics.create_missing": "Create the dead-letter, receipts and control topics at start when missing "
    "(broker defaults for partitions and replication).",
    "schema_registry": "Confluent Schema Registry; without a URL, messages are plain Avro written with "
    "the local schemas.",
    "schema_registry.url": "Registry URL, e.g. `http://schema-registry:8081`.",
    "schema_registry.basic_auth_user_info_env": "Variable holding `user:password` for the registry's "
    "basic authentication.",
    "schema_registry.ssl_ca_location": "CA bundle (PEM file) that verifies the registry's TLS certificate.",
    "schema_registry.ssl_certificate_location": "Client certificate (PEM file) for registries that "
    "require mutual TLS.",
    "schema_registry.ssl_key_location": "Private key (PEM file) of the client certificate.",
    "schema_registry.ssl_key_password_env": "Variable holding the password of `ssl_key_location`, if "
    "the key is encrypted.",
    "schema_registry.subject_name_strategy": "Subjects that `produce-sample` registers under: `topic` "
    "(`<topic>-value`, Confluent's default), `record` (the record's full name) or `topic_record` "
    "(`<topic>-<full name>`). Decoding reads the schema id from each message and does not depend on it.",
    "store": "The click-ID store (also the delivery ledger's backend unless `ledger.backend` is set).",
    "store.backend": "`sqlite` (embedded, one file per replica), `redis` (shared) or `none` (no enrichment).",
    "store.sqlite_path": "SQLite file of the click-ID store; its directory is created.",
    "store.redis_url": "Redis URL of the click-ID store.",
    "store.ttl_days": "Days a stored click ID stays usable, per kind (e.g. `ttclid: 28`); 90 by default.",
    "store.key_order": "User keys tried in order to find stored click IDs for an event.",
    "ledger": "The delivery ledger: skip (event, platform) pairs the platform already accepted.",
    "ledger.enabled": "Keep and consult the ledger.",
    "ledger.backend": "`sqlite`, `redis` or `none`; unset means the click-ID store's backend.",
    "ledger.sqlite_path": "SQLite file of the ledger; unset means `store.sqlite_path`.",
    "ledger.redis_url": "Redis URL of the ledger; unset means `store.redis_url`.",
    "ledger.default_ttl_days": "Days an acceptance is remembered, for platforms not in `ttl_days`.",
    "ledger.ttl_days": "Days an acceptance is remembered, per platform.",
    "ledger.flush_interval_ms": "How often buffered acceptances are written (the crash window's "
    "buffered part).",
    "ledger.flush_max_items": "Buffered acceptances that force a write before the interval.",
    "receipts": "Receipts on `topics.receipts`.",
    "receipts.enabled": "Publish a receipt for every terminal (event, platform) outcome.",
    "routing": "Event type -> the platforms it is delivered to.",
    "platforms": "Per platform: its connector settings, credentials and delivery limits.",
    "platforms.<p>.max_age_s": "Give up a waiting unit (dead letter `expired`) once its event is "
    "older than this, earlier than the platform's own window; unset: the window decides.",
    "platforms.<p>.enabled": "Deliver to this platform; `false` drops it from routing.",
    "platforms.<p>.paused": "Hold this platform's events from the start (nothing sent, nothing "
    "dropped); only a file change lifts it.",
    "platforms.<p>.settings": "The connector's own settings (ids, event names, test codes, base URL); "
    "see the per-platform tables below.",
    "platforms.<p>.credentials": "Where the platform's token comes from (environment variables or "
    "OAuth); see the credentials table below.",
    "platforms.<p>.max_batch_events": "Cap on events per request, below the platform's own limit.",
    "platforms.<p>.linger_ms": "How long a partial batch may wait for more events.",
    "platforms.<p>.max_connections": "Concurrent requests to this platform.",
    "platforms.<p>.timeout_s": "Timeout of one request to this platform, in seconds.",
    "delivery": "Bounds on in-flight work and the shared retry and circuit policy.",
    "delivery.max_in_flight_events": "Messages consumed and not yet finished before intake pauses.",
    "delivery.max_in_flight_bytes": "Bytes of messages consumed and not yet finished before intake pauses.",
    "delivery.retry": "Per-event retry budget: attempts and wall time, whichever ends first.",
    "delivery.retry.max_attempts": "Attempts per (event, platform) before it is dead-lettered.",
    "delivery.retry.base_delay_s": "First backoff delay; doubles per attempt, with jitter.",
    "delivery.retry.max_delay_s": "Longest backoff delay.",
    "delivery.retry.budget_s": "Seconds from first entering delivery after which an event is "
    "dead-lettered as exhausted.",
    "delivery.delayed_retry": "Retries after the in-process attempts: the unit is parked on the retry "
    "topic and tried again later, so a long outage neither stalls the source nor fills the DLQ.",
    "delivery.delayed_retry.enabled": "Park units that cannot be delivered now on the retry topic; "
    "`false` dead-letters them (`exhausted`, `auth`) as soon as the in-process budget ends.",
    "delivery.delayed_retry.delays_s": "Waits between delayed attempts, ascending; the last one repeats. "
    "One retry-topic partition per value (a delay tier).",
    "delivery.delayed_retry.jitter": "Up to this share of a wait is added at random, so parked units "
    "of one outage do not return together.",
    "delivery.delayed_retry.max_wait_s": "Cap on every single wait, platform hints included (for "
    "tests and rehearsals; leave unset in production).",
    "delivery.delayed_retry.window_margin_s": "A unit is dead-lettered as `expired` once its next "
    "attempt would fall later than the platform's window minus this margin.",
    "delivery.circuit": "When a platform is considered down, and how often it is probed.",
    "delivery.circuit.failure_threshold": "Consecutive failed requests that open the circuit.",
    "delivery.circuit.cooldown_s": "Seconds before the first probe of an open circuit (doubles per "
    "failed probe, up to 120).",
    "consumer": "Polling, commit cadence and the shutdown deadline.",
    "consumer.batch_size": "Messages taken per poll.",
    "consumer.poll_timeout_s": "Seconds a poll may wait for messages.",
    "consumer.commit_interval_ms": "How often finished offsets are committed.",
    "consumer.drain_deadline_s": "Seconds a stop waits for in-flight deliveries before it commits and "
    "exits; keep it below Kubernetes' termination grace period.",
    "observability": "The health, metrics and status endpoint, and the log format.",
    "observability.http_host": "Address of `/metrics`, `/healthz`, `/readyz` and `/status`.",
    "observability.http_port": "Port of those endpoints; null switches them off.",
    "observability.log_format": "`json` lines, `console` text, or `auto` (console on a terminal).",
    "observability.log_level": "Lowest level logged (`DEBUG`, `INFO`, `WARNING`, `ERROR`).",
    "observability.wedged_after_s": "`/healthz` fails when the assigned partitions have lag and no "
    "message finished for this many seconds, so Kubernetes restarts a wedged relay; 0 turns it off.",
    "admin": "The admin endpoint used by `capi-relay pause` and `resume`.",
    "admin.http_host": "Its address; anything but loopback requires `token_env`.",
    "admin.http_port": "Its port; null switches it off.",
    "admin.token_env": "Variable holding the bearer token every admin request must carry.",
    "default_phone_region": "Region assumed for phone numbers without a country code (ISO 3166-1 alpha-2).",
}

CREDENTIALS_DESCRIPTIONS: dict[str, str] = {
    "token_env": "Variable holding a static access token.",
    "oauth": "Refreshed OAuth tokens instead of a static one.",
    "oauth.kind": "`google_service_account`, `google_refresh_token` or `oauth2_refresh_token`.",
    "oauth.token_uri": "Token endpoint (default: the provider's).",
    "oauth.client_id_env": "Variable holding the OAuth client id.",
    "oauth.client_secret_env": "Variable holding the OAuth client secret.",
    "oauth.refresh_token_env": "Variable holding the refresh token.",
    "oauth.service_account_file_env": "Variable holding the path of a service-account key file.",
    "oauth.scopes": "Scopes requested (default: the platform's).",
    "oauth.refresh_margin_s": "Refresh this many seconds before the token expires.",
    "extra_env": "Extra credentials the connector needs -> variables that must be set (Google: "
    "`developer-token`).",
    "optional_extra_env": "The same for optional extras (Google: `login-customer-id`).",
    "sites": "Per-site overrides (keys matched against the event's route).",
}

CONNECTOR_DESCRIPTIONS: dict[str, str] = {
    "base_url": "Where requests go instead of the platform's real host (e.g. the sandbox); empty "
    "means the real host.",
    "test_mode": "Send in the platform's test mode where it has one (see its page).",
    "default_phone_region": "Region for phone numbers without a country code; defaults to the "
    "top-level `default_phone_region`.",
    "future_tolerance_s": "Seconds an event time may lie in the future (clock skew) before the event "
    "is refused.",
    "sites": "Per-site overrides (ids, codes) selected by the event's `context.site_id`.",
}
"""Descriptions of the settings every connector shares, used where its model gives none."""
