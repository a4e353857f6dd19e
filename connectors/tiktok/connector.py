"""The TikTok Events API 2.0 connector: business event -> event object, batch -> request.

TikTok fails a whole batch for one bad row, but it documents no refusal that ``map_event`` could
anticipate beyond consent and a clock error: an event without identifiers, or a purchase without
a currency (both optional in TikTok's Business API SDK), is sent and TikTok's answer decides.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any, ClassVar

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
from connectors.tiktok.classify import classify as classify_response
from connectors.tiktok.settings import API_VERSION, Settings


class TikTokConnector:
    """TikTok Events API 2.0 (``/open_api/v1.3/event/track/``), one request per event source."""

    slug: ClassVar[str] = "tiktok"
    api_version: ClassVar[str] = API_VERSION  # the default of settings.api_version
    # TikTok takes 1,000 events but drops the batch for one bad row: keep splits cheap.
    limits: ClassVar[BatchLimits] = BatchLimits(max_events=200, max_bytes=2_000_000, linger_ms=200)
    # TikTok documents no maximum age for web or CRM events (neither its Events API pages nor its
    # Business API SDK): older events are sent and TikTok's answer decides.
    window_days: ClassVar[float] = math.inf
    settings_model: ClassVar[type[ConnectorSettings]] = Settings
    credential_kind: ClassVar[str] = "static"

    def __init__(self, settings: ConnectorSettings) -> None:
        settings = own_settings(settings, Settings)
        self.settings = settings
        self._url = f"{settings.base_url.rstrip('/')}/open_api/{settings.api_version}/event/track/"
        self._names = dict(settings.event_names)
        self._sites = settings.sites
        self._test_codes: dict[str, str | None] = {}
        for site in settings.sites.values():
            code = site.test_event_code or settings.test_event_code
            self._test_codes[site.pixel_code] = code
            if site.crm_event_set_id:
                self._test_codes[site.crm_event_set_id] = code
        self._window_ms = self.window_days * DAY_MS
        self._future_ms = settings.future_tolerance_s * 1000

    def _source(self, event: Event) -> tuple[str, str]:
        """(event_source, event_source_id) for this event, honouring per-site overrides."""
        settings = self.settings
        site_id = event["context"].get("site_id")
        site = self._sites.get(site_id) if site_id else None
        pixel = site.pixel_code if site else settings.pixel_code
        crm = site.crm_event_set_id if site else settings.crm_event_set_id
        if event["type"] == "qualified" and crm:
            return "crm", crm
        return "web", pixel

    def map_event(self, event: Event, now_ms: int) -> Item | Reject:
        """One Events API event for ``event``, or the reason it cannot be sent to TikTok."""
        consent = event["consent"]
        if consent.get("ad_user_data") == "DENIED":
            return Reject("consent denied (ad_user_data=DENIED)", code="consent_denied")
        event_time_ms = event["event_time"]
        if now_ms - event_time_ms > self._window_ms:
            return Reject(f"event older than {self.window_days:g} days", code="outside_window")
        if event_time_ms - now_ms > self._future_ms:
            return Reject("event_time is in the future", code="outside_window")
        source, source_id = self._source(event)
        user, keys, dropped = self._user(event)
        lead = None
        lead_id = (event.get("platform_lead_id") or "").strip()
        if source == "crm" and lead_id:
            crm_name = (event.get("crm_name") or "").strip() or self.settings.default_lead_event_source
            lead = {"lead_id": lead_id, "lead_event_source": crm_name}
            keys.append("lead_id")
        # No minimum identity: every `user` key is optional in TikTok's SDK, so an event with
        # none is sent (it counts in Events Manager, unattributed) and TikTok's answer decides.
        properties = self._properties(event, dropped)
        payload: dict[str, Any] = {
            "event": self._event_name(event),
            "event_time": event_time_ms // 1000,
            "event_id": event["event_id"],
            "user": user,
            "limited_data_use": bool(consent.get("limited_data_use")),
        }
        if properties:
            payload["properties"] = properties
        context = event["context"]
        page = {
            k: v for k, v in (("url", context["page_url"]), ("referrer", context["referrer_url"])) if v
        }
        if page:
            payload["page"] = page
        if lead:
            payload["lead"] = lead
        return Item(
            event_id=event["event_id"],
            event_type=event["type"],
            event_time_ms=event_time_ms,
            payload=payload,
            match_keys=tuple(keys),
            dropped=tuple(dropped),
            route=f"{source}|{source_id}",
        )

    def _user(self, event: Event) -> tuple[dict[str, Any], list[str], list[str]]:
        """The ``user`` object: hashed contact data, unhashed click/cookie ids, IP and UA."""
        user = event["user"]
        region = self.settings.default_phone_region
        out: dict[str, Any] = {}
        keys: list[str] = []
        dropped: list[str] = []
        country = user.get("country")
        for key, field, func, match_key in (
            ("email", "email", nz.email, "email"),
            ("phone", "phone", nz.phone_rule(region), "phone"),
            ("external_id", "external_id", nz.external_id, "external_id"),
            ("first_name", "first_name", nz.name, "name"),
            ("last_name", "last_name", nz.name, "name"),
            ("zip_code", "postal_code", nz.postal_rule(country), "address"),
        ):
            raw = user.get(field)
            if not raw:
                continue
            value = nz.hashed(raw, func)
            if value is None:
                dropped.append(field)
                continue
            out[key] = value
            if match_key not in keys:
                keys.append(match_key)
        click_ids = event["click_ids"]
        context = event["context"]
        tech: tuple[tuple[str, str | None, str | None], ...] = (
            ("ttclid", click_ids.get("ttclid"), "click_id"),
            ("ttp", click_ids.get("ttp"), "ttp"),
            ("ip", context.get("ip_address"), None),
            ("user_agent", context.get("user_agent"), None),
            ("locale", context.get("locale"), None),
        )
        for key, plain, tech_key in tech:
            if plain:
                out[key] = plain
                if tech_key:
                    keys.append(tech_key)
        if "ip" in out and "user_agent" in out:
            keys.append("ip_ua")
        return out, keys, dropped

    def _event_name(self, event: Event) -> str:
        """Configured name per type; qualified leads default to their CRM stage name."""
        event_type = event["type"]
        if event_type != "qualified":
            return self._names.get(event_type) or event_type.capitalize()
        if self.settings.qualified_event_name:
            return self.settings.qualified_event_name
        stage = (event.get("stage") or "").strip()
        return stage or self.settings.qualified_fallback_event_name

    def _properties(self, event: Event, dropped: list[str]) -> dict[str, Any]:
        """``properties``: value and currency, and for purchases the order id and lines."""
        currency = nz.currency(event.get("currency"))
        props: dict[str, Any] = {}
        if event["type"] == "purchase":
            props = {"order_id": event["order_id"]}
            if currency is None:
                # value and currency are optional in TikTok's SDK (PixelProperties): send the
                # purchase without them rather than refuse it, and count the lost value.
                dropped.append("value")
            else:
                props = {"value": event["value"], "currency": currency, **props}
            items = event.get("items") or ()
            if items:
                contents = []
                for item in items:
                    line: dict[str, Any] = {"content_id": item["id"], "quantity": item.get("quantity", 1)}
                    if item.get("price") is not None:
                        line["price"] = item["price"]
                    if item.get("name"):
                        line["content_name"] = item["name"]
                    if item.get("category"):
                        line["content_category"] = item["category"]
                    contents.append(line)
                props["contents"] = contents
                props["content_type"] = "product"
            return props
        if event.get("value") is not None:
            if currency is not None:
                props = {"value": event["value"], "currency": currency}
            else:
                dropped.append("currency")
        return props

    def build_request(self, items: Sequence[Item], credentials: Credentials) -> HttpRequest:
        """``POST {base}/open_api/v1.3/event/track/`` with the ``Access-Token`` header."""
        route = items[0].route if items else f"web|{self.settings.pixel_code}"
        source, _, source_id = route.partition("|")
        body: dict[str, Any] = {"event_source": source, "event_source_id": source_id}
        if self.settings.partner_name:
            body["partner_name"] = self.settings.partner_name
        test_code = self._test_codes.get(source_id, self.settings.test_event_code)
        if test_code:
            body["test_event_code"] = test_code
        body["data"] = [item.payload for item in items]
        return HttpRequest(
            method="POST",
            url=self._url,
            headers={"Access-Token": credentials.access_token, "Content-Type": "application/json"},
            body=orjson.dumps(body),
        )

    def classify(self, response: HttpResponse, items: Sequence[Item]) -> list[ItemOutcome]:
        """One outcome per item from TikTok's body ``code`` (docs/platforms/tiktok.md)."""
        return classify_response(response, items)
