"""`dlq replay`'s failure policy for the shared outcome router: what happens to a replayed
(record, platform) that was not delivered.

The relay dead-letters a failure; a replay puts it back where it came from: the dead-letter
topic it reads, with ``capi.replays`` + 1 and the attempts of every pass added up — the record
finishes only once the broker acknowledged the copy. At ``max_replays`` it is reported instead
(which bounds every loop), an event outside the platform's window is reported as expired
(nothing to retry), and a dry run reports what would fail and writes nothing. Each outcome is
counted in the run's summary.
"""

from __future__ import annotations

import time
from dataclasses import replace

from consumer.dlq_ops.options import ReplayOptions
from consumer.dlq_ops.summary import ReplaySummary, Reported
from consumer.kafka.dlq import DECODE_PLATFORM, DeadLetter, DeadLetterWriter
from consumer.messages import MessageRef, Replayed
from consumer.outcomes import Failed
from consumer.retry.parker import RetryParker


class Requeue:
    """The replay's `FailurePolicy` over the dead-letter topic ``topic``; ``writer`` (set when a
    run that may write starts; None in a dry run) appends the re-queued copies to it."""

    parker: RetryParker | None = None  # a replay parks nothing: "not now" fails like the rest

    def __init__(self, options: ReplayOptions, summary: ReplaySummary, topic: str) -> None:
        self.options = options
        self.summary = summary
        self.topic = topic
        self.writer: DeadLetterWriter | None = None

    def delivered(self, ref: MessageRef, platform: str, ledger: bool) -> None:
        """Count a delivery (``ledger``: the platform had already accepted the event)."""
        self.summary.count(platform, "already_accepted" if ledger else "delivered")

    async def fail(self, ref: MessageRef, letter: DeadLetter) -> Failed | None:
        """Report, cap or re-queue one failure; the receipt names the re-queued copy, or else
        the replayed record (which stays the event's last dead letter)."""
        replay = _replayed(ref)
        if letter.platform == DECODE_PLATFORM:  # undecodable now: keep the record's own target
            letter = replace(letter, platform=replay.platform)
        slug = letter.platform
        here = (self.topic, replay.partition, replay.offset)
        if letter.stage == "map" and letter.error_code == "outside_window":
            self.summary.count(slug, "expired")
            self.report(ref, slug, "expired", letter.reason)
            return Failed(letter, here)
        if self.options.dry_run:
            self.summary.count(slug, "would_fail")
            self.report(ref, slug, "would_fail", letter.reason)
            return None
        replays = replay.replays + 1
        if replays >= self.options.max_replays:
            self.summary.count(slug, "capped")
            reason = f"failed on replay {replays} of {self.options.max_replays}: {letter.reason}"
            self.report(ref, slug, "capped", reason)
            return Failed(letter, here)
        assert self.writer is not None, "a replay that sends has a dead-letter writer"
        again = replace(
            letter,
            attempts=replay.attempts + letter.attempts,
            first_failure_ms=replay.first_failure_ms,
            last_failure_ms=int(time.time() * 1000),
            replays=replays,
        )
        partition, offset = await self.writer.write(again)
        self.summary.count(slug, "requeued")
        self.report(
            ref, slug, "requeued", f"failed again ({again.outcome}), replay {replays}: {again.reason}"
        )
        return Failed(again, (self.writer.topic, partition, offset))

    def report(self, ref: MessageRef, slug: str, kind: str, reason: str) -> None:
        """Remember a record a person should know about (with its dead-letter position)."""
        replay = _replayed(ref)
        self.summary.report(Reported(kind, slug, ref.event_id, replay.partition, replay.offset, reason))


def _replayed(ref: MessageRef) -> Replayed:
    assert ref.replay is not None, "the replay's router sees only replayed records"
    return ref.replay
