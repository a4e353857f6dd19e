"""Small shared validators used by every platform module.

They are deliberately cheap (precompiled patterns, no allocation on the happy path) because
the benchmark pushes tens of thousands of events per second through them.
"""

from __future__ import annotations

import ipaddress
import re
from datetime import datetime
from typing import Any

_HEX64 = re.compile(r"[0-9a-f]{64}")
_ANY_HEX64 = re.compile(r"[0-9a-fA-F]{64}")
_FBC = re.compile(r"fb\.[0-9]+\.[0-9]{13}\.[^\s.]+(?:\.[A-Za-z0-9]{1,4})?")
_CURRENCY = re.compile(r"[A-Za-z]{3}")
_CLICK_ID = re.compile(r"[A-Za-z0-9_\-.~]+")
_GOOGLE_DATETIME = re.compile(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}[+-]\d{2}:\d{2}")
_RFC3339 = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d{1,9})?(?:Z|[+-]\d{2}:\d{2})")
_FRACTION = re.compile(r"\.(\d+)")
_OCTET = r"(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])"
_IPV4 = re.compile(rf"{_OCTET}(?:\.{_OCTET}){{3}}")


def is_sha256_hex(value: Any) -> bool:
    """True for exactly 64 lowercase hex characters (what every platform expects of a hash)."""
    return type(value) is str and len(value) == 64 and _HEX64.fullmatch(value) is not None


def hash_problem(value: Any) -> str | None:
    """Explain why `value` is not a valid lowercase SHA-256 hex digest (None when it is)."""
    if type(value) is not str:
        return f"expected a string, got {type(value).__name__}"
    if len(value) == 64 and _HEX64.fullmatch(value):
        return None
    if "@" in value:
        return "looks like a raw (unhashed) email address"
    if len(value) == 64 and _ANY_HEX64.fullmatch(value):
        return "hash must be lowercase hex"
    if len(value) != 64:
        return f"hash must be 64 hex characters, got {len(value)}"
    return "hash must contain only hex characters"


def looks_hashed(value: Any) -> bool:
    """True when a value that must be sent in clear is a 64-hex digest instead."""
    return type(value) is str and len(value) == 64 and _ANY_HEX64.fullmatch(value) is not None


def is_fbc_or_fbp(value: Any) -> bool:
    """Meta `fbc`/`fbp` cookie format: `fb.<subdomain index>.<creation ms>.<payload>[.<appendix>]`."""
    return type(value) is str and _FBC.fullmatch(value) is not None


def is_ip(value: Any) -> bool:
    """True for a literal IPv4 or IPv6 address."""
    if type(value) is not str or not value:
        return False
    if _IPV4.fullmatch(value) is not None:
        return True
    if ":" not in value:
        return False
    try:
        ipaddress.ip_address(value)
    except ValueError:
        return False
    return True


def is_currency(value: Any) -> bool:
    """ISO-4217 shape: three letters."""
    return type(value) is str and _CURRENCY.fullmatch(value) is not None


def is_number(value: Any) -> bool:
    """An int or float that is not a bool."""
    return type(value) in (int, float)


def is_int(value: Any) -> bool:
    """An int that is not a bool."""
    return type(value) is int


def is_nonempty_str(value: Any) -> bool:
    """A string with at least one non-space character."""
    return type(value) is str and bool(value.strip())


def is_click_id(value: Any) -> bool:
    """A URL-parameter-safe click id (gclid, ttclid, ...): non-empty, no spaces."""
    return type(value) is str and _CLICK_ID.fullmatch(value) is not None


def is_url(value: Any) -> bool:
    """An absolute http(s) URL."""
    return (
        type(value) is str
        and (value.startswith("https://") or value.startswith("http://"))
        and len(value) > 8
    )


def parse_google_datetime_ms(value: Any) -> int | None:
    """Parse Google Ads `yyyy-mm-dd HH:mm:ss±HH:mm` to epoch ms; None if malformed."""
    if type(value) is not str or _GOOGLE_DATETIME.fullmatch(value) is None:
        return None
    try:
        return int(datetime.fromisoformat(value).timestamp() * 1000)
    except ValueError:
        return None


def parse_rfc3339_ms(value: Any) -> int | None:
    """Parse an RFC 3339 timestamp (`Z` or offset, optional fraction) to epoch ms; None if malformed."""
    if type(value) is not str or _RFC3339.fullmatch(value) is None:
        return None
    text = value[:-1] + "+00:00" if value.endswith("Z") else value
    # fromisoformat handles at most 6 fractional digits; trim nanoseconds.
    if "." in text:
        text = _FRACTION.sub(lambda m: "." + m.group(1)[:6], text, count=1)
    try:
        return int(datetime.fromisoformat(text).timestamp() * 1000)
    except ValueError:
        return None


def as_list(value: Any) -> list[Any]:
    """Platforms accept a string or a list of strings for hashed keys; normalise to a list."""
    return value if type(value) is list else [value]
