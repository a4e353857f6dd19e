"""Snap connector details the golden cases do not show: LDU field variants, classification of
odd answers, and sample traffic filling a full batch within the byte limit."""

from __future__ import annotations

import orjson
import pytest

from connectors.base import Credentials, HttpResponse, Item, OutcomeKind
from connectors.snap import Settings, SnapConnector
from connectors.snap.userdata import ldu_options
from consumer.contract import complete_event
from consumer.sample import SampleGenerator

NOW_MS = 1_795_176_000_000


@pytest.mark.parametrize(
    "consent",
    [
        {"limited_data_use": True, "ldu_country": "us", "ldu_state": "ca"},
        {"limited_data_use": True, "ldu_country": "US", "ldu_state": "CO"},
        {"limited_data_use": True, "ldu_country": "FR", "ldu_state": None},
    ],
)
def test_ldu_options_only_what_snap_defines(consent: dict[str, object]) -> None:
    """Snap's v3 schema defines data_processing_options only: no Meta country/state codes."""
    assert ldu_options(consent) == {"data_processing_options": ["LDU"]}


def test_ldu_off_sends_nothing() -> None:
    assert ldu_options({"limited_data_use": False, "ldu_country": "US", "ldu_state": "CA"}) == {}


def _items(n: int) -> list[Item]:
    connector = SnapConnector(Settings(pixel_id="p"))
    items = []
    for event in SampleGenerator(seed=4).events(n, NOW_MS):
        result = connector.map_event(complete_event(event), NOW_MS)
        if isinstance(result, Item):
            items.append(result)
    return items


def test_sample_traffic_fits_a_full_batch() -> None:
    connector = SnapConnector(Settings(pixel_id="p"))
    items = _items(300)
    assert len(items) > 200
    batch = (items * 4)[: connector.limits.max_events]
    assert (
        len(connector.build_request(batch, Credentials(access_token="t")).body) <= connector.limits.max_bytes
    )


def test_out_of_range_index_rejects_the_batch() -> None:
    connector = SnapConnector(Settings(pixel_id="p"))
    items = _items(5)[:2]
    body = orjson.dumps({"status": "INVALID", "event": 9})
    outcomes = connector.classify(HttpResponse(status=400, body=body), items)
    assert [o.kind for o in outcomes] == [OutcomeKind.REJECTED] * 2
    assert all(o.batch_rejected for o in outcomes)


def test_token_is_url_encoded() -> None:
    connector = SnapConnector(Settings(pixel_id="p"))
    request = connector.build_request(_items(3)[:1], Credentials(access_token="a+b/c="))
    assert request.url.endswith("?access_token=a%2Bb%2Fc%3D")


# The properties of ``CapiEvent`` in Snap's v3 OpenAPI spec (Snapchat/business-sdk-v3-java,
# api/openapi.yaml): every top-level key we send must be one of them.
SNAP_CAPI_EVENT_PROPERTIES = frozenset(
    {
        "action_source",
        "app_data",
        "asset_id",
        "custom_data",
        "data_processing_options",
        "event_id",
        "event_name",
        "event_source_url",
        "event_time",
        "integration",
        "opt_out",
        "raw_request",
        "request_id",
        "user_data",
    }
)


def test_sample_events_use_only_snaps_event_properties() -> None:
    """LDU and every other top-level field of sample traffic is a property of Snap's CapiEvent."""
    connector = SnapConnector(Settings(pixel_id="p"))
    events = list(SampleGenerator(seed=7).events(300, NOW_MS))
    for event in events:
        event.setdefault("consent", {})["limited_data_use"] = True
        event["consent"].update(ldu_country="US", ldu_state="CA")
    seen: set[str] = set()
    for event in events:
        result = connector.map_event(complete_event(event), NOW_MS)
        if isinstance(result, Item):
            seen |= set(result.payload)
    assert "data_processing_options" in seen
    assert seen <= SNAP_CAPI_EVENT_PROPERTIES, sorted(seen - SNAP_CAPI_EVENT_PROPERTIES)
