"""Unit tests for ``connectors.normalize``: each normaliser's rule, the reference doc's hash
vectors, and a property test that no function ever raises on arbitrary text."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from connectors import normalize as n


@pytest.mark.parametrize(
    ("preimage", "digest"),
    [
        ("john_smith@gmail.com", "62a14e44f765419d10fea99367361a727c12365e2520f32218d505ed9aa0f62f"),
        ("16505551212", "e323ec626319ca94ee8bff2e4c87cf613be6ea19919ed1364124e16807ab3176"),
        ("+16505551212", "1e231c66011e7a2d867a9cfae267a6aff103cf4913640b6e71a99850fc0ffbc8"),
        ("+18005550100", "fb4f73a6ec5fdb7077d564cdd22c3554b43ce49168550c3b12c547b78c517b30"),
        ("mary", "6915771be1c5aa0c886870b6951b03d7eafc121fea0e80a5ea83beb7c449f4ec"),
    ],
)
def test_sha256_reference_vectors(preimage: str, digest: str) -> None:
    """The hashes quoted in the platform reference doc."""
    assert n.sha256_hex(preimage) == digest


def test_reference_vectors_end_to_end() -> None:
    """Raw inputs from the platform docs, through the normaliser, to the documented hash."""
    assert n.hashed("John_Smith@gmail.com", n.email) == n.sha256_hex("john_smith@gmail.com")
    assert n.hashed("(650)555-1212", n.phone_digits) == n.sha256_hex("16505551212")
    assert n.hashed("(650)555-1212", n.phone_e164) == n.sha256_hex("+16505551212")
    assert n.hashed("(800)555-0100", n.phone_e164) == n.sha256_hex("+18005550100")
    assert n.hashed("Mary", n.name) == n.sha256_hex("mary")
    assert n.name("Valéry") == "valéry"


def test_is_sha256_and_prehashed() -> None:
    """64 hex chars in any case count as a digest; prehashed trims and lowercases."""
    digest = "A" * 64
    assert n.is_sha256(digest)
    assert not n.is_sha256("a" * 63)
    assert not n.is_sha256("g" * 64)
    assert not n.is_sha256(" " + "a" * 64)
    assert n.prehashed(f"  {digest} ") == "a" * 64
    assert n.prehashed("a" * 32) is None


def test_hashed_passes_through_and_drops_invalid() -> None:
    """Pre-hashed values are not hashed again; missing or invalid values give None."""
    digest = n.sha256_hex("x@y.com")
    assert n.hashed(digest.upper(), n.email) == digest
    assert n.hashed(None, n.email) is None
    assert n.hashed("", n.email) is None
    assert n.hashed("not-an-email", n.email) is None


@pytest.mark.parametrize(
    ("raw", "want"),
    [
        ("  John_Smith@Gmail.com ", "john_smith@gmail.com"),
        ("a@b.co", "a@b.co"),
        ("user.name+tag@domain.co.uk", "user.name+tag@domain.co.uk"),
        ("a@b", None),
        ("@b.com", None),
        ("a@@b.com", None),
        ("a b@c.com", None),
        ("a..b@c.com", None),
        ("a@-b.com", None),
        ("x" * 65 + "@b.com", None),
        (None, None),
        ("   ", None),
    ],
)
def test_email(raw: str | None, want: str | None) -> None:
    """Trim, lowercase, basic validity."""
    assert n.email(raw) == want


@pytest.mark.parametrize(
    ("raw", "want"),
    [
        (" Jane.Doe@Gmail.com ", "janedoe@gmail.com"),
        ("jane.doe@googlemail.com", "janedoe@googlemail.com"),
        ("j.d+promo@gmail.com", "jd@gmail.com"),
        ("a..b+x@GoogleMail.com", "ab@googlemail.com"),
        ("+promo@gmail.com", None),
        ("j.d+promo@example.com", "j.d+promo@example.com"),
        ("jane.doe@example.com", "jane.doe@example.com"),
        ("jane. doe@gmail.com", "janedoe@gmail.com"),
        ("...@gmail.com", None),
        ("nope", None),
    ],
)
def test_email_google(raw: str, want: str | None) -> None:
    """Google: whitespace removed; for Gmail the +tag and the dots go; other domains untouched."""
    assert n.email_google(raw) == want


def test_email_reddit() -> None:
    """Reddit: +alias dropped, only a-z0-9 kept in the local part."""
    assert n.email_reddit("Al.ice$+Apple@Example.Com") == "alice@example.com"
    assert n.email_reddit("test@test.com") == "test@test.com"
    assert n.email_reddit("+x@example.com") is None
    assert n.email_reddit("bad") is None


@pytest.mark.parametrize(
    ("raw", "region", "want"),
    [
        ("(650)555-1212", "US", "+16505551212"),
        ("650.555.1212 x450", "US", "+16505551212"),
        ("+44 20 7946 0958", "US", "+442079460958"),
        ("0044 20 7946 0958", "US", "+442079460958"),
        ("+001 (616) 954-78 88", "US", "+16169547888"),
        ("020 7946 0958", "GB", "+442079460958"),
        ("020 7946 0958", "gb", "+442079460958"),
        ("447911123456", "US", "+447911123456"),
        ("555-123-4567", "US", None),
        ("12345", "US", None),
        ("phone", "US", None),
        ("", "US", None),
        (None, "US", None),
        ("6505551212", "ZZ", None),
    ],
)
def test_phone_e164(raw: str | None, region: str, want: str | None) -> None:
    """E.164 through libphonenumber; '+'/'00' keep their country; invalid numbers drop."""
    assert n.phone_e164(raw, region) == want


def test_phone_digits() -> None:
    """Meta/Snap/Pinterest form: E.164 without '+'."""
    assert n.phone_digits("(650)555-1212") == "16505551212"
    assert n.phone_digits("+44 844 412 4653") == "448444124653"
    assert n.phone_digits("911") is None


@pytest.mark.parametrize(
    ("raw", "want"),
    [
        ("  Mary ", "mary"),
        ("Valéry", "valéry"),
        ("Vale\u0301ry", "valéry"),  # decomposed accent composes to the same hash
        ("O'Brien-Smith", "obriensmith"),
        ("Mary  Ann", "mary ann"),
        ("...", None),
        (None, None),
    ],
)
def test_name(raw: str | None, want: str | None) -> None:
    """Trim, lowercase, punctuation removed, Unicode letters kept (NFC)."""
    assert n.name(raw) == want


def test_name_google() -> None:
    """Google's names: trimmed and lowercased only; punctuation and inner spaces stay."""
    assert n.name_google(" O'Brien ") == "o'brien"
    assert n.name_google("Mrs. Mary") == "mrs. mary"
    assert n.name_google("  ") is None
    assert n.name_google(None) is None


