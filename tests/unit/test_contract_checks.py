"""The contract check every connector applies first: value >= 0 and finite, currency ISO 4217."""

from __future__ import annotations

import math

import pytest

from connectors.base import Reject
from connectors.contract_checks import contract_checked, contract_reject
from connectors.registry import connector_class


@pytest.mark.parametrize(
    ("fields", "reason"),
    [
        ({"value": -0.01, "currency": "EUR"}, "value is negative"),
        ({"value": math.nan, "currency": "EUR"}, "value is not a finite number"),
        ({"value": math.inf, "currency": "EUR"}, "value is not a finite number"),
        ({"value": 10.0, "currency": "XXXX"}, "currency is not an ISO 4217 code"),
        ({"value": 10.0, "currency": "XXX"}, "currency is not an ISO 4217 code"),
        ({"value": 10.0, "currency": "ABC"}, "currency is not an ISO 4217 code"),
        ({"value": 10.0, "currency": ""}, "currency is not an ISO 4217 code"),
    ],
)
def test_refused(fields: dict[str, object], reason: str) -> None:
    reject = contract_reject(fields)
    assert isinstance(reject, Reject) and reject.reason == reason


@pytest.mark.parametrize(
    "fields",
    [
        {"value": 0.0, "currency": "EUR"},
        {"value": 19.99, "currency": "usd"},
        {"value": None, "currency": None},
        {},
        {"value": 5, "currency": "XOF"},
    ],
)
def test_allowed(fields: dict[str, object]) -> None:
    assert contract_reject(fields) is None


def test_checked_class_keeps_the_connector_identity() -> None:
    cls = connector_class("meta")
    checked = contract_checked(cls)
    assert issubclass(checked, cls) and checked.slug == "meta" and contract_checked(cls) is checked
