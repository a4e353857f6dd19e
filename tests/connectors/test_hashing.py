"""The (rule, raw value) memo: bound rules are shared objects, give the same output as the
normaliser they bind, and let every platform using the same canonical form reuse one hash."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from connectors import hashing
from connectors import normalize as nz

COUNTRIES = st.sampled_from([None, "US", " us ", "USA", "usa", "GB", "de", "", "United States", "fr "])


def test_bound_rules_are_one_object_per_function_and_arguments() -> None:
    assert nz.phone_rule("US") is nz.phone_rule("US")
    assert nz.phone_rule("US") is not nz.phone_rule("GB")
    assert nz.phone_rule("US", digits=True) is not nz.phone_rule("US")
    assert nz.postal_rule("US") is nz.postal_rule(" usa ")
    assert nz.state_rule(None) is nz.state_rule("US")


@given(value=st.text(max_size=30), country=COUNTRIES)
def test_state_and_postal_rules_equal_the_normalisers_they_bind(value: str, country: str | None) -> None:
    assert nz.state_rule(country)(value) == nz.state(value, country)
    assert nz.postal_rule(country)(value) == nz.postal_code(value, country)


@given(value=st.text(max_size=30), country=COUNTRIES)
def test_hashed_through_a_rule_equals_hashing_the_normalised_value(value: str, country: str | None) -> None:
    for rule, plain in (
        (nz.state_rule(country), nz.state(value, country)),
        (nz.postal_rule(country), nz.postal_code(value, country)),
        (nz.phone_rule("US", digits=True), nz.phone_digits(value, "US")),
    ):
        already = nz.prehashed(value) if value else None
        expected = already or (nz.sha256_hex(plain) if plain else None)
        assert nz.hashed(value, rule) == expected


def test_a_bound_rule_is_normalised_once_per_value() -> None:
    calls: list[str] = []

    def upper(value: str, suffix: str) -> str | None:
        calls.append(value)
        return value.upper() + suffix

    hashing.register_pure(upper)
    rule = hashing.bound(upper, "!")
    first = nz.hashed("memo-once@example.com", rule)
    assert nz.hashed("memo-once@example.com", hashing.bound(upper, "!")) == first
    assert first == nz.sha256_hex("MEMO-ONCE@EXAMPLE.COM!")
    assert calls == ["memo-once@example.com"]


def test_an_unregistered_callable_is_normalised_each_time() -> None:
    calls: list[str] = []

    def lower(value: str) -> str | None:
        calls.append(value)
        return value.lower()

    assert nz.hashed("Twice", lower) == nz.hashed("Twice", lower) == nz.sha256_hex("twice")
    assert calls == ["Twice", "Twice"]
