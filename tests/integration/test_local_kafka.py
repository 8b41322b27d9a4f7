"""The local KRaft broker: lifecycle, plain and transactional clients, errors.

The broker tests start their own `LocalKafka` in a temporary folder on free
ports, so they also run when ``SEAWALL_TEST_BOOTSTRAP`` points elsewhere.
"""

from __future__ import annotations

import json
import re
import socket
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from confluent_kafka import Consumer, KafkaError, Producer
from confluent_kafka.admin import AdminClient

from streams.ops import maven
from streams.ops.kafka import (
    LocalKafka,
    LocalKafkaError,
    PortInUseError,
    new_cluster_id,
    render_server_properties,
    start_on_free_ports,
)
from streams.ops.process import pick_free_port

RECORDS = 10

TopicFactory = Callable[..., str]


def _java_processes_for(broker: LocalKafka) -> list[int]:
    """Return the pids whose command line names this broker's server.properties."""
    marker = str(broker.data_dir / "server.properties").encode()
    pids = []
    for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
        try:
            text = cmdline.read_bytes()
        except OSError:
            continue
        if marker in text and b"kafka.Kafka" in text:
            pids.append(int(cmdline.parent.name))
    return pids


def _cluster_id(broker: LocalKafka) -> str:
    """Return the cluster id that the storage format wrote to meta.properties."""
    meta = broker.data_dir / "kraft" / "meta.properties"
    for line in meta.read_text(encoding="utf-8").splitlines():
        if line.startswith("cluster.id="):
            return line.removeprefix("cluster.id=")
    raise AssertionError(f"{meta} has no cluster.id line")


def _consume(
    bootstrap: str, topic: str, expected: int, **config: Any
) -> list[tuple[bytes | None, bytes | None]]:
    """Read `expected` records from the start of `topic`, polling for 30 seconds."""
    consumer = Consumer(
        {
            "bootstrap.servers": bootstrap,
            "group.id": f"test-{uuid.uuid4().hex[:8]}",
            "auto.offset.reset": "earliest",
            "enable.auto.commit": False,
            **config,
        }
    )
    consumer.subscribe([topic])
    records: list[tuple[bytes | None, bytes | None]] = []
    deadline = time.monotonic() + 30
    try:
        while len(records) < expected and time.monotonic() < deadline:
            message = consumer.poll(0.5)
            if message is None:
                continue
            assert message.error() is None, message.error()
            records.append((message.key(), message.value()))
        # Read on briefly, so that records beyond `expected` show up too.
        extra_deadline = time.monotonic() + 1.0
        while time.monotonic() < extra_deadline:
            message = consumer.poll(0.2)
            if message is not None and message.error() is None:
                records.append((message.key(), message.value()))
    finally:
        consumer.close()
    return records


@pytest.fixture(scope="module")
def broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalKafka]:
    """Start a broker for this module and stop it at the end."""
    local = start_on_free_ports(tmp_path_factory.mktemp("local-kafka"), heap_max="384m")
    try:
        yield local
    finally:
        local.stop()


@pytest.mark.kafka
def test_status_reports_running(broker: LocalKafka) -> None:
    status = broker.status()
    assert status.running, status.detail
    assert status.bootstrap == broker.bootstrap
    assert status.pid in _java_processes_for(broker)
    state = json.loads((broker.data_dir / "state.json").read_text(encoding="utf-8"))
    assert state["pid"] == status.pid
    assert state["port"] == broker.port
    assert state["controller_port"] == broker.controller_port


@pytest.mark.kafka
def test_listeners_bind_loopback_only(broker: LocalKafka) -> None:
    properties = (broker.data_dir / "server.properties").read_text(encoding="utf-8")
    listeners = next(
        line for line in properties.splitlines() if line.startswith("listeners=")
    )
    assert listeners == (
        f"listeners=PLAINTEXT://127.0.0.1:{broker.port},"
        f"CONTROLLER://127.0.0.1:{broker.controller_port}"
    )


