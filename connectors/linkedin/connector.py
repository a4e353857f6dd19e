"""The LinkedIn Conversions API connector: business event -> conversion event, batch -> one
Rest.li ``BATCH_CREATE`` request.

LinkedIn rejects a whole batch for one bad element, so what it checks that we can check here
(90-day window, a user id or userInfo it matches on) is enforced in ``map_event``; a value whose
currency is malformed is left out (``conversionValue`` is optional), never the event.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
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
from connectors.linkedin.classify import classify as classify_response
from connectors.linkedin.settings import ConversionRules, Settings

EMAIL_ID = "SHA256_EMAIL"
CLICK_ID = "LINKEDIN_FIRST_PARTY_ADS_TRACKING_UUID"


def amount(value: float) -> str:
    """The shortest decimal string that round-trips the float, never in exponent form
    (129.99 -> '129.99', 1e-05 -> '0.00001')."""
    return format(Decimal(repr(float(value))), "f")


class LinkedInConnector:
    """LinkedIn Conversions API (``/rest/conversionEvents``), one request per site (token)."""

    slug: ClassVar[str] = "linkedin"
    api_version: ClassVar[str] = "202603"  # LinkedIn-Version; sunset about 2027-03
    # LinkedIn allows 5,000 elements; a 422 names the bad indices, so the rest are retried
    # without a split. 1,000 keeps a request well under a few MB.
    limits: ClassVar[BatchLimits] = BatchLimits(max_events=1000, max_bytes=3_000_000, linger_ms=500)
    window_days: ClassVar[float] = 90
    settings_model: ClassVar[type[ConnectorSettings]] = Settings
    credential_kind: ClassVar[str] = "oauth"

    def __init__(self, settings: ConnectorSettings) -> None:
        settings = own_settings(settings, Settings)
        self.settings = settings
        self._url = f"{settings.base_url.rstrip('/')}/rest/conversionEvents"
        self._version = settings.linkedin_version or self.api_version
        self._rules: dict[str, ConversionRules | None] = {
            "": settings.test_conversion_rules if settings.test_mode else settings.conversion_rules
        }
        for site_id, site in settings.sites.items():
            self._rules[site_id] = site.test_conversion_rules if settings.test_mode else site.conversion_rules
        self._window_ms = int(self.window_days * DAY_MS)
        self._future_ms = settings.future_tolerance_s * 1000

    def map_event(self, event: Event, now_ms: int) -> Item | Reject:
        """One conversion event element for ``event``, or the reason it cannot go to LinkedIn."""
        refused = admission_reject(
            event,
            now_ms,
            window_ms=self._window_ms,
            future_ms=self._future_ms,
            too_old="event older than LinkedIn's 90-day window",
        )
        if refused is not None:
            return refused
        event_time_ms = event["event_time"]
        event_type = event["type"]
        site_id = event["context"].get("site_id") or ""
        route = site_id if site_id in self._rules else ""
        rules = self._rules[route]
        rule = getattr(rules, event_type, None) if rules is not None else None
        if rule is None:
            mode = "test_conversion_rules" if self.settings.test_mode else "conversion_rules"
            return Reject(f"no LinkedIn {mode}.{event_type} configured", code="not_configured")
        user, keys, dropped = self._user(event)
        if not user["userIds"] and "userInfo" not in user:
            # LinkedIn matches on userIds or on userInfo (firstName + lastName); userIds stays in
            # the payload (an empty list) because LinkedIn requires the field.
            return Reject(
                "no identifier LinkedIn matches on (email, li_fat_id, or first and last name with "
                "send_user_info)",
                code="no_identifiers",
            )
        payload: dict[str, Any] = {
            "conversion": rule,
            "conversionHappenedAt": event_time_ms,
            "eventId": event["event_id"],
            "user": user,
        }
        currency = nz.currency(event.get("currency"))
        if event.get("value") is not None:
            if currency is not None:
                payload["conversionValue"] = {"currencyCode": currency, "amount": amount(event["value"])}
            else:  # conversionValue is optional: send the event without it, count the lost value
                dropped.append("value")
        return Item(
            event_id=event["event_id"],
            event_type=event_type,
            event_time_ms=event_time_ms,
            payload=payload,
            match_keys=tuple(keys),
            dropped=tuple(dropped),
            route=route,
        )

    def _user(self, event: Event) -> tuple[dict[str, Any], list[str], list[str]]:
        """``user``: hashed email and li_fat_id as userIds, optional plain names and external id."""
        user = event["user"]
        ids: list[dict[str, str]] = []
        keys: list[str] = []
        dropped: list[str] = []
        raw_email = user.get("email")
        if raw_email:
            hashed = nz.hashed(raw_email, nz.email)
            if hashed is None:
                dropped.append("email")
            else:
                ids.append({"idType": EMAIL_ID, "idValue": hashed})
                keys.append("email")
        li_fat_id = (event["click_ids"].get("li_fat_id") or "").strip()
        if li_fat_id:
            ids.append({"idType": CLICK_ID, "idValue": li_fat_id})
            keys.append("click_id")
        out: dict[str, Any] = {"userIds": ids}
        if self.settings.send_user_info:
            first = (user.get("first_name") or "").strip()
            last = (user.get("last_name") or "").strip()
            if first and last:  # LinkedIn answers 422 when userInfo lacks either
                out["userInfo"] = {"firstName": first, "lastName": last}
                keys.append("name")
        if self.settings.send_external_id:
            external = nz.external_id(user.get("external_id"))
            if external:
                out["externalIds"] = [external]
                keys.append("external_id")
        return out, keys, dropped

    def build_request(self, items: Sequence[Item], credentials: Credentials) -> HttpRequest:
        """``POST {base}/rest/conversionEvents`` as Rest.li BATCH_CREATE with a Bearer token."""
        return HttpRequest(
            method="POST",
            url=self._url,
            headers={
                "Authorization": f"Bearer {credentials.access_token}",
                "Content-Type": "application/json",
                "LinkedIn-Version": self._version,
                "X-Restli-Protocol-Version": "2.0.0",
                "X-RestLi-Method": "BATCH_CREATE",
            },
            body=orjson.dumps({"elements": [item.payload for item in items]}),
        )

    def classify(self, response: HttpResponse, items: Sequence[Item]) -> list[ItemOutcome]:
        """One outcome per item from the Rest.li answer (docs/platforms/linkedin.md)."""
        return classify_response(response, items)
