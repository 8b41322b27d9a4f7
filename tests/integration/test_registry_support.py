"""Helpers shared by the registry and evolution tests; this module has no tests."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from confluent_kafka import Producer
from confluent_kafka.schema_registry import SchemaRegistryClient
from confluent_kafka.schema_registry.avro import AvroDeserializer, AvroSerializer
from confluent_kafka.serialization import MessageField, SerializationContext

from streams.demo import read_all
from streams.keys import Keyring
from streams.ops.kafka import create_topics
from streams.ops.registry import start_on_free_port


def local_registry(tmp: Path) -> Iterator[str]:
    """Run a local registry for one test module and yield its API URL."""
    registry = start_on_free_port(tmp / "registry")
    try:
        yield registry.url
    finally:
        registry.stop()


@dataclass
class Topics:
    """Topic names of one run."""

    source: str
    destination: str
    audit: str
    dlq: str

    @classmethod
    def create(cls, bootstrap: str) -> Topics:
        suffix = uuid.uuid4().hex[:8]
        topics = cls(
            f"cn.reg.src.{suffix}",
            f"xb.reg.dst.{suffix}",
            f"cn.reg.audit.{suffix}",
            f"cn.reg.dlq.{suffix}",
        )
        create_topics(
            bootstrap, [topics.source, topics.destination, topics.audit, topics.dlq]
        )
        return topics


def write_config(
    tmp: Path, bootstrap: str, registry_url: str, topics: Topics, policy: Any
) -> Path:
    """Write a keyring and a registry-mode worker configuration."""
    Keyring.generate("registry-test").save(tmp / "keys.json")
    config = {
        "kafka": {
            "bootstrap_servers": bootstrap,
            "group_id": f"test-{uuid.uuid4().hex[:8]}",
        },
        "schemas": {"registry_url": registry_url, "registry_retry_wait_ms": 50},
        "keys": {"file": "keys.json"},
        "metrics": {"port": None},
        "audit_topic": topics.audit,
        "dead_letter_topic": topics.dlq,
        "routes": [
            {
                "name": "people",
                "source": topics.source,
                "destination": topics.destination,
            }
        ],
        "policy": policy,
    }
    path = tmp / "config.yaml"
    path.write_text(yaml.safe_dump(config), encoding="utf-8")
    return path


def produce(
    bootstrap: str, registry_url: str, topic: str, schema: Any, values: list[Any]
) -> None:
    """Produce values framed by `AvroSerializer`, which registers `schema`."""
    client = SchemaRegistryClient({"url": registry_url})
    serializer = AvroSerializer(client, json.dumps(schema))
    producer = Producer({"bootstrap.servers": bootstrap, "acks": "all"})
    context = SerializationContext(topic, MessageField.VALUE)
    for value in values:
        producer.produce(topic, value=serializer(value, context))
    assert producer.flush(30) == 0


def deserialize(registry_url: str, topic: str, value: bytes) -> Any:
    """Decode an output value the way a consumer abroad does."""
    client = SchemaRegistryClient({"url": registry_url})
    return AvroDeserializer(client)(
        value, SerializationContext(topic, MessageField.VALUE)
    )


class Worker:
    """``seawall worker`` as a child process."""

    def __init__(self, config: Path, log: Path) -> None:
        self.log = log
        self._log_file = log.open("wb")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "streams.cli", "worker", "--config", str(config)],
            stdout=self._log_file,
            stderr=subprocess.STDOUT,
        )

    def wait_for_audit(self, bootstrap: str, topic: str, count: int) -> list[Any]:
        """Poll the audit topic until it contains `count` events (deadline 120 s)."""
        deadline = time.monotonic() + 120
        events: list[Any] = []
        while time.monotonic() < deadline and self.process.poll() is None:
            events = read_all(bootstrap, topic)
            if len(events) >= count:
                return events
            time.sleep(0.5)  # poll interval; the loop is bounded by the deadline
        raise AssertionError(
            f"{len(events)} of {count} audit events; worker log:\n"
            + self.log.read_text(errors="replace")[-4000:]
        )

    def stop(self) -> int:
        """Stop the worker with SIGTERM and return its exit code."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        try:
            return self.process.wait(timeout=60)
        finally:
            if self.process.poll() is None:
                self.process.kill()
                self.process.wait()
            self._log_file.close()