@pytest.mark.kafka
def test_second_start_reuses_running_broker(broker: LocalKafka) -> None:
    first_pid = broker.status().pid
    again = LocalKafka(broker.data_dir, port=pick_free_port()).start()
    assert again.running
    assert not again.started
    assert again.pid == first_pid
    assert again.bootstrap == broker.bootstrap
    assert _java_processes_for(broker) == [first_pid]


@pytest.mark.kafka
def test_produce_consume_acks_all(broker: LocalKafka, new_topic: TopicFactory) -> None:
    topic = new_topic("plain", partitions=2, bootstrap=broker.bootstrap)
    producer = Producer(
        {"bootstrap.servers": broker.bootstrap, "acks": "all", "linger.ms": 0}
    )
    delivery_errors: list[KafkaError] = []

    def on_delivery(error: KafkaError | None, _message: object) -> None:
        if error is not None:
            delivery_errors.append(error)

    sent = {(f"k{i}".encode(), f"v{i}".encode()) for i in range(RECORDS)}
    for key, value in sent:
        producer.produce(topic, key=key, value=value, on_delivery=on_delivery)
    assert producer.flush(30) == 0
    assert delivery_errors == []

    received = _consume(broker.bootstrap, topic, RECORDS)
    assert sorted(received) == sorted(sent)


@pytest.mark.kafka
def test_read_committed_sees_only_commits(
    broker: LocalKafka, new_topic: TopicFactory
) -> None:
    topic = new_topic("txn", bootstrap=broker.bootstrap)
    producer = Producer(
        {
            "bootstrap.servers": broker.bootstrap,
            "transactional.id": f"test-{uuid.uuid4().hex[:8]}",
        }
    )
    producer.init_transactions(30)

    producer.begin_transaction()
    for i in range(RECORDS):
        producer.produce(topic, key=b"committed", value=f"c{i}".encode())
    producer.commit_transaction(30)

    producer.begin_transaction()
    producer.produce(topic, key=b"aborted", value=b"a0")
    producer.flush(30)
    producer.abort_transaction(30)

    committed = _consume(
        broker.bootstrap, topic, RECORDS, **{"isolation.level": "read_committed"}
    )
    assert [value for _key, value in committed] == [
        f"c{i}".encode() for i in range(RECORDS)
    ]
    everything = _consume(
        broker.bootstrap, topic, RECORDS + 1, **{"isolation.level": "read_uncommitted"}
    )
    assert (b"aborted", b"a0") in everything


@pytest.mark.kafka
def test_new_topic_on_session_broker(
    kafka_bootstrap: str, new_topic: TopicFactory
) -> None:
    topic = new_topic("session", partitions=3)
    admin = AdminClient({"bootstrap.servers": kafka_bootstrap})
    metadata = admin.list_topics(topic, timeout=10)
    assert metadata.topics[topic].error is None
    assert len(metadata.topics[topic].partitions) == 3


@pytest.mark.kafka
def test_taken_port_raises_before_launch(tmp_path: Path) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen(1)
        taken_port = holder.getsockname()[1]
        broker = LocalKafka(
            tmp_path, port=taken_port, controller_port=pick_free_port(), heap_max="256m"
        )
        expected = re.escape(f"broker port 127.0.0.1:{taken_port}")
        with pytest.raises(PortInUseError, match=expected):
            broker.start()
    assert not (tmp_path / "state.json").exists()
    assert not broker.status().running


@pytest.mark.kafka
def test_exit_during_start_raises_with_log(tmp_path: Path) -> None:
    # A 1 KB heap passes argument checks, but the JVM exits at once with
    # "Too small maximum heap", which the error must quote.
    broker = LocalKafka(
        tmp_path,
        port=pick_free_port(),
        controller_port=pick_free_port(),
        heap_max="1k",
    )
    with pytest.raises(LocalKafkaError, match="exited during start") as raised:
        broker.start()
    assert "Too small maximum heap" in str(raised.value)
    assert not (tmp_path / "state.json").exists()


