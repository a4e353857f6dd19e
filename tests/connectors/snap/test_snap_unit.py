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
    ("consent", "expected"),
    [
        ({"limited_data_use": False, "ldu_country": "US", "ldu_state": "CA"}, {}),
        ({"limited_data_use": True, "ldu_country": "us", "ldu_state": "ca"}, (1, 1000)),
        ({"limited_data_use": True, "ldu_country": "US", "ldu_state": "CO"}, (1, 0)),
        ({"limited_data_use": True, "ldu_country": "FR", "ldu_state": "CA"}, (0, 0)),
    ],
)
def test_ldu_options(consent: dict[str, object], expected: object) -> None:
    options = ldu_options(consent)
    if expected == {}:
        assert options == {}
        return
    assert options["data_processing_options"] == ["LDU"]
    assert (options["data_processing_options_country"], options["data_processing_options_state"]) == expected


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
