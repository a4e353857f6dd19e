"""What both Google APIs share: routing targets, consent and window checks, click ids, and the
hashed email/phone identifiers (Google's normalisation: Gmail +tag and dot rule, E.164 with '+').

Everything settings-derived is computed once in ``Targets`` so the per-event path only does
dictionary look-ups and hashing.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from connectors import normalize
from connectors.base import DAY_MS, EVENT_TYPES, Reject
from connectors.google.settings import Settings, action_customer, action_id

WINDOW_DAYS = 90.0
MAX_FUTURE_MS = 5 * 60 * 1000
_EMPTY: Mapping[str, Any] = {}


@dataclass(frozen=True, slots=True)
class Target:
    """Where one (site, event type) goes: account ids and conversion action, plus its route."""

    route: str
    customer_id: str
    login_customer_id: str | None
    action_id: str
    action_resource: str


class Targets:
    """All (site, event type) -> Target resolutions, precomputed from the settings."""

    def __init__(self, settings: Settings, api_tag: str, route_per_action: bool) -> None:
        self._by_key: dict[tuple[str, str], Target] = {}
        self.by_route: dict[str, Target] = {}
        scopes: list[tuple[str, Any]] = [("", None), *settings.sites.items()]
        for site_key, site in scopes:
            actions = dict(settings.conversion_actions)
            if site is not None and site.conversion_actions is not None:
                actions.update(site.conversion_actions)
            cid = (site.customer_id if site is not None else None) or settings.customer_id
            login = (site.login_customer_id if site is not None else None) or settings.login_customer_id
            for event_type in EVENT_TYPES:
                action = actions.get(event_type)
                if action is None:
                    continue
                customer = cid or action_customer(action)
                if customer is None:
                    where = f"sites.{site_key}" if site_key else "google"
                    raise ValueError(f"{where}: conversion action for {event_type!r} needs a customer_id")
                aid = action_id(action)
                resource = action if action.startswith("customers/") else (
                    f"customers/{customer}/conversionActions/{aid}"
                )
                parts = [site_key, api_tag, customer, login or ""]
                if route_per_action:
                    parts.append(aid)
                target = Target("|".join(parts), customer, login, aid, resource)
                self._by_key[(site_key, event_type)] = target
                self.by_route.setdefault(target.route, target)
        self._sites = frozenset(settings.sites)

    def resolve(self, site_id: str | None, event_type: str) -> Target | None:
        """The target for an event of ``event_type`` from ``site_id`` (unknown sites use the default)."""
        site_key = site_id if site_id in self._sites else ""
        return self._by_key.get((site_key, event_type))

    def admit(self, event: Mapping[str, Any], now_ms: int, require_granted: bool) -> Target | Reject:
        """What both Google APIs do first: the consent and time checks, then the conversion
        action for the event's site and type (a refusal when none is configured)."""
        rejected = check_event(event, now_ms, require_granted)
        if rejected is not None:
            return rejected
        event_type = str(event.get("type"))
        context = event.get("context") or _EMPTY
        target = self.resolve(context.get("site_id"), event_type)
        if target is None:
            return Reject(f"no Google conversion action configured for {event_type}", code="not_configured")
        return target


def check_event(
    event: Mapping[str, Any], now_ms: int, require_granted: bool
) -> Reject | None:
    """Consent and time-window checks that apply before any mapping."""
    consent = event.get("consent") or _EMPTY
    ad_user_data = consent.get("ad_user_data") or "UNSPECIFIED"
    if ad_user_data == "DENIED":
        return Reject("consent denied: ad_user_data is DENIED", code="consent_denied")
    if require_granted and ad_user_data != "GRANTED":
        return Reject("consent not granted: ad_user_data must be GRANTED", code="consent_denied")
    event_time = event.get("event_time")
    if not isinstance(event_time, int):
        return Reject("event_time missing", code="invalid_event")
    if event_time < now_ms - int(WINDOW_DAYS * DAY_MS):
        return Reject("event older than Google's 90-day upload window", code="outside_window")
    if event_time > now_ms + MAX_FUTURE_MS:
        return Reject("event_time is more than 5 minutes in the future", code="outside_window")
    return None


def click_id(click_ids: Mapping[str, Any]) -> tuple[str, str] | None:
    """At most one Google click id: gclid first, else gbraid, else wbraid (never both braids)."""
    for key in ("gclid", "gbraid", "wbraid"):
        value = click_ids.get(key)
        if value:
            stripped = str(value).strip()
            if stripped:
                return key, stripped
    return None


def phone_hasher(region: str) -> Callable[[str | None], str | None]:
    """A hasher for phone numbers in E.164 with '+', reading bare numbers in ``region``."""
    return functools.partial(normalize.hashed, normalizer=normalize.phone_rule(region))


def hash_email(value: str | None) -> str | None:
    """SHA-256 hex of the Google-normalised email (Gmail/Googlemail +tag and dots removed)."""
    return normalize.hashed(value, normalize.email_google)


def identifiers(
    user: Mapping[str, Any], hash_phone: Callable[[str | None], str | None]
) -> tuple[str | None, str | None, list[str]]:
    """(hashed email, hashed phone, names of identifiers present but invalid)."""
    dropped: list[str] = []
    raw_email = user.get("email")
    email = hash_email(raw_email) if raw_email else None
    if raw_email and email is None:
        dropped.append("email")
    raw_phone = user.get("phone")
    phone = hash_phone(raw_phone) if raw_phone else None
    if raw_phone and phone is None:
        dropped.append("phone")
    return email, phone, dropped


def value_and_currency(event: Mapping[str, Any]) -> tuple[float | None, str | None]:
    """The conversion value (if a number) and its ISO currency (if well-formed)."""
    value = event.get("value")
    number = float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None
    return number, normalize.currency(event.get("currency"))


def transaction_id(event: Mapping[str, Any]) -> str:
    """Google's dedup key: the order id for purchases, the event id otherwise."""
    if event.get("type") == "purchase" and event.get("order_id"):
        return str(event["order_id"])
    return str(event.get("event_id") or "")


def utc(event_time_ms: int) -> datetime:
    """The event's own time as an aware UTC datetime (never the consumer's clock)."""
    return datetime.fromtimestamp(event_time_ms / 1000, tz=UTC)
