"""``seawall demo``: the main job on a local broker and generated data.

The demo starts a local Apache Kafka (unless ``--bootstrap`` names one),
creates the topics, and produces realistic customers and orders plus a few
malformed records. It runs ``seawall worker`` as a child process until every
record has an audit event. Then it prints records before and after masking
and checks that the counts agree. It stops everything it started.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from confluent_kafka import Consumer, Producer, TopicPartition

from streams.codec import confluent
from streams.codec.registry import SchemaRegistry
from streams.codec.store import SchemaStore
from streams.config import load_config
from streams.engine import MaskingEngine
from streams.errors import SeawallError
from streams.keys import Keyring
from streams.ops.kafka import create_topics
from streams.pipeline import REASON_HEADER, SOURCE_HEADER
from streams.sample_data import SampleGenerator

PARTITIONS = 3
SAMPLES_SHOWN = 3


class DemoError(SeawallError):
    """The demo could not run to the end."""


@dataclass(frozen=True)
class DemoTopics:
    """Topic names of one demo or chaos run."""

    customers: str
    orders: str
    xb_customers: str
    xb_orders: str
    audit: str
    dead_letter: str

    @classmethod
    def named(cls, suffix: str = "") -> DemoTopics:
        """Return the demo topics, with `suffix` added to each name."""
        return cls(
            customers=f"cn.crm.customers{suffix}",
            orders=f"cn.crm.orders{suffix}",
            xb_customers=f"xb.crm.customers{suffix}",
            xb_orders=f"xb.crm.orders{suffix}",
            audit=f"cn.seawall.audit{suffix}",
            dead_letter=f"cn.seawall.dlq{suffix}",
        )

    def routes(self) -> list[dict[str, str]]:
        """Return the ``routes`` section of a worker configuration for these topics."""
        return [
            {
                "name": "customers",
                "source": self.customers,
                "destination": self.xb_customers,
            },
            {"name": "orders", "source": self.orders, "destination": self.xb_orders},
        ]

    def all(self) -> list[str]:
        """Return every topic name."""
        return [
            self.customers,
            self.orders,
            self.xb_customers,
            self.xb_orders,
            self.audit,
            self.dead_letter,
        ]


@dataclass
class Produced:
    """Counts and originals of the records the demo produced.

    Attributes:
        originals: Encoded well-formed values by source coordinates
            (``topic:partition:offset``), to show before and after masking.
        good: Well-formed records produced.
        bad: Malformed records produced.
    """

    originals: dict[str, bytes] = field(default_factory=dict)
    good: int = 0
    bad: int = 0


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the ``demo`` subcommand."""
    parser = subparsers.add_parser(
        "demo", help="mask generated customers and orders on a local Kafka broker"
    )
    parser.add_argument(
        "--count", type=int, default=10_000, help="records to produce (default 10000)"
    )
    parser.add_argument(
        "--bad",
        type=int,
        help="how many of the records are malformed on purpose "
        "(default: count/1000, at least 4)",
    )
    parser.add_argument(
        "--bootstrap",
        help="bootstrap servers of an existing broker (default: start a local one)",
    )
    parser.add_argument(
        "--schemas", default="schemas", help="schema folder (default ./schemas)"
    )
    parser.add_argument(
        "--registry",
        action="store_true",
        help="start a local schema registry and use Confluent framing instead of "
        "single-object encoding",
    )
    parser.add_argument(
        "--timeout",
        type=float,
        default=600.0,
        help="seconds to wait for the worker (default 600)",
    )
    parser.set_defaults(func=run_demo)


