"""Consumer lag of the worker's group, measured from the broker.

`LagMonitor` runs in a thread of its own, apart from the stream loop, so
the lag it reports stays right when the stream loop is stuck. Each cycle
requests from the broker, through confluent-kafka's AdminClient, the group's
committed offsets and the watermarks of every partition of the source
topics. The lag in offsets is the high watermark minus the committed
offset (minus the low watermark when the group has committed nothing,
because the worker then starts at the earliest record). The lag in
seconds is the age of the oldest record not yet processed: the record at
the committed offset, read with a short-lived consumer that assigns and
seeks and never joins or commits to a group.
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from confluent_kafka import (
    TIMESTAMP_NOT_AVAILABLE,
    Consumer,
    KafkaException,
    TopicPartition,
)
from confluent_kafka import admin as kafka_admin
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

logger = logging.getLogger(__name__)

# librdkafka's OFFSET_INVALID: the group has no committed offset.
_NO_OFFSET = -1001


@dataclass(frozen=True)
class PartitionLag:
    """The lag of one source partition.

    Attributes:
        topic: Source topic.
        partition: Partition number.
        offsets: High watermark minus the offset the group resumes from.
        seconds: Age of the record at that offset; 0 when `offsets` is 0,
            None when the record could not be read in time.
    """

    topic: str
    partition: int
    offsets: int
    seconds: float | None


@dataclass(frozen=True)
class LagSnapshot:
    """The lag of every source partition at one time (``time.time()``)."""

    taken_at: float
    partitions: tuple[PartitionLag, ...]


class LagMonitor:
    """Measures the group's lag on an interval, in a daemon thread.

    Args:
        bootstrap_servers: Kafka ``host:port`` list.
        group_id: The worker's consumer group.
        topics: Source topics to measure.
        interval: Seconds between two measurements.
        timeout: Seconds each broker request may take.
        clock: Wall clock in seconds, compared with record timestamps.
        client_config: Further confluent-kafka settings of the admin client
            and the probe consumer, such as TLS and SASL.
    """

    def __init__(
        self,
        bootstrap_servers: str,
        group_id: str,
        topics: Sequence[str],
        *,
        interval: float = 10.0,
        timeout: float = 10.0,
        clock: Callable[[], float] = time.time,
        client_config: Mapping[str, Any] | None = None,
    ) -> None:
        self.bootstrap_servers = bootstrap_servers
        self._client_config = {
            **(client_config or {}),
            "bootstrap.servers": bootstrap_servers,
        }
        self.group_id = group_id
        self.topics = tuple(topics)
        self.interval = interval
        self.timeout = timeout
        self._clock = clock
        self._admin = kafka_admin.AdminClient(self._client_config)
        self._committed_reader: Any = None
        self._latest: LagSnapshot | None = None
        self._broker_reachable = False
        self._failures = 0
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    @property
    def latest(self) -> LagSnapshot | None:
        """The last successful measurement, or None before the first."""
        return self._latest

    @property
    def broker_reachable(self) -> bool:
        """True when the last measurement reached the broker."""
        return self._broker_reachable

    def start(self) -> None:
        """Start measuring in a daemon thread."""
        self._thread = threading.Thread(
            target=self._run, name="seawall-lag-monitor", daemon=True
        )
        self._thread.start()

    def stop(self) -> None:
        """Stop the thread and wait for it, up to one request timeout."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=self.timeout * 3)

    def _run(self) -> None:
        try:
            while not self._stop.is_set():
                self._measure_logged()
                self._stop.wait(self.interval)
        finally:
            if self._committed_reader is not None:
                self._committed_reader.close()

    def _measure_logged(self) -> None:
        """Measure once; log a failure instead of raising it."""
        try:
            self._latest = self.measure()
        except (KafkaException, TimeoutError) as exc:
            # A broker request that times out raises TimeoutError from
            # future.result(); it must not end the monitor thread.
            self._broker_reachable = False
            self._failures += 1
            # One line on the first failure and then one a minute or so, so a
            # broker outage does not flood the log.
            if self._failures == 1 or self._failures % 6 == 0:
                logger.warning(
                    "consumer lag measurement failed, retrying in %g s: "
                    "bootstrap=%s group=%s failures=%d error=%s",
                    self.interval,
                    self.bootstrap_servers,
                    self.group_id,
                    self._failures,
                    exc.args[0] if exc.args else type(exc).__name__,
                )
            return
        if self._failures:
            logger.info("consumer lag measurement works again: group=%s", self.group_id)
        self._failures = 0
        self._broker_reachable = True

    def measure(self) -> LagSnapshot:
        """Measure the lag of every partition of the source topics now.

        Raises:
            KafkaException: The broker did not respond in time, or a source
                topic is missing.
        """
        partitions = self._partitions()
        committed = self._committed(partitions)
        low = self._offsets(partitions, _offset_spec("earliest"))
        high = self._offsets(partitions, _offset_spec("latest"))
        starts = {
            key: committed[key] if committed.get(key, _NO_OFFSET) >= 0 else low[key]
            for key in partitions
        }
        lags = {key: max(high[key] - starts[key], 0) for key in partitions}
        behind = {key: starts[key] for key in partitions if lags[key] > 0}
        timestamps = self._timestamps(behind)
        now = self._clock()
        result = tuple(
            PartitionLag(
                topic=topic,
                partition=partition,
                offsets=lags[(topic, partition)],
                seconds=_age(
                    lags[(topic, partition)], timestamps, (topic, partition), now
                ),
            )
            for topic, partition in partitions
        )
        return LagSnapshot(taken_at=now, partitions=result)

    def _partitions(self) -> list[tuple[str, int]]:
        metadata = self._admin.list_topics(timeout=self.timeout)
        found: list[tuple[str, int]] = []
        for topic in self.topics:
            described = metadata.topics.get(topic)
            if described is None or described.error is not None:
                raise KafkaException(f"source topic {topic} not found on the broker")
            found += [(topic, partition) for partition in sorted(described.partitions)]
        return found

    def _committed(self, partitions: Iterable[tuple[str, int]]) -> dict[Any, int]:
        # NOTE: AdminClient.list_consumer_group_offsets is not used because
        # librdkafka crashes the process when the broker responds to it with
        # NOT_COORDINATOR, as a starting broker does (seen here with
        # confluent-kafka 2.16.1 and its bundled librdkafka). A consumer in the
        # worker's group reads the same offsets through its own coordinator
        # code. It never subscribes, so it never joins the group.
        if self._committed_reader is None:
            self._committed_reader = Consumer(
                {
                    **self._client_config,
                    "group.id": self.group_id,
                    "enable.auto.commit": False,
                }
            )
        wanted = [TopicPartition(t, p) for t, p in partitions]
        found = self._committed_reader.committed(wanted, timeout=self.timeout)
        return {(tp.topic, tp.partition): tp.offset for tp in found}

    def _offsets(
        self, partitions: Iterable[tuple[str, int]], spec: Any
    ) -> dict[tuple[str, int], int]:
        request = {TopicPartition(t, p): spec for t, p in partitions}
        futures = self._admin.list_offsets(request, request_timeout=self.timeout)
        return {
            (tp.topic, tp.partition): future.result(timeout=self.timeout).offset
            for tp, future in futures.items()
        }

    def _timestamps(self, starts: dict[tuple[str, int], int]) -> dict[Any, float]:
        """Read the timestamp, in seconds, of the record at each start offset."""
        if not starts:
            return {}
        consumer = Consumer(
            {
                **self._client_config,
                # Required by the client; the consumer never subscribes or
                # commits, so the group is never joined.
                "group.id": f"{self.group_id}.lag-probe.{uuid.uuid4().hex[:8]}",
                "enable.auto.commit": False,
                "auto.offset.reset": "earliest",
            }
        )
        try:
            return dict(self._read_first(consumer, starts))
        finally:
            consumer.close()

    def _read_first(
        self, consumer: Any, starts: dict[tuple[str, int], int]
    ) -> Iterator[tuple[tuple[str, int], float]]:
        consumer.assign(
            [TopicPartition(t, p, offset) for (t, p), offset in starts.items()]
        )
        waiting = set(starts)
        deadline = time.monotonic() + self.timeout
        while waiting and time.monotonic() < deadline:
            for message in consumer.consume(num_messages=100, timeout=0.5):
                key = (message.topic(), message.partition())
                if message.error() is not None or key not in waiting:
                    continue
                waiting.discard(key)
                consumer.pause([TopicPartition(*key)])
                kind, timestamp_ms = message.timestamp()
                if kind != TIMESTAMP_NOT_AVAILABLE:
                    yield key, timestamp_ms / 1000


