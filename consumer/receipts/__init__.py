"""Receipts: one Avro record per terminal (event, platform) outcome on the receipts topic, so
platform teams can see their events' fate, and `capi-relay trace` can tell one event's journey."""
