"""Exactly-once processing: one Kafka transaction per batch of a source partition.

With ``worker.processing_guarantee: exactly_once`` each route's agent collects
the events of every source partition into batches. A batch is committed in
one transaction of an aiokafka producer that belongs to its source
partition: the outputs (or dead letters), the audit events and the consumed
offset (`send_offsets_to_transaction`). Only after the commit are the events
acknowledged to faust, whose own later commit of the same offsets changes
nothing. A ``read_committed`` consumer therefore reads each source record
once, also after a crash or a rebalance.

The transactional id is ``<group_id>-<topic>-<partition>``. It is stable, so
the producer that a new owner of the partition creates fences the producer
of the old owner and aborts its open transaction.

aiokafka 0.14 sends ``TxnOffsetCommit`` version 0, which carries no group
generation, so only that fencing keeps a worker that lost a partition from
committing. faust 0.15.3 waits until every event taken from the stream is
acknowledged before it revokes partitions (``stream_wait_empty``), and the
timer below commits open batches within `BATCH_SECONDS`, so the old owner's
last commit comes before the new owner reads the committed offset.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, cast

import faust
from aiokafka import AIOKafkaProducer, TopicPartition
from aiokafka.errors import KafkaError

from streams.config import Route
from streams.kafka_clients import KafkaClients, read_secret
from streams.observability import WorkerMetrics, record_ids
from streams.pipeline import Outcome, OutgoingRecord

logger = logging.getLogger(__name__)

BATCH_RECORDS = 200
"""Records of one source partition committed in one transaction, at most."""

BATCH_SECONDS = 0.1
"""Seconds after its first record at which a batch is committed anyway."""


@dataclass
class _Batch:
    """The open transaction of one source partition and the events in it."""

    producer: AIOKafkaProducer
    started: float
    events: list[Any] = field(default_factory=list)
    deliveries: list[asyncio.Future[Any]] = field(default_factory=list)


class TransactionalRoute:
    """The agent body of one route in exactly-once mode.

    Args:
        app: The faust app; its revocation signal closes producers.
        route: The route whose source topic the agent consumes.
        process: Turns a faust message into the records to produce.
        clients: Connection settings of the producers.
        metrics: Receives processing, audit and acknowledgement metrics.
        on_fatal: Called once when a transaction fails; it must stop the
            worker. The failed batch is not acknowledged.
        batch_records: Maximum records per transaction.
        batch_seconds: Seconds after its first record at which a transaction
            is committed even if it has fewer records.
    """

    def __init__(
        self,
        app: faust.App,
        route: Route,
        process: Callable[[Any], Outcome],
        clients: KafkaClients,
        metrics: WorkerMetrics,
        on_fatal: Callable[[BaseException], None],
        *,
        batch_records: int = BATCH_RECORDS,
        batch_seconds: float = BATCH_SECONDS,
    ) -> None:
        self.route = route
        self.failure: BaseException | None = None
        self._process = process
        self._clients = clients
        self._group_id = clients.settings.group_id
        self._metrics = metrics
        self._on_fatal = on_fatal
        self._batch_records = batch_records
        self._batch_seconds = batch_seconds
        self._batches: dict[TopicPartition, _Batch] = {}
        self._producers: dict[TopicPartition, AIOKafkaProducer] = {}
        self._locks: dict[TopicPartition, asyncio.Lock] = {}
        self._closing: set[asyncio.Task[None]] = set()
        app.on_partitions_revoked.connect(self._on_partitions_revoked)

    async def run(self, stream: faust.StreamT[Any]) -> None:
        """Process the stream, committing one transaction per partition batch."""
        timer = asyncio.ensure_future(self._commit_stale_batches())
        try:
            # StreamT does not declare noack(); faust.Stream, its only
            # implementation, does.
            events = cast(faust.Stream[Any], stream).noack().events()
            async for event in events:
                if self.failure is not None:
                    break
                await self._add(event)
        finally:
            timer.cancel()
            await self._close_all()

    async def _add(self, event: Any) -> None:
        """Process one event and send its records in its partition's transaction."""
        message = event.message
        started = time.perf_counter()
        outcome = self._process(message)
        self._metrics.record_processed(
            self.route.name,
            outcome.reason,
            [(f.pii_type, f.action, f.count) for f in outcome.fields],
            time.perf_counter() - started,
        )
        if outcome.rejected:
            _log_dead_letter(self.route, message, outcome)
        tp = TopicPartition(message.topic, message.partition)
        async with self._lock(tp):
            if self.failure is not None:
                return
            try:
                batch = await self._open_batch(tp)
                batch.deliveries.append(await _send(batch.producer, outcome.output))
                batch.deliveries.append(await _send(batch.producer, outcome.audit))
            except KafkaError as error:
                self._fail(tp, error)
                return
            batch.events.append(event)
            full = len(batch.events) >= self._batch_records
        if full:
            await self._commit(tp)

    async def _open_batch(self, tp: TopicPartition) -> _Batch:
        """Return the open batch of `tp`, beginning a transaction if there is none."""
        batch = self._batches.get(tp)
        if batch is None:
            producer = await self._producer(tp)
            await producer.begin_transaction()
            batch = _Batch(producer=producer, started=time.monotonic())
            self._batches[tp] = batch
        return batch

    async def _commit_stale_batches(self) -> None:
        """Commit every batch that is older than the batch interval."""
        while self.failure is None:
            await asyncio.sleep(self._batch_seconds / 2)
            now = time.monotonic()
            for tp, batch in list(self._batches.items()):
                if now - batch.started >= self._batch_seconds:
                    await self._commit(tp)

    async def _commit(self, tp: TopicPartition) -> None:
        """Commit the open transaction of `tp`, then acknowledge its events."""
        async with self._lock(tp):
            batch = self._batches.pop(tp, None)
            if batch is None or self.failure is not None:
                return
            try:
                await self._commit_transaction(tp, batch)
            except KafkaError as error:
                self._fail(tp, error)
                return
        for event in batch.events:
            event.ack()
            _observe_age(self._metrics, self.route.name, event)

    async def _commit_transaction(self, tp: TopicPartition, batch: _Batch) -> None:
        """Add the batch's next source offset to its transaction and commit it."""
        await asyncio.gather(*batch.deliveries)
        next_offset = batch.events[-1].message.offset + 1
        await batch.producer.send_offsets_to_transaction(
            {tp: next_offset}, self._group_id
        )
        await batch.producer.commit_transaction()
        for _ in batch.events:
            self._metrics.audit_sent(self.route.name, False)

    def _lock(self, tp: TopicPartition) -> asyncio.Lock:
        """Return the lock that orders sends and the commit of one partition."""
        return self._locks.setdefault(tp, asyncio.Lock())

    async def _producer(self, tp: TopicPartition) -> AIOKafkaProducer:
        """Return the transactional producer of `tp`, starting it on first use."""
        producer = self._producers.get(tp)
        if producer is None:
            producer = AIOKafkaProducer(
                transactional_id=transactional_id(self._group_id, tp),
                **aiokafka_settings(self._clients),
            )
            self._producers[tp] = producer
            await producer.start()
        return producer

    def _fail(self, tp: TopicPartition, error: BaseException) -> None:
        """Record the first failed transaction and stop the worker."""
        logger.critical(
            "transaction failed, stopping the worker: route=%s partition=%s-%d "
            "error=%s",
            self.route.name,
            tp.topic,
            tp.partition,
            type(error).__name__,
        )
        self.failure = error
        self._on_fatal(error)

    def _on_partitions_revoked(
        self, _sender: Any, /, *args: Any, signal: Any, **_: Any
    ) -> None:
        # The signal is synchronous and a producer stops asynchronously, so the
        # stop runs as a task. faust has waited for every event to be
        # acknowledged, so a batch left here was never committed.
        (revoked,) = args
        for faust_tp in revoked:
            tp = TopicPartition(faust_tp.topic, faust_tp.partition)
            batch = self._batches.pop(tp, None)
            if batch is not None:
                logger.warning(
                    "partition revoked with an uncommitted batch, the next owner "
                    "processes it again: route=%s partition=%s-%d records=%d",
                    self.route.name,
                    tp.topic,
                    tp.partition,
                    len(batch.events),
                )
            producer = self._producers.pop(tp, None)
            if producer is not None:
                task = asyncio.ensure_future(producer.stop())
                self._closing.add(task)
                task.add_done_callback(self._closing.discard)

    async def _close_all(self) -> None:
        """Stop every producer; open transactions are aborted by the broker."""
        producers = list(self._producers.values())
        self._producers.clear()
        await asyncio.gather(
            *(producer.stop() for producer in producers),
            *self._closing,
            return_exceptions=True,
        )


