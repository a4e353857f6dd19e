"""Shared normalisers and SHA-256 hashing for personal data sent to ad platforms.

Every connector imports these so that one identifier is normalised the same way everywhere
(invariant 5: personal data leaves only hashed, normalised exactly as each platform asks).
Platform variants live side by side (``email`` vs ``email_google``, ``phone_e164`` vs
``phone_digits``); the per-platform rules and their sources are in
``docs/platforms/normalization.md``.

Conventions: every normaliser takes ``str | None`` and returns the normalised, *unhashed*
string, or ``None`` when the value is missing or invalid. None of them raises on any text. They
run per event per platform on the hot path, so regexes are compiled at import, lookup tables
are module constants and phone parsing is cached. Hashing (``hashed``, ``sha256_hex``) and its
memo by (rule, raw value) live in ``connectors.hashing`` and are re-exported here; the
``*_rule`` helpers bind a normaliser's extra argument so that memo can share the result.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import date

from connectors._normalize_tables import ISO_ALPHA2, ISO_ALPHA3_TO_2, US_STATE_CODES
from connectors.hashing import Rule, bound, hashed, is_sha256, prehashed, register_pure, sha256_hex
from connectors.phone import phone_digits, phone_e164

__all__ = [
    "bound",
    "city",
    "country",
    "currency",
    "date_of_birth",
    "dob_day",
    "dob_month",
    "dob_year",
    "email",
    "email_google",
    "email_reddit",
    "external_id",
    "gender",
    "hashed",
    "is_sha256",
    "name",
    "name_first5",
    "name_google",
    "name_initial",
    "phone_digits",
    "phone_e164",
    "phone_rule",
    "postal_code",
    "postal_rule",
    "prehashed",
    "sha256_hex",
    "state",
    "state_rule",
]

# RFC 5322 dot-atom local part (non-ASCII allowed for internationalised addresses) and a domain
# of at least two labels, each without leading/trailing '-'. Whitespace is rejected separately.
_ATEXT = r"[a-z0-9!#$%&'*+/=?^_`{|}~\-\u0080-\U0010ffff]"
_LABEL = r"[a-z0-9\u0080-\U0010ffff](?:[a-z0-9\u0080-\U0010ffff-]*[a-z0-9\u0080-\U0010ffff])?"
_EMAIL_RE = re.compile(rf"(?P<local>{_ATEXT}+(?:\.{_ATEXT}+)*)@{_LABEL}(?:\.{_LABEL})+")
_MAX_EMAIL = 254
_MAX_LOCAL = 64
_WHITESPACE_RE = re.compile(r"\s+")
# Anything that is not a letter or digit (Unicode aware), plus '_' which \w would keep.
_NAME_DROP_RE = re.compile(r"[^\w\s]|_")
_CITY_DROP_RE = re.compile(r"[\W\d_]+")
_NON_AZ_RE = re.compile(r"[^a-z]+")
_NON_ALNUM_ASCII_RE = re.compile(r"[^a-z0-9]+")
_POSTAL_DROP_RE = re.compile(r"\s+")
_US_ZIP_RE = re.compile(r"(\d{5})(?:\d{4})?")
_DOB_RE = re.compile(r"(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})")
_DOB_COMPACT_RE = re.compile(r"(\d{4})(\d{2})(\d{2})")
_NON_ASCII_LETTER_RE = re.compile(r"[^A-Za-z]+")
_DAY_MONTH_RE = re.compile(r"\d{1,2}")
_YEAR_RE = re.compile(r"\d{4}")
_GMAIL_DOMAINS = frozenset({"gmail.com", "googlemail.com"})
_GENDERS = {"f": "f", "female": "f", "m": "m", "male": "m"}
_MIN_BIRTH_YEAR = 1900
_MIN_POSTAL = 2


def _nfc(value: str) -> str:
    """Compose accents so 'é' hashes the same whether it arrived composed or decomposed."""
    if value.isascii() or unicodedata.is_normalized("NFC", value):
        return value
    return unicodedata.normalize("NFC", value)


def email(value: str | None) -> str | None:
    """Trimmed, lowercased email, or ``None`` if it is not plausibly an address.

    Meta, TikTok, Snap, Pinterest, LinkedIn, Reddit and Microsoft all hash trim+lower; an
    obviously broken address is dropped rather than hashed because it can never match.
    """
    if not value:
        return None
    candidate = value.strip().lower()
    if len(candidate) > _MAX_EMAIL or _WHITESPACE_RE.search(candidate):
        return None
    match = _EMAIL_RE.fullmatch(candidate)
    if match is None or len(match.group("local")) > _MAX_LOCAL:
        return None
    return candidate


def email_google(value: str | None) -> str | None:
    """Google's variant: all whitespace removed, then ``email()``; for gmail.com and
    googlemail.com only, the ``+tag`` and then every dot of the local part are removed
    ('Cloudy.SanFrancisco+shopping@gmail.com' -> 'cloudysanfrancisco@gmail.com'), as Google's
    Data Manager formatting guide and its ``google-ads-datamanager-util`` Formatter do.
    """
    if not value:
        return None
    compact = _WHITESPACE_RE.sub("", value).lower()
    local, _, domain = compact.rpartition("@")
    if domain in _GMAIL_DOMAINS:
        # Before validation: 'a..b@gmail.com' is Gmail's 'ab@gmail.com' for Google too.
        compact = f"{local.split('+', 1)[0].replace('.', '')}@{domain}"
    return email(compact)


def email_reddit(value: str | None) -> str | None:
    """Reddit's canonical email: ``email()``, then in the local part drop everything from the
    first '+' and keep only a-z and 0-9 ('Al.ice$+Apple@Example.Com' -> 'alice@example.com')."""
    candidate = email(value)
    if candidate is None:
        return None
    local, _, domain = candidate.partition("@")
    local = _NON_ALNUM_ASCII_RE.sub("", local.split("+", 1)[0])
    return f"{local}@{domain}" if local else None


def name(value: str | None) -> str | None:
    """Trimmed, lowercased name without punctuation; Unicode letters kept ('Valéry' -> 'valéry').

    Meta's rule for fn/ln; the other platforms ask for at least trim+lower, which this satisfies.
    """
    if not value:
        return None
    cleaned = _NAME_DROP_RE.sub("", _nfc(value).lower())
    cleaned = _WHITESPACE_RE.sub(" ", cleaned).strip()
    return cleaned or None


def name_google(value: str | None) -> str | None:
    """Google's given/family name: trimmed and lowercased only, punctuation and inner spaces
    kept ("O'Brien" -> "o'brien", 'Mrs. Mary' -> 'mrs. mary'), as Google's Formatter does;
    Google asks the sender to leave prefixes and suffixes out, it does not strip them."""
    if not value:
        return None
    return value.strip().lower() or None


def name_first5(value: str | None) -> str | None:
    """Meta's ``f5first``/``f5last``: the first 5 characters of ``name()`` ('Washington' -> 'washi')."""
    normalised = name(value)
    return normalised[:5] if normalised else None


