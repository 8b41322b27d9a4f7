"""Reverse tokens: values given on the command line, or one Kafka record.

`reverse_values` reverses tokens of one PII type. `fetch_record` reads one
record from a cross-border topic by its coordinates, and `restore_record`
decodes it and reverses every value its plan tokenized, with the key version
the record's ``seawall.key_version`` header names.
"""

from __future__ import annotations

import json
import time
import uuid
from base64 import b64encode
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from datetime import time as time_of_day
from decimal import Decimal
from typing import Any

from confluent_kafka import Consumer, KafkaError, KafkaException, TopicPartition

from streams.engine import MaskingEngine
from streams.errors import DecodeError, InvalidValueError, NotReversibleError
from streams.keys import Keyring, KeyVersion
from streams.masking import unmask_record
from streams.pipeline import (
    KEY_ID_HEADER,
    KEY_VERSION_HEADER,
    SOURCE_SCHEMA_ID_HEADER,
)
from streams.reidentify.events import (
    RecordCoordinates,
    ReidentificationError,
    Reidentified,
    Result,
)
from streams.reidentify.sinks import DEFAULT_TIMEOUT_SECONDS
from streams.tokenizers.base import FieldTransformer

# The consumer group of --record reads. It only assigns partitions and never
# commits, so it needs no coordination with other readers.
_READER_GROUP = "seawall-detokenize"


def reverse_values(
    transformer: FieldTransformer, key: KeyVersion, tokens: Sequence[str]
) -> Reidentified:
    """Reverse tokens of one PII type; a bad token is a problem, not an error."""
    lines: list[str] = []
    problems: list[str] = []
    for position, token in enumerate(tokens, start=1):
        try:
            lines.append(str(transformer.reverse(token, key)))
        except (InvalidValueError, NotReversibleError) as exc:
            # The message names the rule, never the value. The position shows
            # the operator which argument it was.
            problems.append(f"VALUE {position}: {exc}")
    result = Result(
        value_count=len(tokens),
        succeeded=len(lines),
        failed=len(problems),
        key_id=key.key_id,
        key_version=key.version,
    )
    return Reidentified(result, lines, problems)


@dataclass(frozen=True)
class FetchedRecord:
    """The value and headers of one record read from a topic.

    The value contains tokens, which are personal information too, so
    `repr` shows neither the value nor the headers.
    """

    value: bytes | None = field(repr=False)
    headers: tuple[tuple[str, bytes], ...] = field(default=(), repr=False)

    def header(self, name: str) -> bytes | None:
        """Return the last header named `name`, or None."""
        found = None
        for header_name, value in self.headers:
            if header_name == name:
                found = value
        return found


def fetch_record(
    bootstrap_servers: str,
    coordinates: RecordCoordinates,
    *,
    timeout: float = DEFAULT_TIMEOUT_SECONDS,
    client_config: Mapping[str, Any] | None = None,
) -> FetchedRecord:
    """Read the record at `coordinates` with an assigned consumer.

    `client_config` contains the TLS and SASL settings from
    `streams.kafka_clients`, if any.

    Raises:
        ReidentificationError: The topic or partition does not exist, the
            offset is outside the partition or no longer contains a record
            (deleted by retention or compaction), or nothing arrived within
            `timeout` seconds.
    """
    consumer = Consumer(
        {
            **(client_config or {}),
            "bootstrap.servers": bootstrap_servers,
            "group.id": _READER_GROUP,
            "enable.auto.commit": False,
            "enable.partition.eof": True,
            "isolation.level": "read_committed",
        }
    )
    try:
        return _read_at(consumer, coordinates, time.monotonic() + timeout)
    except KafkaException as exc:
        raise ReidentificationError(
            f"cannot read record {coordinates} from {bootstrap_servers}: {exc}"
        ) from exc
    finally:
        consumer.close()


