"""The Microsoft UET Conversions API connector: business event -> UET custom event, batch ->
request.

Every event is a UET ``custom`` event whose ``eventName`` a custom-event conversion goal
matches. With ``continueOnValidationError`` Microsoft ingests the valid events of a batch and
reports the invalid ones by index, so one bad event does not cost its neighbours.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Sequence
from typing import Any, ClassVar

import orjson

from connectors import normalize as nz
from connectors.admission import admission_reject
from connectors.base import (
    DAY_MS,
    BatchLimits,
    ConnectorSettings,
    Credentials,
    Event,
    HttpRequest,
    HttpResponse,
    Item,
    ItemOutcome,
    Reject,
    own_settings,
)
from connectors.microsoft.classify import classify as classify_response
from connectors.microsoft.settings import API_VERSION, Settings

_MSCLKID = re.compile(r"[0-9a-f-]{32,36}")
_SUFFIX = re.compile(r"-\d$")
_NON_ALNUM = re.compile(r"[.]")


def email_strip_dots_and_alias(value: str) -> str | None:
    """walkerOS's variant: ``email()``, then dots and a ``+alias`` removed from the local part."""
    candidate = nz.email(value)
    if candidate is None:
        return None
    local, _, domain = candidate.partition("@")
    local = _NON_ALNUM.sub("", local.split("+", 1)[0])
    return f"{local}@{domain}" if local else None