def run_demo(args: argparse.Namespace) -> int:
    """Run the demo; return 0 when every count agrees."""
    if args.count < 1:
        raise DemoError(f"--count must be at least 1, got {args.count}")
    bad = args.bad if args.bad is not None else max(4, args.count // 1000)
    bad = min(bad, args.count)
    with ExitStack() as stack:
        workdir = Path(
            stack.enter_context(tempfile.TemporaryDirectory(prefix="seawall-demo-"))
        )
        bootstrap = args.bootstrap or stack.enter_context(
            _local_kafka(workdir / "kafka")
        )
        # On a broker of the user's, fresh topic names keep old data out.
        suffix = f".demo-{uuid.uuid4().hex[:8]}" if args.bootstrap else ""
        topics = DemoTopics.named(suffix)
        schemas = Path(args.schemas).resolve()
        if not schemas.is_dir():
            raise DemoError(
                f"schema folder {schemas} not found; run the demo from the "
                "repository root or pass --schemas"
            )
        encoder = DemoEncoder(SchemaStore.from_directory(schemas))
        registry_url = None
        if args.registry:
            registry_url = stack.enter_context(_local_registry(workdir / "registry"))
            encoder.register(registry_url, topics)
        config_path = _write_config(workdir, bootstrap, topics, schemas, registry_url)
        engine = MaskingEngine.from_config(load_config(config_path))
        create_topics(bootstrap, topics.all(), partitions=PARTITIONS)
        print(
            f"Producing {args.count} records, {bad} of them malformed on purpose, "
            f"to {bootstrap}"
        )
        produced = _produce(bootstrap, topics, encoder, args.count, bad)
        worker = stack.enter_context(_worker(config_path, workdir / "worker.log"))
        events = _await_audit_events(
            bootstrap, topics, engine, args.count, worker, args.timeout
        )
        _stop(worker)
        return _report(bootstrap, topics, engine, produced, events)
    return 1


@contextmanager
def _local_kafka(data_dir: Path) -> Iterator[str]:
    from streams.ops.kafka import LocalKafka

    broker = LocalKafka(data_dir, port=_free_port(), controller_port=_free_port())
    print("Starting a local Apache Kafka broker (the first run downloads its jars)")
    status = broker.start()
    try:
        yield status.bootstrap or broker.bootstrap
    finally:
        broker.stop()


@contextmanager
def _local_registry(data_dir: Path) -> Iterator[str]:
    from streams.ops.registry import start_on_free_port

    print("Starting a local schema registry (the first run downloads it)")
    registry = start_on_free_port(data_dir)
    try:
        yield registry.url
    finally:
        registry.stop()


class DemoEncoder:
    """Encodes demo records in single-object encoding or Confluent framing.

    Confluent framing starts once `register` has put the source schemas in
    a registry under each source topic's value subject.
    """

    def __init__(self, store: SchemaStore) -> None:
        self._store = store
        self._schema_ids: dict[str, int] = {}

    def register(self, registry_url: str, topics: DemoTopics) -> None:
        """Register the source schemas (TopicNameStrategy) and use their ids."""
        registry = SchemaRegistry(registry_url)
        for name, topic in (
            ("crm.Customer", topics.customers),
            ("crm.Order", topics.orders),
        ):
            entry = self._store.by_name(name)
            self._schema_ids[name] = registry.register(f"{topic}-value", entry.schema)

    def encode(self, schema_name: str, record: dict[str, Any]) -> bytes:
        """Encode a record with the wire format in use."""
        if not self._schema_ids:
            return self._store.encode(schema_name, record)
        entry = self._store.by_name(schema_name)
        return confluent.encode(entry, self._schema_ids[schema_name], record)

    def bad_marker(self, encoded: bytes) -> bytes:
        """Return the value with a first byte that no wire format starts with."""
        return b"\x7f" + encoded[1:]

    def unknown_schema(self, encoded: bytes) -> bytes:
        """Return the value with a schema id or fingerprint that is not registered."""
        if self._schema_ids:
            unknown_id = (2**31 - 1).to_bytes(4, "big")
            return encoded[:1] + unknown_id + encoded[confluent.HEADER_SIZE :]
        return encoded[:2] + os.urandom(8) + encoded[10:]


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _write_config(
    workdir: Path,
    bootstrap: str,
    topics: DemoTopics,
    schemas: Path,
    registry_url: str | None,
) -> Path:
    Keyring.generate("demo").save(workdir / "keys.json")
    config = {
        "kafka": {
            "bootstrap_servers": bootstrap,
            "group_id": f"seawall-demo-{uuid.uuid4().hex[:8]}",
        },
        "schemas": (
            {"registry_url": registry_url}
            if registry_url
            else {"directory": str(schemas)}
        ),
        "keys": {"file": "keys.json"},
        # A free port, so the demo runs beside a worker on the default 9400.
        "metrics": {"host": "127.0.0.1", "port": _free_port()},
        "audit_topic": topics.audit,
        "dead_letter_topic": topics.dead_letter,
        "routes": topics.routes(),
    }
    path = workdir / "config.yaml"
    path.write_text(yaml.safe_dump(config, sort_keys=False), encoding="utf-8")
    return path


def _produce(
    bootstrap: str, topics: DemoTopics, encoder: DemoEncoder, count: int, bad: int
) -> Produced:
    producer = Producer(
        {"bootstrap.servers": bootstrap, "acks": "all", "linger.ms": 20}
    )
    produced = Produced()
    failures: list[str] = []
    # Malformed records are spread evenly, so the worker has to go on after
    # each of them.
    bad_every = count // bad if bad else 0
    for index, sample in enumerate(SampleGenerator().records(count)):
        if bad_every and index % bad_every == bad_every - 1 and produced.bad < bad:
            value = _malformed(encoder, sample.schema_name, sample.value, produced.bad)
            produced.bad += 1
            good = False
        else:
            value = encoder.encode(sample.schema_name, sample.value)
            produced.good += 1
            good = True
        producer.produce(
            topics.customers if sample.schema_name == "crm.Customer" else topics.orders,
            key=sample.key,
            value=value,
            on_delivery=_on_delivery(produced, failures, value if good else None),
        )
        producer.poll(0)
    producer.flush(60)
    if failures:
        raise DemoError(
            f"the broker did not acknowledge {len(failures)} of {count} records; "
            f"first error: {failures[0]}"
        )
    return produced


def _on_delivery(
    produced: Produced, failures: list[str], value: bytes | None
) -> Callable[[Any, Any], None]:
    def delivered(err: Any, msg: Any) -> None:
        if err is not None:
            failures.append(str(err))
        elif value is not None:
            produced.originals[f"{msg.topic()}:{msg.partition()}:{msg.offset()}"] = (
                value
            )

    return delivered


def _malformed(
    encoder: DemoEncoder, schema_name: str, record: dict[str, Any], serial: int
) -> bytes:
    """Return one of four kinds of bad value, in turn."""
    encoded = encoder.encode(schema_name, record)
    kind = serial % 4
    if kind == 0:
        return encoder.bad_marker(encoded)
    if kind == 1:
        return encoder.unknown_schema(encoded)
    if kind == 2:
        return encoded[: len(encoded) // 2]
    # A resident ID of the wrong length decodes, but cannot be tokenized.
    if schema_name == "crm.Customer":
        broken = dict(record, resident_id="1234")
    else:
        broken = dict(record, buyer=dict(record["buyer"], resident_id="1234"))
    return encoder.encode(schema_name, broken)


@contextmanager
def _worker(config_path: Path, log_path: Path) -> Iterator[subprocess.Popen[bytes]]:
    metrics = yaml.safe_load(config_path.read_text(encoding="utf-8"))["metrics"]
    print(
        "Starting seawall worker; metrics and health at "
        f"http://{metrics['host']}:{metrics['port']}/metrics"
    )
    with open(log_path, "wb") as log:
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "streams.cli",
                "worker",
                "--config",
                str(config_path),
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        try:
            yield process
        finally:
            if process.poll() is None:
                process.kill()
                process.wait()


def _await_audit_events(
    bootstrap: str,
    topics: DemoTopics,
    engine: MaskingEngine,
    count: int,
    worker: subprocess.Popen[bytes],
    timeout: float,
) -> list[dict[str, Any]]:
    consumer = _reader(bootstrap, topics.audit)
    events: list[dict[str, Any]] = []
    deadline = time.monotonic() + timeout
    try:
        while len(events) < count:
            if time.monotonic() > deadline:
                raise DemoError(
                    f"timed out after {timeout:.0f} s with {len(events)} of "
                    f"{count} audit events"
                )
            if worker.poll() is not None:
                raise DemoError(
                    f"the worker exited with code {worker.returncode}; see its log"
                )
            for message in consumer.consume(500, timeout=1.0):
                value = message.value()
                if message.error() is None and value is not None:
                    events.append(engine.decode_audit(value))
    finally:
        consumer.close()
    return events


def _stop(worker: subprocess.Popen[bytes]) -> None:
    worker.send_signal(signal.SIGTERM)
    try:
        worker.wait(timeout=60)
    except subprocess.TimeoutExpired:
        worker.kill()
        worker.wait()


def _reader(bootstrap: str, topic: str) -> Consumer:
    consumer = Consumer(
        {
            "bootstrap.servers": bootstrap,
            "group.id": f"seawall-demo-reader-{uuid.uuid4().hex[:8]}",
            "auto.offset.reset": "earliest",
            "enable.auto.commit": False,
        }
    )
    metadata = consumer.list_topics(topic, timeout=30)
    partitions = metadata.topics[topic].partitions
    consumer.assign([TopicPartition(topic, p, 0) for p in partitions])
    return consumer


def read_all(bootstrap: str, topic: str) -> list[Any]:
    """Read every record of a topic up to its current end."""
    consumer = _reader(bootstrap, topic)
    try:
        ends = {
            tp.partition: consumer.get_watermark_offsets(tp, timeout=30)[1]
            for tp in consumer.assignment()
        }
        remaining = sum(ends.values())
        messages: list[Any] = []
        deadline = time.monotonic() + 120
        while len(messages) < remaining and time.monotonic() < deadline:
            messages += [
                m for m in consumer.consume(1000, timeout=1.0) if m.error() is None
            ]
        return messages
    finally:
        consumer.close()


def _report(
    bootstrap: str,
    topics: DemoTopics,
    engine: MaskingEngine,
    produced: Produced,
    events: list[dict[str, Any]],
) -> int:
    outputs = read_all(bootstrap, topics.xb_customers)
    outputs += read_all(bootstrap, topics.xb_orders)
    dead_letters = read_all(bootstrap, topics.dead_letter)
    _print_samples(engine, produced, outputs)

    outcomes = Counter(event["outcome"] for event in events)
    reasons = Counter(
        dict(message.headers() or []).get(REASON_HEADER, b"?").decode()
        for message in dead_letters
    )
    times = [event["event_time"] for event in events]
    elapsed = (max(times) - min(times)).total_seconds()
    rate = f"{len(events) / elapsed:,.0f}" if elapsed > 0 else "n/a"
    print()
    print(f"read:         {produced.good + produced.bad}")
    print(f"masked:       {len(outputs)} on the cross-border topics")
    print(f"rejected:     {len(dead_letters)} on the dead-letter topic")
    for reason, number in sorted(reasons.items()):
        print(f"                {number} {reason}")
    print(
        f"audit events: {len(events)} ({outcomes['masked']} masked, "
        f"{outcomes['rejected']} rejected)"
    )
    print(f"throughput:   {rate} records/s, first to last audit event")

    checks = {
        "masked records equal the well-formed records produced": (
            len(outputs) == produced.good == outcomes["masked"]
        ),
        "dead letters equal the malformed records produced": (
            len(dead_letters) == produced.bad == outcomes["rejected"]
        ),
        "one audit event per record": (
            len({event["event_id"] for event in events})
            == len(events)
            == produced.good + produced.bad
        ),
    }
    failed = [name for name, passed in checks.items() if not passed]
    for name in failed:
        print(f"counts disagree: {name}: no", file=sys.stderr)
    print("counts agree" if not failed else "counts disagree")
    return 1 if failed else 0


def _print_samples(
    engine: MaskingEngine, produced: Produced, outputs: list[Any]
) -> None:
    shown = 0
    for message in outputs:
        source = dict(message.headers() or []).get(SOURCE_HEADER, b"").decode()
        original = produced.originals.get(source)
        if original is None or shown == SAMPLES_SHOWN:
            continue
        print(f"\n--- {source} before masking")
        print(_json(engine.decode(original)))
        print("--- after masking")
        print(_json(engine.decode(message.value())))
        shown += 1


def _json(record: Any) -> str:
    return json.dumps(record, ensure_ascii=False, indent=2, default=str)
