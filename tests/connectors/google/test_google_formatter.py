"""Google's own user-data formatter as conformance vectors for both Google paths.

``formatter_vectors.json`` holds what ``google.ads.datamanager_util.format.Formatter`` (Google's
``google-ads-datamanager-util`` package) returns for each input. Our normalisers must give the
same value, except where a vector names a deliberate difference (docs/platforms/normalization.md).
When Google's package is installed (the ``test`` extra), the vectors are re-checked against it
and property tests compare the email and name rules on generated input.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from connectors import normalize as n
from connectors.google.datamanager import postal

VECTORS: list[dict[str, Any]] = json.loads(
    (Path(__file__).parent / "formatter_vectors.json").read_text(encoding="utf-8")
)["vectors"]
DIFFERENCES = {
    "EMAIL_INNER_SPACE": "Google's guide says to remove inner whitespace; the Formatter refuses it",
    "US_ZIP5": "US ZIP+4 is sent as its 5-digit ZIP; the Formatter only trims",
    "PHONE_NO_COUNTRY": "a national number gets the region's country code, as the guide's example",
}


def _ours(record: dict[str, Any]) -> Callable[[str], str | None]:
    """Our normaliser for the vector's field, as the Google connector applies it."""
    field = record["field"]
    country = str(record.get("country") or "US")
    if field == "email_address":
        return n.email_google
    if field in ("given_name", "family_name"):
        return n.name_google
    if field == "region_code":
        return lambda value: (n.country(value) or "").upper() or None
    if field == "postal_code":
        return lambda value: postal(value, country.lower())
    return lambda value: n.phone_e164(value, country)


def _id(record: dict[str, Any]) -> str:
    return f"{record['field']}:{record['input']!r}"


@pytest.mark.parametrize("record", VECTORS, ids=[_id(r) for r in VECTORS])
def test_matches_googles_formatter(record: dict[str, Any]) -> None:
    """Google's formatted value (or None where it refuses), unless a named difference says ours."""
    want = record["google"]
    if "difference" in record:
        assert record["difference"] in DIFFERENCES
        want = record["ours"]
    assert _ours(record)(record["input"]) == want


def test_hashes_are_of_googles_form() -> None:
    """The hash sent is SHA-256 of Google's formatted string (the issue's two examples)."""
    assert n.hashed("Cloudy.SanFrancisco+shopping@gmail.com", n.email_google) == n.sha256_hex(
        "cloudysanfrancisco@gmail.com"
    )
    assert n.hashed("O'Brien", n.name_google) == n.sha256_hex("o'brien")
    assert n.hashed(" Mrs. Mary ", n.name_google) == n.sha256_hex("mrs. mary")


def _formatter() -> Any:
    """Google's Formatter, or a skip when its package (``test`` extra) is not installed."""
    module = pytest.importorskip("google.ads.datamanager_util.format")
    return module.Formatter()


def _google(method: Callable[[str], str], value: str) -> str | None:
    try:
        return method(value)
    except ValueError:
        return None


@pytest.mark.parametrize("record", VECTORS, ids=[_id(r) for r in VECTORS])
def test_vectors_are_googles_output(record: dict[str, Any]) -> None:
    """The committed vectors are what Google's package returns today."""
    formatter = _formatter()
    method = getattr(formatter, f"format_{record['field']}")
    assert _google(method, record["input"]) == record["google"]


_LOCAL = st.text(alphabet="abcXY09._+-", max_size=12)
_DOMAIN = st.sampled_from(["gmail.com", "GoogleMail.com", "example.com", "mail.example.org"])


@given(local=_LOCAL, domain=_DOMAIN)
def test_email_property_against_formatter(local: str, domain: str) -> None:
    """Gmail addresses: exactly Google's result. Other domains: ours is Google's result or
    None (we drop addresses that are not RFC 5322 dot-atoms, which cannot match anyway)."""
    formatter = _formatter()
    value = f"{local}@{domain}"
    theirs = _google(formatter.format_email_address, value)
    ours = n.email_google(value)
    if domain.lower() in ("gmail.com", "googlemail.com"):
        assert ours == theirs
    else:
        assert ours is None or ours == theirs


@given(value=st.text(max_size=20))
def test_name_property_against_formatter(value: str) -> None:
    """Given and family names: exactly Google's result on any text."""
    formatter = _formatter()
    assert n.name_google(value) == _google(formatter.format_given_name, value)
    assert n.name_google(value) == _google(formatter.format_family_name, value)