def _offset_spec(which: str) -> Any:
    """Return ``OffsetSpec.earliest()`` or ``OffsetSpec.latest()``."""
    # confluent-kafka 2.16 documents confluent_kafka.admin.OffsetSpec but
    # leaves it out of the module's __all__, and its factories are untyped.
    spec_class: Any = kafka_admin.OffsetSpec  # type: ignore[attr-defined]
    return getattr(spec_class, which)()


def _age(
    lag: int, timestamps: dict[Any, float], key: tuple[str, int], now: float
) -> float | None:
    if lag == 0:
        return 0.0
    timestamp = timestamps.get(key)
    return None if timestamp is None else max(now - timestamp, 0.0)


class SnapshotSource(Protocol):
    """Anything with a latest `LagSnapshot`, such as `LagMonitor`."""

    @property
    def latest(self) -> LagSnapshot | None:
        """The last successful measurement, or None before the first."""


class LagCollector(Collector):
    """Exports the latest `LagSnapshot` of a monitor at each scrape.

    A snapshot older than `max_age` seconds is not exported, so a monitor
    that cannot reach the broker leaves gaps rather than stale numbers.
    """

    def __init__(
        self,
        monitor: SnapshotSource,
        max_age: float,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._monitor = monitor
        self._max_age = max_age
        self._clock = clock

    def collect(self) -> Iterator[GaugeMetricFamily]:
        """Yield the lag gauges."""
        offsets = GaugeMetricFamily(
            "seawall_consumer_lag_offsets",
            "Records not yet committed by the group: high watermark minus "
            "committed offset.",
            labels=["topic", "partition"],
        )
        seconds = GaugeMetricFamily(
            "seawall_consumer_lag_seconds",
            "Age of the oldest record the group has not yet committed; 0 when "
            "there is none.",
            labels=["topic", "partition"],
        )
        snapshot = self._monitor.latest
        if snapshot is not None and self._clock() - snapshot.taken_at <= self._max_age:
            for lag in snapshot.partitions:
                labels = [lag.topic, str(lag.partition)]
                offsets.add_metric(labels, lag.offsets)
                if lag.seconds is not None:
                    seconds.add_metric(labels, lag.seconds)
        yield offsets
        yield seconds
