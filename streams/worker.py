"""The stream app: one faust-streaming agent per route.

Each agent consumes its domestic topic with acknowledgements turned off,
hands every record to `RouteProcessor`, sends the output (or dead letter)
and the audit event, and acknowledges the source record only when the broker
has acknowledged both with ``acks=all``. faust commits the highest offset
below which every record is acknowledged, so an offset is never committed
before its records are safely on the broker, even with many sends in flight.

The worker also exports metrics, health probes and consumer lag through
`streams.observability`, and writes its log in the configured format.
"""

from __future__ import annotations

import asyncio
import logging
import logging.config
import os
import signal
import threading
import time
from collections import deque
from collections.abc import Awaitable, Callable, Sequence
from functools import partial
from tempfile import mkdtemp
from typing import Any, cast

import faust
from confluent_kafka.admin import AdminClient

from streams.config import Config, Route
from streams.engine import MaskingEngine
from streams.errors import ConfigError
from streams.kafka_clients import KafkaClients
from streams.observability import Observability, logging_config, record_ids
from streams.pipeline import Outcome, OutgoingRecord, RouteProcessor, SourceRecord
from streams.transactions import TransactionalRoute

logger = logging.getLogger(__name__)


class InFlight:
    """Sent records awaiting the broker's acknowledgement, oldest first.

    An event is acknowledged to faust once every record it produced is
    delivered, in source order, as soon as the delivery completes (also when
    no new record arrives). After a failed delivery nothing more is
    acknowledged, so no offset at or past the failed record is committed.
    `on_ack`, when given, is called with each event right after its ack.
    """

    def __init__(
        self,
        limit: int,
        on_failure: Callable[[BaseException], None],
        on_ack: Callable[[Any], None] | None = None,
    ) -> None:
        self.limit = limit
        self.failure: BaseException | None = None
        self._on_failure = on_failure
        self._on_ack = on_ack
        self._pending: deque[tuple[Any, list[asyncio.Future[Any]]]] = deque()

    async def add(self, event: Any, deliveries: list[asyncio.Future[Any]]) -> None:
        """Track the deliveries of one event; wait while the window is full."""
        self._pending.append((event, deliveries))
        for delivery in deliveries:
            delivery.add_done_callback(self._ack_delivered)
        while len(self._pending) >= self.limit and self.failure is None:
            await asyncio.wait(self._pending[0][1])

    def __len__(self) -> int:
        return len(self._pending)

    def _ack_delivered(self, _: object = None) -> None:
        while self.failure is None and self._pending:
            event, deliveries = self._pending[0]
            if not all(delivery.done() for delivery in deliveries):
                return
            for delivery in deliveries:
                error = delivery.exception()
                if error is not None:
                    self.failure = error
                    self._on_failure(error)
                    return
            self._pending.popleft()
            event.ack()
            if self._on_ack is not None:
                self._on_ack(event)


