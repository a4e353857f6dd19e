"""Loading the shared conformance vectors (``<repo>/../shared/conformance/``).

The vectors live beside the repository, not inside it (CI clones the repo with ``shared/``
next to it), so tests find them relative to this file and skip clearly when they are absent
instead of failing on a developer machine that only has the repo.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

CONFORMANCE_DIR = Path(__file__).resolve().parents[1].parent / "shared" / "conformance"


def load_vectors(filename: str) -> list[dict[str, Any]]:
    """The records of one conformance file, or a pytest skip naming where they were expected."""
    path = CONFORMANCE_DIR / filename
    if not path.is_file():
        pytest.skip(
            f"conformance vectors not found: {path} (expected shared/ beside the repo)",
            allow_module_level=True,
        )
    with path.open(encoding="utf-8") as handle:
        records = json.load(handle)
    if not isinstance(records, list):
        raise TypeError(f"{path}: expected a JSON list of records")
    return records


def vector_id(record: dict[str, Any], index: int) -> str:
    """A short, stable pytest id for one record: its position plus the start of its case name."""
    case = str(record.get("case", "")).replace(" ", "_")[:60]
    return f"{index:04d}-{case}"


# Why we deliberately differ from a vector. Each reason is a section of
# docs/platforms/normalization.md ("Deliberate differences"); keep the two in step.
PHONE_NO_COUNTRY = (
    "phone without a country code: Meta/Google require one, so we read it in the default "
    "region (US) and add its code; the library hashes the national digits"
)
PHONE_INVALID = (
    "not a valid number per libphonenumber: we drop it instead of hashing digits that cannot match"
)
PHONE_EXTENSION = "phone extension: we drop it (E.164 has no extension); the library appends its digits"
EMAIL_RFC_EDGE = (
    "quoted or escaped RFC 5322 local part / two '@': rejected by our basic rule (one '@', dot-atom)"
)
PHP_SANITIZE = "PHP FILTER_SANITIZE_EMAIL / length-only country check: PHP-library private (README caveat 6)"
STATE_NAME_TO_CODE = (
    "US state name: we send the 2-letter code as Meta's docs ask; this SDK keeps the full name"
)
BIRTH_YEAR_RANGE = "year of birth outside 1900..today: we drop it; the SDKs only check for 4 digits"
MD5_PASSTHROUGH = "32-hex MD5 pass-through: only SHA-256 (64 hex) counts as pre-hashed for us"
NOT_OUR_FIELD = "field we do not normalise (not sent by our connectors or not personal data)"
ZIP_INNER_SPACE = "zip with inner space: Meta's rule and SDKs remove spaces; param-builder keeps them"
COUNTRY_NAME = "country given as a name: library heuristic; we accept ISO alpha-2/alpha-3 codes only"
