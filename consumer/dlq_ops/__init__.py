"""Operating the dead-letter topic: `dlq inspect` (what is there) and `dlq replay` (send it
again, to the platform that failed and no other). See docs/operations.md."""
