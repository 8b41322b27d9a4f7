"""The worker end to end on a real broker: masking, audit, dead letters, logs.

One module-scoped run produces generated customers and orders plus malformed
records, runs ``seawall worker`` as a child process until every record has
an audit event, stops it with SIGTERM, and reads every topic back. The tests
then check that run from several sides.
"""

from __future__ import annotations

import base64
import json
import signal
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import yaml
from confluent_kafka import Consumer, Producer, TopicPartition

from streams.config import load_config
from streams.demo import read_all
from streams.engine import MaskingEngine
from streams.keys import Keyring
from streams.ops.kafka import create_topics
from streams.pipeline import (
    AUDIT_ID_HEADER,
    KEY_VERSION_HEADER,
    REASON_HEADER,
    SOURCE_HEADER,
)
from streams.sample_data import SampleGenerator

pytestmark = pytest.mark.kafka

REPO = Path(__file__).resolve().parents[2]
GOOD_RECORDS = 1000
ALLOWED_HEADER = "trace_id"
# A header the route does not allow, holding a personal value.
DROPPED_HEADER = "x-user-mobile"


@dataclass
class Run:
    """What one worker run produced and left on the topics."""

    config_path: Path
    engine: MaskingEngine
    keyring: Keyring
    topics: dict[str, str]
    originals: dict[str, tuple[str, dict[str, Any]]] = field(default_factory=dict)
    bad: dict[str, str] = field(default_factory=dict)
    outputs: list[Any] = field(default_factory=list)
    dead_letters: list[Any] = field(default_factory=list)
    audit: list[Any] = field(default_factory=list)
    worker_log: str = ""
    worker_exit: int | None = None
    committed: dict[tuple[str, int], int] = field(default_factory=dict)
    end_offsets: dict[tuple[str, int], int] = field(default_factory=dict)


def _write_config(tmp: Path, bootstrap: str, topics: dict[str, str]) -> Path:
    config = {
        "kafka": {
            "bootstrap_servers": bootstrap,
            "group_id": f"test-{uuid.uuid4().hex[:8]}",
        },
        "schemas": {"directory": str(REPO / "schemas")},
        "keys": {"file": "keys.json"},
        "metrics": {"port": None},
        "audit_topic": topics["audit"],
        "dead_letter_topic": topics["dlq"],
        "routes": [
            {
                "name": "customers",
                "source": topics["customers"],
                "destination": topics["xb_customers"],
                "allowed_headers": [ALLOWED_HEADER],
            },
            {
                "name": "orders",
                "source": topics["orders"],
                "destination": topics["xb_orders"],
            },
        ],
    }
    path = tmp / "config.yaml"
    path.write_text(yaml.safe_dump(config), encoding="utf-8")
    return path


