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

from connectors.phone import _fast_e164, _try_e164, phone_e164

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
