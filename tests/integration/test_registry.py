"""The worker against a real schema registry and a real broker.

Producers frame values with confluent-kafka's `AvroSerializer`. The worker
masks them, registers the cross-border schema under the destination subject
and frames its outputs with that id, so a consumer abroad decodes them with
`AvroDeserializer`. The schema tags its fields in all three ways, and its
tagged fields are reached through a union of two record types and a
recursive type.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from confluent_kafka.schema_registry import SchemaRegistryClient
from test_registry_support import (
    Topics,
    Worker,
    deserialize,
    local_registry,
    produce,
    write_config,
)

from streams.codec import confluent
from streams.demo import read_all
from streams.pipeline import REASON_HEADER

pytestmark = pytest.mark.kafka

SCHEMA = {
    "type": "record",
    "name": "Person",
    "namespace": "reg",
    "fields": [
        {"name": "name", "type": "string", "pii": "person_name"},
        {"name": "mobile", "type": "string", "confluent:tags": ["PHONE"]},
        {
            "name": "contact",
            "type": [
                {
                    "type": "record",
                    "name": "Email",
                    "fields": [{"name": "address", "type": "string", "pii": "email"}],
                },
                {
                    "type": "record",
                    "name": "Phone",
                    "fields": [
                        {
                            "name": "number",
                            "type": "string",
                            "confluent:tags": ["PHONE"],
                        }
                    ],
                },
            ],
        },
        {"name": "manager", "type": ["null", "Person"], "default": None},
    ],
}
GIVEN = "伟芳娜敏静丽强磊军洋"
POLICY = {"tags": {"PHONE": {"pii_type": "cn_mobile"}}}


def _person(i: int, depth: int = 2) -> dict[str, Any]:
    contact: Any = (
        ("reg.Email", {"address": f"user{i}.{depth}@example.cn"})
        if i % 2
        else ("reg.Phone", {"number": f"1390013{i:02d}{depth:02d}"})
    )
    return {
        "name": f"王{GIVEN[i % len(GIVEN)]}{GIVEN[depth]}",
        "mobile": f"1380013{i:02d}{depth:02d}",
        "contact": contact,
        "manager": _person(i, depth - 1) if depth else None,
    }


def _clear_values(value: Any) -> Iterator[str]:
    if isinstance(value, tuple):
        yield from _clear_values(value[1])
    elif isinstance(value, dict):
        for item in value.values():
            yield from _clear_values(item)
    elif isinstance(value, str):
        yield value


@pytest.fixture(scope="module")
def registry_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    yield from local_registry(tmp_path_factory.mktemp("registry"))


@pytest.fixture(scope="module")
def run(
    kafka_bootstrap: str, registry_url: str, tmp_path_factory: pytest.TempPathFactory
) -> dict[str, Any]:
    tmp = tmp_path_factory.mktemp("registry-worker")
    topics = Topics.create(kafka_bootstrap)
    config = write_config(tmp, kafka_bootstrap, registry_url, topics, POLICY)
    people = [_person(i) for i in range(20)]
    produce(kafka_bootstrap, registry_url, topics.source, SCHEMA, people)
    worker = Worker(config, tmp / "worker.log")
    try:
        worker.wait_for_audit(kafka_bootstrap, topics.audit, len(people))
    finally:
        worker.stop()
    return {
        "config": config,
        "topics": topics,
        "people": people,
        "outputs": read_all(kafka_bootstrap, topics.destination),
        "dead_letters": read_all(kafka_bootstrap, topics.dlq),
        "log": (tmp / "worker.log").read_text(errors="replace"),
    }


def test_every_record_masked(run: dict[str, Any]) -> None:
    reasons = [dict(m.headers()) for m in run["dead_letters"][:1]]
    assert run["dead_letters"] == [], reasons
    assert len(run["outputs"]) == len(run["people"])


def test_outputs_carry_destination_schema_id(
    run: dict[str, Any], registry_url: str
) -> None:
    client = SchemaRegistryClient({"url": registry_url})
    destination = run["topics"].destination
    latest = client.get_latest_version(f"{destination}-value")
    source = client.get_latest_version(f"{run['topics'].source}-value")

    ids = {confluent.schema_id(message.value()) for message in run["outputs"]}

    assert ids == {latest.schema_id}
    assert latest.schema_id != source.schema_id
    assert latest.schema.schema_str is not None
    assert "seawall.masked" in latest.schema.schema_str


def test_overseas_consumer_decodes_masked(
    run: dict[str, Any], registry_url: str
) -> None:
    destination = run["topics"].destination
    originals = {s for p in run["people"] for s in _clear_values(p)}
    for message, person in zip(run["outputs"], run["people"], strict=True):
        decoded = deserialize(registry_url, destination, message.value())
        assert decoded["mobile"] != person["mobile"]
        assert len(decoded["mobile"]) == len(person["mobile"])
        assert (
            decoded["manager"]["manager"]["mobile"]
            != person["manager"]["manager"]["mobile"]
        )
        assert set(_clear_values(decoded)).isdisjoint(originals)
        for original in _clear_values(person):
            assert original.encode("utf-8") not in message.value()


def test_detokenize_record_restores_registry_output(run: dict[str, Any]) -> None:
    message = run["outputs"][0]
    person = run["people"][0]
    coordinates = f"{message.topic()}:{message.partition()}:{message.offset()}"

    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "streams.cli",
            "detokenize",
            "--config",
            str(run["config"]),
            "--reason",
            "check registry-mode restore",
            "--record",
            coordinates,
        ],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )

    assert result.returncode == 0, result.stderr[-2000:]
    restored = json.loads(result.stdout)
    assert restored["name"] == person["name"]
    assert restored["mobile"] == person["mobile"]
    assert restored["manager"]["name"] == person["manager"]["name"]
    assert restored["manager"]["mobile"] == person["manager"]["mobile"]


def test_unknown_schema_id_dead_lettered(
    kafka_bootstrap: str, registry_url: str, tmp_path: Path
) -> None:
    topics = Topics.create(kafka_bootstrap)
    config = write_config(tmp_path, kafka_bootstrap, registry_url, topics, POLICY)
    from confluent_kafka import Producer

    producer = Producer({"bootstrap.servers": kafka_bootstrap})
    producer.produce(topics.source, value=confluent.header(987654) + b"\x02a")
    assert producer.flush(30) == 0
    worker = Worker(config, tmp_path / "worker.log")
    try:
        worker.wait_for_audit(kafka_bootstrap, topics.audit, 1)
    finally:
        worker.stop()

    [dead] = read_all(kafka_bootstrap, topics.dlq)
    headers = dict(dead.headers())
    assert headers[REASON_HEADER] == b"schema.not_found"
    assert b"schema id 987654" in headers["seawall.detail"]
    assert b"HTTP 404" in headers["seawall.detail"]
