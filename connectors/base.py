"""The connector contract: what every platform module declares and the engine relies on.

A connector is pure: it turns an enriched business event into one platform item, builds one
HTTP request from a batch of items, and classifies the platform's answer into one outcome per
item. It never does I/O, sleeps, retries or logs personal data, so it can be tested with golden
files and reused by the engine, `preview`, replay and the benchmark alike.

Events are the decoded Avro records of `schemas/` as plain dicts (the hot path avoids model
objects), plus a ``"type"`` key: ``"purchase"``, ``"lead"`` or ``"qualified"``.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar, Protocol, TypeVar

from pydantic import BaseModel, ConfigDict

Event = Mapping[str, Any]
"""A decoded business event: the schema's fields plus ``"type"`` (purchase | lead | qualified)."""

EVENT_TYPES: tuple[str, ...] = ("purchase", "lead", "qualified")


class OutcomeKind(enum.Enum):
    """What one platform answer means for one item; see Outcomes in docs/design.md."""

    DELIVERED = "delivered"
    REJECTED = "rejected"
    RETRY = "retry"
    THROTTLED = "throttled"
    AUTH = "auth"


TERMINAL_OUTCOMES = frozenset({OutcomeKind.DELIVERED, OutcomeKind.REJECTED})


@dataclass(frozen=True, slots=True)
class ItemOutcome:
    """The classified result for one item of a batch.

    ``batch_rejected`` marks a permanent rejection of the whole request that may have been
    caused by a single bad item (Meta, TikTok): the engine splits the batch and resends the
    halves instead of dead-lettering every item.
    """

    kind: OutcomeKind
    reason: str = ""
    code: str | None = None
    retry_after: float | None = None
    batch_rejected: bool = False
    platform_ref: str | None = None  # the platform's trace / request id (e.g. Meta fbtrace_id)
    duplicate: bool = False  # the platform said "already exists": counts as delivered

    @property
    def is_terminal(self) -> bool:
        """Whether no further attempt should be made for this item."""
        return self.kind in TERMINAL_OUTCOMES


def delivered(platform_ref: str | None = None, *, duplicate: bool = False) -> ItemOutcome:
    """Shorthand for a successful item outcome."""
    return ItemOutcome(OutcomeKind.DELIVERED, platform_ref=platform_ref, duplicate=duplicate)


@dataclass(frozen=True, slots=True)
class Reject:
    """An event the connector refuses before sending (missing identifiers, outside the window,
    consent denied). It goes to the dead-letter topic with this reason; nothing is sent."""

    reason: str
    code: str = "invalid_event"


@dataclass(slots=True)
class Item:
    """One event mapped to the platform's per-event JSON object.

    ``payload`` is what goes into the request body's event list; ``event_id`` ties the item back
    to the business event; ``match_keys`` names (never values) the identifiers it carries, for
    coverage metrics and receipts; ``dropped`` counts invalid identifiers that were left out.
    ``route`` groups items that must go in separate requests (per-site pixel or account id,
    conversion action): the batcher only batches items with the same route.
    """

    event_id: str
    event_type: str
    event_time_ms: int
    payload: dict[str, Any]
    match_keys: tuple[str, ...] = ()
    dropped: tuple[str, ...] = ()
    route: str = ""


@dataclass(frozen=True, slots=True)
class HttpRequest:
    """A fully built request; the engine sends it as is (after adding credentials headers)."""

    method: str
    url: str
    headers: Mapping[str, str]
    body: bytes


@dataclass(frozen=True, slots=True)
class HttpResponse:
    """What came back; ``status`` 0 with ``error`` set means no answer (timeout, connection)."""

    status: int
    headers: Mapping[str, str] = field(default_factory=dict)
    body: bytes = b""
    error: str | None = None


@dataclass(frozen=True, slots=True)
class Credentials:
    """Secrets for one request, supplied by the engine's credentials provider (tokens can be
    refreshed between requests); connectors only read them."""

    access_token: str = field(default="", repr=False)
    extra: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class BatchLimits:
    """How the engine may batch for this platform."""

    max_events: int
    max_bytes: int
    linger_ms: int = 200