def _read_at(
    consumer: Consumer, coordinates: RecordCoordinates, deadline: float
) -> FetchedRecord:
    """Check the offset against the partition's range, seek and poll."""
    partition = TopicPartition(coordinates.topic, coordinates.partition)
    low, high = consumer.get_watermark_offsets(
        partition, timeout=max(deadline - time.monotonic(), 0.1)
    )
    if not low <= coordinates.offset < high:
        raise ReidentificationError(
            f"record {coordinates} not found: the partition contains offsets "
            f"{low} to {high - 1}"
        )
    partition.offset = coordinates.offset
    consumer.assign([partition])
    while (remaining := deadline - time.monotonic()) > 0:
        message = consumer.poll(min(remaining, 1.0))
        if message is None:
            continue
        error = message.error()
        if error is not None and error.code() != KafkaError._PARTITION_EOF:
            raise KafkaException(error)
        if error is not None or message.offset() != coordinates.offset:
            raise ReidentificationError(
                f"record {coordinates} no longer exists: retention or compaction "
                "removed it, or it was a transaction marker"
            )
        return FetchedRecord(message.value(), _headers(message.headers()))
    raise ReidentificationError(f"timed out reading record {coordinates}")


def _headers(headers: Any) -> tuple[tuple[str, bytes], ...]:
    """Return a message's headers as pairs, an empty value for a null one."""
    if not headers:
        return ()
    pairs = headers.items() if isinstance(headers, Mapping) else headers
    return tuple((str(name), value or b"") for name, value in pairs)


def restore_record(engine: MaskingEngine, record: FetchedRecord) -> Reidentified:
    """Decode a cross-border record and reverse its tokens.

    The key version comes from the record's ``seawall.key_version`` header,
    and its key id must match the keyring's.

    Raises:
        ReidentificationError: The record is a tombstone, lacks the key
            headers, or was written with another keyring or a schema that no
            route masks.
        DecodeError: The value cannot be decoded with the loaded schemas.
        InvalidValueError: A tagged value is not a token of its type.
    """
    if record.value is None:
        raise ReidentificationError("the record is a tombstone: it has no value")
    key = _record_key(engine.keyring, record)
    source_id = record.header(SOURCE_SCHEMA_ID_HEADER)
    try:
        schema_name, plan, decoded = engine.restoration_plan(
            record.value,
            int(source_id) if source_id is not None and source_id.isdigit() else None,
        )
    except DecodeError as exc:
        raise ReidentificationError(f"cannot restore the record: {exc}") from exc
    unmasked = unmask_record(plan, decoded, key)
    not_restored = sum(entry.count for entry in unmasked.not_restored)
    result = Result(
        value_count=unmasked.restored_count + not_restored,
        succeeded=unmasked.restored_count,
        failed=not_restored,
        key_id=key.key_id,
        key_version=key.version,
        schema_name=schema_name,
        fields=unmasked.reversals,
    )
    problems = [
        f"not restored: {entry.path} ({entry.count} values written by "
        f"{entry.action}, which cannot be reversed)"
        for entry in unmasked.not_restored
    ]
    return Reidentified(result, [record_json(unmasked.record)], problems)


def _record_key(keyring: Keyring, record: FetchedRecord) -> KeyVersion:
    """Return the key version named by the record's headers."""
    version_header = record.header(KEY_VERSION_HEADER)
    if version_header is None or not version_header.isdigit():
        raise ReidentificationError(
            f"the record has no valid {KEY_VERSION_HEADER} header, so it was not "
            "masked by Seawall or its headers were removed"
        )
    key_id = record.header(KEY_ID_HEADER)
    if key_id is not None and key_id.decode("utf-8", "replace") != keyring.key_id:
        raise ReidentificationError(
            f"the record was masked with key id "
            f"{key_id.decode('utf-8', 'replace')!r}, but the keyring holds "
            f"{keyring.key_id!r}: use that keyring's configuration"
        )
    return keyring.get(int(version_header))


def record_json(record: Any) -> str:
    """Return a decoded record as one line of JSON.

    A record in tuple notation, ``(full name, record)``, becomes
    ``{"full name": record}`` as in Avro's JSON encoding of unions. Bytes
    become base64 text, dates and times ISO 8601 text, decimals and UUIDs
    their text.
    """
    return json.dumps(_jsonable(record), ensure_ascii=False, sort_keys=False)


def _jsonable(value: Any) -> Any:
    """Convert a decoded Avro value into JSON types."""
    if isinstance(value, dict):
        return {key: _jsonable(item) for key, item in value.items()}
    if isinstance(value, tuple) and len(value) == 2 and isinstance(value[0], str):
        return {value[0]: _jsonable(value[1])}
    if isinstance(value, list | tuple):
        return [_jsonable(item) for item in value]
    if isinstance(value, bytes):
        return b64encode(value).decode("ascii")
    if isinstance(value, datetime | date | time_of_day):
        return value.isoformat()
    if isinstance(value, Decimal | uuid.UUID):
        return str(value)
    return value
