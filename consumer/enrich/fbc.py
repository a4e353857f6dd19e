"""Meta's ``_fbc`` / ``_fbp`` cookie values, done the way Meta documents them.

``fbc`` is ``fb.<subdomainIndex>.<creationTimeMs>.<fbclid>``. Getting it wrong silently costs
match rate: lower-casing or URL-decoding the fbclid breaks the click, and stamping the event time
instead of the landing time makes every click look fresh. So the fbc is built **once, at capture
time**, from the fbclid byte for byte, and the stored value is what every later event carries.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

# fb.<digits>.<digits>.<non-empty payload>[.<2-char language token | 8-char appendix>]
_COOKIE = re.compile(r"^fb\.(\d+)\.(\d+)\.([^.]+)(?:\.([A-Za-z0-9_-]{2}|[A-Za-z0-9_-]{8}))?$")


def subdomain_index(cookie_domain: str | None) -> int:
    """Number of dots in the cookie domain; 0 for IP addresses and localhost, 1 when unknown.

    ``example.com`` -> 1, ``builder.example.com`` -> 2. A leading dot (``.example.com``, as
    browsers store domain cookies) is not counted; a port or IPv6 brackets are ignored.
    """
    if not cookie_domain:
        return 1
    host = cookie_domain.strip().lstrip(".").rstrip(".")
    if host.startswith("["):
        return 0  # bracketed IPv6 (or Python param-builder's bracketed IPv4)
    if host.count(":") == 1:
        host = host.split(":", 1)[0]
    if not host:
        return 1
    if host.lower() == "localhost" or _is_ip(host):
        return 0
    return host.count(".")


def _is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


def build_fbc(fbclid: str, capture_time_ms: int, cookie_domain: str | None) -> str:
    """Build ``fb.<subdomainIndex>.<capture time ms>.<fbclid>`` with the fbclid untouched."""
    if not fbclid:
        raise ValueError("fbclid must be non-empty")
    return f"fb.{subdomain_index(cookie_domain)}.{int(capture_time_ms)}.{fbclid}"


def is_valid_fbc(value: object) -> bool:
    """Whether ``value`` has the ``_fbc`` cookie shape Meta accepts (optional appendix allowed)."""
    return isinstance(value, str) and _COOKIE.match(value) is not None


def is_valid_fbp(value: object) -> bool:
    """Whether ``value`` has the ``_fbp`` cookie shape (same grammar as fbc, random payload)."""
    return isinstance(value, str) and _COOKIE.match(value) is not None


def fbc_payload(value: str) -> str | None:
    """The click-id segment of a valid fbc, or ``None`` if it is not a valid fbc."""
    match = _COOKIE.match(value)
    return match.group(3) if match else None


def fbclid_from_url(url: str | None) -> str | None:
    """The raw ``fbclid`` query value of a URL, never percent-decoded (first one wins).

    Decoding would change a case-sensitive, byte-exact click id; real fbclids are URL-safe, so
    the raw text is exactly what Meta issued. Accepts URLs without a scheme (``example.com?...``).
    """
    if not url:
        return None
    query = urlsplit(url).query if "://" in url else url.partition("?")[2]
    query = query.partition("#")[0]
    for part in query.split("&"):
        name, sep, value = part.partition("=")
        if sep and name == "fbclid" and value:
            return value
    return None


def _str(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def capture_fbclid(capture: Mapping[str, Any]) -> str | None:
    """The capture's fbclid: the click_ids field, else the landing URL, else the referrer URL."""
    click_ids = capture.get("click_ids") or {}
    return (
        _str(click_ids.get("fbclid"))
        or fbclid_from_url(capture.get("landing_url"))
        or fbclid_from_url(capture.get("referrer_url"))
    )


def capture_fbc(capture: Mapping[str, Any]) -> str | None:
    """The fbc to store for a capture (``ClickIdCapture`` as a dict), or ``None``.

    An existing valid ``_fbc`` cookie is kept byte for byte (its own creation time and appendix
    included) unless a different fbclid arrived on this hit; then a new fbc is built with the
    capture time. An invalid cookie counts as absent.
    """
    click_ids = capture.get("click_ids") or {}
    existing = _str(click_ids.get("fbc"))
    if existing is not None and not is_valid_fbc(existing):
        existing = None
    fbclid = capture_fbclid(capture)
    if existing is not None and (fbclid is None or fbc_payload(existing) == fbclid):
        return existing
    if fbclid is None:
        return None
    return build_fbc(fbclid, int(capture["capture_time"]), _cookie_domain(capture))


def _cookie_domain(capture: Mapping[str, Any]) -> str | None:
    """The capture's cookie domain; without one, only an IP/localhost landing host is usable.

    Without a public-suffix list the registrable domain of an ordinary host cannot be known, so
    an unknown domain falls back to index 1 (the common ``example.com`` case).
    """
    domain = _str(capture.get("cookie_domain"))
    if domain is not None:
        return domain
    landing = _str(capture.get("landing_url"))
    if landing is not None and "://" in landing:
        host = urlsplit(landing).hostname or ""
        if host == "localhost" or _is_ip(host):
            return host
    return None
