"""Google Ads API ``customers/{cid}:uploadClickConversions`` (existing adopters of offline
conversion import; new integrations must use the Data Manager API).

One ``ClickConversion`` per event; rows of different conversion actions share a request as long
as the customer and login customer are the same (that is the route). ``partialFailure`` is
always true, so row errors come back with HTTP 200 and are mapped to their events by index.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import orjson

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
from connectors.google.classify import request_failure
from connectors.google.errors import ads_failure_errors, parse_body, row_outcome, success, worse
from connectors.google.settings import Settings

_EMPTY: Mapping[str, Any] = {}


def ads_datetime(event_time_ms: int) -> str:
    """'yyyy-mm-dd HH:MM:SS+00:00': the Ads API format, always in UTC, from the event's time."""
    return common.utc(event_time_ms).strftime("%Y-%m-%d %H:%M:%S+00:00")


class AdsApi:
    """Maps, builds and classifies for ``uploadClickConversions``."""

    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self._targets = common.Targets(settings, "ads", route_per_action=False)
        self._hash_phone = common.phone_hasher(settings.default_phone_region)
        self._base = settings.effective_base_url
        self._version = settings.ads_api_version
        self._validate_only = settings.is_validate_only
        self._require_granted = settings.require_ad_user_data_granted
        self._braid_drops_ids = settings.braid_drops_user_identifiers
        self._too_recent = settings.too_recent_retry_after_s

    def map_event(self, event: Event, now_ms: int) -> Item | Reject:
        """One ClickConversion: click id, action, time, order id, value, hashed email/phone."""
        target = self._targets.admit(event, now_ms, self._require_granted)
        if isinstance(target, Reject):
            return target
        click = common.click_id(event.get("click_ids") or _EMPTY)
        email, phone, dropped = common.identifiers(event.get("user") or _EMPTY, self._hash_phone)
        if click is not None and click[0] != "gclid" and self._braid_drops_ids:
            email = phone = None
        if click is None and email is None and phone is None:
            return Reject("no gclid/gbraid/wbraid and no valid email or phone", code="no_identifiers")

        event_time: int = event["event_time"]
        row: dict[str, Any] = {
            "conversionAction": target.action_resource,
            "conversionDateTime": ads_datetime(event_time),
            "orderId": common.transaction_id(event),
        }
        keys: list[str] = []
        if click is not None:
            row[click[0]] = click[1]
            keys.append("click_id")
        value, currency = common.value_and_currency(event)
        if value is not None:
            row["conversionValue"] = value
            if currency is not None:
                row["currencyCode"] = currency
        ids: list[dict[str, str]] = []
        if email is not None:
            ids.append({"hashedEmail": email})
            keys.append("email")
        if phone is not None:
            ids.append({"hashedPhoneNumber": phone})
            keys.append("phone")
        if ids:
            row["userIdentifiers"] = ids
        ad_user_data = (event.get("consent") or _EMPTY).get("ad_user_data")
        if ad_user_data == "GRANTED":
            row["consent"] = {"adUserData": "GRANTED"}
        return Item(
            event_id=str(event.get("event_id") or ""),
            event_type=str(event.get("type")),
            event_time_ms=event_time,
            payload=row,
            match_keys=tuple(keys),
            dropped=tuple(dropped),
            route=target.route,
        )

    def build_request(self, items: Sequence[Item], credentials: Credentials) -> HttpRequest:
        """POST the rows to the route's customer, with the OAuth and developer-token headers."""
        _site, _api, customer, login = items[0].route.split("|")[:4]
        headers = {
            "Content-Type": "application/json",
            "Authorization": f"Bearer {credentials.access_token}",
        }
        developer_token = credentials.extra.get("developer-token")
        if developer_token:
            headers["developer-token"] = developer_token
        login = login or credentials.extra.get("login-customer-id", "").replace("-", "")
        if login:
            headers["login-customer-id"] = login
        body: dict[str, Any] = {"conversions": [item.payload for item in items], "partialFailure": True}
        if self._validate_only:
            body["validateOnly"] = True
        url = f"{self._base}/{self._version}/customers/{customer}:uploadClickConversions"
        return HttpRequest("POST", url, headers, orjson.dumps(body))

    def classify(self, response: HttpResponse, items: Sequence[Item]) -> list[ItemOutcome]:
        """Row outcomes from ``partialFailureError`` on 200; request-level rules otherwise."""
        if not 200 <= response.status < 300:
            return request_failure(response, items)
        data = parse_body(response.body)
        data = data if isinstance(data, Mapping) else {}
        failure = data.get("partialFailureError")
        if not isinstance(failure, Mapping) or not failure.get("code"):
            return success(None, len(items))
        count = len(items)
        rows: list[ItemOutcome | None] = [None] * count
        general: ItemOutcome | None = None
        for error in ads_failure_errors(failure.get("details")):
            outcome = row_outcome(error, self._too_recent)
            if error.index is not None and 0 <= error.index < count:
                current = rows[error.index]
                rows[error.index] = outcome if current is None else worse(current, outcome)
            else:
                general = outcome if general is None else worse(general, outcome)
        if general is None and all(row is None for row in rows):
            general = _unlocated(failure, data.get("results"), rows)
        ok = success(None, 1)[0]
        return [row if row is not None else (general or ok) for row in rows]


def _unlocated(
    failure: Mapping[str, Any], results: Any, rows: list[ItemOutcome | None]
) -> ItemOutcome | None:
    """A partial failure without readable rows: fail the rows whose result came back empty."""
    reason = f"partial failure: {str(failure.get('message') or '')[:300]}"
    rejected = ItemOutcome(OutcomeKind.REJECTED, reason=reason, code="partial_failure")
    if isinstance(results, list) and len(results) == len(rows):
        for index, result in enumerate(results):
            if not result:
                rows[index] = rejected
        return None
    return rejected
