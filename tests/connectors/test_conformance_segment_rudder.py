"""Segment and RudderStack phone/email hashing vectors against ``connectors.normalize``.

The collector resolved every hash in these files to its pre-image and the input it came from
(``hash_preimages``). Where that input is an email or a phone, the pre-image is the platform's
normalised form, so we check our normaliser produces it and that its SHA-256 is the hash in
the expected payload. Which variant applies follows the platform: Google, TikTok and Reddit
take E.164 with '+', Meta, Snap and Pinterest digits only; Google uses the Gmail dot rule.
Deliberate differences are skipped with the reason (docs/platforms/normalization.md).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from connectors import normalize as n
from tests.conformance import (
    CONFORMANCE_DIR,
    COUNTRY_NAME,
    PHONE_INVALID,
    PHONE_NO_COUNTRY,
    load_vectors,
)

FILES = sorted(
    p.name for pattern in ("rudderstack_*.json", "segment_*.json") for p in CONFORMANCE_DIR.glob(pattern)
)
if not FILES:
    load_vectors("segment_facebook_conversions_api.json")  # skips the module with a clear message

DEVIATIONS: dict[str, str] = {
    # Country code missing or number impossible: the libraries just prefix '+' or strip '+'.
    "912382193": PHONE_INVALID,
    "(91) 238-2193": PHONE_INVALID,
    "+1234589947": PHONE_INVALID,  # +1 with 9 national digits
    "+1234589947 ": PHONE_INVALID,
    "+91 2111111 ": PHONE_INVALID,  # India with 7 national digits
    "6161729102": PHONE_INVALID,  # NANP exchange cannot start with 1
    "+6161729102": PHONE_INVALID,  # Segment re-reads '+61…' as US; it is an impossible AU number
    "234567890": PHONE_INVALID,  # 9 digits
    "+1555-555-5555": PHONE_INVALID,  # area code 555 is not assigned
    "12345678901234": PHONE_INVALID,
    "98765432109876": PHONE_INVALID,
}


def _normalizer(filename: str, value: str, preimage: str, rule: str) -> Callable[[str], str | None] | None:
    """Our normaliser for one resolved hash, or None when it is not an email or phone."""
    if "@" in value:
        if "google" in filename:
            return n.email_google
        return n.email_reddit if "reddit" in filename else n.email
    is_phone = "digit" in rule or "phone" in rule
    if rule.startswith("remove_spaces") and value.strip().startswith("+"):
        is_phone = True  # Segment TikTok formatPhones
    if not is_phone:
        return None
    return n.phone_e164 if preimage.startswith("+") else n.phone_digits


def _params() -> list[Any]:
    """One param per (file, record, resolved email/phone hash), de-duplicated per file."""
    params = []
    for filename in FILES:
        seen: set[tuple[str, str]] = set()
        for index, record in enumerate(load_vectors(filename)):
            for digest, info in (record.get("hash_preimages") or {}).items():
                value, preimage = info.get("from_input_value"), info.get("preimage")
                if not isinstance(value, str) or not isinstance(preimage, str):
                    continue
                fn = _normalizer(filename, value, preimage, str(info.get("rule", "")))
                if fn is None or (value, preimage) in seen:
                    continue
                seen.add((value, preimage))
                label = f"{filename.removesuffix('.json')}-{index}-{value.strip()[:24]}"
                params.append(pytest.param(value, preimage, digest, fn, id=label))
    return params


@pytest.mark.parametrize(("value", "preimage", "digest", "normalizer"), _params())
def test_phone_email_hash_vector(
    value: str, preimage: str, digest: str, normalizer: Callable[[str], str | None]
) -> None:
    """The normalised pre-image and its SHA-256 match the library's payload."""
    reason = DEVIATIONS.get(value)
    if reason:
        pytest.skip(reason)
    assert normalizer(value) == preimage
    assert n.hashed(value, normalizer) == digest


def _prehashed_params() -> list[Any]:
    """Hashes the libraries passed through unchanged because the input was already hashed."""
    params = []
    for filename in FILES:
        for index, record in enumerate(load_vectors(filename)):
            for digest, info in (record.get("hash_preimages") or {}).items():
                if info.get("rule") == "already_hashed_in_input_passed_through":
                    params.append(pytest.param(digest, id=f"{filename.removesuffix('.json')}-{index}"))
    return params


@pytest.mark.parametrize("digest", _prehashed_params())
def test_prehashed_passthrough(digest: str) -> None:
    """An already-hashed identifier is sent as is (lowercase), never hashed twice."""
    assert n.hashed(digest, n.email) == digest.lower()
    assert n.hashed(digest.upper(), n.phone_e164) == digest.lower()


_META_USER_DATA_FIELDS: dict[str, Callable[[str], str | None]] = {
    "gender": n.gender,
    "state": n.state,
    "country": n.country,
    "phone": n.phone_digits,
}


def _segment_meta_params() -> list[Any]:
    """Segment's Meta getUserData vectors for gender, state, country and phone."""
    params = []
    for index, record in enumerate(load_vectors("segment_facebook_conversions_api.json")):
        case = str(record["case"])
        field = next((f for f in _META_USER_DATA_FIELDS if f"getUserData: {f}" in case), None)
        if field is None and "phone" in case:
            field = "phone"
        if field is None:
            continue
        for digest, info in (record.get("hash_preimages") or {}).items():
            value = info.get("from_input_value")
            if isinstance(value, str) and "@" not in value:
                label = f"{index}-{field}-{value}"
                params.append(pytest.param(field, value, info["preimage"], digest, id=label))
    return params


SEGMENT_META_DEVIATIONS: dict[str, str] = {
    "510 555 0011": PHONE_NO_COUNTRY,
    "United States": COUNTRY_NAME,
    "united states": COUNTRY_NAME,
    "New South Wales": COUNTRY_NAME,
    "Ontario": COUNTRY_NAME,
    "United States of America": COUNTRY_NAME,
    "Great Britain": COUNTRY_NAME,
    "South Korea": COUNTRY_NAME,
}


@pytest.mark.parametrize(("field", "value", "preimage", "digest"), _segment_meta_params())
def test_segment_meta_user_data(field: str, value: str, preimage: str, digest: str) -> None:
    """Meta user_data via Segment: gender letter, US state code, ISO country, phone digits."""
    reason = SEGMENT_META_DEVIATIONS.get(value)
    if reason:
        pytest.skip(reason)
    normalizer = _META_USER_DATA_FIELDS[field]
    assert normalizer(value) == preimage
    assert n.hashed(value, normalizer) == digest
