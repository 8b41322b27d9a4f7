"""Exactly-once mode: each source record is seen once by read_committed consumers.

The chaos run at CI size (3,000 records, one SIGKILL, one broker restart,
one join and leave) runs with ``worker.processing_guarantee: exactly_once``
and reads every topic with ``isolation.level=read_committed``. It must find
no duplicate at all. A direct test kills a worker while a transaction is
open and checks that none of its records is visible to read_committed.
"""

from __future__ import annotations

import signal
import subprocess
import threading
import time
import uuid
from pathlib import Path
from typing import Any

import pytest
from confluent_kafka import (
    Consumer,
    KafkaError,
    KafkaException,
    Producer,
    TopicPartition,
)
from test_security_support import (
    Pipeline,
    committed_offsets,
    make_pipeline,
    start_worker,
    topic_names,
)

from streams.ops.chaos import ChaosPlan, ChaosReport, run_chaos
from streams.ops.kafka import create_topics
from streams.pipeline import SOURCE_HEADER
from streams.sample_data import SampleGenerator

pytestmark = pytest.mark.kafka

REPO = Path(__file__).resolve().parents[2]
PLAN = ChaosPlan(
    records=3000,
    produce_seconds=40.0,
    kills=1,
    broker_restarts=1,
    joins=1,
    seed=7,
    settle_timeout=240.0,
    schemas=REPO / "schemas",
    processing_guarantee="exactly_once",
)
RECORDS = 1500
RECORDS_PER_SECOND = 100
KILL_ATTEMPTS = 3


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> ChaosReport:
    result = run_chaos(PLAN, tmp_path_factory.mktemp("chaos-eos"), log=lambda _: None)
    print("\n".join(result.lines()))
    return result


def test_chaos_disruptions_happened(report: ChaosReport) -> None:
    kinds = [entry.split(" s ", 1)[1] for entry in report.disruptions]
    assert sum(kind.startswith("SIGKILL") for kind in kinds) == PLAN.kills
    assert sum(kind.startswith("broker stopped") for kind in kinds) == 1
    assert sum(kind.startswith("second worker joined") for kind in kinds) == 1
    assert sum(kind.startswith("second worker left") for kind in kinds) == 1


def test_chaos_every_offset_on_one_side(report: ChaosReport) -> None:
    assert report.source_offsets == PLAN.records
    assert report.missing_output == []
    assert report.in_both == []


def test_chaos_no_duplicate_outputs(report: ChaosReport) -> None:
    assert report.duplicate_outputs == 0
    assert report.outputs + report.dead_letters == PLAN.records


def test_chaos_no_duplicate_audit_events(report: ChaosReport) -> None:
    assert report.duplicate_audit_events == 0
    assert report.audit_events == PLAN.records


def test_chaos_every_offset_audited(report: ChaosReport) -> None:
    assert report.missing_audit == []


def test_chaos_no_raw_tagged_values(report: ChaosReport) -> None:
    assert report.raw_values_checked > PLAN.records * 5
    assert report.raw_values_found == []


def _source_offsets(bootstrap: str, topics: list[str], committed: bool) -> list[int]:
    """Read the topics to their ends; return the source offset of each record."""
    consumer = Consumer(
        {
            "bootstrap.servers": bootstrap,
            "group.id": f"test-reader-{uuid.uuid4().hex[:8]}",
            "enable.auto.commit": False,
            "enable.partition.eof": True,
            "isolation.level": "read_committed" if committed else "read_uncommitted",
        }
    )
    consumer.assign([TopicPartition(topic, 0, 0) for topic in topics])
    offsets: list[int] = []
    at_end: set[str] = set()
    deadline = time.monotonic() + 60
    try:
        while len(at_end) < len(topics):
            assert time.monotonic() < deadline, f"{topics} not read to the end"
            for message in consumer.consume(1000, timeout=1.0):
                error = message.error()
                if error is None:
                    offsets.append(_source_offset(message))
                    at_end.discard(message.topic())
                elif error.code() == KafkaError._PARTITION_EOF:
                    topic = message.topic()
                    assert topic is not None
                    at_end.add(topic)
    finally:
        consumer.close()
    return offsets


def _source_offset(message: Any) -> int:
    for name, value in message.headers() or []:
        if name == SOURCE_HEADER:
            return int(bytes(value).decode("utf-8").rpartition(":")[2])
    raise AssertionError(f"record without {SOURCE_HEADER} on {message.topic()}")


def _committed(pipeline: Pipeline, bootstrap: str) -> int:
    """Return the committed source offset, retrying while the coordinator loads."""
    deadline = time.monotonic() + 60
    while True:
        try:
            return committed_offsets(pipeline, bootstrap, 1)[0]
        except KafkaException:
            if time.monotonic() > deadline:
                raise
        time.sleep(0.5)  # poll interval; the loop is bounded by the deadline


def _outputs(pipeline: Pipeline) -> list[str]:
    return [pipeline.topics["destination"], pipeline.topics["dlq"]]


