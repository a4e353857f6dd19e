"""Google Data Manager API ``POST /v1/events:ingest``: the path Google requires for new
offline-conversion and enhanced-conversions-for-leads integrations.

Each request carries one destination (operating account + conversion action id), so the route
is (site, account, login account, action). Data Manager is fast-fail: one invalid event fails
the whole request and nothing is processed; field violations that name an event index let us
reject just those events and resend the rest.
"""

from __future__ import annotations

import functools
import re
import time
from collections.abc import Mapping, Sequence
from typing import Any

import orjson

from connectors import normalize
from connectors.base import (
    Credentials,
    Event,
    HttpRequest,
    HttpResponse,
    Item,
    ItemOutcome,
    OutcomeKind,
    Reject,
)
from connectors.google import common
from connectors.google.classify import request_failure, rpc_error
from connectors.google.errors import parse_body, rpc_details, success
from connectors.google.settings import Settings

_EMPTY: Mapping[str, Any] = {}
# Data Manager's EventSource enum (WEB, APP, IN_STORE, PHONE, MESSAGE, OTHER); anything else is OTHER.
EVENT_SOURCE = {
    "WEBSITE": "WEB",
    "APP": "APP",
    "PHYSICAL_STORE": "IN_STORE",
    "PHONE_CALL": "PHONE",
    "CHAT": "MESSAGE",
    "EMAIL": "MESSAGE",
}
CONSENT = {"GRANTED": "CONSENT_GRANTED", "DENIED": "CONSENT_DENIED"}
# Google Ads does not accept IP addresses of users in the EEA, the UK or Switzerland.
NO_IP_COUNTRIES = frozenset({
    "at", "be", "bg", "hr", "cy", "cz", "dk", "ee", "fi", "fr", "de", "gr", "hu", "ie", "it",
    "lv", "lt", "lu", "mt", "nl", "pl", "pt", "ro", "sk", "si", "es", "se", "is", "li", "no",
    "gb", "ch",
})
_EVENT_INDEX_RE = re.compile(r"events\[(\d+)\]")


def rfc3339(event_time_ms: int) -> str:
    """RFC 3339 in UTC with 'Z'; milliseconds only when the event has them."""
    stamp = _second_stamp(event_time_ms // 1000)
    millis = event_time_ms % 1000
    return f"{stamp}.{millis:03d}Z" if millis else f"{stamp}Z"


@functools.lru_cache(maxsize=4096)
def _second_stamp(epoch_s: int) -> str:
    """'YYYY-MM-DDTHH:MM:SS' of one UTC second, cached: events arrive clustered in time, so
    most of a batch shares a handful of seconds and strftime ran once per event before. A miss
    formats a `time.struct_time` (half the cost of an aware datetime's strftime)."""
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(epoch_s))


def postal(value: str | None, country: str) -> str | None:
    """Postal code sent in clear (Google does not hash it): trimmed only, as Google's Formatter
    does ('nr9 5al' stays 'nr9 5al'); a US ZIP+4 becomes its 5-digit ZIP."""
    if not value:
        return None
    if country == "us":
        return normalize.postal_code(value, "us")
    return value.strip() or None


