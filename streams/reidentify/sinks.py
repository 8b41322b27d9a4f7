"""Sinks of re-identification events, and the rule that events go first.

With a ``kafka`` section in the configuration, events go to ``audit_topic``,
Avro single-object encoded, produced with ``acks=all`` and flushed, so an
undelivered event fails the command. Without one, each event is appended as
one JSON line to ``reidentification_log``, a file created with mode 0600.
`run_audited` writes the event before it returns anything to show; when the
write fails, it raises `AuditWriteError` and nothing is shown.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from confluent_kafka import KafkaError, KafkaException, Producer

from streams.config import Config
from streams.errors import SeawallError
from streams.kafka_clients import confluent_config
from streams.reidentify.events import (
    AuditWriteError,
    Reidentified,
    Request,
    Result,
    build_event,
    encode_event,
)

DEFAULT_TIMEOUT_SECONDS = 30.0


class EventSink(Protocol):
    """A destination of re-identification events."""

    def write(self, event: Mapping[str, Any]) -> None:
        """Write one event durably, or raise `AuditWriteError`."""


@dataclass(frozen=True)
class FileEventSink:
    """Appends each event as one JSON line to a file of mode 0600.

    Attributes:
        path: The log file. It is created with mode 0600 when missing, and
            an existing file keeps its mode.
    """

    path: Path

    def write(self, event: Mapping[str, Any]) -> None:
        """Append the event and flush it to disk."""
        line = json.dumps(event, ensure_ascii=False, sort_keys=True) + "\n"
        data = line.encode("utf-8")
        flags = os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_CLOEXEC
        try:
            descriptor = os.open(self.path, flags, 0o600)
            try:
                _write_all(descriptor, data)
                os.fsync(descriptor)
            finally:
                os.close(descriptor)
        except OSError as exc:
            raise AuditWriteError(
                f"cannot append the re-identification event to {self.path}: "
                f"{exc.strerror}; fix the path or permissions of "
                "reidentification_log and run the command again"
            ) from exc


def _write_all(descriptor: int, data: bytes) -> None:
    """Write every byte of `data`, looping over short writes."""
    view = memoryview(data)
    while view:
        written = os.write(descriptor, view)
        view = view[written:]


@dataclass(frozen=True)
class KafkaEventSink:
    """Produces each event to the audit topic and waits for the broker.

    Attributes:
        bootstrap_servers: The Kafka bootstrap servers.
        topic: The audit topic.
        timeout: Seconds to wait for the acknowledgement of all in-sync
            replicas.
        client_config: confluent-kafka settings for TLS and SASL, from
            `streams.kafka_clients`. Hidden from repr, because it contains the
            password.
    """

    bootstrap_servers: str
    topic: str
    timeout: float = DEFAULT_TIMEOUT_SECONDS
    client_config: Mapping[str, Any] = field(default_factory=dict, repr=False)

    def write(self, event: Mapping[str, Any]) -> None:
        """Produce the event with ``acks=all`` and wait for its delivery."""
        producer = Producer(
            {
                **self.client_config,
                "bootstrap.servers": self.bootstrap_servers,
                "acks": "all",
                "enable.idempotence": True,
                "message.timeout.ms": max(int(self.timeout * 1000), 1),
                "client.id": "seawall-detokenize",
            }
        )
        failures: list[str] = []

        def delivered(error: KafkaError | None, _message: Any) -> None:
            if error is not None:
                failures.append(error.str())

        try:
            producer.produce(
                self.topic,
                key=str(event["event_id"]).encode("ascii"),
                value=encode_event(event),
                on_delivery=delivered,
            )
            undelivered = producer.flush(self.timeout)
        except (KafkaException, BufferError) as exc:
            failures.append(str(exc))
            undelivered = 0
        if failures or undelivered:
            detail = "; ".join(failures) or f"no acknowledgement in {self.timeout} s"
            raise AuditWriteError(
                f"the re-identification event was not delivered to audit topic "
                f"{self.topic!r} on {self.bootstrap_servers}: {detail}"
            )


def sink_for(config: Config) -> EventSink:
    """Return the audit topic sink, or the log file without a ``kafka`` section."""
    if config.kafka_settings is None:
        return FileEventSink(config.reidentification_log)
    settings = config.kafka_settings
    return KafkaEventSink(
        settings.bootstrap_servers,
        config.audit_topic,
        client_config=confluent_config(settings),
    )


def run_audited(
    sink: EventSink,
    request: Request,
    attempt: Callable[[], Reidentified],
    *,
    clock: Callable[[], float] = time.time,
) -> Reidentified:
    """Run a request and write its event before returning anything to show.

    A request that fails with a `SeawallError` still writes an event, with
    the error message in ``error``, and the error is raised again.

    Raises:
        AuditWriteError: The event could not be written. The caller must
            then show nothing.
        SeawallError: The request failed; its event was written.
    """
    try:
        outcome = attempt()
    except SeawallError as exc:
        failed = Result(error=str(exc))
        sink.write(build_event(request, failed, now_ms=_millis(clock)))
        raise
    sink.write(build_event(request, outcome.result, now_ms=_millis(clock)))
    return outcome


def _millis(clock: Callable[[], float]) -> int:
    """Return the clock's time in whole milliseconds."""
    return int(clock() * 1000)
