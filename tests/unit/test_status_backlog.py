"""``/status``'s ``waiting_retry`` reads the retry backlog from ``capi_retry_backlog`` (one
count, not two): this process's parked-minus-taken, never shown below zero."""

from __future__ import annotations

from consumer.observability import metrics
from consumer.status import retry_backlog_metric, retry_backlog_since_now


def test_the_backlog_is_read_from_the_metric_and_never_negative() -> None:
    metrics.RETRY_BACKLOG.labels("status-test-a").set(0)
    metrics.RETRY_BACKLOG.labels("status-test-a").inc(3)
    metrics.RETRY_BACKLOG.labels("status-test-b").set(-2)  # took records an earlier process parked
    assert retry_backlog_metric("status-test-a") == 3
    assert retry_backlog_metric("status-test-b") == 0
    assert retry_backlog_metric("status-test-none") == 0


def test_a_relay_counts_the_backlog_from_its_own_start() -> None:
    """The gauge is per process: a relay built after another in the same process (the test
    suite ran a pause test first) showed that one's 30 parked units as its own waiting."""
    metrics.RETRY_BACKLOG.labels("status-test-c").set(30)  # left by an earlier relay
    backlog = retry_backlog_since_now()
    assert backlog("status-test-c") == 0
    metrics.RETRY_BACKLOG.labels("status-test-c").inc(4)
    assert backlog("status-test-c") == 4
    assert backlog("status-test-new") == 0
