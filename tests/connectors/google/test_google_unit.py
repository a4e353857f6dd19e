"""Google connector behaviour the golden cases do not show: settings validation, routing,
sandbox base URL, identifier edge cases and the per-event cost."""

from __future__ import annotations

import time

import pytest
from pydantic import ValidationError

from connectors.base import Credentials, Item, Reject
from connectors.google import GoogleConnector, Settings
from consumer.contract import complete_event
from consumer.sample import SampleGenerator

NOW = 1_795_176_000_000  # 2026-11-20T12:00:00Z
ACTIONS = {"purchase": "1", "lead": "2", "qualified": "3"}


def _lead(**user: str) -> dict[str, object]:
    return complete_event({
        "type": "lead", "event_id": "e1", "event_time": NOW - 60_000, "lead_id": "l1",
        "user": user, "click_ids": {"gclid": "g"},
    })


def test_settings_reject_bad_ids_and_event_types() -> None:
    with pytest.raises(ValidationError, match="10 digits"):
        Settings(customer_id="12345")
    with pytest.raises(ValidationError, match="unknown event type"):
        Settings(customer_id="1234567890", conversion_actions={"signup": "1"})
    with pytest.raises(ValidationError, match="numeric id"):
        Settings(customer_id="1234567890", conversion_actions={"lead": "Lead Form"})
    with pytest.raises(ValidationError):
        Settings.model_validate({"customer_id": "1234567890", "developer_token": "x"})


def test_missing_customer_id_fails_at_start() -> None:
    with pytest.raises(ValueError, match="needs a customer_id"):
        GoogleConnector(Settings(conversion_actions={"lead": "2"}))


def test_unknown_site_uses_default_and_sites_get_own_route() -> None:
    connector = GoogleConnector(Settings(
        customer_id="1234567890", conversion_actions=ACTIONS,
        sites={"b": {"customer_id": "2222222222"}},  # type: ignore[dict-item]
    ))
    default = connector.map_event({**_lead(), "context": {"site_id": "zzz"}}, NOW)
    site_b = connector.map_event({**_lead(), "context": {"site_id": "b"}}, NOW)
    assert isinstance(default, Item) and isinstance(site_b, Item)
    assert default.route == "|dm|1234567890||2"
    assert site_b.route == "b|dm|2222222222||2"  # starts with the site: per-site credentials


def test_sandbox_base_url_is_used_for_both_apis() -> None:
    for api, path in (("data_manager", "/v1/events:ingest"),
                      ("ads_api", "/v24/customers/1234567890:uploadClickConversions")):
        connector = GoogleConnector(Settings(
            api=api, base_url="http://127.0.0.1:8099/google/", customer_id="1234567890",  # type: ignore[arg-type]
            conversion_actions=ACTIONS,
        ))
        item = connector.map_event(_lead(), NOW)
        assert isinstance(item, Item)
        request = connector.build_request([item], Credentials("t"))
        assert request.url == "http://127.0.0.1:8099/google" + path


def test_incomplete_address_is_dropped_and_invalid_phone_reported() -> None:
    connector = GoogleConnector(Settings(customer_id="1234567890", conversion_actions=ACTIONS))
    item = connector.map_event(_lead(first_name="Jane", phone="12"), NOW)
    assert isinstance(item, Item)
    assert item.dropped == ("phone", "address")
    assert "userData" not in item.payload
    assert item.match_keys == ("click_id",)


def test_future_event_and_strict_consent_are_refused() -> None:
    connector = GoogleConnector(Settings(
        customer_id="1234567890", conversion_actions=ACTIONS, require_ad_user_data_granted=True
    ))
    granted = {"ad_user_data": "GRANTED"}
    late = connector.map_event({**_lead(), "consent": granted, "event_time": NOW + 10 * 60_000}, NOW)
    assert isinstance(late, Reject) and late.code == "outside_window"
    unspecified = connector.map_event(_lead(), NOW)
    assert isinstance(unspecified, Reject) and unspecified.code == "consent_denied"


def test_map_event_is_fast_enough() -> None:
    gen = SampleGenerator()
    events = [gen.purchase(NOW - 3_600_000) for _ in range(200)]
    for api in ("data_manager", "ads_api"):
        connector = GoogleConnector(Settings(api=api, customer_id="1234567890", conversion_actions=ACTIONS))
        for event in events:  # warm the phone-parsing cache as production traffic would
            connector.map_event(event, NOW)
        start = time.perf_counter()
        for _ in range(5):
            for event in events:
                connector.map_event(event, NOW)
        per_event = (time.perf_counter() - start) / 1000
        assert per_event < 200e-6, f"{api}: {per_event * 1e6:.0f} µs per event"


@pytest.mark.parametrize(
    ("api", "extra", "header"),
    [
        ("data_manager", {"developer-token": "dev"}, None),  # OAuth only: never sent
        ("data_manager", {}, None),
        ("ads_api", {"developer-token": "dev"}, "dev"),  # the Google Ads API requires it
    ],
)
def test_developer_token_only_on_the_ads_api(api: str, extra: dict[str, str], header: str | None) -> None:
    connector = GoogleConnector(Settings(api=api, customer_id="1234567890", conversion_actions=ACTIONS))  # type: ignore[arg-type]
    item = connector.map_event(_lead(), NOW)
    assert isinstance(item, Item)
    request = connector.build_request([item], Credentials(access_token="t", extra=extra))
    assert request.headers.get("developer-token") == header