def transactional_id(group_id: str, tp: TopicPartition) -> str:
    """Return the transactional id of the producer for one source partition."""
    return f"{group_id}-{tp.topic}-{tp.partition}"


def aiokafka_settings(clients: KafkaClients) -> dict[str, Any]:
    """Return the `AIOKafkaProducer` connection arguments of the configuration."""
    settings = clients.settings
    arguments: dict[str, Any] = {
        "bootstrap_servers": settings.bootstrap_servers,
        "security_protocol": settings.security_protocol,
    }
    if settings.security_protocol != "PLAINTEXT":
        arguments["ssl_context"] = clients.ssl_context()
    if settings.sasl is not None:
        password = read_secret(settings.sasl.password, "kafka.sasl.password")
        arguments["sasl_mechanism"] = settings.sasl.mechanism
        arguments["sasl_plain_username"] = settings.sasl.username
        arguments["sasl_plain_password"] = password.reveal()
    return arguments


async def _send(
    producer: AIOKafkaProducer, record: OutgoingRecord
) -> asyncio.Future[Any]:
    """Append one record to the open transaction; return its delivery future."""
    delivery = await producer.send(
        record.topic,
        record.value,
        key=record.key,
        timestamp_ms=record.timestamp_ms,
        headers=list(record.headers),
    )
    return cast(asyncio.Future[Any], delivery)


def _observe_age(metrics: WorkerMetrics, route: str, event: Any) -> None:
    """Observe the age of an acknowledged event's source record."""
    timestamp = event.message.timestamp
    if timestamp:
        metrics.record_acknowledged(route, time.time() - timestamp)


def _log_dead_letter(route: Route, message: Any, outcome: Outcome) -> None:
    logger.warning(
        "record sent to the dead-letter topic: reason=%s",
        outcome.reason,
        extra=record_ids(route.name, message.topic, message.partition, message.offset),
    )
