"""Delayed retries on the retry topic: when a unit that cannot be delivered now comes back."""