class SeawallApp:
    """Builds and runs the faust app for a configuration."""

    def __init__(self, config: Config, engine: MaskingEngine) -> None:
        self.config = config
        self.engine = engine
        self.fatal: BaseException | None = None
        self.clients = KafkaClients(config.kafka)
        self.in_flight: dict[str, InFlight] = {}
        self.observability = Observability(config)
        active = engine.keyring.active
        self.observability.metrics.set_key(active.key_id, active.version)
        self.app = self._build_app()
        self._assigned: set[tuple[str, int]] = set()
        self.app.on_partitions_assigned.connect(self._on_partitions_assigned)
        self.app.on_partitions_revoked.connect(self._on_partitions_revoked)
        for route in config.routes:
            self._add_agent(route)

    def _build_app(self) -> faust.App:
        web_port = self.config.worker.web_port
        return faust.App(
            self.config.kafka.group_id,
            broker=_broker_urls(self.config.kafka.bootstrap_servers),
            # Values are Avro bytes that Seawall decodes itself.
            key_serializer="raw",
            value_serializer="raw",
            producer_acks=-1,
            consumer_auto_offset_reset="earliest",
            # No tables, so no changelog or leader topics: Seawall creates no
            # topic of its own and never declares the topics it reads.
            topic_allow_declare=False,
            topic_disable_leader=True,
            store="memory://",
            datadir=mkdtemp(prefix="seawall-faust-"),
            autodiscover=False,
            web_enabled=web_port is not None,
            web_port=web_port or 6066,
            web_bind="127.0.0.1",
            web_in_thread=False,
            **self.clients.faust_settings(),
        )

    def _add_agent(self, route: Route) -> None:
        processor = RouteProcessor(
            route,
            self.engine,
            audit_topic=self.config.audit_topic,
            dead_letter_topic=self.config.dead_letter_topic,
            policy_version=self.config.policy.version,
        )
        topic = self.app.topic(
            route.source,
            key_serializer="raw",
            value_serializer="raw",
            allow_empty=True,
        )
        limit = self.config.worker.max_in_flight
        metrics = self.observability.metrics
        if self.config.worker.processing_guarantee == "exactly_once":
            transactional = TransactionalRoute(
                self.app,
                route,
                lambda message: processor.process(_source_record(message)),
                self.clients,
                metrics,
                partial(self._stop_on_fatal, route),
            )
            self.app.agent(topic, name=f"seawall.route.{route.name}", concurrency=1)(
                transactional.run
            )
            return

        async def mask_route(stream: faust.StreamT[Any]) -> None:
            in_flight = InFlight(
                limit,
                partial(self._stop_on_fatal, route),
                partial(_observe_age, metrics.record_acknowledged, route.name),
            )
            self.in_flight[route.name] = in_flight
            # StreamT does not declare noack(); faust.Stream, its only
            # implementation, does.
            events = cast(faust.Stream[Any], stream).noack().events()
            async for event in events:
                if in_flight.failure is not None:
                    break
                started = time.perf_counter()
                outcome = processor.process(_source_record(event.message))
                deliveries = await self._send(outcome)
                metrics.record_processed(
                    route.name,
                    outcome.reason,
                    self._transformed_fields(outcome),
                    time.perf_counter() - started,
                )
                deliveries[-1].add_done_callback(
                    partial(_count_audit, metrics.audit_sent, route.name)
                )
                if outcome.rejected:
                    _log_dead_letter(route, event.message, outcome)
                await in_flight.add(event, deliveries)

        self.app.agent(topic, name=f"seawall.route.{route.name}", concurrency=1)(
            mask_route
        )

    def _transformed_fields(self, outcome: Outcome) -> list[tuple[str, str, int]]:
        """Return ``(pii_type, action, count)`` of each field the record masked."""
        return [(f.pii_type, f.action, f.count) for f in outcome.fields]

    def _on_partitions_assigned(
        self, _sender: Any, /, *args: Any, signal: Any, **_: Any
    ) -> None:
        # faust passes the whole new assignment, which replaces the old one.
        (assigned,) = args
        self._assigned = {(tp.topic, tp.partition) for tp in assigned}
        self.observability.set_assignment(self._assigned)

    def _on_partitions_revoked(
        self, _sender: Any, /, *args: Any, signal: Any, **_: Any
    ) -> None:
        (revoked,) = args
        self._assigned -= {(tp.topic, tp.partition) for tp in revoked}
        self.observability.set_assignment(self._assigned)

    async def _send(self, outcome: Outcome) -> list[asyncio.Future[Any]]:
        producer = self.app.producer
        deliveries: list[asyncio.Future[Any]] = []
        for record in (outcome.output, outcome.audit):
            delivery = await producer.send(
                record.topic,
                record.key,
                record.value,
                partition=None,
                timestamp=_seconds(record),
                headers=list(record.headers),
            )
            deliveries.append(asyncio.ensure_future(_as_awaitable(delivery)))
        return deliveries

    def _stop_on_fatal(self, route: Route, exc: BaseException) -> None:
        # A record the broker did not take must not be acknowledged: stopping
        # commits only offsets below it, and the next worker re-reads it.
        logger.critical(
            "delivery failed, stopping the worker: route=%s error=%s",
            route.name,
            type(exc).__name__,
        )
        self.fatal = exc
        os.kill(os.getpid(), signal.SIGTERM)

    def check_topics(self) -> None:
        """Wait for the broker, then check that every configured topic exists.

        Raises:
            KafkaConnectionError: The broker rejected the credentials, or did
                not respond within ``worker.startup_timeout``.
            ConfigError: A configured topic does not exist; the message
                names every missing topic.
        """
        self.clients.wait_until_reachable(self.config.worker.startup_timeout)
        admin = AdminClient(self.clients.confluent_config())
        metadata = admin.list_topics(timeout=30)
        wanted = [self.config.audit_topic, self.config.dead_letter_topic]
        for route in self.config.routes:
            wanted += [route.source, route.destination]
        missing = [name for name in wanted if name not in metadata.topics]
        if missing:
            raise ConfigError(
                f"topics missing on {self.config.kafka.bootstrap_servers}: "
                f"{', '.join(missing)}; create them before starting the worker"
            )

    def run(self) -> int:
        """Run until SIGTERM or SIGINT; return the process exit code."""
        settings = self.config.logging
        log_config = logging_config(settings.format, settings.level)
        # faust installs the same configuration when it starts; installing it
        # here as well formats the lines logged before that.
        logging.config.dictConfig(log_config)
        worker = _Worker(
            self.app,
            shutdown_timeout=self.config.worker.shutdown_timeout,
            on_timeout=self._log_unacknowledged,
            loglevel=settings.level,
            logging_config=log_config,
            quiet=True,
            redirect_stdouts=False,
        )
        self.observability.bind_loop(worker.loop)
        self.observability.start()
        try:
            worker.execute_from_commandline()
        except SystemExit as exc:
            if self.fatal is None:
                return int(exc.code or 0)
        finally:
            worker.cancel_deadline()
            self.observability.stop()
        return 1 if self.fatal is not None else 0

    def _log_unacknowledged(self) -> None:
        """Log the records still waiting for the broker when shutdown timed out."""
        for route, in_flight in self.in_flight.items():
            if not in_flight:
                # faust itself did not finish stopping, so its last commit
                # may be missing too.
                logger.critical(
                    "shutdown timed out after %g s (worker.shutdown_timeout): "
                    "route=%s has no record awaiting the broker, but records "
                    "acknowledged since the last commit will be processed again",
                    self.config.worker.shutdown_timeout,
                    route,
                )
                continue
            logger.critical(
                "shutdown timed out after %g s (worker.shutdown_timeout): "
                "route=%s events_unacknowledged=%d; their offsets are not "
                "committed and the next worker processes them again",
                self.config.worker.shutdown_timeout,
                route,
                len(in_flight),
            )


