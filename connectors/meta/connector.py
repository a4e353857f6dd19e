"""The Meta Conversions API connector: business event -> server event, batch -> request.

Meta rejects a whole request when any event in it is invalid or older than 7 days, so every
rule Meta checks server-side that we can check here (window, website fields, currency, at least
one usable identifier) is enforced in ``map_event``: a bad event is refused alone instead of
taking its batch down.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Sequence
from typing import Any, ClassVar
from urllib.parse import quote

import orjson

from connectors import normalize as nz
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
from connectors.meta import mapping
from connectors.meta.classify import classify as classify_response
from connectors.meta.settings import API_VERSION, Settings

ACTION_SOURCES = {
    "WEBSITE": "website",
    "APP": "app",
    "PHONE_CALL": "phone_call",
    "CHAT": "chat",
    "EMAIL": "email",
    "PHYSICAL_STORE": "physical_store",
    "SYSTEM_GENERATED": "system_generated",
    "OTHER": "other",
}


class MetaConnector:
    """Meta Conversions API (Graph ``/{pixel_id}/events``), one request per dataset id."""

    slug: ClassVar[str] = "meta"
    api_version: ClassVar[str] = API_VERSION  # the default of settings.api_version
    # Meta allows 1,000 events but rejects all of them for one bad event: smaller batches keep
    # the cost of a split low. No byte limit is documented; 2 MB keeps requests quick.
    limits: ClassVar[BatchLimits] = BatchLimits(max_events=200, max_bytes=2_000_000, linger_ms=200)
    window_days: ClassVar[float] = 7
    physical_store_window_days: ClassVar[float] = 62
    settings_model: ClassVar[type[ConnectorSettings]] = Settings
    credential_kind: ClassVar[str] = "static"

    def __init__(self, settings: ConnectorSettings) -> None:
        settings = own_settings(settings, Settings)
        self.settings = settings
        self._base = settings.base_url.rstrip("/")
        self._version = settings.api_version
        self._site_pixels = {site: s.pixel_id for site, s in settings.sites.items()}
        self._test_codes: dict[str, str | None] = {settings.pixel_id: settings.test_event_code}
        for site in settings.sites.values():
            self._test_codes[site.pixel_id] = site.test_event_code or settings.test_event_code
        self._names = dict(settings.event_names)
        self._window_ms = int(self.window_days * DAY_MS)
        self._store_window_ms = int(self.physical_store_window_days * DAY_MS)
        self._future_ms = settings.future_tolerance_s * 1000

    def map_event(self, event: Event, now_ms: int) -> Item | Reject:
        """One server event for ``event``, or the reason it cannot be sent to Meta."""
        consent = event["consent"]
        if consent.get("ad_user_data") == "DENIED":
            return Reject("consent denied (ad_user_data=DENIED)", code="consent_denied")
        event_type = event["type"]
        context = event["context"]
        if event_type == "qualified":
            action_source = "system_generated"
        else:
            action_source = ACTION_SOURCES.get(context.get("action_source") or "OTHER", "other")
        if action_source == "app":
            return Reject(
                "Meta app events need app_data (extinfo), which the event contract does not carry",
                code="unsupported_action_source",
            )
        page_url = context.get("page_url")
        if action_source == "website" and not (page_url and context.get("user_agent")):
            fallback = self.settings.website_fallback_action_source
            if fallback is None:
                return Reject(
                    "website events need context.page_url and context.user_agent for Meta",
                    code="missing_website_fields",
                )
            action_source = fallback
        event_time_ms = event["event_time"]
        window = self._store_window_ms if action_source == "physical_store" else self._window_ms
        if now_ms - event_time_ms > window:
            return Reject(f"event older than Meta's {window // DAY_MS}-day window", code="outside_window")
        if event_time_ms - now_ms > self._future_ms:
            return Reject("event_time is in the future", code="outside_window")
        ud = mapping.build_user_data(
            event, self.settings.default_phone_region, self.settings.hash_external_id
        )
        if not mapping.MATCHING_KEYS.intersection(ud.keys):
            return Reject(
                "no identifier Meta can match on (email, phone, external_id, fbc, fbp, lead_id, "
                "or IP with user agent)",
                code="no_identifiers",
            )
        payload: dict[str, Any] = {
            "event_time": event_time_ms // 1000,
            "event_id": event["event_id"],
            "action_source": action_source,
            "user_data": ud.data,
        }
        if page_url:
            payload["event_source_url"] = page_url
        if context.get("referrer_url"):
            payload["referrer_url"] = context["referrer_url"]
        dropped = ud.dropped
        custom = self._custom_data(event, dropped)
        if isinstance(custom, Reject):
            return custom
        payload["event_name"] = self._event_name(event)
        if custom:
            payload["custom_data"] = custom
        if consent.get("ad_personalization") == "DENIED" and self.settings.opt_out_on_personalization_denied:
            payload["opt_out"] = True
        payload.update(mapping.ldu_options(consent))
        site_id = context.get("site_id")
        pixel = self._site_pixels.get(site_id, self.settings.pixel_id) if site_id else self.settings.pixel_id
        return Item(
            event_id=event["event_id"],
            event_type=event_type,
            event_time_ms=event_time_ms,
            payload=payload,
            match_keys=tuple(ud.keys),
            dropped=tuple(dropped),
            route=pixel,
        )

    def _event_name(self, event: Event) -> str:
        """Configured name per type; qualified leads default to their CRM stage name."""
        event_type = event["type"]
        if event_type != "qualified":
            return self._names.get(event_type) or event_type.capitalize()
        if self.settings.qualified_event_name:
            return self.settings.qualified_event_name
        stage = (event.get("stage") or "").strip()
        return stage or self.settings.qualified_fallback_event_name

    def _custom_data(self, event: Event, dropped: list[str]) -> dict[str, Any] | Reject:
        """``custom_data`` per type: Purchase needs value+currency; CRM events need their source."""
        event_type = event["type"]
        currency = nz.currency(event.get("currency"))
        if event_type == "purchase":
            if currency is None:
                return Reject("purchase needs a valid ISO 4217 currency for Meta", code="invalid_currency")
            return mapping.purchase_custom_data(event, currency)
        data: dict[str, Any] = {}
        if event.get("value") is not None:
            if currency is not None:
                data["value"] = event["value"]
                data["currency"] = currency
            else:
                dropped.append("currency")
        if event_type == "qualified":
            created = event.get("lead_created_time")
            if created is not None and event["event_time"] < created:
                return Reject(
                    "qualified event is earlier than its lead's creation (Meta discards it)",
                    code="before_lead_created",
                )
            data["event_source"] = "crm"
            data["lead_event_source"] = (event.get("crm_name") or "").strip() or (
                self.settings.default_lead_event_source
            )
        return data

    def build_request(self, items: Sequence[Item], credentials: Credentials) -> HttpRequest:
        """``POST {base}/{version}/{pixel}/events?access_token=…`` with a JSON body."""
        pixel = items[0].route if items else self.settings.pixel_id
        body: dict[str, Any] = {"data": [item.payload for item in items]}
        test_code = self._test_codes.get(pixel, self.settings.test_event_code)
        if test_code:
            body["test_event_code"] = test_code
        query = f"access_token={quote(credentials.access_token, safe='')}"
        app_secret = credentials.extra.get("app_secret")
        if app_secret:
            proof = hmac.new(
                app_secret.encode(), credentials.access_token.encode(), hashlib.sha256
            ).hexdigest()
            query += f"&appsecret_proof={proof}"
        return HttpRequest(
            method="POST",
            url=f"{self._base}/{self._version}/{quote(pixel, safe='')}/events?{query}",
            headers={"Content-Type": "application/json"},
            body=orjson.dumps(body),
        )

    def classify(self, response: HttpResponse, items: Sequence[Item]) -> list[ItemOutcome]:
        """One outcome per item from Graph's error code/subcode table (docs/platforms/meta.md)."""
        return classify_response(response, items)
