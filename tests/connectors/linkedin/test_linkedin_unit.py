"""LinkedIn connector details the golden cases do not show: settings validation, amount
formatting, index parsing of error messages, sample traffic with real rules, and that names
leave in plain text only when the operator opts in (``send_user_info``)."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from pydantic import ValidationError

from connectors.base import Credentials, Item
from connectors.linkedin import LinkedInConnector, Settings
from connectors.linkedin.classify import bad_indices
from connectors.linkedin.connector import amount
from consumer.contract import complete_event
from consumer.sample import SampleGenerator
from tests.connectors.test_no_raw_pii import _events, _forms, emails, names, phones, postcodes

NOW_MS = 1_795_176_000_000
RULES = {"purchase": "1", "lead": "2", "qualified": "3"}


def _connector(**extra: Any) -> LinkedInConnector:
    return LinkedInConnector(Settings.model_validate({"conversion_rules": RULES, **extra}))


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (129.99, "129.99"),
        (100.0, "100.0"),
        (0.1 + 0.2, "0.30000000000000004"),
        (1e-05, "0.00001"),
        (2e21, "2000000000000000000000"),
    ],
)
def test_amount_is_a_plain_decimal_string(value: float, text: str) -> None:
    assert amount(value) == text


def test_rules_accept_ids_and_urns_only() -> None:
    settings = Settings.model_validate(
        {"conversion_rules": {"lead": " 42 ", "purchase": "urn:lla:llaPartnerConversion:7"}}
    )
    assert settings.conversion_rules.lead == "urn:lla:llaPartnerConversion:42"
    assert settings.conversion_rules.purchase == "urn:lla:llaPartnerConversion:7"
    with pytest.raises(ValidationError):
        Settings.model_validate({"conversion_rules": {"lead": "urn:li:sponsoredAccount:1"}})
    with pytest.raises(ValidationError):
        Settings.model_validate({"linkedin_version": "2026-03"})
    with pytest.raises(ValidationError):
        Settings.model_validate({"conversion_rules": {"signup": "1"}})


def test_bad_indices_reads_both_message_forms() -> None:
    message = (
        "Index: 0, ERROR :: /user :: missing\nIndex: 7, ERROR :: /x :: bad\n"
        "Index: 2, ERROR :: /eventId :: dup\n"
    )
    assert bad_indices(message, 5) == {0: "/user :: missing", 2: "/eventId :: dup"}
    assert set(bad_indices("method should be CONVERSIONS_API, indices [1, 3] (0-indexed)", 4)) == {1, 3}
    assert bad_indices("Invalid request", 3) == {}


def test_sample_traffic_maps_and_fits_a_full_batch() -> None:
    connector = _connector()
    gen = SampleGenerator(seed=3)
    items = []
    for event in gen.events(300, NOW_MS):
        result = connector.map_event(complete_event(event), NOW_MS)
        if isinstance(result, Item):
            items.append(result)
    assert len(items) > 200
    batch = (items * 4)[: connector.limits.max_events]
    request = connector.build_request(batch, Credentials(access_token="t"))
    assert len(request.body) <= connector.limits.max_bytes


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(email=emails, phone=phones, first=names, last=names, postcode=postcodes)
def test_no_raw_pii_with_configured_rules(
    email: str, phone: str, first: str, last: str, postcode: str
) -> None:
    """The shared no-raw-PII test cannot map LinkedIn events (no rules in placeholders); this
    runs the same check with rules, and shows names appear only with send_user_info."""
    secrets = set().union(*(_forms(v) for v in (email, phone, first, last, postcode)))
    default, opted_in = _connector(), _connector(send_user_info=True)
    for event in _events(email, phone, first, last, postcode):
        completed = complete_event(event)
        item = default.map_event(completed, NOW_MS)
        assert isinstance(item, Item)
        text = default.build_request([item], Credentials(access_token="t")).body.decode()
        assert not any(secret in text or secret in text.lower() for secret in secrets)
        named = opted_in.map_event(completed, NOW_MS)
        assert isinstance(named, Item)
        assert named.payload["user"]["userInfo"] == {"firstName": first, "lastName": last}
