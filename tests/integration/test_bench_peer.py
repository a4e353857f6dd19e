"""Phase (e) of the benchmark — Meta's own Business SDK as the peer — on a few events.

Why: the peer figure is only meaningful if the SDK's requests really reach the sandbox's Meta
endpoint and are accepted there (the SDK form-encodes its events as JSON strings); a silent
refusal would make the SDK look slower, or faster, than it is. Counts only, never timing.
"""

from __future__ import annotations

import uuid

import pytest

from bench import peer
from bench.workload import EventPool, EventProducer, TopicSet, create_topics
from sandbox.testing import sandbox_process

pytestmark = pytest.mark.integration

N = 25


@pytest.mark.skipif(peer.SDK_MISSING is not None, reason=peer.SDK_MISSING or "")
def test_sdk_peer_sends_every_event_to_the_sandbox(kafka_bootstrap: str) -> None:
    topics = TopicSet.named(f"peer-{uuid.uuid4().hex[:6]}")
    create_topics(kafka_bootstrap, topics, 2)
    EventProducer(kafka_bootstrap, topics, EventPool(size=50)).produce_many(N, "peer")
    with sandbox_process() as sandbox:
        result = peer.measure_peer(kafka_bootstrap, topics.events, sandbox.base_url, N, 60, batch=10)
        stats = sandbox.stats()["meta"]
    assert result.failed == 0, result.first_error
    assert result.events == N
    assert result.requests == 3  # 10 + 10 + 5
    assert stats["unique_events"] == N
    assert result.eps > 0 and result.sdk_eps >= result.eps
