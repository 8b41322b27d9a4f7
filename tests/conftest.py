"""Shared fixtures: a Kafka broker for the session and uniquely named topics.

Set ``SEAWALL_TEST_BOOTSTRAP=host:port`` to run the broker tests against a
broker that is already running. Otherwise the first test that needs one
starts a `LocalKafka` on free ports in a temporary folder, and the session
stops it at the end. Deselect broker tests with ``-m "not kafka"``.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator

import pytest
from confluent_kafka.admin import AdminClient

from streams.ops.kafka import create_topics, start_on_free_ports

BOOTSTRAP_ENV = "SEAWALL_TEST_BOOTSTRAP"


@pytest.fixture(scope="session")
def kafka_bootstrap(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Return the ``127.0.0.1:PORT`` address of the session's Kafka broker."""
    configured = os.environ.get(BOOTSTRAP_ENV, "").strip()
    if configured:
        yield configured
        return
    broker = start_on_free_ports(tmp_path_factory.mktemp("kafka"), heap_max="384m")
    try:
        yield broker.bootstrap
    finally:
        broker.stop()


TopicFactory = Callable[..., str]
"""``new_topic(prefix="test", partitions=1, bootstrap=None) -> str``."""


@pytest.fixture
def new_topic(request: pytest.FixtureRequest) -> Iterator[TopicFactory]:
    """Return a function that creates a uniquely named topic and returns its name.

    The topic is created on `bootstrap`, by default the session broker, and
    every partition has a leader when the function returns. The topics are
    deleted after the test.
    """
    created: dict[str, list[str]] = {}

    def create(
        prefix: str = "test", partitions: int = 1, bootstrap: str | None = None
    ) -> str:
        address = bootstrap or request.getfixturevalue("kafka_bootstrap")
        name = f"{prefix}-{uuid.uuid4().hex[:12]}"
        create_topics(address, [name], partitions=partitions)
        created.setdefault(address, []).append(name)
        return name

    yield create
    for address, names in created.items():
        admin = AdminClient({"bootstrap.servers": address})
        for future in admin.delete_topics(names, operation_timeout=30).values():
            future.result(timeout=30)
