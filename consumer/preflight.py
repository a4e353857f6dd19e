"""Everything the relay needs, checked before it runs (`capi-relay check`, and `run` at start).

Why: a relay that starts with an unset token variable, a misspelt settings key or an
unreachable broker goes Ready and then dead-letters or crash-loops with the real cause buried.
Each check returns one line per problem, naming the key path that is wrong
(``platforms.meta.settings.pixle_id: unknown setting``), so `check` and `run` can print them and
exit 2. Services are probed with bounded timeouts so the answer comes within seconds.
"""

from __future__ import annotations

import base64
import logging
import os
import urllib.error
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass, field

import redis
from confluent_kafka import KafkaException
from confluent_kafka.admin import AdminClient, NewTopic
from pydantic import ValidationError

from connectors.registry import CONNECTORS, connector_class
from consumer.config import PlatformConfig, Settings
from consumer.config_errors import validation_lines
from consumer.delivery.credentials import CredentialsSettings, OAuthSettings, SiteCredentialsSettings
from consumer.ledger.factory import ledger_backend
from consumer.store_check import StoreOpenError, open_sqlite

DEFAULT_TIMEOUT_S = 5.0

_quiet = logging.getLogger("capi_relay.preflight.librdkafka")
_quiet.addHandler(logging.NullHandler())
_quiet.propagate = False  # the probe's own connection errors become one problem line instead


@dataclass
class Report:
    """The checks that ran and the problems they found (one ``key.path: message`` line each)."""

    checked: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """True when no check found a problem."""
        return not self.problems


def check_settings(settings: Settings, environ: Mapping[str, str] | None = None) -> list[str]:
    """Routing, each routed platform's connector settings and credentials, and every
    environment variable those credentials name (set and non-empty)."""
    env = os.environ if environ is None else environ
    problems: list[str] = []
    for event_type, slugs in settings.routing.items():
        for slug in slugs:
            if slug not in CONNECTORS:
                problems.append(f"routing.{event_type}: unknown platform '{slug}' (known: {_known()})")
    for slug in settings.platforms:
        if slug not in CONNECTORS:
            problems.append(f"platforms.{slug}: unknown platform (known: {_known()})")
    problems += _admin_problems(settings, env)
    for slug in settings.routed_platforms():
        if slug not in CONNECTORS:
            continue
        pcfg = settings.platforms.get(slug, PlatformConfig())
        problems += _platform_settings(settings, slug, pcfg)
        try:
            creds = CredentialsSettings.model_validate(pcfg.credentials)
        except ValidationError as exc:
            problems += validation_lines(exc, ("platforms", slug, "credentials"))
            continue
        problems += credential_env_problems(slug, creds, env)
    return problems


def _admin_problems(settings: Settings, environ: Mapping[str, str]) -> list[str]:
    """The admin endpoint may listen beyond loopback only behind a token."""
    admin = settings.admin
    if admin.http_port is None:
        return []
    if admin.token_env:
        if not environ.get(admin.token_env, "").strip():
            return [f"admin.token_env: environment variable {admin.token_env} is not set or empty"]
        return []
    if admin.http_host not in ("127.0.0.1", "::1", "localhost"):
        return [f"admin.http_host: {admin.http_host} is not a loopback address; set admin.token_env"]
    return []


def _known() -> str:
    return ", ".join(sorted(CONNECTORS))


def _platform_settings(settings: Settings, slug: str, pcfg: PlatformConfig) -> list[str]:
    cls = connector_class(slug)
    block = dict(pcfg.settings)
    if "default_phone_region" in cls.settings_model.model_fields:
        block.setdefault("default_phone_region", settings.default_phone_region)
    try:
        cls.settings_model.model_validate(block)
    except ValidationError as exc:
        return validation_lines(exc, ("platforms", slug, "settings"))
    return []


def credential_env_problems(slug: str, creds: CredentialsSettings, environ: Mapping[str, str]) -> list[str]:
    """Every variable the platform's credentials (and each site's) need, set and non-empty."""
    prefix = f"platforms.{slug}.credentials"
    problems = _site_env(prefix, creds, creds, environ)
    for site, site_creds in creds.sites.items():
        problems += _site_env(f"{prefix}.sites.{site}", site_creds, creds, environ)
    return problems


def _site_env(
    prefix: str, site: SiteCredentialsSettings, platform: CredentialsSettings, environ: Mapping[str, str]
) -> list[str]:
    oauth = site.oauth or platform.oauth
    token_env = site.token_env or platform.token_env
    if oauth is None and token_env is None:
        return [f"{prefix}: neither token_env nor oauth is configured"]
    needed: list[tuple[str, str | None]] = []
    if oauth is not None:
        needed += [(f"oauth.{k}", v) for k, v in _oauth_env(oauth).items()]
    else:
        needed.append(("token_env", token_env))
    needed += [(f"extra_env.{name}", var) for name, var in site.extra_env.items()]
    problems: list[str] = []
    for key, var in needed:
        if not var:
            problems.append(f"{prefix}.{key}: no environment variable named")
        elif not environ.get(var, "").strip():
            state = "is empty" if var in environ else "is not set"
            problems.append(f"{prefix}.{key}: environment variable {var} {state}")
    return problems


def _oauth_env(oauth: OAuthSettings) -> dict[str, str | None]:
    if oauth.kind == "google_service_account":
        return {"service_account_file_env": oauth.service_account_file_env}
    return {
        "client_id_env": oauth.client_id_env,
        "client_secret_env": oauth.client_secret_env,
        "refresh_token_env": oauth.refresh_token_env,
    }


