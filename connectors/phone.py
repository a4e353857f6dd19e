"""Phone numbers: parsed with the phonenumbers library into E.164, cached per (value, region).

Google and TikTok hash ``+16505551212``; Meta, Snap and Pinterest hash the same digits without
the '+'. One parser for both keeps every platform's phone the same number. Re-exported by
``connectors.normalize``.
"""

from __future__ import annotations

import functools
import re

import phonenumbers
from phonenumbers import PhoneMetadata, PhoneNumberDesc
from phonenumbers.re_util import enable_pattern_cache

# Keep the metadata's compiled patterns (the library's own switch, off by default): numbers from
# many countries use more patterns than the re module's cache holds (512), and without it every
# validity check looks each pattern up there or compiles it again.
enable_pattern_cache()

_MIN_INTERNATIONAL_DIGITS = 11
_MAX_PHONE_INPUT = 250  # libphonenumber's own limit; also bounds what the parse cache holds
_E164 = phonenumbers.PhoneNumberFormat.E164
# '+', a non-zero first digit, then digits separated by spaces or hyphens only: no letters (an
# extension), brackets or other punctuation whose meaning the full parser works out.
_PLAIN_INTERNATIONAL = re.compile(r"\+[1-9][0-9 \-]{5,24}")
# A national number written with digits, spaces, hyphens, dots and brackets only, not starting
# with 0: nothing in it the full parser could read as an extension, a second number or a prefix.
_PLAIN_NATIONAL = re.compile(r"\(?[1-9][0-9 \-.()]{5,24}")
_NOT_DIGIT = re.compile(r"[^0-9]")


@functools.lru_cache(maxsize=65536)
def _parse_e164(value: str, region: str) -> str | None:
    """Parse one phone number to E.164, cached because the same numbers recur across platforms."""
    text = value.strip()
    if text.startswith("00"):
        text = "+" + text[2:]
    if text.startswith("+0"):
        text = "+" + text[1:].lstrip("0")  # no country code starts with 0 ('+001 616…' -> '+1 616…')
    result = _fast_e164(text) if text.startswith("+") else _fast_national(text, region)
    if result is None:
        result = _try_e164(text, region)
    if result is None and not text.startswith("+"):
        # Digits stored with their country code but no '+' (Meta's own format, '447911123456').
        # Only for 11+ digits: a shorter string is a national number, and reading an invalid
        # national number as foreign would hash someone else's phone.
        digits = "".join(ch for ch in text if ch.isdigit())
        if len(digits) >= _MIN_INTERNATIONAL_DIGITS:
            result = _try_e164("+" + digits, region)
    return result


def _fast_e164(text: str) -> str | None:
    """E.164 of a plain international number ('+44 20 7946 0958') without ``phonenumbers.parse``,
    or ``None`` to leave the number to the full parse.

    Why: the full parse spends half its time finding a number in free text. A plain
    '+<digits>' string has nothing to find: its country code is the one prefix of the digits in
    the metadata (calling codes are prefix-free, as the parser assumes), and the rest is the
    national number, checked by `_is_valid` against the same metadata. Only a valid number is
    returned; whatever the full parse could read differently goes to it: a national number
    starting with 0 (Italian leading zeros) or with anything the country's
    ``national_prefix_for_parsing`` matches (the parser may strip or transform it). Tested
    against the full parse with hypothesis (tests/connectors/test_phone_fast_path.py)."""
    if _PLAIN_INTERNATIONAL.fullmatch(text) is None:
        return None
    digits = text[1:].replace(" ", "").replace("-", "")
    for size in (1, 2, 3):
        code = int(digits[:size])
        if code in phonenumbers.COUNTRY_CODE_TO_REGION_CODE:
            break
    else:
        return None
    national = digits[size:]
    if not national or national[0] == "0":
        return None
    metadata = PhoneMetadata.metadata_for_region_or_calling_code(
        code, phonenumbers.region_code_for_country_code(code)
    )
    if metadata is None:
        return None
    prefix = metadata.national_prefix_for_parsing
    if prefix and re.match(prefix, national):
        return None
    return f"+{code}{national}" if _is_valid(code, national) else None


def _fast_national(text: str, region: str) -> str | None:
    """E.164 of a plain national number in ``region`` ('(512) 600-0000' in the US) without
    ``phonenumbers.parse``, or ``None`` to leave it to the full parse.

    The full parse of a number without '+' may read it as international (it starts with the
    region's international prefix, e.g. '011' or '810'), strip the region's own country code
    from it, or strip or transform a national prefix; any of those sends the number to the full
    parse, as does a leading 0. What is left is the national number itself, checked by
    `_is_valid`. Tested against the full parse with hypothesis."""
    if _PLAIN_NATIONAL.fullmatch(text) is None:
        return None
    metadata = PhoneMetadata.metadata_for_region(region)
    if metadata is None:
        return None
    digits = _NOT_DIGIT.sub("", text)
    code = metadata.country_code
    if code is None or digits.startswith(str(code)):
        return None
    for pattern in (metadata.international_prefix, metadata.national_prefix_for_parsing):
        if pattern and re.match(pattern, digits):
            return None
    return f"+{code}{digits}" if _is_valid(code, digits) else None


