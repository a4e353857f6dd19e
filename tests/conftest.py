"""Session-wide Kafka fixtures shared by every test package.

Why here: a broker costs seconds to start and ~0.5 GB of RAM, so the whole session shares
one. Set ``KAFKA_BOOTSTRAP_SERVERS`` to reuse an existing broker (e.g. docker compose);
otherwise a throwaway :class:`~consumer.devtools.kafka_local.LocalKafka` is started on the
first request and stopped at the end. Tests create their own uniquely named topics with
``new_topic`` so they never see each other's data. Package-specific fixtures belong in
conftest files of the sub-directories, not here.

The Schema Registry is shared the same way: ``SCHEMA_REGISTRY_URL`` (a Confluent-compatible
base URL) reuses a running one, otherwise one in-memory Apicurio Registry
(:class:`~consumer.devtools.apicurio_local.LocalApicurio`) serves the session. Tests keep apart
by using their own subject names.
"""

from __future__ import annotations

import contextlib
import os
import time
import uuid
from collections.abc import Callable, Iterator

import pytest
from confluent_kafka.admin import AdminClient, NewTopic

from consumer.devtools.apicurio_local import LocalApicurio
from consumer.devtools.kafka_local import LocalKafka

NewTopicFactory = Callable[..., str]


@pytest.fixture(scope="session")
def kafka_bootstrap() -> Iterator[str]:
    """Bootstrap servers of a real broker: ``$KAFKA_BOOTSTRAP_SERVERS`` or a local one."""
    external = os.environ.get("KAFKA_BOOTSTRAP_SERVERS")
    if external:
        yield external
        return
    with LocalKafka() as kafka:
        yield kafka.bootstrap_servers


@pytest.fixture(scope="session")
def schema_registry_url() -> Iterator[str]:
    """Base URL of a real Confluent-compatible registry: ``$SCHEMA_REGISTRY_URL`` or a local one."""
    external = os.environ.get("SCHEMA_REGISTRY_URL")
    if external:
        yield external
        return
    with LocalApicurio() as registry:
        yield registry.url


@pytest.fixture(scope="session")
def kafka_admin(kafka_bootstrap: str) -> AdminClient:
    """One AdminClient for the session (topic creation, metadata checks)."""
    return AdminClient({"bootstrap.servers": kafka_bootstrap})


@pytest.fixture
def new_topic(kafka_admin: AdminClient) -> Iterator[NewTopicFactory]:
    """Factory ``new_topic(partitions=1, config=None) -> name`` creating a fresh topic.

    Returns only once the topic's metadata (all partitions with a leader) is visible, so
    producers and consumers can use it at once. Topics are deleted after the test.
    """
    created: list[str] = []

    def factory(partitions: int = 1, config: dict[str, str] | None = None) -> str:
        name = f"test-{uuid.uuid4().hex[:12]}"
        spec = NewTopic(name, num_partitions=partitions, replication_factor=1, config=config or {})
        kafka_admin.create_topics([spec])[name].result(timeout=30)
        created.append(name)
        _wait_for_topic(kafka_admin, name, partitions)
        return name

    yield factory
    if created:
        for future in kafka_admin.delete_topics(created).values():
            with contextlib.suppress(Exception):  # best effort: cleanup must not fail the test
                future.result(timeout=30)


def _wait_for_topic(admin: AdminClient, name: str, partitions: int, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        topic = admin.list_topics(topic=name, timeout=5).topics.get(name)
        if (
            topic is not None
            and topic.error is None
            and len(topic.partitions) == partitions
            and all(p.leader >= 0 for p in topic.partitions.values())
        ):
            return
        time.sleep(0.1)
    raise TimeoutError(f"topic {name} not visible with {partitions} partitions after {timeout}s")


@pytest.fixture(autouse=True)
def _restore_logging() -> Iterator[None]:
    """Tests that call ``configure_logging`` (often with a captured stream that is closed after
    the test) must not leave structlog or the root logger writing to it for later tests."""
    import logging

    import structlog

    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    config = structlog.get_config()
    yield
    for handler in list(root.handlers):
        if handler not in handlers:
            root.removeHandler(handler)
    for handler in handlers:
        if handler not in root.handlers:
            root.addHandler(handler)
    root.setLevel(level)
    structlog.configure(**config)