class _PacedProducer(threading.Thread):
    """Produces generated customers to the source topic at a steady rate."""

    def __init__(self, pipeline: Pipeline, bootstrap: str) -> None:
        super().__init__(daemon=True)
        self._pipeline = pipeline
        self._producer = Producer({"bootstrap.servers": bootstrap, "acks": "all"})
        self.errors: list[str] = []

    def run(self) -> None:
        generator = SampleGenerator(seed=3)
        for _ in range(RECORDS):
            customer = generator.customer()
            value = self._pipeline.engine.encode("crm.Customer", customer)
            self._producer.produce(
                self._pipeline.topics["source"], value=value, on_delivery=self._done
            )
            self._producer.poll(0)
            time.sleep(1 / RECORDS_PER_SECOND)  # sets the rate, waits for nothing
        if self._producer.flush(60) != 0:
            self.errors.append("records left unsent after 60 s")

    def _done(self, err: Any, _message: Any) -> None:
        if err is not None:
            self.errors.append(str(err))


def _aborted_or_open(pipeline: Pipeline, bootstrap: str) -> int:
    """Return the output records that read_committed does not see."""
    written = _source_offsets(bootstrap, _outputs(pipeline), committed=False)
    visible = _source_offsets(bootstrap, _outputs(pipeline), committed=True)
    return len(written) - len(visible)


def _end_offset(bootstrap: str, topic: str, committed: bool) -> int:
    """Return the last stable offset, or with ``committed=False`` the high watermark."""
    consumer = Consumer(
        {
            "bootstrap.servers": bootstrap,
            "group.id": f"test-reader-{uuid.uuid4().hex[:8]}",
            "isolation.level": "read_committed" if committed else "read_uncommitted",
        }
    )
    try:
        _, end = consumer.get_watermark_offsets(
            TopicPartition(topic, 0), timeout=30, cached=False
        )
        return int(end)
    finally:
        consumer.close()


def _wait_for_open_transaction(
    pipeline: Pipeline, bootstrap: str, worker: subprocess.Popen[bytes]
) -> None:
    """Poll until the destination has records of a transaction not yet ended."""
    destination = pipeline.topics["destination"]
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and worker.poll() is None:
        try:
            stable = _end_offset(bootstrap, destination, committed=True)
            written = _end_offset(bootstrap, destination, committed=False)
        except KafkaException:
            # The partition leader is not known yet while the topic is new.
            written, stable = 0, 0
        if written > stable > 0:
            return
        time.sleep(0.05)  # poll interval; the loop is bounded by the deadline
    raise AssertionError("the worker never had an open transaction")


def _kill_mid_batch(pipeline: Pipeline, bootstrap: str, log: Path, before: int) -> int:
    """SIGKILL a worker during a transaction; return the records not committed."""
    with open(log, "ab") as output:
        worker = start_worker(pipeline, output)
        try:
            _wait_for_open_transaction(pipeline, bootstrap, worker)
        finally:
            worker.send_signal(signal.SIGKILL)
            worker.wait()
    return _aborted_or_open(pipeline, bootstrap)


def _run_to_end(pipeline: Pipeline, bootstrap: str, log: Path) -> int:
    """Run a worker until every offset is committed; stop it; return its exit code."""
    with open(log, "ab") as output:
        worker = start_worker(pipeline, output)
        deadline = time.monotonic() + 180
        try:
            while _committed(pipeline, bootstrap) < RECORDS:
                assert time.monotonic() < deadline, log.read_text()[-3000:]
                assert worker.poll() is None, log.read_text()[-3000:]
                time.sleep(0.5)  # poll interval; bounded by the deadline
            worker.send_signal(signal.SIGTERM)
            return worker.wait(timeout=60)
        finally:
            if worker.poll() is None:
                worker.kill()
                worker.wait()


def test_sigkill_mid_batch_hides_the_batch(
    kafka_bootstrap: str, tmp_path: Path
) -> None:
    topics = topic_names()
    create_topics(kafka_bootstrap, list(topics.values()), partitions=1)
    pipeline = make_pipeline(
        tmp_path,
        topics,
        {"bootstrap_servers": kafka_bootstrap},
        worker={"processing_guarantee": "exactly_once"},
    )
    source = _PacedProducer(pipeline, kafka_bootstrap)
    source.start()
    log = tmp_path / "worker.log"

    # A SIGKILL can land between two transactions. Then no more records are
    # left out of read_committed than before, and the next worker is killed.
    hidden, before = 0, 0
    for _ in range(KILL_ATTEMPTS):
        hidden = _kill_mid_batch(pipeline, kafka_bootstrap, log, before)
        if hidden > before:
            break
        before = hidden
    assert hidden > before, "no SIGKILL landed inside a transaction"

    # read_committed reads exactly the offsets below the committed one.
    committed = _committed(pipeline, kafka_bootstrap)
    visible = _source_offsets(kafka_bootstrap, _outputs(pipeline), committed=True)
    audited = _source_offsets(kafka_bootstrap, [topics["audit"]], committed=True)
    assert 0 < committed < RECORDS
    assert sorted(visible) == list(range(committed))
    assert sorted(audited) == list(range(committed))

    # The next worker fences the killed one's transaction and completes the run.
    code = _run_to_end(pipeline, kafka_bootstrap, log)
    source.join()
    assert source.errors == []
    assert code == 0, log.read_text()[-3000:]
    visible = _source_offsets(kafka_bootstrap, _outputs(pipeline), committed=True)
    audited = _source_offsets(kafka_bootstrap, [topics["audit"]], committed=True)
    assert sorted(visible) == list(range(RECORDS))
    assert sorted(audited) == list(range(RECORDS))