class ConnectorSettings(BaseModel):
    """Base of each connector's own settings model (ids, event names, test codes, base URL).

    Each connector subclasses it; the YAML config's ``platforms.<slug>`` block is validated
    against the subclass, so a bad key is reported with its path.
    """

    model_config = ConfigDict(extra="forbid")

    base_url: str = ""
    test_mode: bool = False


SettingsT = TypeVar("SettingsT", bound=ConnectorSettings)


def refuse_test_mode(platform: str, needs: str) -> ValueError:
    """The one refusal for ``test_mode: true`` without the platform's test marker: a test run
    must never record live events, so such settings fail at start (raised from a settings
    model's validator, it surfaces as one configuration error naming the platform)."""
    return ValueError(f"test_mode: true needs {needs}; without it {platform} would record live events")

DAY_MS = 86_400_000
"""One day in milliseconds: platforms state their event-time windows in days."""


def own_settings(settings: ConnectorSettings, model: type[SettingsT]) -> SettingsT:
    """The connector's own settings model from whatever it was given: the registry and tests may
    hand over the base model (or another connector's), which is re-validated against ``model``
    so a wrong key fails here, with its name, rather than as a missing attribute later."""
    if isinstance(settings, model):
        return settings
    return model.model_validate(settings.model_dump())


class Connector(Protocol):
    """What the registry holds for each platform. Implementations are plain classes."""

    slug: ClassVar[str]
    api_version: ClassVar[str]
    limits: ClassVar[BatchLimits]
    window_days: ClassVar[float]  # the oldest event the platform accepts
    settings_model: ClassVar[type[ConnectorSettings]]
    credential_kind: ClassVar[str]  # "static" (token from a Secret) | "oauth" (refreshed)

    def __init__(self, settings: ConnectorSettings) -> None: ...

    def map_event(self, event: Event, now_ms: int) -> Item | Reject:
        """Map one enriched event to a platform item, or refuse it with a reason."""
        ...

    def build_request(self, items: Sequence[Item], credentials: Credentials) -> HttpRequest:
        """Build one request carrying all ``items`` (all with the same ``route``)."""
        ...

    def classify(self, response: HttpResponse, items: Sequence[Item]) -> list[ItemOutcome]:
        """One outcome per item, in order."""
        ...


def default_classify(response: HttpResponse, items: Sequence[Item]) -> list[ItemOutcome]:
    """Status-code classification shared by all connectors; they override only body-level codes.

    2xx delivered; 401/403 auth; 408/425/429 throttled (honouring Retry-After); 5xx and no
    answer retry; other 4xx rejected as a whole batch (the engine splits and resends).
    """
    status = response.status
    if 200 <= status < 300:
        return [delivered() for _ in items]
    retry_after = parse_retry_after(response.headers)
    if status == 0:
        outcome = ItemOutcome(OutcomeKind.RETRY, reason=response.error or "no response", code="network")
    elif status in (401, 403):
        outcome = ItemOutcome(OutcomeKind.AUTH, reason=f"HTTP {status}", code=str(status))
    elif status == 429:
        outcome = ItemOutcome(
            OutcomeKind.THROTTLED, reason="HTTP 429", code="429", retry_after=retry_after
        )
    elif status in (408, 425) or status >= 500:
        outcome = ItemOutcome(
            OutcomeKind.RETRY, reason=f"HTTP {status}", code=str(status), retry_after=retry_after
        )
    else:
        outcome = ItemOutcome(
            OutcomeKind.REJECTED, reason=f"HTTP {status}", code=str(status), batch_rejected=True
        )
    return [outcome] * len(items)


def parse_retry_after(headers: Mapping[str, str]) -> float | None:
    """Seconds from a ``Retry-After`` header (delta-seconds form), or None."""
    for key, value in headers.items():
        if key.lower() == "retry-after":
            try:
                return max(0.0, float(value))
            except ValueError:
                return None
    return None
