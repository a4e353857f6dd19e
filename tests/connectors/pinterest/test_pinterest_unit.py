"""Pinterest connector details the golden cases do not show: money as strings, language from
the locale, classification of answers whose event list does not line up, and batch size."""

from __future__ import annotations

import orjson
import pytest

from connectors.base import Credentials, HttpResponse, Item, OutcomeKind
from connectors.hashed_user_data import number_text as decimal_text
from connectors.pinterest import PinterestConnector, Settings
from consumer.contract import complete_event
from consumer.sample import SampleGenerator

NOW_MS = 1_795_176_000_000


@pytest.mark.parametrize(("value", "text"), [(72.39, "72.39"), (100.0, "100"), (0.5, "0.5")])
def test_decimal_text(value: float, text: str) -> None:
    assert decimal_text(value) == text


def _connector() -> PinterestConnector:
    return PinterestConnector(Settings(ad_account_id="1"))


def _items(n: int) -> list[Item]:
    connector = _connector()
    items = []
    for event in SampleGenerator(seed=6).events(n, NOW_MS):
        result = connector.map_event(complete_event(event), NOW_MS)
        if isinstance(result, Item):
            items.append(result)
    return items


def test_sample_traffic_fits_a_full_batch() -> None:
    connector = _connector()
    items = _items(300)
    assert len(items) > 200
    for item in items:
        assert item.payload.get("language", "en").isalpha()
    batch = (items * 4)[: connector.limits.max_events]
    assert (
        len(connector.build_request(batch, Credentials(access_token="t")).body) <= connector.limits.max_bytes
    )


def test_422_without_matching_event_list_rejects_the_batch() -> None:
    items = _items(5)[:2]
    body = orjson.dumps({"code": 953, "message": "invalid", "details": {"events": [{"status": "failed"}]}})
    outcomes = _connector().classify(HttpResponse(status=422, body=body), items)
    assert [o.kind for o in outcomes] == [OutcomeKind.REJECTED] * 2
    assert all(o.batch_rejected for o in outcomes)


def test_200_without_event_list_is_delivered() -> None:
    items = _items(5)[:2]
    outcomes = _connector().classify(HttpResponse(status=200, body=b'{"num_events_received": 2}'), items)
    assert [o.kind for o in outcomes] == [OutcomeKind.DELIVERED] * 2