class _Worker(faust.Worker):
    """A faust worker whose shutdown is bounded in time.

    When the worker starts to stop (on SIGTERM, SIGINT or a fatal error), a
    timer starts. If the stop takes longer than `shutdown_timeout` seconds,
    the timer calls `on_timeout` and ends the process with exit code
    `SHUTDOWN_TIMEOUT_EXIT_CODE`, so faust commits nothing more.
    """

    def __init__(
        self,
        *args: Any,
        shutdown_timeout: float,
        on_timeout: Callable[[], None],
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self._deadline = threading.Timer(shutdown_timeout, self._time_out, [on_timeout])
        self._deadline.daemon = True

    async def on_stop(self) -> None:
        """Start the shutdown timer, then stop as faust does."""
        if not self._deadline.is_alive():
            self._deadline.start()
        await super().on_stop()

    def cancel_deadline(self) -> None:
        """Stop the shutdown timer once the worker has stopped."""
        self._deadline.cancel()

    @staticmethod
    def _time_out(on_timeout: Callable[[], None]) -> None:
        on_timeout()
        logging.shutdown()
        os._exit(SHUTDOWN_TIMEOUT_EXIT_CODE)


SHUTDOWN_TIMEOUT_EXIT_CODE = 3
"""Exit code of a worker whose shutdown took longer than worker.shutdown_timeout."""


def _broker_urls(bootstrap_servers: str) -> list[str]:
    return [f"kafka://{server.strip()}" for server in bootstrap_servers.split(",")]


def _source_record(message: Any) -> SourceRecord:
    timestamp = message.timestamp
    return SourceRecord(
        topic=message.topic,
        partition=message.partition,
        offset=message.offset,
        timestamp_ms=int(timestamp * 1000) if timestamp else None,
        key=message.key,
        value=message.value,
        headers=_headers(message.headers),
    )


def _headers(headers: Any) -> Sequence[tuple[str, bytes]]:
    if not headers:
        return ()
    items = headers.items() if isinstance(headers, dict) else headers
    return tuple((str(name), bytes(value or b"")) for name, value in items)


def _seconds(record: OutgoingRecord) -> float | None:
    return record.timestamp_ms / 1000 if record.timestamp_ms is not None else None


async def _as_awaitable(delivery: Awaitable[Any]) -> Any:
    return await delivery


def _observe_age(observe: Callable[[str, float], None], route: str, event: Any) -> None:
    """Observe the age of an acknowledged event's source record."""
    timestamp = event.message.timestamp
    if timestamp:
        observe(route, time.time() - timestamp)


def _count_audit(
    count: Callable[[str, bool], None], route: str, delivery: asyncio.Future[Any]
) -> None:
    """Count an audit event delivery once the broker responded."""
    if delivery.cancelled():
        return
    count(route, delivery.exception() is not None)


def _log_dead_letter(route: Route, message: Any, outcome: Outcome) -> None:
    logger.warning(
        "record sent to the dead-letter topic: reason=%s",
        outcome.reason,
        extra=record_ids(route.name, message.topic, message.partition, message.offset),
    )