def check_broker(settings: Settings, timeout_s: float = DEFAULT_TIMEOUT_S) -> list[str]:
    """The broker answers within ``timeout_s``; the dead-letter (and receipts) topic exists or
    may be created (validated with a dry-run CreateTopics, nothing is created here)."""
    config = settings.kafka.client_config(logger=_quiet)
    admin = AdminClient(config)
    try:
        existing = set(admin.list_topics(timeout=timeout_s).topics)
    except KafkaException:
        return [
            f"kafka.bootstrap_servers: no broker at {settings.kafka.bootstrap_servers} "
            f"answered within {timeout_s:g}s"
        ]
    wanted = {"topics.dlq": settings.topics.dlq, "topics.control": settings.topics.control}
    if settings.receipts.enabled:
        wanted["topics.receipts"] = settings.topics.receipts
    missing = {key: topic for key, topic in wanted.items() if topic not in existing}
    if not missing:
        return []
    if not settings.topics.create_missing:
        return [
            f"{key}: topic {topic} does not exist and topics.create_missing is false"
            for key, topic in missing.items()
        ]
    futures = admin.create_topics(
        [NewTopic(t, num_partitions=-1, replication_factor=-1) for t in missing.values()],
        request_timeout=timeout_s,
        validate_only=True,
    )
    problems: list[str] = []
    for key, topic in missing.items():
        try:
            futures[topic].result(timeout=timeout_s)
        except KafkaException as exc:
            if "TOPIC_ALREADY_EXISTS" not in str(exc):
                problems.append(f"{key}: topic {topic} does not exist and cannot be created ({exc})")
    return problems


def check_registry(settings: Settings, timeout_s: float = DEFAULT_TIMEOUT_S) -> list[str]:
    """The Schema Registry answers ``GET /subjects`` when a URL is configured."""
    url = settings.schema_registry.url
    if not url or url.startswith("mock://"):
        return []
    request = urllib.request.Request(url.rstrip("/") + "/subjects")
    user_env = settings.schema_registry.basic_auth_user_info_env
    if user_env:
        if not os.environ.get(user_env):
            return [f"schema_registry.basic_auth_user_info_env: environment variable {user_env} is not set"]
        token = base64.b64encode(os.environ[user_env].encode()).decode()
        request.add_header("Authorization", f"Basic {token}")
    try:
        with urllib.request.urlopen(request, timeout=timeout_s) as response:
            response.read(1)
    except urllib.error.HTTPError as exc:
        return [f"schema_registry.url: {url} answered HTTP {exc.code}"]
    except (urllib.error.URLError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        return [f"schema_registry.url: {url} not reachable ({reason})"]
    return []


def check_storage(settings: Settings, timeout_s: float = DEFAULT_TIMEOUT_S) -> list[str]:
    """The click-ID store and the delivery ledger can be written (SQLite file or Redis)."""
    targets: list[tuple[str, str, str]] = []  # (key, backend, location)
    store = settings.store
    if store.backend == "sqlite":
        targets.append(("store.sqlite_path", "sqlite", store.sqlite_path))
    elif store.backend == "redis":
        targets.append(("store.redis_url", "redis", store.redis_url))
    ledger = settings.ledger
    backend = ledger_backend(settings)
    if backend == "sqlite":
        key = "ledger.sqlite_path" if ledger.sqlite_path else "store.sqlite_path"
        targets.append((key, "sqlite", ledger.sqlite_path or store.sqlite_path))
    elif backend == "redis":
        key = "ledger.redis_url" if ledger.redis_url else "store.redis_url"
        targets.append((key, "redis", ledger.redis_url or store.redis_url))
    problems: list[str] = []
    for key, kind, location in dict.fromkeys(targets):
        label = "delivery ledger" if key.startswith("ledger") else "click-ID store"
        if kind == "sqlite":
            error = _sqlite_writable(location, label)
        else:
            error = _redis_writable(location, timeout_s)
        if error and f"{key}: {error}" not in problems:
            problems.append(f"{key}: {error}")
    return problems


def _sqlite_writable(path: str, label: str) -> str | None:
    """The same open-for-writing probe `run` makes when it builds the store (one reason line)."""
    try:
        open_sqlite(path, label)
    except StoreOpenError as exc:
        return str(exc)
    return None


def _redis_writable(url: str, timeout_s: float) -> str | None:
    client = redis.Redis.from_url(url, socket_timeout=timeout_s, socket_connect_timeout=timeout_s)
    try:
        client.set("capi-relay:preflight", "1", ex=60)
    except (redis.RedisError, OSError, ValueError) as exc:
        return f"{_without_password(url)} is not writable ({type(exc).__name__}: {exc})"
    finally:
        client.close()
    return None


def _without_password(url: str) -> str:
    head, at, tail = url.rpartition("@")
    return f"{head.split('//')[0]}//***@{tail}" if at else url


def run_checks(settings: Settings, *, services: bool = True, timeout_s: float = DEFAULT_TIMEOUT_S) -> Report:
    """All checks in order; the service probes are skipped with ``services=False``."""
    report = Report()
    report.checked += ["settings", "routing", "credentials"]
    report.problems += check_settings(settings)
    if services:
        report.checked += ["broker", "topics", "registry", "storage"]
        report.problems += check_broker(settings, timeout_s)
        report.problems += check_registry(settings, timeout_s)
        report.problems += check_storage(settings, timeout_s)
    return report