class DataManagerApi:
    """Maps, builds and classifies for ``events:ingest``."""

    def __init__(self, settings: Settings) -> None:
        self._targets = common.Targets(settings, "dm", route_per_action=True)
        self._hash_phone = common.phone_hasher(settings.default_phone_region)
        self._url = f"{settings.effective_base_url}/{settings.data_manager_version}/events:ingest"
        self._validate_only = settings.is_validate_only
        self._require_granted = settings.require_ad_user_data_granted
        self._send_ua = settings.send_user_agent
        self._send_ip = settings.send_ip_address
        self._send_address = settings.send_address

    def map_event(self, event: Event, now_ms: int) -> Item | Reject:
        """One Data Manager Event: time, transaction id, source, click id, user data, consent."""
        target = self._targets.admit(event, now_ms, self._require_granted)
        if isinstance(target, Reject):
            return target
        context = event.get("context") or _EMPTY
        user = event.get("user") or _EMPTY
        click = common.click_id(event.get("click_ids") or _EMPTY)
        email, phone, dropped = common.identifiers(user, self._hash_phone)
        identifiers: list[dict[str, Any]] = []
        keys: list[str] = []
        if click is not None:
            keys.append("click_id")
        if email is not None:
            identifiers.append({"emailAddress": email})
            keys.append("email")
        if phone is not None:
            identifiers.append({"phoneNumber": phone})
            keys.append("phone")
        address = self._address(user, dropped) if self._send_address else None
        if address is not None:
            identifiers.append({"address": address})
            keys.append("address")
        if click is None and not identifiers:
            return Reject(
                "no gclid/gbraid/wbraid and no valid email, phone or address", code="no_identifiers"
            )

        event_time: int = event["event_time"]
        out: dict[str, Any] = {
            "eventTimestamp": rfc3339(event_time),
            "transactionId": common.transaction_id(event),
            "eventSource": EVENT_SOURCE.get(context.get("action_source") or "WEBSITE", "OTHER"),
        }
        if click is not None:
            out["adIdentifiers"] = {click[0]: click[1]}
        if identifiers:
            out["userData"] = {"userIdentifiers": identifiers}
        value, currency = common.value_and_currency(event)
        if value is not None:
            out["conversionValue"] = value
            if currency is not None:
                out["currency"] = currency
        consent = self._consent(event.get("consent") or _EMPTY)
        if consent:
            out["consent"] = consent
        device = self._device(context, user)
        if device:
            out["eventDeviceInfo"] = device
            if "ipAddress" in device and "userAgent" in device:
                keys.append("ip_ua")
        return Item(
            event_id=str(event.get("event_id") or ""),
            event_type=str(event.get("type")),
            event_time_ms=event_time,
            payload=out,
            match_keys=tuple(keys),
            dropped=tuple(dropped),
            route=target.route,
        )

    @staticmethod
    def _address(user: Mapping[str, Any], dropped: list[str]) -> dict[str, str] | None:
        """Google's address identifier: all four parts or nothing (each part is required)."""
        first, last = user.get("first_name"), user.get("last_name")
        if not (first or last or user.get("postal_code")):
            return None
        given = normalize.hashed(first, normalize.name_google)
        family = normalize.hashed(last, normalize.name_google)
        region = normalize.country(user.get("country"))
        code = postal(user.get("postal_code"), region) if region else None
        if given and family and region and code:
            return {
                "givenName": given,
                "familyName": family,
                "regionCode": region.upper(),
                "postalCode": code,
            }
        if first or last:
            dropped.append("address")
        return None

    @staticmethod
    def _consent(consent: Mapping[str, Any]) -> dict[str, str]:
        """Event-level DMA consent; unspecified values are left out (the same as unspecified)."""
        out: dict[str, str] = {}
        ad_user_data = CONSENT.get(consent.get("ad_user_data") or "")
        if ad_user_data:
            out["adUserData"] = ad_user_data
        personalization = CONSENT.get(consent.get("ad_personalization") or "")
        if personalization:
            out["adPersonalization"] = personalization
        return out

    def _device(self, context: Mapping[str, Any], user: Mapping[str, Any]) -> dict[str, str]:
        """User agent, and the IP only if enabled and the user is known to be outside EEA/UK/CH."""
        device: dict[str, str] = {}
        user_agent = context.get("user_agent")
        if self._send_ua and user_agent:
            device["userAgent"] = str(user_agent)
        ip = context.get("ip_address")
        if self._send_ip and ip:
            country = normalize.country(user.get("country"))
            if country is not None and country not in NO_IP_COUNTRIES:
                device["ipAddress"] = str(ip)
        return device

    def build_request(self, items: Sequence[Item], credentials: Credentials) -> HttpRequest:
        """One destination (account + conversion action), HEX-encoded hashes, the events."""
        _site, _api, customer, login, action = items[0].route.split("|")[:5]
        login = login or credentials.extra.get("login-customer-id", "").replace("-", "")
        destination: dict[str, Any] = {
            "operatingAccount": {"accountType": "GOOGLE_ADS", "accountId": customer},
            "productDestinationId": action,
        }
        if login:
            destination["loginAccount"] = {"accountType": "GOOGLE_ADS", "accountId": login}
        body: dict[str, Any] = {
            "destinations": [destination],
            "encoding": "HEX",
            "events": [item.payload for item in items],
        }
        if self._validate_only:
            body["validateOnly"] = True
        headers = {
            "Content-Type": "application/json",
            "Authorization": f"Bearer {credentials.access_token}",
        }
        return HttpRequest("POST", self._url, headers, orjson.dumps(body))

    def classify(self, response: HttpResponse, items: Sequence[Item]) -> list[ItemOutcome]:
        """2xx: all delivered (tagged with requestId). A 400 naming events: those rejected, the
        others resent (nothing was processed). Anything else: request-level rules."""
        status = response.status
        if 200 <= status < 300:
            data = parse_body(response.body)
            ref = data.get("requestId") if isinstance(data, Mapping) else None
            return success(str(ref) if ref else None, len(items))
        if status == 400:
            located = _located_rejections(response, len(items))
            if located is not None:
                return located
        return request_failure(response, items)


def _located_rejections(response: HttpResponse, count: int) -> list[ItemOutcome] | None:
    """Per-event outcomes when every field violation points at an event of this request."""
    error = rpc_error(response.body)
    reason_code, _, violations = rpc_details(error.get("details"))
    bad: dict[int, str] = {}
    for field_path, violation_reason in violations:
        match = _EVENT_INDEX_RE.search(field_path)
        if match is None or int(match.group(1)) >= count:
            return None
        index = int(match.group(1))
        bad.setdefault(index, violation_reason or reason_code or "INVALID_ARGUMENT")
    if not bad:
        return None
    message = str(error.get("message") or "")[:300]
    resend = ItemOutcome(
        OutcomeKind.RETRY,
        reason="not processed: another event of the request was invalid (fast-fail)",
        code="fast_fail_resend",
        retry_after=0.0,
    )
    return [
        ItemOutcome(OutcomeKind.REJECTED, reason=f"HTTP 400 {bad[i]}: {message}", code=bad[i])
        if i in bad
        else resend
        for i in range(count)
    ]
