"""Audit events: one Avro record per source record, never a raw value.

The event schema ships with the package (``streams/data/audit_event.avsc``)
and is linked from ``schemas/seawall/``. Events use Avro single-object
encoding, like every other record Seawall writes.
"""

from __future__ import annotations

import os
import socket
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

AUDIT_SCHEMA_PATH = Path(__file__).parent / "data" / "audit_event.avsc"

# A fixed UUID namespace, so every worker derives the same event id from the
# same source coordinates.
_EVENT_ID_NAMESPACE = uuid.UUID("6f1d3c1e-2b7a-5f0e-9a44-5ea3a11c0de5")


def event_id(topic: str, partition: int, offset: int, timestamp_ms: int | None) -> str:
    """Derive the audit event id from a record's source coordinates.

    The timestamp is part of the name so that a topic deleted and created
    again, whose offsets start over, does not repeat old ids.
    """
    name = f"{topic}\x00{partition}\x00{offset}\x00{timestamp_ms}"
    return str(uuid.uuid5(_EVENT_ID_NAMESPACE, name))


def worker_name() -> str:
    """Return the host name and process id that identify this worker."""
    return f"{socket.gethostname()}:{os.getpid()}"


@dataclass(frozen=True)
class FieldEntry:
    """One transformed field path of a record, as the audit event lists it."""

    path: str
    pii_type: str
    action: str
    count: int
    sensitive: bool


@dataclass(frozen=True)
class SourceCoordinates:
    """Source coordinates of a record."""

    route: str
    topic: str
    partition: int
    offset: int
    timestamp_ms: int | None

    @property
    def header_value(self) -> bytes:
        """The ``seawall.source`` header: ``topic:partition:offset``.

        Kafka topic names cannot contain a colon, so the value splits back
        unambiguously.
        """
        return f"{self.topic}:{self.partition}:{self.offset}".encode("ascii")

    @property
    def event_id(self) -> str:
        """The audit event id of this record."""
        return event_id(self.topic, self.partition, self.offset, self.timestamp_ms)


def masked_event(
    source: SourceCoordinates,
    *,
    now_ms: int,
    destination_topic: str,
    schema_name: str,
    schema_fingerprint: str,
    fields: Sequence[FieldEntry],
    key_id: str | None,
    key_version: int | None,
    subject_pseudonyms: Sequence[str],
    policy_version: str,
    worker: str,
) -> dict[str, Any]:
    """Build the audit event of a record that was masked and forwarded."""
    event = _base_event(
        source, now_ms=now_ms, policy_version=policy_version, worker=worker
    )
    event.update(
        outcome="masked",
        destination_topic=destination_topic,
        schema_name=schema_name,
        schema_fingerprint=schema_fingerprint,
        fields=[_field_record(entry) for entry in fields],
        key_id=key_id,
        key_version=key_version,
        subject_pseudonyms=list(subject_pseudonyms),
        sensitive=any(entry.sensitive for entry in fields),
    )
    return event


def rejected_event(
    source: SourceCoordinates,
    *,
    now_ms: int,
    dead_letter_topic: str,
    reason: str,
    detail: str,
    schema_name: str | None,
    schema_fingerprint: str | None,
    policy_version: str,
    worker: str,
) -> dict[str, Any]:
    """Build the audit event of a record sent to the dead-letter topic.

    `detail` must already be free of values: it is a `RecordError` message,
    or the class name of an unexpected exception.
    """
    event = _base_event(
        source, now_ms=now_ms, policy_version=policy_version, worker=worker
    )
    event.update(
        outcome="rejected",
        destination_topic=dead_letter_topic,
        reason=reason,
        detail=detail,
        schema_name=schema_name,
        schema_fingerprint=schema_fingerprint,
    )
    return event


def _base_event(
    source: SourceCoordinates, *, now_ms: int, policy_version: str, worker: str
) -> dict[str, Any]:
    return {
        "event_id": source.event_id,
        "event_time": now_ms,
        "route": source.route,
        "source_topic": source.topic,
        "source_partition": source.partition,
        "source_offset": source.offset,
        "source_timestamp": source.timestamp_ms,
        "outcome": "masked",
        "destination_topic": None,
        "reason": None,
        "detail": None,
        "schema_name": None,
        "schema_fingerprint": None,
        "fields": [],
        "key_id": None,
        "key_version": None,
        "subject_pseudonyms": [],
        "sensitive": False,
        "policy_version": policy_version,
        "worker": worker,
    }


def _field_record(entry: FieldEntry) -> dict[str, Any]:
    return {
        "path": entry.path,
        "pii_type": entry.pii_type,
        "action": entry.action,
        "count": entry.count,
        "sensitive": entry.sensitive,
    }
