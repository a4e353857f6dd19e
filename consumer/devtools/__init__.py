"""Developer and test tooling that is not part of the relay's runtime path.

It lives inside the package (rather than under ``scripts/``) so that tests, the CLI
scripts and the demo can all import the same code, e.g. the throwaway local Kafka broker
in :mod:`consumer.devtools.kafka_local`.
"""
