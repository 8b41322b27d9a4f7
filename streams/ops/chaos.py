"""A chaos run: the worker under SIGKILL, a broker restart and rebalances.

`run_chaos` starts a `LocalKafka` broker of its own, creates two routes'
topics, and produces generated customers and orders (a few of them
malformed) at a steady rate. While the records arrive, it SIGKILLs the
worker at random moments and starts it again. It also stops and starts the
broker on the same data folder and ports, and runs a second worker in the
same consumer group for a while, which makes the group rebalance twice.
When every source record has an audit event, it stops the workers and reads
every topic back.

`ChaosReport` then contains what the checks found: source offsets missing from
the destination and dead-letter topics, or without an audit event; raw
values of tagged fields found on a destination topic; the number of
duplicate outputs and audit events; and duplicates that disagree on their
audit id. ``scripts/chaos.py`` prints the report, and
``tests/integration/test_chaos.py`` asserts on a smaller run.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections import defaultdict
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from confluent_kafka import Consumer, KafkaError, Producer, TopicPartition

from streams.codec.store import SchemaStore
from streams.config import load_config
from streams.demo import DemoTopics
from streams.engine import MaskingEngine
from streams.errors import SeawallError
from streams.keys import Keyring
from streams.ops.kafka import LocalKafka, create_topics, start_on_free_ports
from streams.pipeline import AUDIT_ID_HEADER, SOURCE_HEADER
from streams.sample_data import SampleGenerator

PARTITIONS = 3
MALFORMED_EVERY = 500
"""One record in this many is truncated on purpose, so it must reach the DLQ."""

_SUPERVISE_INTERVAL_SECONDS = 0.5
_RESTART_DELAY_SECONDS = 1.0


class ChaosError(SeawallError):
    """The chaos run could not be carried out to the point of checking."""


@dataclass(frozen=True)
class ChaosPlan:
    """The records and disruptions of one chaos run.

    Attributes:
        records: Records to produce, across both routes.
        produce_seconds: Seconds over which the records are spread; the
            disruptions happen inside this window.
        kills: SIGKILLs of the main worker, at random moments.
        broker_restarts: Stops and starts of the broker.
        joins: Times a second worker joins the group and later leaves it.
        seed: Seed of the record generator and of the disruption times.
        settle_timeout: Seconds to wait, after the last record is produced,
            for every record to have an audit event.
        schemas: Folder of the source schemas.
        processing_guarantee: The workers' ``worker.processing_guarantee``.
            Every topic is read with ``isolation.level=read_committed`` in
            both modes.
    """

    records: int = 50_000
    produce_seconds: float = 120.0
    kills: int = 3
    broker_restarts: int = 1
    joins: int = 1
    seed: int = 2026
    settle_timeout: float = 600.0
    schemas: Path = Path("schemas")
    processing_guarantee: str = "at_least_once"


@dataclass
class ChaosReport:
    """Findings of the checks after a chaos run.

    Attributes:
        source_offsets: Records found on the source topics.
        malformed: Records produced malformed on purpose.
        outputs: Records on the destination topics, duplicates included.
        dead_letters: Records on the dead-letter topic, duplicates included.
        audit_events: Audit events, duplicates included.
        missing_output: Source offsets on neither the destination nor the
            dead-letter topic.
        in_both: Source offsets on both a destination and the dead-letter topic.
        missing_audit: Source offsets without an audit event.
        raw_values_checked: Raw tagged values looked for on the destinations.
        raw_values_found: Raw tagged values found on a destination topic.
        duplicate_outputs: Outputs and dead letters beyond the first per
            source offset.
        duplicate_audit_events: Audit events beyond the first per source offset.
        inconsistent_duplicates: Source offsets whose copies carry more than
            one audit id, or an audit id other than their audit event's.
        unexpected_exits: Worker exits that the run did not cause, with codes.
        disruptions: The disruptions done, in order, with their times.
        elapsed_seconds: Seconds from the first record produced to the checks.
    """

    source_offsets: int = 0
    malformed: int = 0
    outputs: int = 0
    dead_letters: int = 0
    audit_events: int = 0
    missing_output: list[str] = field(default_factory=list)
    in_both: list[str] = field(default_factory=list)
    missing_audit: list[str] = field(default_factory=list)
    raw_values_checked: int = 0
    raw_values_found: list[str] = field(default_factory=list)
    duplicate_outputs: int = 0
    duplicate_audit_events: int = 0
    inconsistent_duplicates: list[str] = field(default_factory=list)
    unexpected_exits: list[int] = field(default_factory=list)
    disruptions: list[str] = field(default_factory=list)
    elapsed_seconds: float = 0.0

    @property
    def passed(self) -> bool:
        """True when no record is lost, leaked, unaudited or inconsistent."""
        return not (
            self.missing_output
            or self.in_both
            or self.missing_audit
            or self.raw_values_found
            or self.inconsistent_duplicates
        )

    def lines(self) -> list[str]:
        """Return the findings as printable lines."""
        distinct = self.source_offsets or 1
        return [
            *(f"disruption: {entry}" for entry in self.disruptions),
            f"source offsets:            {self.source_offsets} "
            f"({self.malformed} malformed on purpose)",
            f"outputs + dead letters:    {self.outputs} + {self.dead_letters}",
            f"audit events:              {self.audit_events}",
            f"missing output or DLQ:     {len(self.missing_output)}"
            + _first(self.missing_output),
            f"on destination and DLQ:    {len(self.in_both)}" + _first(self.in_both),
            f"missing audit event:       {len(self.missing_audit)}"
            + _first(self.missing_audit),
            f"raw tagged values found:   {len(self.raw_values_found)} of "
            f"{self.raw_values_checked} checked" + _first(self.raw_values_found),
            f"duplicate outputs:         {self.duplicate_outputs} "
            f"({100 * self.duplicate_outputs / distinct:.2f}% of source offsets)",
            f"duplicate audit events:    {self.duplicate_audit_events} "
            f"({100 * self.duplicate_audit_events / distinct:.2f}%)",
            f"duplicates disagreeing:    {len(self.inconsistent_duplicates)}"
            + _first(self.inconsistent_duplicates),
            f"unexpected worker exits:   {len(self.unexpected_exits)} "
            f"(exit codes {sorted(set(self.unexpected_exits))})",
            f"elapsed:                   {self.elapsed_seconds:.0f} s",
            "result:                    " + ("PASS" if self.passed else "FAIL"),
        ]


def _first(items: list[str]) -> str:
    return f", first: {items[0]}" if items else ""


def run_chaos(
    plan: ChaosPlan, workdir: Path, log: Callable[[str], None] = print
) -> ChaosReport:
    """Run the chaos plan on a broker of its own under `workdir`; check the result.

    Args:
        plan: The records and disruptions.
        workdir: An empty folder for the broker data, keys, configuration and
            worker logs. It is left in place for inspection.
        log: Receives a line for each step and disruption.

    Raises:
        ChaosError: The broker, the producer or the workers failed in a way
            that leaves nothing to check.
    """
    broker = start_on_free_ports(workdir / "kafka", heap_max="512m")
    try:
        return _run_on(broker, plan, workdir, log)
    finally:
        broker.stop()


def _run_on(
    broker: LocalKafka, plan: ChaosPlan, workdir: Path, log: Callable[[str], None]
) -> ChaosReport:
    topics = DemoTopics.named(f".{uuid.uuid4().hex[:8]}")
    create_topics(broker.bootstrap, topics.all(), partitions=PARTITIONS)
    config_path = _write_config(workdir, broker.bootstrap, topics, plan)
    engine = MaskingEngine.from_config(load_config(config_path))
    report = ChaosReport()
    started = time.monotonic()

    producer = SourceProducer(broker.bootstrap, topics, engine.store, plan)
    producer.start()
    workers = Supervisor(config_path, workdir, log)
    try:
        workers.start_main()
        schedule = _schedule(plan)
        _disrupt(schedule, broker, workers, producer, report, started, log)
        producer.join_and_check()
        log(f"produced {producer.produced} records; waiting for their audit events")
        _settle(broker.bootstrap, topics, producer.coordinates(), workers, plan)
        workers.stop_all()
    finally:
        producer.stop()
        workers.kill_all()
    report.unexpected_exits = workers.unexpected_exits
    log("reading every topic back")
    _check(broker.bootstrap, topics, engine, producer, report)
    report.elapsed_seconds = time.monotonic() - started
    return report


def _write_config(
    workdir: Path, bootstrap: str, topics: DemoTopics, plan: ChaosPlan
) -> Path:
    Keyring.generate("chaos").save(workdir / "keys.json")
    config = {
        "kafka": {
            "bootstrap_servers": bootstrap,
            "group_id": f"seawall-chaos-{uuid.uuid4().hex[:8]}",
        },
        "schemas": {"directory": str(plan.schemas.resolve())},
        "keys": {"file": "keys.json"},
        # No HTTP endpoint, so two workers can run side by side.
        "metrics": {"port": None},
        "worker": {"processing_guarantee": plan.processing_guarantee},
        "audit_topic": topics.audit,
        "dead_letter_topic": topics.dead_letter,
        "routes": topics.routes(),
    }
    path = workdir / "config.yaml"
    path.write_text(yaml.safe_dump(config, sort_keys=False), encoding="utf-8")
    return path


class SourceProducer(threading.Thread):
    """Produces the generated records at a steady rate on a background thread.

    The producer is idempotent, so its retries during the broker restart
    write no record twice, and every source offset maps to one generated
    record.
    """

    def __init__(
        self, bootstrap: str, topics: DemoTopics, store: SchemaStore, plan: ChaosPlan
    ) -> None:
        super().__init__(name="chaos-producer", daemon=True)
        self._producer = Producer(
            {
                "bootstrap.servers": bootstrap,
                "acks": "all",
                "enable.idempotence": True,
                "linger.ms": 20,
                "log_level": 0,
            }
        )
        self._topics = topics
        self._store = store
        self._plan = plan
        self._stopping = threading.Event()
        self._lock = threading.Lock()
        self.originals: dict[str, tuple[str, dict[str, Any]]] = {}
        self.malformed: set[str] = set()
        self.errors: list[str] = []
        self.produced = 0

    def run(self) -> None:
        """Produce every record, paced over `produce_seconds`, then flush."""
        interval = self._plan.produce_seconds / self._plan.records
        begin = time.monotonic()
        generator = SampleGenerator(self._plan.seed)
        for index, sample in enumerate(generator.records(self._plan.records)):
            if self._stopping.is_set():
                return
            delay = begin + index * interval - time.monotonic()
            if delay > 0:
                time.sleep(delay)  # pacing the records, not waiting for a condition
            self._produce(index, sample.schema_name, sample.value)
        self._producer.flush(300)

    def _produce(self, index: int, schema_name: str, record: dict[str, Any]) -> None:
        topic = (
            self._topics.customers
            if schema_name == "crm.Customer"
            else self._topics.orders
        )
        value = self._store.encode(schema_name, record)
        bad = index % MALFORMED_EVERY == MALFORMED_EVERY - 1
        if bad:
            value = value[: len(value) // 2]
        while True:
            try:
                self._producer.produce(
                    topic,
                    value=value,
                    key=str(index).encode(),
                    on_delivery=self._on_delivery(schema_name, record, bad),
                )
            except BufferError:
                self._producer.poll(0.5)
                continue
            break
        self._producer.poll(0)
        self.produced += 1

    def _on_delivery(
        self, schema_name: str, record: dict[str, Any], bad: bool
    ) -> Callable[[Any, Any], None]:
        def delivered(err: Any, msg: Any) -> None:
            with self._lock:
                if err is not None:
                    self.errors.append(str(err))
                    return
                source = f"{msg.topic()}:{msg.partition()}:{msg.offset()}"
                if bad:
                    self.malformed.add(source)
                else:
                    self.originals[source] = (schema_name, record)

        return delivered

    def coordinates(self) -> set[str]:
        """Return the source coordinates of every acknowledged record."""
        with self._lock:
            return set(self.originals) | self.malformed

    def join_and_check(self) -> None:
        """Wait for the last acknowledgement; raise if a record was not taken."""
        self.join()
        if self.errors:
            raise ChaosError(
                f"the broker rejected {len(self.errors)} source records; "
                f"first error: {self.errors[0]}"
            )
        acknowledged = len(self.coordinates())
        if acknowledged != self._plan.records:
            raise ChaosError(
                f"only {acknowledged} of {self._plan.records} source records were "
                "acknowledged within 300 s of the last one"
            )

    def stop(self) -> None:
        """Stop producing early, if still running."""
        self._stopping.set()
        if self.is_alive():
            self.join(timeout=330)


class Supervisor:
    """Runs the main worker, restarting it after every exit, and a second worker.

    It plays the part of a process supervisor such as Kubernetes: the main
    worker is started again one second after any exit. Exits that the run
    did not cause are recorded with their exit codes.
    """

    def __init__(self, config_path: Path, workdir: Path, log: Callable[[str], None]):
        self._config_path = config_path
        self._workdir = workdir
        self._log = log
        self._serial = 0
        self.main: subprocess.Popen[bytes] | None = None
        self.second: subprocess.Popen[bytes] | None = None
        self._main_exited_at: float | None = None
        self.unexpected_exits: list[int] = []

    def _spawn(self, role: str) -> subprocess.Popen[bytes]:
        self._serial += 1
        log_path = self._workdir / f"worker-{self._serial:02d}-{role}.log"
        with open(log_path, "wb") as output:
            return subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "streams.cli",
                    "worker",
                    "--config",
                    str(self._config_path),
                ],
                stdout=output,
                stderr=subprocess.STDOUT,
                # A crash in native code then leaves a Python traceback in the log.
                env={**os.environ, "PYTHONFAULTHANDLER": "1"},
            )

    def start_main(self) -> None:
        """Start the main worker."""
        self.main = self._spawn("main")
        self._main_exited_at = None

    def kill_main(self) -> None:
        """SIGKILL the main worker and start it again at once."""
        if self.main is not None and self.main.poll() is None:
            self.main.send_signal(signal.SIGKILL)
            self.main.wait()
        self.start_main()

    def join_second(self) -> None:
        """Start a second worker in the same consumer group."""
        self.second = self._spawn("second")

    def leave_second(self) -> None:
        """Stop the second worker with SIGTERM, so it leaves the group."""
        if self.second is not None:
            _terminate(self.second)
            self.second = None

    def supervise(self) -> None:
        """Restart the main worker a second after an exit, the second one at once."""
        if self.main is not None and self.main.returncode is None:
            code = self.main.poll()
            if code is not None:
                self._log(f"main worker exited with code {code}; restarting it")
                self.unexpected_exits.append(code)
                self._main_exited_at = time.monotonic()
        if self._main_exited_at is not None and (
            time.monotonic() - self._main_exited_at >= _RESTART_DELAY_SECONDS
        ):
            self.start_main()
        if self.second is not None and self.second.poll() is not None:
            self._log(f"second worker exited with code {self.second.returncode}")
            self.unexpected_exits.append(self.second.returncode)
            self.second = self._spawn("second")

    def stop_all(self) -> None:
        """Stop every worker with SIGTERM."""
        self.leave_second()
        if self.main is not None:
            _terminate(self.main)

    def kill_all(self) -> None:
        """SIGKILL any worker still running."""
        for worker in (self.main, self.second):
            if worker is not None and worker.poll() is None:
                worker.kill()
                worker.wait()


def _terminate(worker: subprocess.Popen[bytes]) -> None:
    worker.send_signal(signal.SIGTERM)
    try:
        worker.wait(timeout=60)
    except subprocess.TimeoutExpired:
        worker.kill()
        worker.wait()


def _schedule(plan: ChaosPlan) -> list[tuple[float, str]]:
    """Return ``(seconds after start, action)`` pairs, earliest first.

    Kills fall at random moments, one in each equal slice of the middle 80%
    of the production window. The broker restarts at its middle; the second
    worker joins at a quarter and leaves at 70% of it.
    """
    rng = random.Random(plan.seed)
    window = plan.produce_seconds
    events: list[tuple[float, str]] = []
    slice_length = 0.8 * window / max(plan.kills, 1)
    for index in range(plan.kills):
        start = 0.1 * window + index * slice_length
        events.append((start + rng.uniform(0.1, 0.9) * slice_length, "kill"))
    for index in range(plan.broker_restarts):
        events.append(((index + 1) / (plan.broker_restarts + 1) * window, "broker"))
    for index in range(plan.joins):
        share = 1 / plan.joins
        events.append(((index + 0.25) * share * window, "join"))
        events.append(((index + 0.7) * share * window, "leave"))
    return sorted(events)


def _disrupt(
    schedule: list[tuple[float, str]],
    broker: LocalKafka,
    workers: Supervisor,
    producer: SourceProducer,
    report: ChaosReport,
    started: float,
    log: Callable[[str], None],
) -> None:
    """Carry out the schedule while keeping the workers running."""
    pending = list(schedule)
    while pending or producer.is_alive():
        now = time.monotonic() - started
        while pending and pending[0][0] <= now:
            _at, action = pending.pop(0)
            entry = (
                f"{time.monotonic() - started:6.1f} s {_do(action, broker, workers)}"
            )
            entry += f" ({producer.produced} records produced)"
            report.disruptions.append(entry)
            log(entry)
        workers.supervise()
        time.sleep(_SUPERVISE_INTERVAL_SECONDS)  # supervision tick


def _do(action: str, broker: LocalKafka, workers: Supervisor) -> str:
    """Carry out one disruption; return its description."""
    if action == "kill":
        workers.kill_main()
        return "SIGKILL main worker, restarted"
    if action == "broker":
        began = time.monotonic()
        broker.stop()
        broker.start()
        return f"broker stopped and started again in {time.monotonic() - began:.1f} s"
    if action == "join":
        workers.join_second()
        return "second worker joined"
    workers.leave_second()
    return "second worker left (SIGTERM)"


def _settle(
    bootstrap: str,
    topics: DemoTopics,
    expected: set[str],
    workers: Supervisor,
    plan: ChaosPlan,
) -> None:
    """Wait until every source record has an audit event, keeping workers alive."""
    tail = _Tail(bootstrap, [topics.audit])
    audited: set[str] = set()
    deadline = time.monotonic() + plan.settle_timeout
    try:
        while not expected <= audited:
            if time.monotonic() > deadline:
                raise ChaosError(
                    f"timed out after {plan.settle_timeout:.0f} s with audit events "
                    f"for {len(expected & audited)} of {len(expected)} "
                    "source records"
                )
            for message in tail.poll():
                audited.add(_header(message, SOURCE_HEADER))
            workers.supervise()
    finally:
        tail.close()


class _Tail:
    """Reads topics from their start, one batch at a time."""

    def __init__(self, bootstrap: str, names: list[str], committed: bool = True):
        self._consumer = Consumer(
            {
                "bootstrap.servers": bootstrap,
                "group.id": f"seawall-chaos-reader-{uuid.uuid4().hex[:8]}",
                "enable.auto.commit": False,
                "enable.partition.eof": True,
                "isolation.level": "read_committed"
                if committed
                else "read_uncommitted",
                "log_level": 0,
            }
        )
        assignment = []
        for name in names:
            metadata = self._consumer.list_topics(name, timeout=30)
            partitions = metadata.topics[name].partitions
            assignment += [TopicPartition(name, p, 0) for p in partitions]
        self._consumer.assign(assignment)
        self._at_end: set[str] = set()
        self._size = len(assignment)

    def poll(self) -> list[Any]:
        """Return the next batch of records, waiting up to a second."""
        records = []
        for message in self._consumer.consume(1000, timeout=1.0):
            error = message.error()
            where = f"{message.topic()}:{message.partition()}"
            if error is None:
                records.append(message)
                self._at_end.discard(where)
            elif error.code() == KafkaError._PARTITION_EOF:
                self._at_end.add(where)
        return records

    @property
    def at_end(self) -> bool:
        """True when every partition reached its end since its last record."""
        return len(self._at_end) == self._size

    def close(self) -> None:
        """Close the consumer."""
        self._consumer.close()


def read_topics(bootstrap: str, names: list[str], timeout: float = 300.0) -> list[Any]:
    """Read every committed record of the topics up to their current ends.

    Raises:
        ChaosError: The ends were not reached within `timeout` seconds.
    """
    tail = _Tail(bootstrap, names)
    records: list[Any] = []
    deadline = time.monotonic() + timeout
    try:
        while not tail.at_end:
            if time.monotonic() > deadline:
                raise ChaosError(
                    f"reading {', '.join(names)} did not reach the end within "
                    f"{timeout:.0f} s"
                )
            records += tail.poll()
    finally:
        tail.close()
    return records


def _header(message: Any, name: str) -> str:
    for key, value in message.headers() or []:
        if key == name:
            return bytes(value or b"").decode("utf-8")
    return ""


def _check(
    bootstrap: str,
    topics: DemoTopics,
    engine: MaskingEngine,
    producer: SourceProducer,
    report: ChaosReport,
) -> None:
    """Read every topic and fill in the findings of `report`."""
    sources = {
        _coordinates(m)
        for m in read_topics(bootstrap, [topics.customers, topics.orders])
    }
    outputs = read_topics(bootstrap, [topics.xb_customers, topics.xb_orders])
    dead_letters = read_topics(bootstrap, [topics.dead_letter])
    audit = [
        engine.decode_audit(m.value()) for m in read_topics(bootstrap, [topics.audit])
    ]
    report.source_offsets = len(sources)
    report.malformed = len(producer.malformed)
    report.outputs = len(outputs)
    report.dead_letters = len(dead_letters)
    report.audit_events = len(audit)

    output_sources = {_header(m, SOURCE_HEADER) for m in outputs}
    dead_sources = {_header(m, SOURCE_HEADER) for m in dead_letters}
    audit_ids = _audit_ids(audit)
    report.missing_output = sorted(sources - output_sources - dead_sources)
    report.in_both = sorted(output_sources & dead_sources)
    report.missing_audit = sorted(sources - set(audit_ids))
    report.duplicate_outputs = (
        len(outputs) + len(dead_letters) - len(output_sources | dead_sources)
    )
    report.duplicate_audit_events = len(audit) - len(audit_ids)
    report.inconsistent_duplicates = _inconsistent(outputs + dead_letters, audit_ids)
    _check_raw_values(engine, producer.originals, outputs, report)


def _coordinates(message: Any) -> str:
    return f"{message.topic()}:{message.partition()}:{message.offset()}"


def _audit_ids(events: list[dict[str, Any]]) -> dict[str, set[str]]:
    """Return the audit ids found for each source offset."""
    ids: dict[str, set[str]] = defaultdict(set)
    for event in events:
        topic, partition = event["source_topic"], event["source_partition"]
        ids[f"{topic}:{partition}:{event['source_offset']}"].add(event["event_id"])
    return ids


def _inconsistent(records: list[Any], audit_ids: dict[str, set[str]]) -> list[str]:
    """Return source offsets whose copies and audit events disagree on the id."""
    header_ids: dict[str, set[str]] = defaultdict(set)
    for message in records:
        header_ids[_header(message, SOURCE_HEADER)].add(
            _header(message, AUDIT_ID_HEADER)
        )
    disagreeing = [
        source
        for source, ids in header_ids.items()
        if len(ids) != 1 or ids != audit_ids.get(source, ids)
    ]
    disagreeing += [source for source, ids in audit_ids.items() if len(ids) != 1]
    return sorted(set(disagreeing))


def _check_raw_values(
    engine: MaskingEngine,
    originals: dict[str, tuple[str, dict[str, Any]]],
    outputs: list[Any],
    report: ChaosReport,
) -> None:
    """Look for raw tagged values on the destination topics.

    Each record's raw values are looked for as substrings of every copy of
    its own output: key, value and headers. Across the whole topic, a raw
    value of one record must not equal any string field, key or header of
    another output, which finds values carried over by a mix-up. That check
    skips values whose token domain is small enough, for the number of
    records, that a token can equal them by chance.
    """
    by_source: dict[str, list[bytes]] = defaultdict(list)
    leaves: set[str] = set()
    for message in outputs:
        by_source[_header(message, SOURCE_HEADER)].append(_record_bytes(message))
        leaves.update(_strings(engine.decode(message.value())))
        leaves.add((message.key() or b"").decode("utf-8", "replace"))
        leaves.update(_header(message, name) for name, _ in message.headers() or [])
    tagged = _TaggedValues(engine.store)
    for source, (schema_name, record) in originals.items():
        copies = by_source.get(source, [])
        for value in tagged.values(schema_name, record):
            report.raw_values_checked += 1
            raw = value.encode("utf-8")
            leaked = any(raw in copy for copy in copies)
            if not leaked and _collision_unlikely(value, len(originals)):
                leaked = value in leaves
            if leaked:
                # Only the coordinates: the value itself is personal.
                report.raw_values_found.append(source)


def _record_bytes(message: Any) -> bytes:
    parts = [message.key() or b"", message.value() or b""]
    for name, value in message.headers() or []:
        parts += [name.encode(), value or b""]
    return b"\x00".join(parts)


def _strings(value: Any) -> Iterator[str]:
    """Yield every string inside a decoded Avro value."""
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from _strings(item)
    elif isinstance(value, list | tuple):
        for item in value:
            yield from _strings(item)


def _collision_unlikely(value: str, records: int) -> bool:
    """Tell whether a token of another record can equal this value by chance.

    With n records, about n**2 pairs of a raw value and another record's
    token can collide. A value counts when a conservative estimate of its
    token domain is at least 10,000 times n**2, so a chance match in a run
    is below about 1 in 10,000. The estimates: an e-mail local part of
    length L has at least 26**L values. A digit string keeps some digits and
    restricts others (a resident ID's region and birth date must be valid), so
    one of length L gets 10**(L - 7). A Chinese value of L characters gets
    3,500**L, the size of the level-1 character list.
    """
    needed = 10_000 * records**2
    local, at, _domain = value.partition("@")
    if at:
        return bool(local) and bool(26 ** len(local) >= needed)
    if value[:-1].isdigit():
        return bool(10 ** max(len(value) - 7, 0) >= needed)
    is_chinese = all("\u3400" <= char <= "\U0003134f" for char in value)
    return is_chinese and bool(3500 ** len(value) >= needed)


class _TaggedValues:
    """Finds the values of fields tagged with a ``pii`` type other than none."""

    def __init__(self, store: SchemaStore) -> None:
        self._store = store
        self._named: Mapping[str, Any] = {}

    def values(self, schema_name: str, record: dict[str, Any]) -> list[str]:
        """Return the non-empty string values of the record's tagged fields."""
        entry = self._store.by_name(schema_name)
        self._named = entry.named_types
        found: list[str] = []
        self._walk(entry.schema, record, tagged=False, found=found)
        return [value for value in found if value]

    def _resolve(self, schema: Any) -> Any:
        return self._named.get(schema, schema) if isinstance(schema, str) else schema

    def _walk(self, schema: Any, value: Any, tagged: bool, found: list[str]) -> None:
        schema = self._resolve(schema)
        kind = schema.get("type") if isinstance(schema, dict) else None
        if value is None:
            return
        if isinstance(schema, list):
            self._walk_union(schema, value, tagged, found)
        elif kind == "record":
            for child in schema["fields"]:
                child_tagged = tagged or child.get("pii", "none") != "none"
                self._walk(child["type"], value[child["name"]], child_tagged, found)
        elif kind == "array":
            for item in value:
                self._walk(schema["items"], item, tagged, found)
        elif kind == "map":
            for item in value.values():
                self._walk(schema["values"], item, tagged, found)
        elif tagged and isinstance(value, str):
            found.append(value)

    def _walk_union(
        self, branches: list[Any], value: Any, tagged: bool, found: list[str]
    ) -> None:
        # fastavro takes a (type name, value) tuple to pick a union branch.
        resolved = [self._resolve(branch) for branch in branches if branch != "null"]
        if isinstance(value, tuple):
            name, value = value
            resolved = [
                b for b in resolved if isinstance(b, dict) and b["name"] == name
            ]
        if resolved:
            self._walk(resolved[0], value, tagged, found)