@pytest.mark.kafka
def test_stop_then_restart_keeps_cluster_id(tmp_path: Path) -> None:
    broker = start_on_free_ports(tmp_path, heap_max="256m")
    cluster_id = _cluster_id(broker)
    pid = broker.status().pid

    stopped = broker.stop()
    assert not stopped.running
    assert stopped.pid == pid
    assert stopped.detail == "stopped"
    assert _java_processes_for(broker) == []
    assert not (tmp_path / "state.json").exists()
    status = broker.status()
    assert not status.running
    assert status.detail == "not running"
    assert broker.stop().pid is None

    restarted = broker.start()
    try:
        assert restarted.started
        assert restarted.pid != pid
        assert _cluster_id(broker) == cluster_id
    finally:
        broker.stop()


def test_stale_state_file_counts_as_stopped(tmp_path: Path) -> None:
    # Process ids above /proc/sys/kernel/pid_max (at most 2**22) never exist.
    (tmp_path / "state.json").write_text(
        json.dumps({"pid": 2**22 + 1, "port": 1, "controller_port": 2}),
        encoding="utf-8",
    )
    broker = LocalKafka(tmp_path)
    status = broker.status()
    assert not status.running
    assert status.detail == f"process {2**22 + 1} is not running"
    assert broker.stop().detail == "not running"
    assert not (tmp_path / "state.json").exists()


def test_corrupt_state_file_raises(tmp_path: Path) -> None:
    (tmp_path / "state.json").write_text("{not json", encoding="utf-8")
    with pytest.raises(LocalKafkaError, match=re.escape("state.json is unreadable")):
        LocalKafka(tmp_path).status()


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ({"port": 0}, "port must be between 1 and 65535, got 0"),
        ({"port": 9092, "controller_port": 9092}, "must differ, both are 9092"),
        ({"heap_max": "lots"}, "heap_max must be a java -Xmx size"),
    ],
    ids=["port-zero", "same-ports", "bad-heap"],
)
def test_invalid_arguments_raise(
    tmp_path: Path, arguments: dict[str, Any], message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        LocalKafka(tmp_path, **arguments)


def test_server_properties_single_node_settings() -> None:
    text = render_server_properties(
        port=19092, controller_port=19093, log_dir=Path("/d")
    )
    settings = dict(
        line.split("=", 1) for line in text.splitlines() if not line.startswith("#")
    )
    assert settings["controller.quorum.voters"] == "1@127.0.0.1:19093"
    assert settings["advertised.listeners"] == "PLAINTEXT://127.0.0.1:19092"
    assert settings["log.dirs"] == "/d"
    for key in (
        "offsets.topic.replication.factor",
        "transaction.state.log.replication.factor",
        "transaction.state.log.min.isr",
        "share.coordinator.state.topic.replication.factor",
        "share.coordinator.state.topic.min.isr",
    ):
        assert settings[key] == "1", key
    assert settings["group.initial.rebalance.delay.ms"] == "0"
    assert settings["auto.create.topics.enable"] == "false"


def test_cluster_id_is_22_url_safe_characters() -> None:
    for _ in range(200):
        cluster_id = new_cluster_id()
        assert len(cluster_id) == 22
        assert not cluster_id.startswith("-")
        assert set(cluster_id) <= set(
            "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
        )


def test_pom_lists_broker_and_log_binding() -> None:
    pom = maven.render_pom(maven.kafka_artifacts("4.4.0"))
    assert "<artifactId>kafka_2.13</artifactId>" in pom
    assert "<version>4.4.0</version>" in pom
    assert "<artifactId>log4j-slf4j-impl</artifactId>" in pom


def test_cache_dir_follows_environment(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv(maven.CACHE_ENV, str(tmp_path))
    assert maven.cache_dir() == tmp_path
    monkeypatch.delenv(maven.CACHE_ENV)
    assert maven.cache_dir() == Path.home() / ".cache" / "seawall"


def test_missing_maven_names_what_to_install(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(maven.ToolchainError, match="'mvn' not found on PATH"):
        maven.resolve_kafka_libs(cache=tmp_path)


def test_missing_java_names_what_to_install(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(maven.ToolchainError, match="Java 17 or later"):
        maven.require_java()
