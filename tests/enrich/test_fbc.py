"""fbc/fbp rules: unit cases plus the format-rule cases of Meta's capi-param-builder vectors."""

from __future__ import annotations

import json
from typing import Any

import pytest

from consumer.enrich.fbc import (
    build_fbc,
    capture_fbc,
    fbclid_from_url,
    is_valid_fbc,
    is_valid_fbp,
    subdomain_index,
)
from tests.enrich.conftest import SHARED, capture

VECTORS = SHARED / "conformance" / "meta_capi_param_builder_fbc_fbp.json"


def load_vectors() -> list[dict[str, Any]]:
    if not VECTORS.exists():
        return []
    return list(json.loads(VECTORS.read_text()))


# Cases that express a library's private choice, not the fbc/fbp format (see docs/enrichment.md).
SKIPPED_PREFIXES = (
    "nodejs appendix for",  # appendix encodes the SDK's own language and version
    "python appendix for",
    "valid 4-part _fbc gets no-change appendix",  # python accepts a non-numeric timestamp (xxx)
    "existing _fbc with token Bg kept unchanged",  # same: fb.1.xxx.abcd.Bg
    "empty builder, no fbclid",  # only generates a random _fbp; we never invent browser ids
)


def strip_appendix(value: str) -> str:
    parts = value.split(".")
    return ".".join(parts[:4])


def as_capture(case: dict[str, Any], now: int) -> dict[str, Any]:
    inp = case["input"]
    queries = inp.get("queries") or {}
    fbclid = queries.get("fbclid")
    if isinstance(fbclid, list):
        fbclid = fbclid[0]
    cookies = inp.get("cookies") if isinstance(inp.get("cookies"), dict) else {}
    fbc_cookie = next((c for c in case["expected"].get("cookies_to_set", []) if c["name"] == "_fbc"), None)
    return capture(
        "case",
        now,
        {"fbclid": fbclid, "fbc": cookies.get("_fbc"), "fbp": cookies.get("_fbp")},
        referrer_url=inp.get("referer"),
        cookie_domain=fbc_cookie.get("domain") if fbc_cookie else None,
        external_id="x",
    )


CASES = [c for c in load_vectors() if "cookies_to_set" in c["expected"] or "fbc" in c["expected"]]


@pytest.mark.skipif(not VECTORS.exists(), reason="shared conformance vectors not present")
@pytest.mark.parametrize("case", CASES, ids=[c["case"][:60] for c in CASES])
def test_param_builder_format_rules(case: dict[str, Any]) -> None:
    if case["case"].startswith(SKIPPED_PREFIXES):
        pytest.skip("library-private behaviour, listed in docs/enrichment.md")
    expected = case["expected"]
    if "fbc" in expected:  # Meta doc example
        inp = case["input"]
        fbclid = fbclid_from_url(inp["url"])
        assert fbclid is not None
        assert build_fbc(fbclid, inp["creation_time_ms"], inp["cookie_domain"]) == expected["fbc"]
        return
    now = int(case.get("fixtures", {}).get("Date.now()", 1_700_000_000_000))
    record = as_capture(case, now)
    ours = capture_fbc(record)
    to_set = next((c for c in expected["cookies_to_set"] if c["name"] == "_fbc"), None)
    if "getFbc" in expected and to_set is None:
        assert ours == expected["getFbc"]  # a kept cookie passes through byte for byte
    elif to_set is None:
        assert ours is None  # invalid cookie and no fbclid: no fbc
    elif "value" in to_set:
        kept = expected.get("getFbc")
        if kept and strip_appendix(kept) == record["click_ids"]["fbc"]:
            assert ours == record["click_ids"]["fbc"]  # kept as is; the library only adds its appendix
        else:
            assert ours == strip_appendix(to_set["value"])
    else:
        suffix = to_set.get("value_endswith") or to_set.get("value_contains")
        fbclid_part = suffix.split(".")[-2]  # "<...>.<fbclid>.<appendix>"
        assert ours is not None and ours.endswith("." + fbclid_part)
        assert ours == build_fbc(fbclid_part, now, to_set["domain"])
    for key in ("getFbc", "getFbp"):
        if key in expected:
            assert (is_valid_fbc if key == "getFbc" else is_valid_fbp)(expected[key])
    cookies = case["input"].get("cookies")
    if isinstance(cookies, dict) and "invalid cookies ignored" in case["case"]:
        assert not is_valid_fbc(cookies["_fbc"]) and not is_valid_fbp(cookies["_fbp"])


@pytest.mark.parametrize(
    ("domain", "index"),
    [
        ("example.com", 1),
        ("builder.example.com", 2),
        (".example.com", 1),
        ("example.co.uk", 2),
        ("127.0.0.1", 0),
        ("[::1]", 0),
        ("[192.168.0.1]", 0),
        ("::1", 0),
        ("localhost", 0),
        ("com", 0),
        (None, 1),
        ("", 1),
    ],
)
def test_subdomain_index(domain: str | None, index: int) -> None:
    assert subdomain_index(domain) == index


def test_fbclid_is_byte_exact() -> None:
    raw = "IwAR2F4-dbP0l7Mn1IawQQGC%2Bx_AbC"
    assert build_fbc(raw, 1554763741205, "example.com") == f"fb.1.1554763741205.{raw}"
    assert fbclid_from_url(f"https://example.com/p?a=1&fbclid={raw}#frag") == raw
    with pytest.raises(ValueError):
        build_fbc("", 1, None)


@pytest.mark.parametrize(
    ("value", "valid"),
    [
        ("fb.1.1554763741205.IwAR2F4", True),
        ("fb.1.123.abc.Ag", True),
        ("fb.1.123.abc.AQQCAQAA", True),
        ("fb.1.123.abc.invalid", False),
        ("fb.1.123.", False),
        ("fb1.1.123.abc", False),
        ("fb.1.123aa.abc", False),
        ("fb.1.xxx.abcd", False),
        ("abcd", False),
        ("", False),
        (None, False),
    ],
)
def test_cookie_validation(value: object, valid: bool) -> None:
    assert is_valid_fbc(value) is valid
    assert is_valid_fbp(value) is valid


def test_capture_fbc_rules() -> None:
    t = 1_700_000_000_000
    # built from the fbclid with the capture time
    assert capture_fbc(capture("c", t, {"fbclid": "AbC"}, cookie_domain="example.com")) == f"fb.1.{t}.AbC"
    # existing valid cookie with the same click id is kept (creation time and appendix too)
    kept = "fb.1.123.AbC.Ag"
    assert capture_fbc(capture("c", t, {"fbclid": "AbC", "fbc": kept})) == kept
    # a different click id replaces it
    assert capture_fbc(capture("c", t, {"fbclid": "New", "fbc": kept})) == f"fb.1.{t}.New"
    # cookie only: kept; invalid cookie only: dropped
    assert capture_fbc(capture("c", t, {"fbc": kept})) == kept
    assert capture_fbc(capture("c", t, {"fbc": "fb.1.x.y"})) is None
    # fbclid from the landing URL, else the referrer; landing wins
    assert capture_fbc(
        capture("c", t, {}, landing_url="https://a.b/?fbclid=L", referrer_url="r?fbclid=R")
    ) == (f"fb.1.{t}.L")
    assert capture_fbc(capture("c", t, {}, referrer_url="https://x.y/?fbclid=R")) == f"fb.1.{t}.R"
    # IP landing host without cookie domain -> index 0
    assert capture_fbc(capture("c", t, {"fbclid": "Z"}, landing_url="http://10.0.0.1:8080/")) == f"fb.0.{t}.Z"
