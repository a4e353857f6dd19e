"""Meta Business SDK normalisation vectors against ``connectors.normalize``.

Each vector runs the normaliser Meta's CAPI field uses. SDK errors count as ``None`` (we drop
invalid values instead of raising); empty outputs count as ``None`` (the field is omitted).
Vectors where we deliberately differ are skipped with the reason; see
docs/platforms/normalization.md.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from connectors import normalize as n
from tests.conformance import (
    BIRTH_YEAR_RANGE,
    EMAIL_RFC_EDGE,
    MD5_PASSTHROUGH,
    NOT_OUR_FIELD,
    PHONE_INVALID,
    PHP_SANITIZE,
    STATE_NAME_TO_CODE,
    load_vectors,
    vector_id,
)

FILE = "meta_business_sdk_normalization.json"

FIELD_NORMALIZERS: dict[str, Callable[[str], str | None]] = {
    "em": n.email,
    "ph": n.phone_digits,
    "fn": n.name,
    "ln": n.name,
    "f5first": n.name_first5,
    "f5last": n.name_first5,
    "fi": n.name_initial,
    "ct": n.city,
    "st": n.state,
    "zp": n.postal_code,
    "country": n.country,
    "ge": n.gender,
    "db": n.date_of_birth,
    "dobd": n.dob_day,
    "dobm": n.dob_month,
    "doby": n.dob_year,
    "external_id": n.external_id,
    "currency": n.currency,
}

DEVIATIONS: dict[tuple[str, str], str] = {
    ("doby", "0000"): BIRTH_YEAR_RANGE,
    ("doby", "9999"): BIRTH_YEAR_RANGE,
    ("doby", "1000"): BIRTH_YEAR_RANGE,
    ("em", '"a b"@c.d'): EMAIL_RFC_EDGE,
    ("em", "a\\@b@c.d"): EMAIL_RFC_EDGE,
    ("em", "foo(.bar)@baz.com/"): PHP_SANITIZE,
    ("em", 'foo"@bar.com'): PHP_SANITIZE,
    ("em", "foo()@bar.com"): PHP_SANITIZE,
    ("country", "*****UU*****"): PHP_SANITIZE,
    ("ph", "123-456-7890"): PHONE_INVALID,
    ("ph", "(123)-456-7890"): PHONE_INVALID,
    ("ph", "   123456-7890   "): PHONE_INVALID,
    ("ph", "777 747 (3515)"): PHONE_INVALID,
    ("ph", "44-12390821300A"): PHONE_INVALID,
    ("st", "California"): STATE_NAME_TO_CODE,
    ("st", "North Carolina"): STATE_NAME_TO_CODE,
    ("st", "Washington, D.C."): STATE_NAME_TO_CODE,
    ("st", "Rhode Island"): STATE_NAME_TO_CODE,
}


EMPTY_SHA256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
RUBY_EMPTY = "Ruby SDK hashes '' for f5first/f5last/fi (README); we omit empty values"

VECTORS = load_vectors(FILE)
SINGLE = [
    pytest.param(r, id=vector_id(r, i))
    for i, r in enumerate(VECTORS)
    if "field" in r["input"] and "value" in r["input"]
]


def _expected(record: dict[str, Any], value: str | None) -> str | None:
    """What our normaliser must return for this vector: errors and empty outputs mean None."""
    expected = record["expected"]
    if "normalized" in expected:
        return str(expected["normalized"]) or None
    if "error" in expected:
        return None
    output = expected.get("output")
    return str(output) if output else None


@pytest.mark.parametrize("record", SINGLE)
def test_meta_sdk_field_vector(record: dict[str, Any]) -> None:
    """One SDK field vector: the normalised value and, where given, its SHA-256."""
    field, raw = record["input"]["field"], record["input"]["value"]
    if field == "(hash only)":
        assert n.sha256_hex(raw) == record["expected"]["output"]
        return
    normalizer = FIELD_NORMALIZERS.get(field)
    values = raw if isinstance(raw, list) else [raw]
    if normalizer is None:
        if not any(isinstance(v, str) and n.prehashed(v) for v in values):
            pytest.skip(f"{field}: {NOT_OUR_FIELD}")
        normalizer = n.external_id  # the pass-through vectors only test pre-hash detection
    for value in values:
        reason = DEVIATIONS.get((field, value))
        if reason:
            pytest.skip(reason)
        if value == "" and record["expected"].get("sha256") == EMPTY_SHA256:
            pytest.skip(RUBY_EMPTY)
        if isinstance(value, str) and n.prehashed(value):
            assert n.hashed(value, normalizer) == str(record["expected"]["output"]).lower()
            continue
        want = _expected(record, value)
        got = normalizer(value)
        if field == "currency" and got is not None:
            got = got.lower()  # Meta's SDKs lowercase currency; ISO 4217 is case-insensitive
        assert got == want
        digest = record["expected"].get("sha256") or record["expected"].get("sha256_if_hashed")
        if digest and field != "currency":
            assert n.hashed(value, normalizer) == digest


def test_meta_sdk_md5_is_not_treated_as_prehashed() -> None:
    """The Node SDK passes 32-hex MD5 through; we hash it like any other value (deliberate)."""
    record = next(r for r in VECTORS if r["input"].get("value") == "2a6a84e9e44441afbd75cc19ce28be37")
    value = record["input"]["value"]
    assert n.prehashed(value) is None, MD5_PASSTHROUGH
    assert n.hashed(value, n.name) == n.sha256_hex(value)


_USER_DATA_LISTS = {
    "em": ("emails", n.email),
    "ph": ("phones", n.phone_digits),
    "ge": ("genders", n.gender),
    "db": ("dates_of_birth", n.date_of_birth),
    "ln": ("last_names", n.name),
    "fn": ("first_names", n.name),
    "ct": ("cities", n.city),
    "st": ("states", n.state),
    "zp": ("zip_codes", n.postal_code),
    "country": ("country_codes", n.country),
}


def test_meta_sdk_user_data_lists_dedupe_and_hash() -> None:
    """Python UserData.normalize(): each list de-duplicated and hashed; external_id raw."""
    record = next(r for r in VECTORS if "emails" in r["input"])
    for key, (source, normalizer) in _USER_DATA_LISTS.items():
        ours = {n.hashed(v, normalizer) for v in record["input"][source]}
        assert ours == set(record["expected"][key]), key
    ids = {n.external_id(v) for v in record["input"]["external_ids"]}
    assert ids == set(record["expected"]["external_id"])
    for part, fn in (("dobd", n.dob_day), ("dobm", n.dob_month), ("doby", n.dob_year)):
        assert n.hashed(record["input"][part], fn) == record["expected"][part]
