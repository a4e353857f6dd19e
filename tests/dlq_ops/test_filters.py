"""Filters select what the operator meant, and name one consumer group per selection."""

from __future__ import annotations

from pathlib import Path

import pytest

from consumer.dlq_ops.filters import FilterError, RecordFilter, parse_time, read_event_ids
from tests.dlq_ops.helpers import record

NOW = 1_700_000_000_000


def test_parse_time_forms() -> None:
    assert parse_time("2h", NOW) == NOW - 2 * 3_600_000
    assert parse_time("30m", NOW) == NOW - 30 * 60_000
    assert parse_time("1.5d", NOW) == NOW - 36 * 3_600_000
    assert parse_time("1700000000000", NOW) == 1_700_000_000_000
    assert parse_time("2023-11-14T22:13:20Z", NOW) == 1_700_000_000_000
    assert parse_time("2023-11-14T22:13:20", NOW) == 1_700_000_000_000  # naive = UTC
    assert parse_time("2023-11-14T23:13:20+01:00", NOW) == 1_700_000_000_000
    with pytest.raises(FilterError, match="cannot read time"):
        parse_time("yesterday", NOW)


def test_empty_filter_matches_everything() -> None:
    assert RecordFilter.build(now_ms=NOW).matches(record())


def test_each_condition() -> None:
    rec = record(
        platform="meta",
        stage="deliver",
        outcome="exhausted",
        code="503",
        reason="HTTP 503",
        event_id="ORD-1",
        event_type="purchase",
    )
    assert RecordFilter.build(platforms=["meta", "google"]).matches(rec)
    assert not RecordFilter.build(platforms=["google"]).matches(rec)
    assert not RecordFilter.build(stages=["decode"]).matches(rec)
    assert RecordFilter.build(outcomes=["exhausted"]).matches(rec)
    assert not RecordFilter.build(outcomes=["auth"]).matches(rec)
    assert RecordFilter.build(event_types=["purchase"]).matches(rec)
    assert not RecordFilter.build(event_types=["lead"]).matches(rec)
    assert RecordFilter.build(event_ids=["ORD-1", "ORD-2"]).matches(rec)
    assert not RecordFilter.build(event_ids=["ORD-2"]).matches(rec)


def test_reason_matches_code_or_text() -> None:
    rec = record(code="outside_window", reason="event older than Meta's 7-day window")
    assert RecordFilter.build(reasons=["outside_window"]).matches(rec)
    assert RecordFilter.build(reasons=["7-DAY window"]).matches(rec)
    assert not RecordFilter.build(reasons=["HTTP 503"]).matches(rec)


def test_time_range_is_on_last_failure_half_open() -> None:
    rec = record(failed_ms=NOW - 3_600_000)
    assert RecordFilter.build(since="2h", now_ms=NOW).matches(rec)
    assert not RecordFilter.build(since="30m", now_ms=NOW).matches(rec)
    assert RecordFilter.build(until="30m", now_ms=NOW).matches(rec)
    assert not RecordFilter.build(until=str(NOW - 3_600_000), now_ms=NOW).matches(rec)
    with pytest.raises(FilterError, match="not before"):
        RecordFilter.build(since="1h", until="2h", now_ms=NOW)


def test_group_per_selection_is_stable_and_distinct() -> None:
    a1 = RecordFilter.build(platforms=["meta"], since="2h", now_ms=NOW)
    a2 = RecordFilter.build(platforms=[" meta", "meta"], since="2h", now_ms=NOW + 60_000)
    b = RecordFilter.build(platforms=["google"], since="2h", now_ms=NOW)
    assert a1.default_group() == a2.default_group()  # same command line later: resumes
    assert a1.default_group() != b.default_group()
    assert a1.default_group().startswith("capi-relay-replay-")


def test_decode_records_only_without_platform_or_with_star() -> None:
    rec = record(platform="*", stage="decode", code="malformed", event_id=None, event_type=None)
    assert RecordFilter.build().matches(rec)
    assert RecordFilter.build(platforms=["*"]).matches(rec)
    assert not RecordFilter.build(platforms=["meta"]).matches(rec)
    assert RecordFilter.build().includes_decode_records
    assert not RecordFilter.build(platforms=["meta"]).includes_decode_records


def test_describe_and_event_id_file(tmp_path: Path) -> None:
    path = tmp_path / "ids.txt"
    path.write_text("# outage of May 3\nORD-1\n\n ORD-2 \n")
    ids = read_event_ids(str(path))
    assert ids == ["ORD-1", "ORD-2"]
    text = RecordFilter.build(platforms=["meta"], event_ids=ids, since="2h").describe()
    assert text == "platform=meta event_ids=2 since=2h"
    assert RecordFilter.build().describe() == "all records"
    with pytest.raises(FilterError):
        read_event_ids(str(tmp_path / "missing.txt"))
