"""The two in-driver measurements: (a) the ceiling — consume and decode only — and (c) the naive
baseline — decode, then one synchronous POST per event per platform.

Both read the same pre-produced topics as the relay, each with its own consumer group, so all
three figures describe the same bytes on the same broker in the same run.
"""

from __future__ import annotations

import http.client
import time
import urllib.parse
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from confluent_kafka import Consumer

from connectors.base import Connector, Credentials, HttpRequest, Reject
from consumer.app import build_connectors
from consumer.codec import Codec
from consumer.config import Settings
from consumer.demo_settings import sandbox_credentials


@dataclass
class PhaseResult:
    """Events handled, over how many seconds (first message to last), and what was refused."""

    events: int
    seconds: float
    failed: int = 0

    @property
    def eps(self) -> float:
        """Events per second (0 for an empty run)."""
        return self.events / self.seconds if self.seconds > 0 else 0.0


def _consumer(bootstrap: str, group: str, topics: Sequence[str]) -> Consumer:
    consumer = Consumer(
        {
            "bootstrap.servers": bootstrap,
            "group.id": group,
            "auto.offset.reset": "earliest",
            "enable.auto.commit": True,
            "queued.max.messages.kbytes": 32_768,
            "fetch.wait.max.ms": 100,
        }
    )
    consumer.subscribe(list(topics))
    return consumer


def measure_ceiling(
    bootstrap: str, topics: Mapping[str, str], expect: int, timeout_s: float = 300
) -> PhaseResult:
    """(a) Consume and decode ``expect`` messages as fast as this process can: the most any
    relay written in Python on this consumer could do. Timed from the first message."""
    codec = Codec(None, topics)
    consumer = _consumer(bootstrap, "bench-ceiling", list(topics))
    decoded = failed = 0
    first: float | None = None
    deadline = time.monotonic() + timeout_s
    try:
        while decoded + failed < expect and time.monotonic() < deadline:
            for msg in consumer.consume(1000, 0.2):
                if msg.error() is not None:
                    continue
                if first is None:
                    first = time.monotonic()
                try:
                    codec.decode(msg.topic() or "", msg.value())
                    decoded += 1
                except Exception:
                    failed += 1
        return PhaseResult(decoded, time.monotonic() - (first or time.monotonic()), failed)
    finally:
        consumer.close()


class NaiveSender:
    """One keep-alive `http.client` connection per platform; requests strictly one at a time."""

    def __init__(self) -> None:
        self._conns: dict[str, http.client.HTTPConnection] = {}

    def post(self, request: HttpRequest) -> tuple[int, bytes]:
        """Send one request and wait for its answer (reconnecting once if the socket closed)."""
        url = urllib.parse.urlsplit(request.url)
        path = url.path + (f"?{url.query}" if url.query else "")
        for attempt in (1, 2):
            conn = self._conns.get(url.netloc)
            if conn is None:
                conn = self._conns[url.netloc] = http.client.HTTPConnection(url.netloc, timeout=30)
            try:
                conn.request(request.method, path, body=request.body, headers=dict(request.headers))
                response = conn.getresponse()
                return response.status, response.read()
            except (http.client.HTTPException, OSError):
                conn.close()
                del self._conns[url.netloc]
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")

    def close(self) -> None:
        """Close every connection."""
        for conn in self._conns.values():
            conn.close()


def measure_naive(
    bootstrap: str,
    settings: Settings,
    platforms: Sequence[str],
    max_events: int,
    max_seconds: float,
) -> PhaseResult:
    """(c) What a team writes without capi-relay: for each message, decode, then for each
    platform build the request for that one event and POST it, waiting for each answer.
    The connectors build the payloads (so the strict sandbox accepts them); no batching,
    no concurrency. Time-boxed to ``max_seconds`` or ``max_events``, whichever comes first."""
    topics = settings.topics.events
    codec = Codec(None, topics)
    connectors: dict[str, Connector] = build_connectors(settings)
    tokens, extra = sandbox_credentials(list(platforms))
    creds = {slug: Credentials(tokens[slug], extra.get(slug, {})) for slug in platforms}
    sender = NaiveSender()
    consumer = _consumer(bootstrap, "bench-naive", list(topics))
    done = failed = 0
    first: float | None = None
    try:
        while done + failed < max_events:
            if first is not None and time.monotonic() - first >= max_seconds:
                break
            msg = consumer.poll(0.5)
            if msg is None or msg.error() is not None:
                continue
            if first is None:
                first = time.monotonic()
            ok = _naive_one(codec, msg, connectors, platforms, creds, sender)
            done, failed = (done + 1, failed) if ok else (done, failed + 1)
        return PhaseResult(done, time.monotonic() - (first or time.monotonic()), failed)
    finally:
        sender.close()
        consumer.close()


def _naive_one(
    codec: Codec,
    msg: Any,
    connectors: Mapping[str, Connector],
    platforms: Sequence[str],
    creds: Mapping[str, Credentials],
    sender: NaiveSender,
) -> bool:
    event = codec.decode(msg.topic() or "", msg.value())
    now_ms = int(time.time() * 1000)
    ok = True
    for slug in platforms:
        connector = connectors[slug]
        item = connector.map_event(event, now_ms)
        if isinstance(item, Reject):
            ok = False
            continue
        status, _body = sender.post(connector.build_request([item], creds[slug]))
        ok = ok and 200 <= status < 300
    return ok
