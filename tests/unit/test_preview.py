"""preview_request shows the exact Meta/TikTok request for one event, with no secret in it."""

from __future__ import annotations

import pytest

from connectors.registry import UnknownPlatformError
from consumer.preview import InvalidEventError, preview_request, redact_headers, redact_url
from consumer.sample import SampleGenerator

NOW_MS = 1_795_176_000_000  # 2026-11-20T12:00:00Z
EMAIL_SHA = "62a14e44f765419d10fea99367361a727c12365e2520f32218d505ed9aa0f62f"  # john_smith@gmail.com


def _lead(**overrides: object) -> dict[str, object]:
    event: dict[str, object] = {
        "type": "lead",
        "event_id": "LEAD-1",
        "lead_id": "LEAD-1",
        "event_time": NOW_MS - 60_000,
        "user": {"email": "John_Smith@gmail.com"},
        "context": {
            "action_source": "WEBSITE",
            "page_url": "https://www.example.com/contact",
            "user_agent": "Mozilla/5.0",
            "ip_address": "203.0.113.7",
        },
    }
    event.update(overrides)
    return event


def test_meta_partial_event_uses_placeholders_and_redacts_token() -> None:
    preview = preview_request("meta", _lead(), now_ms=NOW_MS)
    assert preview["method"] == "POST"
    assert preview["url"] == "https://graph.facebook.com/v24.0/PIXEL_ID/events?access_token=<redacted>"
    event = preview["body"]["data"][0]
    assert event["event_name"] == "Lead"
    assert event["user_data"]["em"] == [EMAIL_SHA]


def test_meta_settings_are_validated_and_applied() -> None:
    preview = preview_request(
        "meta", _lead(), settings={"pixel_id": "42", "test_event_code": "TEST1"}, now_ms=NOW_MS
    )
    assert preview["url"].startswith("https://graph.facebook.com/v24.0/42/events?")
    assert preview["body"]["test_event_code"] == "TEST1"
    with pytest.raises(ValueError, match="pixel_idd"):
        preview_request("meta", _lead(), settings={"pixel_idd": "42"}, now_ms=NOW_MS)


def test_tiktok_header_token_redacted() -> None:
    preview = preview_request("tiktok", _lead(), settings={"pixel_code": "CPIX"}, now_ms=NOW_MS)
    assert preview["url"] == "https://business-api.tiktok.com/open_api/v1.3/event/track/"
    assert preview["headers"]["Access-Token"] == "<redacted>"
    assert preview["body"]["event_source_id"] == "CPIX"
    assert preview["body"]["data"][0]["user"]["email"] == EMAIL_SHA


@pytest.mark.parametrize("platform", ["meta", "tiktok"])
def test_sample_events_preview(platform: str) -> None:
    gen = SampleGenerator(seed=3)
    for event in (gen.purchase(NOW_MS), gen.lead(NOW_MS), gen.qualified(NOW_MS)):
        preview = preview_request(platform, event, now_ms=NOW_MS)
        assert preview["body"]["data"][0]["event_id"] == event["event_id"]


@pytest.mark.parametrize(
    ("platform", "offset_ms", "why"),
    # TikTok documents no maximum age, so its refusal here is an event from the future.
    [("meta", -30 * 86_400_000, "older than"), ("tiktok", 86_400_000, "in the future")],
)
def test_rejected_event_raises_with_reason(platform: str, offset_ms: int, why: str) -> None:
    refused = _lead(event_time=NOW_MS + offset_ms)
    with pytest.raises(InvalidEventError, match=why) as info:
        preview_request(platform, refused, now_ms=NOW_MS)
    assert info.value.code == "outside_window"


@pytest.mark.parametrize("platform", ["meta", "tiktok"])
def test_malformed_event_raises_one_message(platform: str) -> None:
    with pytest.raises(InvalidEventError, match="lead_id"):
        preview_request(platform, {"type": "lead", "event_id": "x", "event_time": NOW_MS})
    with pytest.raises(InvalidEventError, match="type"):
        preview_request(platform, {"event_id": "x"})


def test_unknown_platform() -> None:
    with pytest.raises(UnknownPlatformError):
        preview_request("myspace", _lead())


def test_redaction_helpers() -> None:
    url = "https://x.test/p?access_token=abc&appsecret_proof=def&key=k&keep=1"
    assert redact_url(url) == (
        "https://x.test/p?access_token=<redacted>&appsecret_proof=<redacted>&key=<redacted>&keep=1"
    )
    headers = redact_headers(
        {"Authorization": "Bearer t", "developer-token": "d", "Access-Token": "a", "Accept": "json"}
    )
    assert headers == {
        "Authorization": "<redacted>",
        "developer-token": "<redacted>",
        "Access-Token": "<redacted>",
        "Accept": "json",
    }