class MicrosoftConnector:
    """Microsoft UET Conversions API (``/v1/{uetTagId}/events``)."""

    slug: ClassVar[str] = "microsoft"
    api_version: ClassVar[str] = API_VERSION  # the default of settings.api_version
    limits: ClassVar[BatchLimits] = BatchLimits(max_events=1000, max_bytes=1_000_000, linger_ms=500)
    window_days: ClassVar[float] = 7  # default of settings.max_event_age_days (see its description)
    settings_model: ClassVar[type[ConnectorSettings]] = Settings
    credential_kind: ClassVar[str] = "static"

    def __init__(self, settings: ConnectorSettings) -> None:
        settings = own_settings(settings, Settings)
        self.settings = settings
        self._base = settings.base_url.rstrip("/")
        self._names = dict(settings.event_names)
        self._categories = dict(settings.event_categories)
        max_age_days = settings.max_event_age_days
        self._max_age_days = max_age_days if max_age_days is not None else math.inf
        self._window_ms = self._max_age_days * DAY_MS
        self._future_ms = settings.future_tolerance_s * 1000
        self._consent = {"GRANTED": "G", "DENIED": "D", "UNSPECIFIED": settings.unspecified_ad_storage}
        self._flag_on_event = settings.continue_on_validation_error_placement == "event"
        region = settings.default_phone_region
        self._email: Callable[[str], str | None] = (
            nz.email if settings.email_rule == "trim_lower" else email_strip_dots_and_alias
        )
        # a bound rule (not a lambda): the hashing memo shares its result with every platform
        # that reads the same number in the same form
        self._phone: Callable[[str], str | None] = nz.phone_rule(
            region, digits=settings.phone_format != "e164"
        )

    def _tag(self, event: Event) -> str:
        site_id = event["context"].get("site_id")
        site = self.settings.sites.get(site_id) if site_id else None
        return site.uet_tag_id if site else self.settings.uet_tag_id

    def map_event(self, event: Event, now_ms: int) -> Item | Reject:
        """One UET custom event for ``event``, or the reason it cannot be sent."""
        consent = event["consent"]
        refused = admission_reject(
            event,
            now_ms,
            window_ms=self._window_ms,
            future_ms=self._future_ms,
            too_old=f"event older than {self._max_age_days:g} days (max_event_age_days)",
            too_new="eventTime is in the future",
        )
        if refused is not None:
            return refused
        event_time_ms = event["event_time"]
        # Unspecified is not a denial: it maps to the explicit unspecified_ad_storage setting.
        storage = self._consent.get(consent.get("ad_storage") or "UNSPECIFIED", self._consent["UNSPECIFIED"])
        # No minimum identity: Microsoft's material names none, and with continueOnValidationError
        # it refuses an invalid event alone, by index, so its answer decides.
        user_data, keys, dropped = self._user(event, storage)
        custom = self._custom_data(event, dropped)
        event_type = event["type"]
        payload: dict[str, Any] = {
            "eventType": "custom",
            "eventId": event["event_id"],
            "eventName": self._names.get(event_type) or event_type,
            "eventTime": event_time_ms // 1000,
        }
        context = event["context"]
        if context.get("page_url"):
            payload["eventSourceUrl"] = context["page_url"]
        if context.get("referrer_url"):
            payload["referrerUrl"] = context["referrer_url"]
        if storage != "omit":
            payload["adStorageConsent"] = storage
        payload["userData"] = user_data
        if custom:
            payload["customData"] = custom
        if self._flag_on_event:
            payload["continueOnValidationError"] = self.settings.continue_on_validation_error
        return Item(
            event_id=event["event_id"],
            event_type=event_type,
            event_time_ms=event_time_ms,
            payload=payload,
            match_keys=tuple(keys),
            dropped=tuple(dropped),
            route=self._tag(event),
        )

    def _user(self, event: Event, storage: str) -> tuple[dict[str, Any], list[str], list[str]]:
        """``userData``: hashed em/ph, plain msclkid, ids, IP and user agent."""
        user = event["user"]
        out: dict[str, Any] = {}
        keys: list[str] = []
        dropped: list[str] = []
        for key, field, func, match_key in (
            ("em", "email", self._email, "email"),
            ("ph", "phone", self._phone, "phone"),
        ):
            raw = user.get(field)
            if not raw:
                continue
            value = nz.hashed(raw, func)
            if value is None:
                dropped.append(field)
                continue
            out[key] = value
            keys.append(match_key)
        msclkid = event["click_ids"].get("msclkid")
        if msclkid and not (storage == "D" and self.settings.drop_click_id_when_denied):
            clean = msclkid.strip().lower()
            if self.settings.strip_msclkid_suffix:
                clean = _SUFFIX.sub("", clean)
            if _MSCLKID.fullmatch(clean):
                out["msclkid"] = clean
                keys.append("click_id")
            else:
                dropped.append("msclkid")
        for key, raw, match_key in (
            ("externalId", user.get("external_id"), "external_id"),
            ("anonymousId", user.get("anonymous_id"), "anonymous_id"),
        ):
            value = nz.external_id(raw)
            if value:
                out[key] = value
                keys.append(match_key)
        context = event["context"]
        ip = (context.get("ip_address") or "").strip()
        ua = (context.get("user_agent") or "").strip()
        if ip:
            out["clientIpAddress"] = ip
        if ua:
            out["clientUserAgent"] = ua
        if ip and ua:
            keys.append("ip_ua")
        return out, keys, dropped

    def _custom_data(self, event: Event, dropped: list[str]) -> dict[str, Any]:
        """``customData``: revenue, currency, transaction id and lines for purchases."""
        out: dict[str, Any] = {}
        category = self._categories.get(event["type"])
        if category:
            out["eventCategory"] = category
        currency = nz.currency(event.get("currency"))
        value = event.get("value")
        if event["type"] == "purchase":
            if currency is None:
                # value and currency are optional customData fields: send the purchase without
                # them rather than refuse it, and count the lost value.
                dropped.append("value")
            else:
                out.update(value=value, currency=currency)
            out.update(transactionId=event["order_id"], pageType="purchase")
            lines = []
            for line in event.get("items") or ():
                entry: dict[str, Any] = {"id": line["id"], "quantity": line.get("quantity", 1)}
                if line.get("price") is not None:
                    entry["price"] = line["price"]
                if line.get("name"):
                    entry["name"] = line["name"]
                lines.append(entry)
            if lines:
                out["items"] = lines
            return out
        if value is not None:
            if currency is None:
                dropped.append("currency")
            else:
                out.update(value=value, currency=currency)
        return out

    def build_request(self, items: Sequence[Item], credentials: Credentials) -> HttpRequest:
        """``POST {base}/v1/{uetTagId}/events`` with the UET CAPI Bearer token."""
        tag = items[0].route if items else self.settings.uet_tag_id
        body: dict[str, Any] = {"data": [item.payload for item in items]}
        if self.settings.data_provider:
            body["dataProvider"] = self.settings.data_provider
        if not self._flag_on_event:
            body["continueOnValidationError"] = self.settings.continue_on_validation_error
        return HttpRequest(
            method="POST",
            url=f"{self._base}/{self.settings.api_version}/{tag}/events",
            headers={
                "Authorization": f"Bearer {credentials.access_token}",
                "Content-Type": "application/json",
            },
            body=orjson.dumps(body),
        )

    def classify(self, response: HttpResponse, items: Sequence[Item]) -> list[ItemOutcome]:
        """One outcome per item (docs/platforms/microsoft.md, "Classification")."""
        return classify_response(response, items)