def name_initial(value: str | None) -> str | None:
    """Meta's ``fi``: the first character of ``name()`` ('GW' -> 'g')."""
    normalised = name(value)
    return normalised[0] if normalised else None


def city(value: str | None) -> str | None:
    """Meta's city rule: lowercase letters only, no spaces, digits or punctuation
    ('San José' -> 'sanjosé'); non-ASCII letters are kept."""
    if not value:
        return None
    cleaned = _CITY_DROP_RE.sub("", _nfc(value).lower())
    return cleaned or None


def state(value: str | None, country: str | None = None) -> str | None:
    """Lowercase a-z only; US full state names become 2-letter codes ('California' -> 'ca').

    Meta asks for the 2-letter ANSI code in the US; names are mapped only when ``country`` is
    absent or the US, so a foreign region name is never mistaken for a US state.
    """
    if not value:
        return None
    cleaned = _NON_AZ_RE.sub("", value.lower())
    if not cleaned:
        return None
    if len(cleaned) > 2 and (country is None or country.strip().lower() in ("us", "usa")):
        return US_STATE_CODES.get(cleaned, cleaned)
    return cleaned


def postal_code(value: str | None, country: str | None = None) -> str | None:
    """Lowercase, no spaces, the part before the first '-' ('NR9 5AL' -> 'nr95al');
    for the US the first 5 digits ('98121-4892' -> '98121'), else ``None``."""
    if not value:
        return None
    cleaned = _POSTAL_DROP_RE.sub("", value.lower()).split("-", 1)[0]
    if country is not None and country.strip().lower() in ("us", "usa"):
        match = _US_ZIP_RE.match(cleaned)
        return match.group(1) if match else None
    # No country uses one-character postal codes; such a value is a data-entry error.
    return cleaned if len(cleaned) >= _MIN_POSTAL else None


