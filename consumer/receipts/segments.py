"""The receipts of one request's deliveries, encoded from shared byte runs instead of one dict and
one whole-record encode per (event, platform).

Why: Avro's binary form of a record is its fields' encodings joined in schema order, and a
delivered receipt's fields fall into runs that change at different rates. The message's own
(event id and type; enrichment, event time, source position; the replayed record) are the same
for each platform the event goes to; the attempt's (platform, outcome, attempts and their times,
HTTP status, the platform's reference) are usually the same for every unit of a request; match
keys repeat across events; the place and time of the receipt are the batch's. Each run is
encoded once by the receipt encoder generated for just its fields (`fastenc.compile_record`),
from the same field builders `build_receipt` uses, and a receipt is the join of its runs —
byte for byte `ReceiptCodec.encode(build_receipt(...))` (a property test holds them equal).
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any

from connectors.base import ItemOutcome
from consumer.delivery.dispatcher import Unit
from consumer.receipts.build import AttemptKey, attempt_fields, attempt_key, message_fields, place_fields
from consumer.receipts.codec import VOCABULARY, receipt_schema_json
from consumer.receipts.fastenc import Encoder, Unsupported, compile_record

# The receipt schema's fields as runs, in schema order (checked against the schema).
_RUNS: dict[str, tuple[str, ...]] = {
    "head": ("event_id", "event_type"),
    "attempt": (
        "platform",
        "outcome",
        "stage",
        "duplicate",
        "attempts",
        "first_attempt_ms",
        "last_attempt_ms",
        "http_status",
        "platform_ref",
        "reason",
        "code",
    ),
    "match": ("match_keys",),
    "tail": ("enrichment_added", "event_time_ms", "source_topic", "source_partition", "source_offset"),
    "place": ("dlq_topic", "dlq_partition", "dlq_offset", "receipt_time_ms"),
    "replay": ("replay_of",),
    "retry": ("retry",),
}


@dataclass(frozen=True, slots=True)
class _RunEncoders:
    head: Encoder
    attempt: Encoder
    match: Encoder
    tail: Encoder
    place: Encoder
    replay: Encoder
    retry: Encoder


@cache
def _run_encoders() -> _RunEncoders | None:
    """One generated encoder per run; None when the schema's fields no longer split into these
    runs in this order (then every receipt is encoded whole)."""
    schema = json.loads(receipt_schema_json())
    fields = schema["fields"]
    if [f["name"] for f in fields] != [name for run in _RUNS.values() for name in run]:
        return None
    by_name = {f["name"]: f for f in fields}
    encoders: dict[str, Encoder] = {}
    for run, names in _RUNS.items():
        sub = {**schema, "fields": [by_name[name] for name in names]}
        encoder = compile_record(sub, VOCABULARY)
        if encoder is None:
            return None
        encoders[run] = encoder
    return _RunEncoders(**encoders)


class DeliveredReceipts:
    """Encodes the delivered receipts of one request (``receipts``); ``None`` from `create` when
    the schema does not split into runs (the caller encodes whole receipts)."""

    def __init__(
        self, encoders: _RunEncoders, header: bytes, fallback: Callable[[dict[str, Any]], bytes]
    ) -> None:
        self._enc = encoders
        self._header = header
        self._fallback = fallback
        self._retry_none = encoders.retry({"retry": None})
        self._matches: dict[tuple[str, ...], bytes] = {}

    @classmethod
    def create(cls, header: bytes, fallback: Callable[[dict[str, Any]], bytes]) -> DeliveredReceipts | None:
        """``header``: the framing before each record (the wire format's schema id, or none);
        ``fallback`` encodes a whole receipt dict (a value the generated encoders refuse)."""
        encoders = _run_encoders()
        return None if encoders is None else cls(encoders, header, fallback)

    def encode(self, platform: str, units: Sequence[Unit], results: Sequence[ItemOutcome]) -> Iterator[bytes]:
        """The receipt of each delivered unit, in order (outcome "delivered", stage "deliver")."""
        enc = self._enc
        now_ms = int(time.time() * 1000)
        place = enc.place(place_fields(None, now_ms))
        attempts: dict[AttemptKey, bytes] = {}
        matches = self._matches
        for unit, result in zip(units, results, strict=True):
            try:
                key = attempt_key(unit, result)
                attempt = attempts.get(key)
                if attempt is None:
                    fields = attempt_fields(platform, "delivered", "deliver", unit, result)
                    attempt = attempts[key] = enc.attempt(fields)
                keys = unit.item.match_keys
                match = matches.get(keys)
                if match is None:
                    match = enc.match({"match_keys": list(keys)})
                    if len(matches) < 512:
                        matches[keys] = match
                ref = unit.ref
                own = ref.receipt_runs
                if own is None:
                    fields = message_fields(ref)
                    own = ref.receipt_runs = (enc.head(fields), enc.tail(fields), enc.replay(fields))
            except Unsupported:
                yield self._whole(platform, unit, result, now_ms)
                continue
            head, tail, replay = own
            yield b"".join((self._header, head, attempt, match, tail, place, replay, self._retry_none))

    def _whole(self, platform: str, unit: Unit, result: ItemOutcome, now_ms: int) -> bytes:
        fields = {
            **message_fields(unit.ref),
            **attempt_fields(platform, "delivered", "deliver", unit, result),
            **place_fields(None, now_ms),
            "retry": None,
        }
        return self._fallback(fields)
