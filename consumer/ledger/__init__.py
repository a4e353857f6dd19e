"""The delivery ledger: which platform already accepted which event id.

Redelivery after a crash or rebalance, and DLQ replays, consult it so an (event, platform) pair
the platform accepted is not sent again. It is an optimisation on top of the platforms' own
deduplication, never a gate: an outage means "send anyway" (see `guard`).
"""

from consumer.ledger.base import DeliveryLedger, LedgerTtl
from consumer.ledger.guard import LedgerGuard

__all__ = ["DeliveryLedger", "LedgerGuard", "LedgerTtl"]
