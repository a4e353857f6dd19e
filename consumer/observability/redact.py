"""Redaction of personal data and secrets in log events (invariant 5: tokens and raw identifiers
never appear in logs).

Two nets, because either alone leaks: keys that name personal data or credentials have their
whole value replaced, at any depth; and every string value (including messages, exception text
and objects rendered with ``str``) is scanned for things that look like an email address, a
phone number, a bearer/basic credential, a well-known access-token shape or a
``token=...`` query parameter. Hashed identifiers are left alone (they are already hashed).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

MASK = "[redacted]"

_PERSONAL_KEYS = (
    "email emails email_address em phone phones phone_number mobile ph first_name last_name"
    " firstname lastname given_name family_name name full_name fn ln date_of_birth dob birthday"
    " db gender ge street address street_address postal_code zip zp ip ip_address"
    " client_ip_address maid"
)
_SECRET_KEYS = (
    "access_token refresh_token id_token token developer_token authorization proxy_authorization"
    " password passwd secret client_secret api_key apikey x_api_key cookie set_cookie credentials"
    " private_key sasl_password ssl_key_password basic_auth_user_info"
)
SENSITIVE_KEYS = frozenset((_PERSONAL_KEYS + " " + _SECRET_KEYS).split())
"""Keys (normalised: lower case, ``-`` and ``.`` as ``_``) whose values are always masked."""
SENSITIVE_SUFFIXES = ("_token", "_secret", "_password", "_api_key", "_private_key")
SAFE_SUFFIXES = ("_env", "_sha256", "_count", "_hash")
"""``token_env`` names an environment variable, ``email_sha256`` is already hashed."""

_PATTERNS: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"(?i)\b(bearer|basic)\s+[A-Za-z0-9._~+/=\-]{6,}"), r"\1 " + MASK),
    (
        re.compile(r"(?i)\b(access_token|refresh_token|token|key|password|secret|api_key)=[^&\s\"']+"),
        r"\1=" + MASK,
    ),
    (re.compile(r"\beyJ[A-Za-z0-9_\-]+\.[A-Za-z0-9_\-]+\.[A-Za-z0-9_\-]*"), "[jwt]"),
    (re.compile(r"\bya29\.[A-Za-z0-9._\-]+"), "[token]"),
    (re.compile(r"\bEAA[A-Za-z0-9]{20,}"), "[token]"),
    (re.compile(r"[^\s@<>()\[\]\",;:\\]+@[\w\-]+(?:\.[\w\-]+)+"), "[email]"),
    (re.compile(r"\+\d[\d\s().\-]{6,}\d"), "[phone]"),
    (re.compile(r"\(\d{3}\)\s?\d{3}[-.\s]\d{4}\b"), "[phone]"),
    (re.compile(r"\b\d{3}[-.]\d{3}[-.]\d{4}\b"), "[phone]"),
)
_KEYED_VALUE = re.compile(
    r"(?i)([\"']?(?<![\w./\\-])(?:"
    + "|".join(sorted(SENSITIVE_KEYS, key=len, reverse=True))
    + r")\b[\"']?\s*[:=]\s*)"
    r"(?!\[redacted\])(?:'[^']*'|\"[^\"]*\"|[^\s,;&}\])]+)"
)
"""``'first_name': 'Mary'`` or ``email=x`` inside free text (a dict or query formatted into a
message): the value after a sensitive key is masked. A key inside a path or a dotted name
(``store.db: cannot open``, ``/var/db=…``) is not a key: Meta's ``db`` must not eat file names."""
_MAX_DEPTH = 8
_PLAIN = (int, float, bool, type(None))


def sensitive_key(key: object) -> bool:
    """True when a key names personal data or a credential (case, ``-`` and ``.`` ignored)."""
    norm = str(key).strip().lower().replace("-", "_").replace(".", "_")
    if norm.endswith(SAFE_SUFFIXES):
        return False
    return norm in SENSITIVE_KEYS or norm.endswith(SENSITIVE_SUFFIXES)


def scrub_text(text: str) -> str:
    """Mask email addresses, phone numbers and credential shapes inside free text."""
    for pattern, replacement in _PATTERNS:
        text = pattern.sub(replacement, text)
    return _KEYED_VALUE.sub(r"\1" + MASK, text)


def redact_value(value: Any, depth: int = 0) -> Any:
    """Return a redacted copy of ``value`` (dicts by key and content, sequences element-wise)."""
    if isinstance(value, str):
        return scrub_text(value)
    if isinstance(value, _PLAIN):
        return value
    if depth >= _MAX_DEPTH:
        return "[truncated]"
    if isinstance(value, Mapping):
        return {
            str(k): (MASK if sensitive_key(k) and v is not None else redact_value(v, depth + 1))
            for k, v in value.items()
        }
    if isinstance(value, list | tuple | set | frozenset):
        return [redact_value(v, depth + 1) for v in value]
    if isinstance(value, bytes | bytearray):
        return scrub_text(bytes(value).decode("utf-8", "replace"))
    return scrub_text(str(value))


def redact_event(event_dict: Any) -> Any:
    """Redact a structlog event dict in place-compatible fashion (returns a new dict)."""
    out: dict[str, Any] = {}
    for key, value in event_dict.items():
        if key in ("level", "timestamp", "logger"):
            out[key] = value
        elif sensitive_key(key) and value is not None:
            out[key] = MASK
        else:
            out[key] = redact_value(value)
    return out
