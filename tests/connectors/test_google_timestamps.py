"""Google's event timestamps: RFC 3339 in UTC, milliseconds only when the event has them —
formatted from `time.gmtime` on a cache miss, equal to the aware datetime's formatting."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from connectors.google import common
from connectors.google.datamanager import rfc3339


@given(st.integers(0, 253_402_300_799_999))  # 1970 .. 9999-12-31T23:59:59.999Z
def test_rfc3339_is_the_utc_datetime(ms: int) -> None:
    stamp = common.utc(ms).strftime("%Y-%m-%dT%H:%M:%S")
    millis = ms % 1000
    assert rfc3339(ms) == (f"{stamp}.{millis:03d}Z" if millis else f"{stamp}Z")


def test_whole_seconds_carry_no_fraction() -> None:
    assert rfc3339(1_765_000_000_000) == "2025-12-06T05:46:40Z"
    assert rfc3339(1_765_000_000_007) == "2025-12-06T05:46:40.007Z"
