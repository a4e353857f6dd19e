"""Google enhanced-conversions / Data Manager formatting vectors against ``connectors.normalize``.

Where an example's code differs from Google's documented rule, the record carries
``doc_rule_expected`` and we check that (the doc is the platform rule). Library choices beyond
the doc are skipped with the reason (docs/platforms/normalization.md).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, NamedTuple

import pytest

from connectors import normalize as n
from tests.conformance import PHONE_INVALID, load_vectors

FILE = "google_enhanced_conversions_rules.json"
STRUCTURAL = "structural rule (which fields are hashed, date format): checked by the Google connector"


class Check(NamedTuple):
    """One identifier from one record: what we feed, how we normalise it, what must come out."""

    value: str
    normalizer: Callable[[str], str | None]
    normalized: str | None
    sha256: str | None
    skip: str | None = None


DEVIATIONS: dict[str, str] = {
    "(91) 238-2193": PHONE_INVALID,  # rudder: '+' + digits, no country code
    "6161729102": PHONE_INVALID,  # NANP exchange cannot start with 1; Segment prefixes +1 anyway
}


def _phone(country: str | None) -> Callable[[str], str | None]:
    """Google's phone rule in the record's country (US when the record names none)."""
    return lambda value: n.phone_e164(value, country or "US")


def _checks(record: dict[str, Any]) -> list[Check]:
    """Every identifier a record pins down, with the doc-rule value where the record has one."""
    inp, exp = record["input"], record.get("doc_rule_expected") or record["expected"]
    field = inp.get("field")
    if field in ("phone_number", "hashed_phone_number"):
        return [Check(inp["value"], _phone(inp.get("country")), exp["normalized"], exp["sha256"])]
    if field in ("email_address", "hashed_email"):
        return [Check(inp["value"], n.email_google, exp["normalized"], exp["sha256"])]
    checks: list[Check] = []
    address = exp.get("address_info", exp)
    for key, target in (("first_name", "hashed_first_name"), ("last_name", "hashed_last_name")):
        if key in inp:
            checks.append(Check(inp[key], n.name_google, None, address[target]))
    if "firstName" in inp:
        checks.append(Check(inp["firstName"], n.name_google, None, exp["hashedFirstName"]))
    if "email" in inp:
        email_skip = DEVIATIONS.get(inp["email"])
        checks.append(Check(inp["email"], n.email_google, None, exp["hashedEmail"], email_skip))
    if "phone" in inp:
        phone_skip = DEVIATIONS.get(inp["phone"])
        checks.append(Check(inp["phone"], _phone(None), None, exp["hashedPhoneNumber"], phone_skip))
    return checks


VECTORS = load_vectors(FILE)
PARAMS = []
for index, rec in enumerate(VECTORS):
    found = _checks(rec)
    if not found:
        PARAMS.append(pytest.param(rec, None, id=f"{index:02d}-structural"))
    for number, check in enumerate(found):
        label = rec["case"][:50].replace(" ", "_")
        PARAMS.append(pytest.param(rec, check, id=f"{index:02d}.{number}-{label}"))


@pytest.mark.parametrize(("record", "check"), PARAMS)
def test_google_vector(record: dict[str, Any], check: Check | None) -> None:
    """The documented normalisation and its SHA-256 for one identifier."""
    if check is None:
        pytest.skip(STRUCTURAL)
    if check.skip:
        pytest.skip(check.skip)
    if check.normalized is not None:
        assert check.normalizer(check.value) == check.normalized
    if check.sha256 is not None:
        assert n.hashed(check.value, check.normalizer) == check.sha256


def test_google_rules_not_hashed_fields_are_plain() -> None:
    """Country and postal code go unhashed to Google: our normalisers return plain text."""
    assert n.country("US") == "us"
    assert n.postal_code("94045", "US") == "94045"
