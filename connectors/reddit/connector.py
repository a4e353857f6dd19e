"""The Reddit Conversions API v3 connector: business event -> conversion event, batch -> request.

Reddit refuses a whole batch for one invalid event, so the checks Reddit documents (168 h window,
5 min future skew, custom names, metadata allowed per tracking type) run in ``map_event`` and a
bad event is refused alone. Reddit documents no minimum identity and no required currency, so an
event without match keys, or a purchase without a currency, is sent and Reddit's answer decides.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence
from typing import Any, ClassVar

import orjson

from connectors import normalize as nz
from connectors.admission import admission_reject
from connectors.base import (
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
from connectors.reddit.classify import classify as classify_response
from connectors.reddit.settings import API_VERSION, Settings

HOUR_MS = 3_600_000
MAX_CUSTOM_NAME = 64
ACTION_SOURCES = {"WEBSITE": "WEBSITE", "APP": "APP", "PHYSICAL_STORE": "PHYSICAL_STORE"}
# Reddit's metadata rules (reference §4.2): which tracking types accept which metadata.
ITEM_COUNT_TYPES = frozenset({"PURCHASE", "ADD_TO_CART", "ADD_TO_WISHLIST", "CUSTOM"})
VALUE_TYPES = frozenset({"PURCHASE", "ADD_TO_CART", "ADD_TO_WISHLIST", "LEAD", "SIGN_UP", "CUSTOM"})


def ip_address(value: str) -> str | None:
    """Trimmed IPv4/IPv6 literal (IPv6 lowercased) or None; Reddit hashes the IP."""
    text = value.strip()
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return None
    return text.lower() if ":" in text else text


class RedditConnector:
    """Reddit Conversions API v3 (``/api/v3/pixels/{pixel_id}/conversion_events``)."""

    slug: ClassVar[str] = "reddit"
    api_version: ClassVar[str] = API_VERSION  # the default of settings.api_version
    # Reddit takes 1,000 events per request but fails the batch for one bad event.
    limits: ClassVar[BatchLimits] = BatchLimits(max_events=500, max_bytes=2_000_000, linger_ms=500)
    window_days: ClassVar[float] = 7  # "event_at timestamp must be less than 168h0m0s old"
    settings_model: ClassVar[type[ConnectorSettings]] = Settings
    credential_kind: ClassVar[str] = "static"

    def __init__(self, settings: ConnectorSettings) -> None:
        settings = own_settings(settings, Settings)
        self.settings = settings
        self._base = settings.base_url.rstrip("/")
        self._types = dict(settings.tracking_types)
        self._custom = dict(settings.custom_event_names)
        self._sites = settings.sites
        self._test_ids: dict[str, str | None] = {settings.pixel_id: settings.test_id}
        for site in settings.sites.values():
            self._test_ids[site.pixel_id] = site.test_id or settings.test_id
        self._window_ms = int(self.window_days * 24 * HOUR_MS)
        self._future_ms = settings.future_tolerance_s * 1000
        self._region = settings.default_phone_region

    def _pixel(self, event: Event) -> str:
        site_id = event["context"].get("site_id")
        site = self._sites.get(site_id) if site_id else None
        return site.pixel_id if site else self.settings.pixel_id

    def map_event(self, event: Event, now_ms: int) -> Item | Reject:
        """One v3 conversion event for ``event``, or the reason Reddit would refuse it."""
        refused = admission_reject(
            event,
            now_ms,
            window_ms=self._window_ms,
            future_ms=self._future_ms,
            too_old="event older than 168 hours",
            too_new="event_at more than 5 minutes in the future",
            inclusive=True,
        )
        if refused is not None:
            return refused
        event_at = event["event_time"]
        event_type = self._type(event)
        if isinstance(event_type, Reject):
            return event_type
        user, keys, dropped = self._user(event)
        click_id = event["click_ids"].get("rdt_cid")
        if click_id and click_id.strip():
            keys.insert(0, "click_id")
        # No minimum identity: every match key is optional in Reddit's v3 documentation, so an
        # event with none is sent and Reddit's answer decides.
        metadata = self._metadata(event, event_type["tracking_type"], dropped)
        context = event["context"]
        source = ACTION_SOURCES.get(context.get("action_source") or "", "OTHER")
        page_url = context.get("page_url")
        if source == "WEBSITE" and not page_url:
            source = "OTHER"  # Reddit wants event_source_url with WEBSITE
        payload: dict[str, Any] = {"event_at": event_at, "action_source": source, "type": event_type}
        if source == "WEBSITE":
            payload["event_source_url"] = page_url
        if click_id and click_id.strip():
            payload["click_id"] = click_id.strip()
        payload["user"] = user
        payload["metadata"] = metadata
        return Item(
            event_id=event["event_id"],
            event_type=event["type"],
            event_time_ms=event_at,
            payload=payload,
            match_keys=tuple(keys),
            dropped=tuple(dropped),
            route=self._pixel(event),
        )

    def _type(self, event: Event) -> dict[str, str] | Reject:
        """``type``: the configured tracking type, with a custom name for CUSTOM."""
        event_type = event["type"]
        tracking = self._types.get(event_type) or "CUSTOM"
        if tracking != "CUSTOM":
            return {"tracking_type": tracking}
        name = ""
        if event_type == "qualified" and self.settings.qualified_name_from_stage:
            name = (event.get("stage") or "").strip()
        name = name or self._custom.get(event_type) or event_type
        if len(name) > MAX_CUSTOM_NAME:
            return Reject(f"custom_event_name longer than {MAX_CUSTOM_NAME} characters", code="invalid_event")
        return {"tracking_type": "CUSTOM", "custom_event_name": name}

    def _user(self, event: Event) -> tuple[dict[str, Any], list[str], list[str]]:
        """The ``user`` object: hashed email/phone/external id/IP, plain UA, uuid and LDU."""
        user = event["user"]
        context = event["context"]
        region = self._region
        out: dict[str, Any] = {}
        keys: list[str] = []
        dropped: list[str] = []
        for key, raw, func, match_key in (
            ("email", user.get("email"), nz.email_reddit, "email"),
            ("phone_number", user.get("phone"), nz.phone_rule(region), "phone"),
            ("external_id", user.get("external_id"), nz.external_id, "external_id"),
            ("ip_address", context.get("ip_address"), ip_address, None),
        ):
            if not raw:
                continue
            value = nz.hashed(raw, func)
            if value is None:
                dropped.append("ip_address" if key == "ip_address" else key.removesuffix("_number"))
                continue
            out[key] = value
            if match_key:
                keys.append(match_key)
        user_agent = context.get("user_agent")
        if user_agent and user_agent.strip():
            out["user_agent"] = user_agent.strip()
            if "ip_address" in out:
                keys.append("ip_ua")
        uuid = event["click_ids"].get("rdt_uuid")
        if uuid and uuid.strip():
            out["uuid"] = uuid.strip()
            keys.append("uuid")
        consent = event["consent"]
        if consent.get("limited_data_use"):
            ldu: dict[str, Any] = {"modes": ["LDU"]}
            country = nz.country(consent.get("ldu_country"))
            if country:
                ldu["country"] = country.upper()
            state = (consent.get("ldu_state") or "").strip().upper()
            if state:
                ldu["region"] = state if "-" in state or not country else f"{country.upper()}-{state}"
            out["data_processing_options"] = ldu
        return out, keys, dropped

    def _metadata(self, event: Event, tracking: str, dropped: list[str]) -> dict[str, Any]:
        """``metadata``: conversion id always; value, currency and products where Reddit allows."""
        conversion_id = event["event_id"]
        if self.settings.hash_conversion_id:
            conversion_id = nz.hashed(conversion_id, nz.external_id) or conversion_id
        meta: dict[str, Any] = {"conversion_id": conversion_id}
        currency = nz.currency(event.get("currency"))
        value = event.get("value")
        if value is not None and tracking in VALUE_TYPES:
            if currency is None:
                # value and currency are optional metadata for Reddit: a purchase goes without
                # them rather than being refused, and its lost value is counted.
                dropped.append("value" if event["type"] == "purchase" else "currency")
            else:
                meta["currency"] = currency
                meta["value"] = value
        items = event.get("items") or ()
        if items:
            if tracking in ITEM_COUNT_TYPES:
                meta["item_count"] = sum(int(i.get("quantity") or 1) for i in items)
            products = []
            for line in items:
                product: dict[str, Any] = {"id": line["id"]}
                if line.get("name"):
                    product["name"] = line["name"]
                if line.get("category"):
                    product["category"] = line["category"]
                products.append(product)
            meta["products"] = products
        return meta

    def build_request(self, items: Sequence[Item], credentials: Credentials) -> HttpRequest:
        """``POST {base}/api/v3/pixels/{pixel_id}/conversion_events`` with a Bearer token."""
        pixel_id = items[0].route if items else self.settings.pixel_id
        data: dict[str, Any] = {}
        test_id = self._test_ids.get(pixel_id, self.settings.test_id)
        if test_id:
            data["test_id"] = test_id
        if self.settings.partner:
            data["partner"] = self.settings.partner
        data["events"] = [item.payload for item in items]
        return HttpRequest(
            method="POST",
            url=f"{self._base}/api/{self.settings.api_version}/pixels/{pixel_id}/conversion_events",
            headers={
                "Authorization": f"Bearer {credentials.access_token}",
                "Content-Type": "application/json",
            },
            body=orjson.dumps({"data": data}),
        )

    def classify(self, response: HttpResponse, items: Sequence[Item]) -> list[ItemOutcome]:
        """One outcome per item (docs/platforms/reddit.md, "Classification")."""
        return classify_response(response, items)