def test_name_parts() -> None:
    """Meta f5first/f5last and fi."""
    assert n.name_first5("Washington") == "washi"
    assert n.name_first5(" John ") == "john"
    assert n.name_initial("GW") == "g"
    assert n.name_initial("") is None


@pytest.mark.parametrize(
    ("raw", "want"),
    [
        ("San José", "sanjosé"),
        ("Menlo Park", "menlopark"),
        ("Seattle-98121", "seattle"),
        ("Washington D.C", "washingtondc"),
        ("123", None),
    ],
)
def test_city(raw: str, want: str | None) -> None:
    """Meta city rule."""
    assert n.city(raw) == want


def test_state() -> None:
    """Lowercase a-z; US names to codes unless another country is given."""
    assert n.state("California") == "ca"
    assert n.state("CA") == "ca"
    assert n.state("North Carolina", "US") == "nc"
    assert n.state("Washington, D.C.") == "dc"
    assert n.state("New South Wales") == "newsouthwales"
    assert n.state("Georgia", "ge") == "georgia"
    assert n.state("--") is None


@pytest.mark.parametrize(
    ("raw", "country", "want"),
    [
        ("98121-4892", None, "98121"),
        ("NR9 5AL", None, "nr95al"),
        ("NR9 5AL", "GB", "nr95al"),
        ("98 121-9431", None, "98121"),
        ("981214892", "US", "98121"),
        ("02101", "us", "02101"),
        ("ABCDE", "US", None),
        ("A", None, None),
        ("-12345", None, None),
    ],
)
def test_postal_code(raw: str, country: str | None, want: str | None) -> None:
    """Lowercase, no spaces, before the first '-'; US first 5 digits."""
    assert n.postal_code(raw, country) == want


