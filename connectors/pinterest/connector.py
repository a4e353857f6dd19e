"""The Pinterest API for Conversions connector: business event -> conversion event, batch ->
one ``events`` request per ad account.

Pinterest reports each event's fate by position, so one bad event does not fail its batch;
``map_event`` still refuses what Pinterest would (minimum identity); a purchase whose currency
is malformed goes without its value (both are optional in Pinterest's spec).
"""

from __future__ import annotations

import math
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
from connectors.pinterest.classify import classify as classify_response
from connectors.pinterest.settings import API_VERSION, Settings
from connectors.pinterest.userdata import MATCHING_KEYS, build_user_data


class PinterestConnector:
    """Pinterest API for Conversions v5 (``/v5/ad_accounts/{id}/events``), per ad account."""

    slug: ClassVar[str] = "pinterest"
    api_version: ClassVar[str] = API_VERSION  # the default of settings.api_version
    limits: ClassVar[BatchLimits] = BatchLimits(max_events=1000, max_bytes=2_000_000, linger_ms=200)
    # Pinterest's OpenAPI spec (event_time: "Unix timestamp in seconds") sets no maximum age:
    # older events are sent and Pinterest's per-event answer decides.
    window_days: ClassVar[float] = math.inf
    settings_model: ClassVar[type[ConnectorSettings]] = Settings
    credential_kind: ClassVar[str] = "static"

    def __init__(self, settings: ConnectorSettings) -> None:
        settings = own_settings(settings, Settings)
        self.settings = settings
        self._url_prefix = f"{settings.base_url.rstrip('/')}/{settings.api_version}/ad_accounts/"
        self._url_suffix = "/events?test=true" if settings.test_mode else "/events"
        self._names = {"purchase": "checkout", "lead": "lead", "qualified": "custom"}
        self._names.update(settings.event_names)
        self._site_accounts = {site_id: s.ad_account_id for site_id, s in settings.sites.items()}
        self._window_ms = self.window_days * DAY_MS
        self._future_ms = settings.future_tolerance_s * 1000

    def map_event(self, event: Event, now_ms: int) -> Item | Reject:
        """One Pinterest conversion event for ``event``, or the reason it cannot be sent."""
        consent = event["consent"]
        refused = admission_reject(
            event,
            now_ms,
            window_ms=self._window_ms,
            future_ms=self._future_ms,
            too_old="event older than the configured window",
        )
        if refused is not None:
            return refused
        event_time_ms = event["event_time"]
        context = event["context"]
        event_type = event["type"]
        source = context.get("action_source") or "OTHER"
        if source == "APP" and event_type != "qualified":
            return Reject(
                "Pinterest app events need app_android/app_ios and device data, which the event "
                "contract does not carry",
                code="unsupported_action_source",
            )
        user_data, keys, dropped = build_user_data(event, self.settings.default_phone_region)
        if not MATCHING_KEYS.intersection(keys):
            return Reject(
                "no identifier Pinterest accepts (email, or IP with user agent)", code="no_identifiers"
            )
        web = source == "WEBSITE" and event_type != "qualified"
        payload: dict[str, Any] = {
            "event_name": self._names[event_type],
            "action_source": "web" if web else "offline",
            "event_time": event_time_ms // 1000,
            "event_id": event["event_id"],
        }
        if web and context.get("page_url"):
            payload["event_source_url"] = context["page_url"]
        denied = consent.get("ad_personalization") == "DENIED"
        payload["opt_out"] = denied and self.settings.opt_out_on_personalization_denied
        payload["user_data"] = user_data
        custom = self._custom_data(event, dropped)
        if consent.get("limited_data_use"):
            custom["opt_out_type"] = "LDP"
        if custom:
            payload["custom_data"] = custom
        if self.settings.partner_name:
            payload["partner_name"] = self.settings.partner_name
        if context.get("locale"):
            language = context["locale"].split("-")[0].split("_")[0].lower()
            if len(language) == 2 and language.isalpha() and language.isascii():
                payload["language"] = language
        site_id = context.get("site_id")
        account = (
            self._site_accounts.get(site_id, self.settings.ad_account_id)
            if site_id
            else (self.settings.ad_account_id)
        )
        return Item(
            event_id=event["event_id"],
            event_type=event_type,
            event_time_ms=event_time_ms,
            payload=payload,
            match_keys=tuple(keys),
            dropped=tuple(dropped),
            route=account,
        )

    def _custom_data(self, event: Event, dropped: list[str]) -> dict[str, Any]:
        """``custom_data``: value (a string) and currency; for purchases order id and lines."""
        currency = nz.currency(event.get("currency"))
        if event["type"] != "purchase":
            if event.get("value") is None:
                return {}
            if currency is None:
                dropped.append("value")
                return {}
            return {"currency": currency, "value": number_text(event["value"])}
        data: dict[str, Any] = {"order_id": event["order_id"]}
        if currency is None:
            # value and currency are optional in Pinterest's spec: send the purchase without
            # them rather than refuse it, and count the lost value.
            dropped.append("value")
        else:
            data["currency"] = currency
            data["value"] = number_text(event["value"])
        lines = event.get("items") or ()
        if lines:
            contents = []
            for line in lines:
                content: dict[str, Any] = {"id": line["id"], "quantity": int(line.get("quantity", 1))}
                if line.get("price") is not None:
                    content["item_price"] = number_text(line["price"])
                if line.get("name"):
                    content["item_name"] = line["name"]
                if line.get("category"):
                    content["item_category"] = line["category"]
                contents.append(content)
            data["content_ids"] = [line["id"] for line in lines]
            data["contents"] = contents
            data["num_items"] = sum(content["quantity"] for content in contents)
        return data

    def build_request(self, items: Sequence[Item], credentials: Credentials) -> HttpRequest:
        """``POST {base}/v5/ad_accounts/{id}/events`` (``?test=true`` in test mode), Bearer token."""
        account = items[0].route if items else self.settings.ad_account_id
        return HttpRequest(
            method="POST",
            url=f"{self._url_prefix}{quote(account, safe='')}{self._url_suffix}",
            headers={
                "Authorization": f"Bearer {credentials.access_token}",
                "Content-Type": "application/json",
            },
            body=orjson.dumps({"data": [item.payload for item in items]}),
        )

    def classify(self, response: HttpResponse, items: Sequence[Item]) -> list[ItemOutcome]:
        """One outcome per item, by position in Pinterest's ``events`` (docs/platforms/pinterest.md)."""
        return classify_response(response, items)
