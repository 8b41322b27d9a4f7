"""Source schemas evolve under one running worker, with no restart.

The producer registers a new source version between batches: a tagged
field is added, then an untagged string field, then a field is removed, then
an int is promoted to long. The worker builds a plan for each new schema id
when it first reads a record with it and registers the matching cross-border version, so
consumers abroad decode every batch. In strict mode a record with a value in
the new untagged field is blocked.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator
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

POLICY = {"tags": {"PHONE": {"pii_type": "cn_mobile"}}}
V1: dict[str, Any] = {
    "type": "record",
    "name": "Member",
    "namespace": "evo",
    "fields": [
        {"name": "name", "type": "string", "pii": "person_name"},
        {"name": "mobile", "type": "string", "confluent:tags": ["PHONE"]},
        {"name": "age", "type": "int"},
    ],
}


def _versions() -> list[tuple[str, dict[str, Any], list[dict[str, Any]]]]:
    v2 = copy.deepcopy(V1)
    v2["fields"].append(
        {"name": "email", "type": "string", "pii": "email", "default": ""}
    )
    v3 = copy.deepcopy(v2)
    v3["fields"].append({"name": "note", "type": ["null", "string"], "default": None})
    v4 = copy.deepcopy(v3)
    v4["fields"] = [f for f in v4["fields"] if f["name"] != "mobile"]
    v5 = copy.deepcopy(v4)
    for field in v5["fields"]:
        if field["name"] == "age":
            field["type"] = "long"
    base = {"name": "李伟", "mobile": "13800138000", "age": 30}
    return [
        ("v1", V1, [base]),
        ("v2", v2, [{**base, "email": "li.wei@example.cn"}]),
        (
            "v3",
            v3,
            [
                {**base, "email": "li.wei@example.cn", "note": None},
                {**base, "email": "li.wei@example.cn", "note": "call after 6pm"},
            ],
        ),
        (
            "v4",
            v4,
            [{"name": "李伟", "age": 31, "email": "li.wei@example.cn", "note": None}],
        ),
        (
            "v5",
            v5,
            [
                {
                    "name": "李伟",
                    "age": 2**40,
                    "email": "li.wei@example.cn",
                    "note": None,
                }
            ],
        ),
    ]


@pytest.fixture(scope="module")
def registry_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    yield from local_registry(tmp_path_factory.mktemp("registry"))


@pytest.fixture(scope="module")
def run(
    kafka_bootstrap: str, registry_url: str, tmp_path_factory: pytest.TempPathFactory
) -> dict[str, Any]:
    tmp = tmp_path_factory.mktemp("evolution")
    topics = Topics.create(kafka_bootstrap)
    config = write_config(tmp, kafka_bootstrap, registry_url, topics, POLICY)
    worker = Worker(config, tmp / "worker.log")
    produced = 0
    pids = set()
    try:
        for _label, schema, values in _versions():
            produce(kafka_bootstrap, registry_url, topics.source, schema, values)
            produced += len(values)
            worker.wait_for_audit(kafka_bootstrap, topics.audit, produced)
            pids.add(worker.process.pid)
            assert worker.process.poll() is None
    finally:
        worker.stop()
    return {
        "topics": topics,
        "pids": pids,
        "outputs": read_all(kafka_bootstrap, topics.destination),
        "dead_letters": read_all(kafka_bootstrap, topics.dlq),
    }


def test_one_worker_process(run: dict[str, Any]) -> None:
    assert len(run["pids"]) == 1


def test_each_version_masked_and_decodable(
    run: dict[str, Any], registry_url: str
) -> None:
    destination = run["topics"].destination
    decoded = [
        deserialize(registry_url, destination, m.value()) for m in run["outputs"]
    ]

    assert len(decoded) == 5
    assert [("email" in d, "mobile" in d) for d in decoded] == [
        (False, True),
        (True, True),
        (True, True),
        (True, False),
        (True, False),
    ]
    for record in decoded:
        assert record["name"] != "李伟"
        assert record.get("mobile") != "13800138000"
        assert record.get("email") != "li.wei@example.cn"
    assert decoded[-1]["age"] == 2**40


def test_cross_border_schema_evolves(run: dict[str, Any], registry_url: str) -> None:
    client = SchemaRegistryClient({"url": registry_url})
    destination = f"{run['topics'].destination}-value"
    ids = [confluent.schema_id(m.value()) for m in run["outputs"]]

    versions = client.get_versions(destination)

    assert len(versions) == 5
    assert len(set(ids)) == 5


def test_new_untagged_value_blocked(run: dict[str, Any]) -> None:
    [dead] = run["dead_letters"]
    headers = dict(dead.headers())
    assert headers[REASON_HEADER] == b"policy.unclassified_field"
    assert b"note" in headers["seawall.detail"]
