"""Meta capi-param-builder PII vectors: the portable core only (email, phone, zip, blanks).

The README marks the rest of that file (gender words, country-name guessing, DOB parsing) as
library heuristics, so only blank-input handling is checked for those functions. Vectors we
deliberately differ from are skipped with the reason (docs/platforms/normalization.md).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from connectors import normalize as n
from tests.conformance import (
    PHONE_EXTENSION,
    PHONE_INVALID,
    PHONE_NO_COUNTRY,
    ZIP_INNER_SPACE,
    load_vectors,
    vector_id,
)

FILE = "meta_capi_param_builder_pii.json"

CORE: dict[str, Callable[[str], str | None]] = {
    "getNormalizedEmail": n.email,
    "getNormalizedPhone": n.phone_digits,
    "getNormalizedZipCode": n.postal_code,
}
BLANK_ONLY: dict[str, Callable[[str], str | None]] = {
    "getNormalizedCity": n.city,
    "getNormalizedState": n.state,
    "getNormalizedCountry": n.country,
    "getNormalizedDOB": n.date_of_birth,
    "getNormalizedGender": n.gender,
    "getNormalizedName": n.name,
    "getNormalizedExternalID": n.external_id,
}

PHONE_HARNESS = "test-harness description string, not a phone value"
PHONE_VANITY = "vanity letters: libphonenumber maps them to digits (1-800-FLOWERS); the library drops them"
ZIP_CONTROL = "U+001F counts as whitespace for us and is removed; the library keeps it"

_INVALID_PHONES = [
    "1(650)123-4567",
    "01(650)123-4567",
    "1234567890",
    "+1-555-123-4567",
    "(555) 123-4567",
    "555.123.4567",
    "555 123 4567",
    "+1 (555) 123-4567",
    "1-555-123-4567",
    "01234567890",
    "0012345678",
    "000555123456",
    "00001",
    "555-123-4567",
    "555/123/4567",
    "555_123_4567",
    "555|123|4567",
    "(555)123-4567",
    "[555] 123-4567",
    "{555} 123-4567",
    "1-(555)-123-4567",
    "555*123*4567",
    "555@123@4567",
    "555$123$4567",
    "555%123%4567",
    "CALL-NOW-555",
    "555-HELP-NOW",
    "+1-555-123-4567-890-123-456-789",
    "911",
    "411",
    "123",
    "1",
    "Phone: 555-123-4567",
    "Call me at +1 (555) 123-4567 today!",
    "My number is 555.123.4567.",
    "Tel: 555 123 4567",
    "01",
    "001",
    "0001",
    "00555123456",
    "123456789",
    "!1@2#3$4%5^6&7*8(9)0",
    "Phone: 555, please call",
    "***555***123***4567***",
    "a665a45920422f9d417e4867efdc4fb8a04a1f3fff1fa07e998e86f7f7a27ae",
    "a665a45920422f9d417e4867efdc4fb8a04a1f3fff1fa07e998e86f7f7a27ae33",
    "g665a45920422f9d417e4867efdc4fb8a04a1f3fff1fa07e998e86f7f7a27ae3",
    "A665A45920422F9D417E4867EFDC4FB8A04A1F3FFF1FA07E998E86F7F7A27AE!",
    "z665a45920422f9d417e4867efdc4fb8a04a1f3fff1fa07e998e86f7f7a27ae3",
    "a665a45920422f9d417e4867efdc4fb8a04a1f3fff1fa07e998e86f7f7a27a 3",
    "0" * 100 + "123",
    "1" * 100,
    "3227352263",
]
_HARNESS_PHONES = [
    "alreadyHasPhoneCode: false; countryCode: 'US'; phoneCode: '1'; phoneNumber: '(650)123-4567'",
    "alreadyHasPhoneCode: false; phoneCode: '+86'; phoneNumber: '12345678'",
    "alreadyHasPhoneCode: true; phoneNumber: '322-735-2263'",
]

DEVIATIONS: dict[tuple[str, str], str] = {
    **{("getNormalizedPhone", v): PHONE_INVALID for v in _INVALID_PHONES},
    **{("getNormalizedPhone", v): PHONE_HARNESS for v in _HARNESS_PHONES},
    ("getNormalizedPhone", "4792813113"): PHONE_NO_COUNTRY,
    ("getNormalizedPhone", "+1-555-123-4567 ext. 123"): PHONE_EXTENSION,
    ("getNormalizedPhone", "555-123-4567#123"): PHONE_EXTENSION,
    ("getNormalizedPhone", "1-800-FLOWERS"): PHONE_VANITY,
    ("getNormalizedPhone", "1-800-GO-FEDEX"): PHONE_VANITY,
    ("getNormalizedZipCode", "A1 B2"): ZIP_INNER_SPACE,
    ("getNormalizedZipCode", "\x1fZIP123"): ZIP_CONTROL,
}

VECTORS = load_vectors(FILE)


def _string_arg(record: dict[str, Any]) -> str | None:
    """The single string argument of a vector, or None for non-string / undefined inputs."""
    args = record["input"]["args"]
    if len(args) != 1 or not isinstance(args[0], str) or args[0] == "__undefined__":
        return None
    return str(args[0])


def _select() -> list[Any]:
    """The vectors this module runs: core functions fully, the others for blank input only."""
    selected = []
    for i, record in enumerate(VECTORS):
        function, value = record["input"]["function"], _string_arg(record)
        if value is None:
            continue  # non-string inputs cannot reach our typed normalisers
        if function in CORE or (function in BLANK_ONLY and not value.strip()):
            selected.append(pytest.param(record, id=vector_id(record, i)))
    return selected


@pytest.mark.parametrize("record", _select())
def test_param_builder_pii_core(record: dict[str, Any]) -> None:
    """One param-builder vector; a pre-hashed input must pass through lowercased."""
    function = record["input"]["function"]
    value = _string_arg(record)
    assert value is not None
    reason = DEVIATIONS.get((function, value))
    if reason:
        pytest.skip(reason)
    normalizer = CORE.get(function) or BLANK_ONLY[function]
    expected = record["expected"]
    want = expected if isinstance(expected, str) and expected else None
    if n.prehashed(value):
        assert want is not None
        assert n.hashed(value, normalizer) == want.strip().lower()
        return
    assert normalizer(value) == want


def test_param_builder_phone_in_use_matches() -> None:
    """Real numbers written with their country code give exactly Meta's digits."""
    assert n.phone_digits("+1 (616) 954-78 88") == "16169547888"
    assert n.phone_digits("+001 (616) 954-78 88") == "16169547888"
    assert n.phone_digits("+44 20 7946 0958") == "442079460958"
