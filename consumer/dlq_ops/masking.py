"""Masking personal data for display (`dlq inspect --show`).

An operator needs to recognise a record ("the Gmail user from Berlin, order 123"), not to read
personal data off a terminal that may be screen-shared or logged. So each identifier keeps just
enough shape: ``j***@g***.com``, a phone's last two digits, a name's first letter, an IP without
its last octet; already-hashed values show as ``sha256:abcd…``. Unknown fields are kept only
when they are not in the user, click-ID or context records.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import urlsplit, urlunsplit

_HEX64 = re.compile(r"^[0-9a-fA-F]{64}$")
MASK = "***"


def is_sha256(value: str) -> bool:
    """Whether ``value`` looks like a hex SHA-256 digest (already hashed by the producer)."""
    return bool(_HEX64.match(value.strip()))


def mask_hash(value: str) -> str:
    """``sha256:abcd…``: enough to compare two records, nothing to reverse."""
    return f"sha256:{value.strip()[:4].lower()}…"


def mask_email(value: str) -> str:
    """``john.doe@gmail.com`` -> ``j***@g***.com``."""
    text = value.strip()
    if is_sha256(text):
        return mask_hash(text)
    local, at, domain = text.rpartition("@")
    if not at:
        return mask_name(text)
    name, dot, tld = domain.rpartition(".")
    masked_domain = f"{name[:1]}{MASK}.{tld}" if dot and name else f"{domain[:1]}{MASK}"
    return f"{local[:1]}{MASK}@{masked_domain}"


def mask_phone(value: str) -> str:
    """Only the last two digits survive: ``+49 170 1234567`` -> ``***67``."""
    text = value.strip()
    if is_sha256(text):
        return mask_hash(text)
    digits = [c for c in text if c.isdigit()]
    return f"{MASK}{''.join(digits[-2:])}" if len(digits) > 2 else MASK


def mask_name(value: str) -> str:
    """First letter only: ``Jürgen`` -> ``J***``."""
    text = value.strip()
    if is_sha256(text):
        return mask_hash(text)
    return f"{text[:1]}{MASK}" if text else ""


def mask_ip(value: str) -> str:
    """IPv4 without the last octet (``203.0.113.*``); IPv6 keeps only its first 48 bits."""
    text = value.strip()
    try:
        address = ipaddress.ip_address(text)
    except ValueError:
        return MASK
    if address.version == 4:
        return ".".join(text.split(".")[:3]) + ".*"
    groups = address.exploded.split(":")[:3]
    return ":".join(g.lstrip("0") or "0" for g in groups) + ":*"


def mask_id(value: str) -> str:
    """Pseudonymous ids (external id, device id, click ids): a short prefix only."""
    text = value.strip()
    if is_sha256(text):
        return mask_hash(text)
    return f"{text[:4]}…" if len(text) > 6 else MASK


def mask_url(value: str) -> str:
    """A URL without query and fragment (they often carry emails or click ids)."""
    parts = urlsplit(value.strip())
    if not parts.scheme:
        return MASK
    return urlunsplit((parts.scheme, parts.netloc, parts.path, "", ""))


def mask_date(_value: str) -> str:
    """Dates of birth are hidden entirely."""
    return "****-**-**"


def mask_all(_value: str) -> str:
    """Fields where even a prefix says too much."""
    return MASK


def keep(value: str) -> str:
    """Coarse values (country, state) that identify nobody."""
    return value


_USER: dict[str, Callable[[str], str]] = {
    "email": mask_email,
    "phone": mask_phone,
    "first_name": mask_name,
    "last_name": mask_name,
    "date_of_birth": mask_date,
    "gender": mask_all,
    "street": mask_name,
    "city": mask_name,
    "postal_code": lambda v: f"{v.strip()[:2]}{MASK}" if not is_sha256(v) else mask_hash(v),
    "state": keep,
    "country": keep,
    "external_id": mask_id,
    "anonymous_id": mask_id,
    "session_id": mask_id,
    "maid": mask_id,
}
_CONTEXT: dict[str, Callable[[str], str]] = {
    "ip_address": mask_ip,
    "user_agent": keep,
    "page_url": mask_url,
    "referrer_url": mask_url,
    "action_source": keep,
    "site_id": keep,
    "locale": keep,
}


def _apply(
    record: Mapping[str, Any], rules: Mapping[str, Callable[[str], str]], default: Callable[[str], str]
) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in record.items():
        if isinstance(value, str):
            out[key] = rules.get(key, default)(value)
        else:
            out[key] = value
    return out


def mask_event(event: Mapping[str, Any]) -> dict[str, Any]:
    """A display copy of a decoded event with personal data masked (the input is unchanged).

    Business fields (ids, amounts, items, consent) are kept; user identifiers, click ids and
    network context are masked field by field; any other string that is a SHA-256 digest is
    shortened.
    """
    out: dict[str, Any] = {}
    for key, value in event.items():
        if key == "user" and isinstance(value, Mapping):
            out[key] = _apply(value, _USER, mask_all)
        elif key == "click_ids" and isinstance(value, Mapping):
            out[key] = _apply(value, {}, mask_id)
        elif key == "context" and isinstance(value, Mapping):
            out[key] = _apply(value, _CONTEXT, mask_all)
        elif isinstance(value, str) and is_sha256(value):
            out[key] = mask_hash(value)
        else:
            out[key] = value
    return out
