"""Pinterest's ``ge``/``st``/``zp`` rules, from the descriptions of
``ConversionEventsUserDataProperties`` in its OpenAPI spec (``pinterest/api-description``,
``v5/openapi.json``): ge is "f", "m" or "n"; st "a two-letter code in lowercase"; zp "only digits".
"""

from __future__ import annotations

import pytest

from connectors import normalize as nz
from connectors.pinterest.userdata import build_user_data, gender, postal_code, state
from consumer.contract import complete_event


@pytest.mark.parametrize(
    ("raw", "want"),
    [("F", "f"), ("male", "m"), ("n", "n"), ("Non-Binary", "n"), ("nonbinary", "n"), ("x", None)],
)
def test_gender_allows_n(raw: str, want: str | None) -> None:
    assert gender(raw) == want


@pytest.mark.parametrize(
    ("raw", "country", "want"),
    [
        ("California", "us", "ca"),
        ("CA", None, "ca"),
        ("ON", "ca", "on"),
        ("Bavaria", "de", None),  # a name with no two-letter form: dropped
        ("NSW", "au", None),
    ],
)
def test_state_two_letter_code(raw: str, country: str | None, want: str | None) -> None:
    assert state(raw, country) == want


@pytest.mark.parametrize(
    ("raw", "country", "want"),
    [
        ("98121-4892", "us", "98121"),
        ("75008", "fr", "75008"),
        ("NR9 5AL", "gb", None),  # letters: no digits-only form
        ("K1A 0B1", "ca", None),
        ("1234 AB", None, None),
    ],
)
def test_zip_only_digits(raw: str, country: str | None, want: str | None) -> None:
    assert postal_code(raw, country) == want


def test_user_data_applies_the_rules_and_reports_drops() -> None:
    event = complete_event(
        {
            "type": "lead",
            "event_id": "E",
            "lead_id": "E",
            "event_time": 1,
            "user": {
                "email": "a@example.com",
                "gender": "n",
                "state": "Bavaria",
                "postal_code": "80331",
                "country": "DE",
            },
        }
    )
    data, _keys, dropped = build_user_data(event, "US")
    assert data["ge"] == [nz.sha256_hex("n")]
    assert data["zp"] == [nz.sha256_hex("80331")]
    assert "st" not in data and dropped == ["state"]
