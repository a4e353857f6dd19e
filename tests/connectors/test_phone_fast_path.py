"""The plain-international fast path of phone parsing gives exactly the full parse's answer.

Why a property test: the fast path skips ``phonenumbers.parse``; any number it accepts must come
out byte-identical to the full parse, or a platform would receive the hash of another number.
The generator starts from every region's example numbers (valid by construction), changes
digits and separators, and adds random digit strings.
"""

from __future__ import annotations

import phonenumbers
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from connectors.phone import _fast_e164, _fast_national, _is_valid, _try_e164, phone_e164

_TYPES = (
    phonenumbers.PhoneNumberType.FIXED_LINE,
    phonenumbers.PhoneNumberType.MOBILE,
    phonenumbers.PhoneNumberType.TOLL_FREE,
)
EXAMPLES = sorted(
    {
        phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
        for region in phonenumbers.SUPPORTED_REGIONS
        for kind in _TYPES
        if (number := phonenumbers.example_number_for_type(region, kind)) is not None
    }
)


@st.composite
def international(draw: st.DrawFn) -> str:
    """'+' and digits from an example number (or random), some digits changed, with separators."""
    if draw(st.booleans()):
        digits = draw(st.sampled_from(EXAMPLES))[1:]
        for _ in range(draw(st.integers(0, 3))):
            pos = draw(st.integers(0, len(digits) - 1))
            digits = digits[:pos] + str(draw(st.integers(0, 9))) + digits[pos + 1 :]
        cut = draw(st.integers(-2, 2))
        digits = digits[: len(digits) + cut] if cut < 0 else digits + "".join(str(d) for d in range(cut))
    else:
        digits = draw(st.text("0123456789", min_size=1, max_size=18))
    out = ""
    for ch in digits:
        out += ch
        if draw(st.integers(0, 5)) == 0:
            out += draw(st.sampled_from([" ", "-", "  "]))
    return "+" + out


@settings(max_examples=3000, suppress_health_check=[HealthCheck.too_slow])
@given(text=international())
def test_fast_path_equals_the_full_parse(text: str) -> None:
    fast = _fast_e164(text)
    if fast is not None:
        assert fast == _try_e164(text, "US")
        assert fast == _try_e164(text, "GB")  # the region never matters for a '+' number


def test_every_example_number_parses_the_same() -> None:
    taken = 0
    for e164 in EXAMPLES:
        spaced = e164[:3] + " " + e164[3:6] + "-" + e164[6:]
        for text in (e164, spaced):
            fast = _fast_e164(text)
            if fast is not None:
                taken += 1
                assert fast == _try_e164(text, "US") == e164, text
    assert taken > len(EXAMPLES)  # the fast path really is taken for most plain numbers


def test_numbers_it_leaves_to_the_full_parse() -> None:
    assert _fast_e164("+39 06 1234 5678") is None  # Italian leading zero
    assert _fast_e164("+1 (650) 555-1212") is None  # brackets
    assert _fast_e164("+1 650 555 1212 ext. 7") is None  # extension
    assert phone_e164("+39 06 1234 5678") == "+390612345678"
    assert phone_e164("+1 (650) 555-1212 ext. 7") == "+16505551212"


# -- national numbers in the default region, and the validity check both fast paths share -------

NATIONAL = sorted(
    {
        (region, phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.NATIONAL))
        for region in phonenumbers.SUPPORTED_REGIONS
        for kind in _TYPES
        if (number := phonenumbers.example_number_for_type(region, kind)) is not None
    }
)
REGIONS = sorted(phonenumbers.SUPPORTED_REGIONS)


@st.composite
def national(draw: st.DrawFn) -> tuple[str, str]:
    """(region, a national number as people write it there), some digits changed, or random."""
    if draw(st.booleans()):
        region, text = draw(st.sampled_from(NATIONAL))
        chars = list(text)
        for _ in range(draw(st.integers(0, 3))):
            pos = draw(st.integers(0, len(chars) - 1))
            if chars[pos].isdigit():
                chars[pos] = str(draw(st.integers(0, 9)))
        text = "".join(chars)
    else:
        region = draw(st.sampled_from(REGIONS))
        text = draw(st.text("0123456789 -.()", min_size=1, max_size=20))
    if draw(st.integers(0, 3)) == 0:
        text = text.replace(" ", draw(st.sampled_from(["", "-", ".", "  "])))
    return region, text


@settings(max_examples=4000, suppress_health_check=[HealthCheck.too_slow])
@given(case=national())
def test_national_fast_path_equals_the_full_parse(case: tuple[str, str]) -> None:
    region, text = case
    fast = _fast_national(text, region)
    if fast is not None:
        assert fast == _try_e164(text, region)


def test_national_example_numbers_parse_the_same() -> None:
    taken = 0
    for region, text in NATIONAL:
        fast = _fast_national(text, region)
        if fast is not None:
            taken += 1
            assert fast == _try_e164(text, region), (region, text)
    assert taken > len(NATIONAL) // 2
    assert _fast_national("(512) 600-0000", "US") == "+15126000000"
    assert _fast_national("8 (812) 123-45-67", "RU") is None  # national prefix 8: full parse
    assert _fast_national("011 44 20 7946 0958", "US") is None  # international prefix
    assert phone_e164("011 44 20 7946 0958") == "+442079460958"


@st.composite
def any_number(draw: st.DrawFn) -> tuple[int, str]:
    """(calling code, national digits without a leading 0): near an example number, or random."""
    if draw(st.booleans()):
        number = phonenumbers.parse(draw(st.sampled_from(EXAMPLES)))
        digits = str(number.national_number)
        pos = draw(st.integers(0, len(digits) - 1))
        digits = digits[:pos] + str(draw(st.integers(0, 9))) + digits[pos + 1 :]
        if draw(st.booleans()):
            digits = digits[:-1] if draw(st.booleans()) else digits + "5"
        code = number.country_code
    else:
        code = draw(st.sampled_from(sorted(phonenumbers.COUNTRY_CODE_TO_REGION_CODE)))
        digits = draw(st.text("0123456789", min_size=1, max_size=15))
    return code, digits.lstrip("0") or "1"


@settings(max_examples=4000, suppress_health_check=[HealthCheck.too_slow])
@given(case=any_number())
def test_validity_equals_the_library(case: tuple[int, str]) -> None:
    code, digits = case
    number = phonenumbers.PhoneNumber(country_code=code, national_number=int(digits))
    assert _is_valid(code, digits) == phonenumbers.is_valid_number(number)


def test_validity_of_every_example_number() -> None:
    for e164 in EXAMPLES:
        number = phonenumbers.parse(e164)
        digits = str(number.national_number)
        if number.italian_leading_zero:
            continue
        assert _is_valid(number.country_code, digits) == phonenumbers.is_valid_number(number), e164
