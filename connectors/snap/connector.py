"""The Snap Conversions API v3 connector: business event -> CAPI event, batch -> request.

Snap may refuse a whole request for one bad event, so what it validates that we can check here
(37-day window, minimum identity, currency on purchases) is enforced in ``map_event``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar
from urllib.parse import quote

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
from connectors.hashed_user_data import number_text
from connectors.snap.classify import classify as classify_response
from connectors.snap.settings import API_VERSION, Settings
from connectors.snap.userdata import MATCHING_KEYS, build_user_data, ldu_options


class SnapConnector:
    """Snap Conversions API v3 (``/v3/{pixel_id}/events``), one request per pixel."""

    slug: ClassVar[str] = "snap"
    api_version: ClassVar[str] = API_VERSION  # the default of settings.api_version
    # Snap takes 2,000 events per request (RudderStack, third-party schemas); 1,000 bounds
    # the cost of a split if one bad event fails the request.
    limits: ClassVar[BatchLimits] = BatchLimits(max_events=1000, max_bytes=2_000_000, linger_ms=200)
    window_days: ClassVar[float] = 37
    settings_model: ClassVar[type[ConnectorSettings]] = Settings
    credential_kind: ClassVar[str] = "static"

    def __init__(self, settings: ConnectorSettings) -> None:
        settings = own_settings(settings, Settings)
        self.settings = settings
        path = "events/validate" if settings.test_mode else "events"
        self._url_prefix = f"{settings.base_url.rstrip('/')}/{settings.api_version}/"
        self._url_suffix = f"/{path}?access_token="
        self._names = {"purchase": "PURCHASE", "lead": "SIGN_UP", "qualified": "CUSTOM_EVENT_1"}
        self._names.update(settings.event_names)
        self._site_pixels = {site_id: site.pixel_id for site_id, site in settings.sites.items()}
        self._window_ms = int(self.window_days * DAY_MS)
        self._future_ms = settings.future_tolerance_s * 1000

    def map_event(self, event: Event, now_ms: int) -> Item | Reject:
        """One Snap CAPI event for ``event``, or the reason it cannot be sent to Snap."""
        consent = event["consent"]
        refused = admission_reject(
            event,
            now_ms,
            window_ms=self._window_ms,
            future_ms=self._future_ms,
            too_old="event older than Snap's 37-day window",
        )
        if refused is not None:
            return refused
        event_time_ms = event["event_time"]
        context = event["context"]
        event_type = event["type"]
        source = context.get("action_source") or "OTHER"
        if source == "APP" and event_type != "qualified":
            return Reject(
                "Snap app events go to a Snap App ID with app_data, which the event contract does not carry",
                code="unsupported_action_source",
            )
        user_data, keys, dropped = build_user_data(event, self.settings.default_phone_region)
        if not MATCHING_KEYS.intersection(keys):
            return Reject(
                "no identifier Snap accepts (email, phone, or IP with user agent)", code="no_identifiers"
            )
        web = source == "WEBSITE" and event_type != "qualified" and bool(context.get("user_agent"))
        payload: dict[str, Any] = {
            "event_name": self._names[event_type],
            "event_time": event_time_ms // 1000,
            "event_id": event["event_id"],
            "action_source": "WEB" if web else "OFFLINE",
        }
        if web and context.get("page_url"):
            payload["event_source_url"] = context["page_url"]
        payload["user_data"] = user_data
        custom = self._custom_data(event, dropped)
        if isinstance(custom, Reject):
            return custom
        if custom:
            payload["custom_data"] = custom
        if consent.get("ad_personalization") == "DENIED" and self.settings.opt_out_on_personalization_denied:
            payload["opt_out"] = True
        payload.update(ldu_options(consent))
        if self.settings.integration:
            payload["integration"] = self.settings.integration
        site_id = context.get("site_id")
        pixel = self._site_pixels.get(site_id, self.settings.pixel_id) if site_id else self.settings.pixel_id
        return Item(
            event_id=event["event_id"],
            event_type=event_type,
            event_time_ms=event_time_ms,
            payload=payload,
            match_keys=tuple(keys),
            dropped=tuple(dropped),
            route=pixel,
        )

    def _custom_data(self, event: Event, dropped: list[str]) -> dict[str, Any] | Reject:
        """``custom_data``: value and currency; for purchases the order id and lines too."""
        currency = nz.currency(event.get("currency"))
        if event["type"] != "purchase":
            if event.get("value") is None:
                return {}
            if currency is None:
                dropped.append("currency")
                return {}
            return {"currency": currency, "value": event["value"]}
        if currency is None:
            return Reject("purchase needs a valid ISO 4217 currency", code="invalid_currency")
        data: dict[str, Any] = {"currency": currency, "value": event["value"], "order_id": event["order_id"]}
        lines = event.get("items") or ()
        if lines:
            contents = []
            for line in lines:
                content: dict[str, Any] = {"id": line["id"], "quantity": str(line.get("quantity", 1))}
                if line.get("price") is not None:
                    content["item_price"] = number_text(line["price"])
                contents.append(content)
            data["content_ids"] = [line["id"] for line in lines]
            data["contents"] = contents
            data["num_items"] = sum(int(line.get("quantity", 1)) for line in lines)
        return data

    def build_request(self, items: Sequence[Item], credentials: Credentials) -> HttpRequest:
        """``POST {base}/v3/{pixel}/events`` (``/events/validate`` in test mode), token in the query."""
        pixel = items[0].route if items else self.settings.pixel_id
        url = (
            f"{self._url_prefix}{quote(pixel, safe='')}{self._url_suffix}"
            f"{quote(credentials.access_token, safe='')}"
        )
        return HttpRequest(
            method="POST",
            url=url,
            headers={"Content-Type": "application/json"},
            body=orjson.dumps({"data": [item.payload for item in items]}),
        )

    def classify(self, response: HttpResponse, items: Sequence[Item]) -> list[ItemOutcome]:
        """One outcome per item from Snap's ``status``/``event`` answer (docs/platforms/snap.md)."""
        return classify_response(response, items)