@pytest.mark.parametrize(
    ("raw", "want"),
    [
        ("US", "us"),
        (" gb ", "gb"),
        ("US!", "us"),
        ("DEU", "de"),
        ("usa", "us"),
        ("UK", None),
        ("XX", None),
        ("Germany", None),
        ("", None),
    ],
)
def test_country(raw: str, want: str | None) -> None:
    """ISO 3166-1 alpha-2 (alpha-3 accepted), validated against the real list."""
    assert n.country(raw) == want


@pytest.mark.parametrize(
    ("raw", "want"),
    [
        ("1990-02-03", "19900203"),
        ("19900203", "19900203"),
        ("1990/2/3", "19900203"),
        ("1990-02-30", None),
        ("1899-12-31", None),
        ("2999-01-01", None),
        ("1990-0203", None),
        ("03/02/1990", None),
        ("", None),
    ],
)
def test_date_of_birth(raw: str, want: str | None) -> None:
    """YYYYMMDD after a calendar and range check."""
    assert n.date_of_birth(raw) == want


def test_dob_parts() -> None:
    """Meta dobd/dobm/doby."""
    assert n.dob_day("1") == "01"
    assert n.dob_day("31") == "31"
    assert n.dob_day("32") is None
    assert n.dob_day("001") is None
    assert n.dob_month("9") == "09"
    assert n.dob_month("13") is None
    assert n.dob_year("1995") == "1995"
    assert n.dob_year("95") is None


@pytest.mark.parametrize(
    ("raw", "want"),
    [("F", "f"), (" male ", "m"), ("Female", "f"), ("M", "m"), ("x", None), ("non-binary", None)],
)
def test_gender(raw: str, want: str | None) -> None:
    """Only f/m are sent."""
    assert n.gender(raw) == want


def test_external_id_and_currency() -> None:
    """external_id keeps case; currency is 3 letters, uppercased."""
    assert n.external_id("  User-42 ") == "User-42"
    assert n.external_id(" \t") is None
    assert n.currency(" usd ") == "USD"
    assert n.currency("USD!") == "USD"
    assert n.currency("US Dollar") is None
    assert n.currency("EU") is None


def test_phone_cache_is_bounded() -> None:
    """Parsing is cached (hot path) with a bounded LRU; oversized input never reaches it."""
    from connectors import phone

    info = phone._parse_e164.cache_info()
    assert info.maxsize is not None and info.maxsize > 0
    assert n.phone_e164("1" * 251) is None


def test_lone_surrogate_does_not_raise() -> None:
    """Text that is not valid UTF-8 still hashes instead of raising."""
    assert n.is_sha256(n.sha256_hex("a\ud800b"))


_ALL: list[Callable[[str], str | None]] = [
    n.email,
    n.email_google,
    n.email_reddit,
    n.phone_e164,
    n.phone_digits,
    n.name,
    n.name_google,
    n.name_first5,
    n.name_initial,
    n.city,
    n.state,
    n.postal_code,
    n.country,
    n.date_of_birth,
    n.dob_day,
    n.dob_month,
    n.dob_year,
    n.gender,
    n.external_id,
    n.currency,
    n.prehashed,
]


@settings(max_examples=150, deadline=None)
@given(st.text(st.characters(codec=None, exclude_categories=()), max_size=80))
def test_no_function_raises_on_arbitrary_text(text: str) -> None:
    """Every normaliser returns None or a str for any text, and so does hashing it."""
    for fn in _ALL:
        result = fn(text)
        assert result is None or isinstance(result, str)
        hashed = n.hashed(text, fn)
        assert hashed is None or n.is_sha256(hashed)
    assert isinstance(n.is_sha256(text), bool)
    assert n.state(text, text) is None or isinstance(n.state(text, text), str)
    assert n.postal_code(text, text) is None or isinstance(n.postal_code(text, text), str)
    region_result = n.phone_e164(text, text[:2] or "US")  # junk regions must not raise either
    assert region_result is None or region_result.startswith("+")