def _is_valid(code: int, national: str) -> bool:
    """``phonenumbers.is_valid_number`` of the number ``+<code><national>`` (national: digits,
    no leading 0), with one combined pattern per (region, length) instead of a pattern per
    number type, and the region found once (the library checks every type twice for calling
    codes shared by several regions: once to find the region, once to validate in it)."""
    regions = phonenumbers.COUNTRY_CODE_TO_REGION_CODE.get(code)
    if not regions:
        return False
    if len(regions) == 1:
        metadata = PhoneMetadata.metadata_for_region_or_calling_code(code, regions[0])
        return metadata is not None and _has_type(metadata, national)
    for region in regions:  # the library's order: the first region that claims the number
        metadata = PhoneMetadata.metadata_for_region(region)
        if metadata is None:
            continue
        if metadata.leading_digits is not None:
            if re.match(metadata.leading_digits, national):
                return _has_type(metadata, national)
        elif _has_type(metadata, national):
            return True
    return False


def _has_type(metadata: PhoneMetadata, national: str) -> bool:
    """Whether ``national`` is of some number type of ``metadata`` (the library's
    ``_number_type_helper`` is not UNKNOWN): the general description matches, and so does one
    type's (each only at a length it allows)."""
    patterns = _type_patterns(metadata, len(national))
    return patterns is not None and all(p.fullmatch(national) for p in patterns)


_TYPE_PATTERNS: dict[tuple[int, str, int], tuple[re.Pattern[str], re.Pattern[str]] | None] = {}


def _type_patterns(metadata: PhoneMetadata, length: int) -> tuple[re.Pattern[str], re.Pattern[str]] | None:
    """(general pattern, alternation of the type patterns) for numbers of ``length`` digits in
    ``metadata``'s region; ``None`` when no number of that length can be valid there."""
    key = (metadata.country_code or 0, metadata.id, length)
    if key in _TYPE_PATTERNS:
        return _TYPE_PATTERNS[key]
    descs = [
        metadata.premium_rate, metadata.toll_free, metadata.shared_cost, metadata.voip,
        metadata.personal_number, metadata.pager, metadata.uan, metadata.voicemail,
        metadata.fixed_line,
    ]  # fmt: skip
    if not metadata.same_mobile_and_fixed_line_pattern:
        descs.append(metadata.mobile)  # the library tries mobile only when its pattern differs
    types = [t for d in descs if (t := _desc_pattern(d, length)) is not None]
    general = _desc_pattern(metadata.general_desc, length)
    found = None
    if general is not None and types:
        found = (re.compile(general), re.compile("|".join(f"(?:{t})" for t in types)))
    _TYPE_PATTERNS[key] = found
    return found


def _desc_pattern(desc: PhoneNumberDesc | None, length: int) -> str | None:
    """The description's pattern if the library's ``_is_number_matching_desc`` would try it: it
    has one, and ``length`` is among its possible lengths if it lists any."""
    if desc is None or not desc.national_number_pattern:
        return None
    if desc.possible_length and length not in desc.possible_length:
        return None
    return desc.national_number_pattern


def _try_e164(text: str, region: str) -> str | None:
    """E.164 of ``text`` if phonenumbers considers it a valid number, else ``None``."""
    try:
        parsed = phonenumbers.parse(text, region)
    except Exception:  # NumberParseException, and defensive against odd input
        return None
    if not phonenumbers.is_valid_number(parsed):
        return None
    return phonenumbers.format_number(parsed, _E164)


def phone_e164(value: str | None, default_region: str = "US") -> str | None:
    """E.164 with '+' and country code ('+16505551212'), or ``None`` if invalid.

    Google and TikTok want this form. Numbers written with '+' or '00' keep their own country;
    others are read in ``default_region``. Extensions are dropped.
    """
    if not value or len(value) > _MAX_PHONE_INPUT:
        return None
    region = (default_region or "US").upper()
    return _parse_e164(value, region)


def phone_digits(value: str | None, default_region: str = "US") -> str | None:
    """``phone_e164`` without the '+' ('16505551212'): the form Meta, Snap and Pinterest hash."""
    e164 = phone_e164(value, default_region)
    return e164[1:] if e164 else None