def country(value: str | None) -> str | None:
    """ISO 3166-1 alpha-2, lowercase ('US' -> 'us'; alpha-3 'USA' -> 'us'); ``None`` if unknown."""
    if not value:
        return None
    cleaned = _NON_AZ_RE.sub("", value.lower())
    if len(cleaned) == 2:
        return cleaned if cleaned in ISO_ALPHA2 else None
    if len(cleaned) == 3:
        return ISO_ALPHA3_TO_2.get(cleaned)
    return None


def date_of_birth(value: str | None) -> str | None:
    """'YYYYMMDD' from 'YYYY-MM-DD', 'YYYY/MM/DD' or 'YYYYMMDD', if it is a real date between
    1900 and today; ``None`` otherwise. Meta's ``db`` and the name+DOB match keys use this."""
    if not value:
        return None
    text = value.strip()
    match = _DOB_COMPACT_RE.fullmatch(text) or _DOB_RE.fullmatch(text)
    if match is None:
        return None
    year, month, day = (int(part) for part in match.groups())
    try:
        born = date(year, month, day)
    except ValueError:
        return None
    if year < _MIN_BIRTH_YEAR or born > date.today():
        return None
    return f"{year:04d}{month:02d}{day:02d}"


def dob_day(value: str | None) -> str | None:
    """Meta's ``dobd``: day of birth as 2 digits ('1' -> '01'), 1..31; else ``None``."""
    return _date_part(value, _DAY_MONTH_RE, 1, 31, 2)


def dob_month(value: str | None) -> str | None:
    """Meta's ``dobm``: month of birth as 2 digits ('9' -> '09'), 1..12; else ``None``."""
    return _date_part(value, _DAY_MONTH_RE, 1, 12, 2)


def dob_year(value: str | None) -> str | None:
    """Meta's ``doby``: a 4-digit year of birth between 1900 and this year; else ``None``.

    Meta's SDKs only check the shape; the range check drops impossible years instead of hashing
    them, the same bound ``date_of_birth`` uses.
    """
    return _date_part(value, _YEAR_RE, _MIN_BIRTH_YEAR, date.today().year, 4)


def _date_part(value: str | None, shape: re.Pattern[str], low: int, high: int, width: int) -> str | None:
    """One numeric date component, range-checked and zero-padded to ``width``."""
    if not value:
        return None
    text = value.strip()
    if shape.fullmatch(text) is None:
        return None
    number = int(text)
    if not low <= number <= high:
        return None
    return str(number).zfill(width)


def gender(value: str | None) -> str | None:
    """'f' or 'm' from f/m/female/male in any case; anything else is ``None`` (not guessed)."""
    if not value:
        return None
    return _GENDERS.get(value.strip().lower())


def external_id(value: str | None) -> str | None:
    """Trimmed id with its case kept: ids are opaque, so only surrounding whitespace goes."""
    if not value:
        return None
    return value.strip() or None


def currency(value: str | None) -> str | None:
    """ISO 4217-shaped code: 3 ASCII letters, uppercased ('usd' -> 'USD', ' EUR ' -> 'EUR');
    ``None`` otherwise ('US Dollar'). Stray punctuation is ignored, as Meta's SDKs do ('USD!')."""
    if not value:
        return None
    letters = _NON_ASCII_LETTER_RE.sub("", value)
    if len(letters) != 3:
        return None
    return letters.upper()


def phone_rule(region: str, digits: bool = False) -> Rule:
    """``phone_e164`` (or ``phone_digits``, without the '+') reading bare numbers in ``region``,
    as one memoisable rule: each event's phone is parsed and hashed once per canonical form."""
    return bound(phone_digits if digits else phone_e164, region)


def state_rule(country_value: str | None) -> Rule:
    """``state`` for an event of ``country_value``: bound to the only thing it reads from the
    country, whether US state names apply (no country, or the US), so the rule is shared."""
    us = country_value is None or country_value.strip().lower() in ("us", "usa")
    return bound(state, None if us else "-")


def postal_rule(country_value: str | None) -> Rule:
    """``postal_code`` for an event of ``country_value``: bound to whether it is the US (the
    5-digit ZIP rule), the only thing ``postal_code`` reads from the country."""
    us = country_value is not None and country_value.strip().lower() in ("us", "usa")
    return bound(postal_code, "us" if us else None)


# Single-argument normalisers of this module: pure functions of their input (memoisable).
register_pure(
    email,
    email_google,
    email_reddit,
    name,
    name_google,
    name_first5,
    name_initial,
    city,
    country,
    date_of_birth,
    dob_day,
    dob_month,
    dob_year,
    gender,
    external_id,
    phone_e164,  # called with one argument: the default region, still a pure function
    phone_digits,
    state,
    postal_code,
)