def _bad_values(engine: MaskingEngine, record: dict[str, Any]) -> dict[str, bytes]:
    valid = engine.encode("crm.Customer", record)
    return {
        "decode.bad_marker": b"\x00\x01" + valid[2:],
        "decode.unknown_fingerprint": b"\xc3\x01" + bytes(8) + valid[10:],
        "decode.truncated": valid[: len(valid) // 2],
    }


def _produce(run: Run, bootstrap: str) -> None:
    producer = Producer({"bootstrap.servers": bootstrap, "acks": "all"})
    pending: dict[int, tuple[str, dict[str, Any]] | str] = {}
    coordinates: dict[int, str] = {}

    errors: list[str] = []

    def on_delivery(serial: int) -> Any:
        def delivered(err: Any, msg: Any) -> None:
            if err is not None:
                errors.append(str(err))
            coordinates[serial] = f"{msg.topic()}:{msg.partition()}:{msg.offset()}"

        return delivered

    generator = SampleGenerator(seed=7)
    samples = list(generator.records(GOOD_RECORDS))
    bad_values = _bad_values(run.engine, generator.customer())
    for serial, sample in enumerate(samples):
        topic = (
            run.topics["customers"]
            if sample.schema_name == "crm.Customer"
            else run.topics["orders"]
        )
        headers: list[tuple[str, str | bytes | None]] = [
            (ALLOWED_HEADER, str(serial).encode()),
            ("serial", str(serial).encode()),
            (DROPPED_HEADER, b"13800138000"),
        ]
        producer.produce(
            topic,
            key=sample.key,
            value=run.engine.encode(sample.schema_name, sample.value),
            headers=headers,
            on_delivery=on_delivery(serial),
        )
        pending[serial] = (sample.schema_name, sample.value)
        # The malformed records sit in the middle, so the worker must go on
        # with the records after them.
        if serial == GOOD_RECORDS // 2:
            for offset, (reason, value) in enumerate(bad_values.items()):
                bad_serial = GOOD_RECORDS + offset
                producer.produce(
                    run.topics["customers"],
                    key=b"bad",
                    value=value,
                    headers=[(ALLOWED_HEADER, str(bad_serial).encode())],
                    on_delivery=on_delivery(bad_serial),
                )
                pending[bad_serial] = reason
        producer.poll(0)
    assert producer.flush(60) == 0
    assert errors == []
    for serial, item in pending.items():
        if isinstance(item, str):
            run.bad[coordinates[serial]] = item
        else:
            run.originals[coordinates[serial]] = item


def _run_worker(run: Run, bootstrap: str, log_path: Path, expected: int) -> None:
    """Run the worker until the audit topic contains `expected` events."""
    with open(log_path, "wb") as log:
        worker = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "streams.cli",
                "worker",
                "--config",
                str(run.config_path),
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        try:
            deadline = time.monotonic() + 300
            while time.monotonic() < deadline and worker.poll() is None:
                if len(read_all(bootstrap, run.topics["audit"])) >= expected:
                    break
                time.sleep(1)  # poll interval; the loop is bounded by the deadline
            worker.send_signal(signal.SIGTERM)
            run.worker_exit = worker.wait(timeout=120)
        finally:
            if worker.poll() is None:
                worker.kill()
                worker.wait()
    run.worker_log = log_path.read_text(encoding="utf-8", errors="replace")


@pytest.fixture(scope="module")
def run(kafka_bootstrap: str, tmp_path_factory: pytest.TempPathFactory) -> Run:
    tmp = tmp_path_factory.mktemp("worker")
    suffix = uuid.uuid4().hex[:8]
    topics = {
        "customers": f"cn.crm.customers.{suffix}",
        "orders": f"cn.crm.orders.{suffix}",
        "xb_customers": f"xb.crm.customers.{suffix}",
        "xb_orders": f"xb.crm.orders.{suffix}",
        "audit": f"cn.seawall.audit.{suffix}",
        "dlq": f"cn.seawall.dlq.{suffix}",
    }
    create_topics(kafka_bootstrap, list(topics.values()), partitions=3)
    keyring = Keyring.generate("test")
    keyring.save(tmp / "keys.json")
    config_path = _write_config(tmp, kafka_bootstrap, topics)
    engine = MaskingEngine.from_config(load_config(config_path))
    result = Run(config_path=config_path, engine=engine, keyring=keyring, topics=topics)
    _produce(result, kafka_bootstrap)
    expected = len(result.originals) + len(result.bad)
    _run_worker(result, kafka_bootstrap, tmp / "worker.log", expected)
    result.outputs = read_all(kafka_bootstrap, topics["xb_customers"]) + read_all(
        kafka_bootstrap, topics["xb_orders"]
    )
    result.dead_letters = read_all(kafka_bootstrap, topics["dlq"])
    result.audit = read_all(kafka_bootstrap, topics["audit"])
    _read_offsets(result, kafka_bootstrap)
    return result


def _read_offsets(run: Run, bootstrap: str) -> None:
    """Store the group's committed offsets and the end offsets of the sources."""
    group = load_config(run.config_path).kafka.group_id
    consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": group})
    try:
        partitions = [
            TopicPartition(run.topics[name], partition)
            for name in ("customers", "orders")
            for partition in range(3)
        ]
        for tp in consumer.committed(partitions, timeout=30):
            run.committed[(tp.topic, tp.partition)] = tp.offset
            _low, high = consumer.get_watermark_offsets(tp, timeout=30)
            run.end_offsets[(tp.topic, tp.partition)] = high
    finally:
        consumer.close()


def _headers(message: Any) -> dict[str, bytes]:
    return dict(message.headers() or [])


def _source(message: Any) -> str:
    return _headers(message)[SOURCE_HEADER].decode()


def _event_source(event: dict[str, Any]) -> str:
    """Return the ``topic:partition:offset`` an audit event names."""
    topic, partition = event["source_topic"], event["source_partition"]
    return f"{topic}:{partition}:{event['source_offset']}"


def _customer_values(customer: dict[str, Any]) -> list[Any]:
    """Return the raw values of every tagged field of a crm.Customer."""
    values = [
        customer[name]
        for name in (
            "customer_id",
            "name",
            "resident_id",
            "mobile",
            "email",
            "bank_card",
            "notes",
        )
    ]
    values.append(customer["address"]["street"])
    for contact in customer["contacts"]:
        values += [contact["name"], contact["mobile"]]
    return values


def _order_values(order: dict[str, Any]) -> list[Any]:
    """Return the raw values of every tagged field of a crm.Order."""
    values = _customer_values(order["buyer"])
    if order["delivery"] is not None:
        values.append(order["delivery"]["street"])
    _branch, payment = order["payment"]
    values += list(payment.values())
    return values


def _raw_values(run: Run) -> list[tuple[str, Any]]:
    """Every (source coordinates, raw value) of the well-formed records."""
    values: list[tuple[str, Any]] = []
    for source, (schema_name, record) in run.originals.items():
        extract = _customer_values if schema_name == "crm.Customer" else _order_values
        values += [(source, value) for value in extract(record) if value]
    return values


def test_worker_stops_cleanly_on_sigterm(run: Run) -> None:
    assert run.worker_exit == 0, run.worker_log[-3000:]


def test_offsets_committed_up_to_the_end(run: Run) -> None:
    assert run.committed == run.end_offsets
    assert sum(run.end_offsets.values()) == len(run.originals) + len(run.bad)


def test_destination_count_is_source_minus_rejected(run: Run) -> None:
    assert len(run.outputs) == len(run.originals)
    assert {_source(m) for m in run.outputs} == set(run.originals)


def test_bad_records_reach_only_the_dead_letter_topic(run: Run) -> None:
    reasons = {
        _source(m): _headers(m)[REASON_HEADER].decode() for m in run.dead_letters
    }
    assert reasons == run.bad
    assert not set(run.bad) & {_source(m) for m in run.outputs}


def test_dead_letters_keep_the_original_bytes(run: Run) -> None:
    for message in run.dead_letters:
        assert message.key() == b"bad"
        assert _headers(message)[ALLOWED_HEADER]


def test_one_audit_event_per_source_offset(run: Run) -> None:
    events = [run.engine.decode_audit(m.value()) for m in run.audit]
    coordinates = [_event_source(event) for event in events]
    assert len(coordinates) == len(set(coordinates))
    assert set(coordinates) == set(run.originals) | set(run.bad)


def test_audit_events_record_outcomes(run: Run) -> None:
    decoded = (run.engine.decode_audit(m.value()) for m in run.audit)
    events = {_event_source(event): event for event in decoded}
    for source, reason in run.bad.items():
        assert events[source]["outcome"] == "rejected"
        assert events[source]["reason"] == reason
    for source in run.originals:
        event = events[source]
        assert event["outcome"] == "masked"
        assert event["key_version"] == run.keyring.active.version
        assert {f["pii_type"] for f in event["fields"]} >= {
            "person_name",
            "cn_resident_id",
            "cn_mobile",
        }
        assert len(event["subject_pseudonyms"]) == 1


def test_output_headers_name_source_and_key_version(run: Run) -> None:
    audit_ids = {m.key().decode() for m in run.audit}
    for message in run.outputs:
        headers = _headers(message)
        assert headers[KEY_VERSION_HEADER] == str(run.keyring.active.version).encode()
        assert headers[AUDIT_ID_HEADER].decode() in audit_ids
        assert DROPPED_HEADER not in headers
        assert "serial" not in headers


def test_allowed_header_is_kept_on_its_route_only(run: Run) -> None:
    for message in run.outputs:
        has_header = ALLOWED_HEADER in _headers(message)
        assert has_header == (message.topic() == run.topics["xb_customers"])


def test_output_keys_are_pseudonyms(run: Run) -> None:
    raw_keys = {
        record.get("customer_id") or record.get("order_id")
        for _, record in run.originals.values()
    }
    for message in run.outputs:
        key = message.key().decode()
        assert len(key) == 64
        assert key not in raw_keys


def test_no_raw_tagged_value_in_any_destination_record(run: Run) -> None:
    by_source = {_source(m): m for m in run.outputs}
    everything = b"\n".join(_record_bytes(m) for m in run.outputs)
    checked = 0
    for source, value in _raw_values(run):
        raw = _as_bytes(value)
        assert raw not in _record_bytes(by_source[source])
        if _collision_unlikely(str(value)):
            assert raw not in everything
        checked += 1
    assert checked > GOOD_RECORDS * 5


def _collision_unlikely(value: str) -> bool:
    """Tell whether a token of another record can equal this value by chance.

    Across a thousand records, the token of one value can equal the raw value
    of another when the encrypted part is small: a 3-letter e-mail local part
    has 26**3 values, and a mobile keeps 3 of its 11 digits. The whole-topic
    check therefore takes only values whose encrypted part has at least about
    10**10 values, where the chance of a collision is below 1 in 10,000.
    """
    local, at, _domain = value.partition("@")
    if at:
        return len(local) >= 8
    if value[:-1].isdigit():
        return len(value) >= 16
    is_chinese = all("\u3400" <= char <= "\U0003134f" for char in value)
    return is_chinese and len(value) >= 3


def test_no_raw_value_in_audit_events(run: Run) -> None:
    everything = b"\n".join(_record_bytes(m) for m in run.audit)
    checked = 0
    for _source_name, value in _raw_values(run):
        if _collision_unlikely(str(value)):
            assert _as_bytes(value) not in everything
            checked += 1
    assert checked > GOOD_RECORDS


def test_detokenize_restores_every_original(run: Run) -> None:
    by_source = {_source(m): run.engine.decode(m.value()) for m in run.outputs}
    actions = _actions_by_source(run)
    checked = 0
    for field_name, pii_type in (
        ("name", "person_name"),
        ("resident_id", "cn_resident_id"),
        ("mobile", "cn_mobile"),
        ("email", "email"),
        ("bank_card", "bank_card"),
        ("customer_id", "identifier"),
    ):
        # A value too short for FF1 is pseudonymized instead, which the audit
        # event records; only FF1 tokens can be reversed.
        pairs = [
            (record[field_name], by_source[source][field_name])
            for source, (schema_name, record) in run.originals.items()
            if schema_name == "crm.Customer"
            and actions[source].get(field_name) == "tokenize"
        ]
        result = subprocess.run(
            [
                sys.executable,
                "-m",
                "streams.cli",
                "detokenize",
                "--config",
                str(run.config_path),
                "--reason",
                "check that tokens reverse",
                "--type",
                pii_type,
                *[token for _, token in pairs],
            ],
            capture_output=True,
            text=True,
            check=False,
        )
        assert result.returncode == 0, result.stderr[-2000:]
        assert result.stdout.splitlines() == [original for original, _ in pairs]
        checked += len(pairs)
    assert checked > GOOD_RECORDS * 3


def _actions_by_source(run: Run) -> dict[str, dict[str, str]]:
    actions: dict[str, dict[str, str]] = {}
    for message in run.audit:
        event = run.engine.decode_audit(message.value())
        actions[_event_source(event)] = {
            f["path"]: f["action"] for f in event["fields"]
        }
    return actions


def test_worker_log_holds_no_raw_value_or_key(run: Run) -> None:
    log = run.worker_log.encode("utf-8")
    assert b"Ready" in log or b"ready" in log
    for _source_name, value in _raw_values(run):
        raw = _as_bytes(value)
        if len(raw) >= 6:
            assert raw not in log
    for version in json.loads((run.config_path.parent / "keys.json").read_text())[
        "versions"
    ]:
        material = base64.b64decode(version["material"])
        assert version["material"].encode() not in log
        assert material.hex().encode() not in log


def _record_bytes(message: Any) -> bytes:
    parts = [message.key() or b"", message.value() or b""]
    for name, value in message.headers() or []:
        parts += [name.encode(), value or b""]
    return b"\x00".join(parts)


def _as_bytes(value: Any) -> bytes:
    return value if isinstance(value, bytes) else str(value).encode("utf-8")


def test_restart_processes_only_new_records(run: Run, kafka_bootstrap: str) -> None:
    # Runs last: it adds records to the topics the other tests have read.
    before = len(read_all(kafka_bootstrap, run.topics["audit"]))
    producer = Producer({"bootstrap.servers": kafka_bootstrap, "acks": "all"})
    generator = SampleGenerator(seed=99)
    for _ in range(20):
        customer = generator.customer()
        producer.produce(
            run.topics["customers"],
            key=customer["customer_id"].encode(),
            value=run.engine.encode("crm.Customer", customer),
        )
    assert producer.flush(60) == 0
    restarted = Run(
        config_path=run.config_path,
        engine=run.engine,
        keyring=run.keyring,
        topics=run.topics,
    )

    log_path = run.config_path.parent / "restart.log"
    _run_worker(restarted, kafka_bootstrap, log_path, before + 20)

    records = read_all(kafka_bootstrap, run.topics["audit"])
    # The detokenize test above adds re-identification events, which have
    # a schema of their own, to the audit topic.
    events = [
        run.engine.decode_audit(m.value())
        for m in records
        if m.value()[2:10] == run.engine.audit_fingerprint
    ]
    assert restarted.worker_exit == 0
    assert len(records) == before + 20
    assert len(events) == len(run.audit) + 20
    assert len({e["event_id"] for e in events}) == len(events)
