"""Pausing and resuming a platform at runtime: the shared state (`state`), the compacted control
topic that carries it to every replica and across restarts (`topic`), and the admin endpoint
operators call (`admin`)."""
