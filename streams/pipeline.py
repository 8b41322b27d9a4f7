"""The handling of one source record, without Kafka.

`RouteProcessor.process` turns a `SourceRecord` into an `Outcome`: the record
for the cross-border topic (or the original for the dead-letter topic) and
its audit event. The stream app only sends what this module returns, which
keeps the fail-closed rule in one place that tests can reach without a
broker: any error while masking yields a dead letter, never an output.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from streams import audit
from streams.audit import FieldEntry
from streams.codec import confluent
from streams.config import Route
from streams.engine import MaskedValue, MaskingEngine
from streams.errors import RecordError
from streams.observability.logs import record_ids

logger = logging.getLogger(__name__)

Headers = Sequence[tuple[str, bytes]]

# Header names Seawall writes. They are reserved: a source header with one of
# these names is never copied, even when the route allows it.
SOURCE_HEADER = "seawall.source"
AUDIT_ID_HEADER = "seawall.audit_id"
KEY_ID_HEADER = "seawall.key_id"
KEY_VERSION_HEADER = "seawall.key_version"
SCHEMA_HEADER = "seawall.schema"
SOURCE_SCHEMA_ID_HEADER = "seawall.source_schema_id"
REASON_HEADER = "seawall.reason"
DETAIL_HEADER = "seawall.detail"
ROUTE_HEADER = "seawall.route"
_RESERVED_PREFIX = "seawall."


@dataclass(frozen=True)
class SourceRecord:
    """A record consumed from a domestic topic."""

    topic: str
    partition: int
    offset: int
    timestamp_ms: int | None
    key: bytes | None
    value: bytes | None
    headers: Headers = ()


@dataclass(frozen=True)
class OutgoingRecord:
    """A record to produce."""

    topic: str
    key: bytes | None
    value: bytes | None
    headers: Headers
    timestamp_ms: int | None


@dataclass(frozen=True)
class Outcome:
    """The records that one source record turns into.

    Attributes:
        output: The masked record for the cross-border topic, or the original
            record for the dead-letter topic when `rejected` is set.
        audit: The audit event for the audit topic.
        reason: The rejection reason code, or None for a masked record.
        fields: The transformed field paths the audit event lists; empty for
            a rejected record.
    """

    output: OutgoingRecord
    audit: OutgoingRecord
    reason: str | None = None
    fields: tuple[FieldEntry, ...] = ()

    @property
    def rejected(self) -> bool:
        """True when the record went to the dead-letter topic."""
        return self.reason is not None


class RouteProcessor:
    """Masks the records of one route and builds their audit events."""

    def __init__(
        self,
        route: Route,
        engine: MaskingEngine,
        *,
        audit_topic: str,
        dead_letter_topic: str,
        policy_version: str,
        worker: str | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.route = route
        self._engine = engine
        self._audit_topic = audit_topic
        self._dead_letter_topic = dead_letter_topic
        self._policy_version = policy_version
        self._worker = worker or audit.worker_name()
        self._clock = clock

    def process(self, record: SourceRecord) -> Outcome:
        """Mask one record; any failure gives a dead letter instead."""
        source = audit.SourceCoordinates(
            route=self.route.name,
            topic=record.topic,
            partition=record.partition,
            offset=record.offset,
            timestamp_ms=record.timestamp_ms,
        )
        try:
            masked = self._mask_value(record.value)
            key = self._output_key(record.key)
        except RecordError as exc:
            return self._reject(record, source, exc.reason, str(exc))
        except Exception as exc:
            # Fail closed on anything unexpected, including bugs: the record
            # must not reach the border, and the worker must keep going. The
            # message of a foreign exception may quote data, so only its
            # class name is kept.
            logger.error(
                "unexpected error masking record: route=%s topic=%s partition=%d "
                "offset=%d error=%s",
                self.route.name,
                record.topic,
                record.partition,
                record.offset,
                type(exc).__name__,
                extra=record_ids(
                    self.route.name, record.topic, record.partition, record.offset
                ),
            )
            return self._reject(record, source, "internal.error", type(exc).__name__)
        return self._forward(record, source, masked, key)

    def _mask_value(self, value: bytes | None) -> MaskedValue:
        # Registry mode registers the output schema under the destination's
        # subject, so the engine needs the topic.
        return self._engine.mask(value, destination=self.route.destination)

    def _output_key(self, key: bytes | None) -> bytes | None:
        if key is None or self.route.key_action == "drop":
            return None
        if self.route.key_action == "pass":
            return key
        if self._engine.registry is not None and confluent.is_framed(key):
            # An Avro key from a Confluent serializer is masked by the tags of
            # its schema, so consumers abroad can still deserialize it.
            masked = self._engine.mask(
                key, destination=self.route.destination, is_key=True
            )
            return masked.value
        return self._engine.pseudonymize_key(key)

    def _forward(
        self,
        record: SourceRecord,
        source: audit.SourceCoordinates,
        masked: MaskedValue,
        key: bytes | None,
    ) -> Outcome:
        headers = [
            *self._allowed_headers(record.headers),
            *self._common_headers(source),
        ]
        if masked.key_version is not None:
            headers.append((KEY_ID_HEADER, masked.key_id.encode("utf-8")))
            headers.append(
                (KEY_VERSION_HEADER, str(masked.key_version).encode("ascii"))
            )
        if masked.fingerprint:
            headers.append((SCHEMA_HEADER, masked.fingerprint.encode("ascii")))
        if masked.source_schema_id is not None:
            schema_id = str(masked.source_schema_id).encode("ascii")
            headers.append((SOURCE_SCHEMA_ID_HEADER, schema_id))
        output = OutgoingRecord(
            topic=self.route.destination,
            key=key,
            value=masked.value,
            headers=headers,
            timestamp_ms=record.timestamp_ms,
        )
        event = audit.masked_event(
            source,
            now_ms=self._now_ms(),
            destination_topic=self.route.destination,
            schema_name=masked.schema_name,
            schema_fingerprint=masked.fingerprint,
            fields=masked.fields,
            key_id=masked.key_id if masked.key_version is not None else None,
            key_version=masked.key_version,
            subject_pseudonyms=masked.subject_pseudonyms,
            policy_version=self._policy_version,
            worker=self._worker,
        )
        return Outcome(
            output=output,
            audit=self._audit_record(source, event),
            fields=masked.fields,
        )

    def _reject(
        self,
        record: SourceRecord,
        source: audit.SourceCoordinates,
        reason: str,
        detail: str,
    ) -> Outcome:
        schema_name, fingerprint = self._engine.identify(record.value)
        headers = [
            *record.headers,
            *self._common_headers(source),
            (REASON_HEADER, reason.encode("utf-8")),
            (DETAIL_HEADER, detail.encode("utf-8")),
            (ROUTE_HEADER, self.route.name.encode("utf-8")),
        ]
        # The dead-letter topic is domestic, so it keeps the original key,
        # value and headers: an operator can repair and replay the record.
        output = OutgoingRecord(
            topic=self._dead_letter_topic,
            key=record.key,
            value=record.value,
            headers=headers,
            timestamp_ms=record.timestamp_ms,
        )
        event = audit.rejected_event(
            source,
            now_ms=self._now_ms(),
            dead_letter_topic=self._dead_letter_topic,
            reason=reason,
            detail=detail,
            schema_name=schema_name,
            schema_fingerprint=fingerprint,
            policy_version=self._policy_version,
            worker=self._worker,
        )
        return Outcome(
            output=output, audit=self._audit_record(source, event), reason=reason
        )

    def _allowed_headers(self, headers: Headers) -> list[tuple[str, bytes]]:
        allowed = self.route.allowed_headers
        return [
            (name, value)
            for name, value in headers
            if name in allowed and not name.startswith(_RESERVED_PREFIX)
        ]

    def _common_headers(
        self, source: audit.SourceCoordinates
    ) -> list[tuple[str, bytes]]:
        return [
            (SOURCE_HEADER, source.header_value),
            (AUDIT_ID_HEADER, source.event_id.encode("ascii")),
        ]

    def _audit_record(
        self, source: audit.SourceCoordinates, event: dict[str, object]
    ) -> OutgoingRecord:
        return OutgoingRecord(
            topic=self._audit_topic,
            key=source.event_id.encode("ascii"),
            value=self._engine.encode_audit(event),
            headers=[(SOURCE_HEADER, source.header_value)],
            timestamp_ms=self._now_ms(),
        )

    def _now_ms(self) -> int:
        return int(self._clock() * 1000)
