"""Sandbox configuration: fault settings per platform and the credentials it accepts.

The sandbox is started with a config (a dict or a YAML file) and its faults can be changed
at runtime. Keeping every knob in one validated dataclass means an unknown key or a rate
outside [0, 1] is refused loudly instead of silently doing nothing during a benchmark.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

DEFAULT_TOKEN = "sandbox-token"
DEFAULT_DEVELOPER_TOKEN = "sandbox-dev-token"
ALL_PLATFORMS = "*"

_RATE_KEYS = ("error_5xx_rate", "throttle_rate", "timeout_rate", "reject_event_rate", "body_error_rate")


class ConfigError(ValueError):
    """Raised for an invalid sandbox config, naming the bad key so the operator can fix it."""


@dataclass(slots=True)
class Outage:
    """A platform-wide outage: every request fails with `status` until `until` (epoch s, None = forever).

    Why: lets kill/recovery tests switch a platform off and on without restarting the sandbox.
    """

    status: int = 503
    until: float | None = None

    def active(self, now_s: float) -> bool:
        """True while the outage still applies at wall-clock time `now_s`."""
        return self.until is None or now_s < self.until


@dataclass(slots=True)
class FaultSettings:
    """All fault knobs for one platform; defaults inject nothing.

    Why: one small value object is cheap to read on the hot path and easy to merge from the
    admin API.
    """

    latency_ms: float = 0.0
    latency_jitter_ms: float = 0.0
    error_5xx_rate: float = 0.0
    error_5xx_statuses: tuple[int, ...] = (500, 502, 503)
    throttle_rate: float = 0.0
    retry_after_s: int = 1
    timeout_rate: float = 0.0
    timeout_hold_s: float = 30.0
    reject_event_rate: float = 0.0
    body_error_rate: float = 0.0
    body_error_codes: tuple[int, ...] = (40100, 50000)
    outage: Outage | None = None
    duplicate_answers: bool = False
    too_recent_s: float = 0.0

    def merged(self, changes: Mapping[str, Any]) -> FaultSettings:
        """Return a copy with `changes` applied (validated); unknown keys raise ConfigError."""
        known = {f.name for f in dataclasses.fields(self)}
        values = dataclasses.asdict(self)
        values["outage"] = self.outage
        for key, raw in changes.items():
            if key not in known:
                raise ConfigError(f"unknown fault setting {key!r}; known: {sorted(known)}")
            values[key] = _coerce(key, raw)
        return FaultSettings(**values)

    def to_dict(self) -> dict[str, Any]:
        """JSON-friendly view for the admin API."""
        data = dataclasses.asdict(self)
        data["error_5xx_statuses"] = list(self.error_5xx_statuses)
        data["body_error_codes"] = list(self.body_error_codes)
        return data

    def outage_active(self, now_s: float | None = None) -> bool:
        """True when an outage is configured and has not yet ended."""
        if self.outage is None:
            return False
        return self.outage.active(time.time() if now_s is None else now_s)


def _coerce(key: str, raw: Any) -> Any:
    """Validate and convert one fault setting value."""
    try:
        if key in _RATE_KEYS:
            rate = float(raw)
            if not 0.0 <= rate <= 1.0:
                raise ConfigError(f"fault setting {key!r} must be within [0, 1], got {raw!r}")
            return rate
        if key in ("latency_ms", "latency_jitter_ms", "timeout_hold_s", "too_recent_s"):
            value = float(raw)
            if value < 0:
                raise ConfigError(f"fault setting {key!r} must be >= 0, got {raw!r}")
            return value
        if key == "retry_after_s":
            return max(0, int(raw))
        if key in ("error_5xx_statuses", "body_error_codes"):
            values = tuple(int(v) for v in raw)
            if not values:
                raise ConfigError(f"fault setting {key!r} must not be empty")
            return values
        if key == "duplicate_answers":
            return bool(raw)
        if key == "outage":
            return _outage(raw)
    except (TypeError, ValueError) as exc:
        if isinstance(exc, ConfigError):
            raise
        raise ConfigError(f"fault setting {key!r} has an invalid value {raw!r}: {exc}") from exc
    raise ConfigError(f"unknown fault setting {key!r}")  # pragma: no cover - guarded by caller


def _outage(raw: Any) -> Outage | None:
    """Parse the `outage` setting: null/false clears it, a dict or `true` sets it."""
    if raw is None or raw is False:
        return None
    if raw is True:
        return Outage()
    if isinstance(raw, Outage):
        return raw
    if not isinstance(raw, Mapping):
        raise ConfigError(f"fault setting 'outage' must be null or an object, got {raw!r}")
    unknown = set(raw) - {"status", "until"}
    if unknown:
        raise ConfigError(f"unknown outage keys {sorted(unknown)}")
    until = raw.get("until")
    return Outage(status=int(raw.get("status", 503)), until=None if until is None else float(until))


@dataclass(slots=True)
class SandboxConfig:
    """Start-up config: accepted tokens per platform, Google developer tokens, initial faults.

    Why: the sandbox must refuse wrong credentials with each platform's auth error, so the
    accepted set is explicit configuration rather than "anything goes".
    """

    tokens: dict[str, tuple[str, ...]] = field(default_factory=dict)
    developer_tokens: tuple[str, ...] = (DEFAULT_DEVELOPER_TOKEN,)
    faults: dict[str, dict[str, Any]] = field(default_factory=dict)
    seed: int | None = None

    def tokens_for(self, slug: str) -> tuple[str, ...]:
        """Tokens accepted for `slug` (default: the shared sandbox token)."""
        return self.tokens.get(slug, (DEFAULT_TOKEN,))


_CONFIG_KEYS = {"tokens", "developer_tokens", "faults", "seed"}


def config_from_mapping(data: Mapping[str, Any] | None) -> SandboxConfig:
    """Build a SandboxConfig from a dict.

    Accepts either the full form (`tokens`, `developer_tokens`, `faults`, `seed`) or a bare
    faults mapping `{platform: {setting: value}}` for brevity.
    """
    if not data:
        return SandboxConfig()
    if not isinstance(data, Mapping):
        raise ConfigError("sandbox config must be a mapping")
    if not set(data) <= _CONFIG_KEYS:
        return SandboxConfig(faults=_faults_section(data))
    tokens: dict[str, tuple[str, ...]] = {}
    for slug, value in (data.get("tokens") or {}).items():
        tokens[str(slug)] = (value,) if isinstance(value, str) else tuple(str(v) for v in value)
    dev = data.get("developer_tokens")
    developer_tokens = (
        (DEFAULT_DEVELOPER_TOKEN,)
        if dev is None
        else ((dev,) if isinstance(dev, str) else tuple(str(v) for v in dev))
    )
    seed = data.get("seed")
    return SandboxConfig(
        tokens=tokens,
        developer_tokens=developer_tokens,
        faults=_faults_section(data.get("faults") or {}),
        seed=None if seed is None else int(seed),
    )


def _faults_section(data: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """Check the faults section is `{platform: mapping}`; values are validated on apply."""
    out: dict[str, dict[str, Any]] = {}
    for slug, settings in data.items():
        if not isinstance(settings, Mapping):
            raise ConfigError(f"faults for {slug!r} must be a mapping")
        out[str(slug)] = dict(settings)
    return out


def load_config(path: str | Path | None) -> SandboxConfig:
    """Read a YAML (or JSON, a YAML subset) config file; None gives the defaults."""
    if path is None:
        return SandboxConfig()
    with open(path, encoding="utf-8") as fh:
        return config_from_mapping(yaml.safe_load(fh))
