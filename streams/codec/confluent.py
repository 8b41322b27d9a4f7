"""Confluent Schema Registry framing: magic byte 0, a schema id, the body.

The header is the magic byte ``00`` and the 4-byte big-endian id that a
schema registry gave the writer schema. The body is the record in Avro
binary encoding. Confluent's serializers write keys and values this way
("Wire format" in Confluent's Schema Registry documentation).

Decoding turns every malformed input into a `DecodeError` whose reason is
one of ``decode.bad_marker`` (the first byte is not 0), ``decode.truncated``
or ``decode.invalid_body``, as for single-object encoding. Records come out
as in `streams.codec.single_object`: a record in a union of several record
types is in tuple notation, ``(full name, record)``.
"""

from __future__ import annotations

import struct
from typing import Any

from streams.codec import single_object
from streams.codec.store import SchemaEntry
from streams.errors import DecodeError

MAGIC = b"\x00"
HEADER_SIZE = 5
MAX_SCHEMA_ID = 2**31 - 1


def header(schema_id: int) -> bytes:
    """Return the 5-byte header for a schema id.

    Raises:
        ValueError: The id is outside 0 to 2**31 - 1, the range registries use.
    """
    if not 0 <= schema_id <= MAX_SCHEMA_ID:
        raise ValueError(
            f"schema_id must be from 0 to {MAX_SCHEMA_ID}, got {schema_id}"
        )
    return MAGIC + struct.pack(">I", schema_id)


def is_framed(data: bytes | None) -> bool:
    """Return whether `data` is long enough and starts with the magic byte."""
    return data is not None and len(data) >= HEADER_SIZE and data[:1] == MAGIC


def schema_id(data: bytes) -> int:
    """Return the schema id in the header of a framed value.

    Raises:
        DecodeError: The value is shorter than the header or does not start
            with the magic byte.
    """
    if len(data) < HEADER_SIZE:
        raise DecodeError(
            "decode.truncated",
            f"value has {len(data)} bytes, fewer than the {HEADER_SIZE}-byte "
            "Confluent header",
        )
    if data[:1] != MAGIC:
        raise DecodeError(
            "decode.bad_marker",
            f"value starts with byte {data[0]:#04x}, not the Confluent magic byte "
            "0x00: produce it with a Confluent Schema Registry serializer",
        )
    found: int = struct.unpack(">I", data[1:HEADER_SIZE])[0]
    return found


def encode(
    entry: SchemaEntry, schema_id: int, record: Any, *, validate_first: bool = True
) -> bytes:
    """Encode a record with the Confluent header of `schema_id`.

    Raises:
        RecordError: As for `streams.codec.single_object.encode`.
        ValueError: `schema_id` is out of range.
    """
    prefix = header(schema_id)
    framed = single_object.encode(entry, record, validate_first=validate_first)
    return prefix + framed[single_object.HEADER_SIZE :]


def decode(entry: SchemaEntry, data: bytes) -> Any:
    """Decode the body of a framed value with the writer schema `entry`.

    The caller looks `entry` up by `schema_id`; this function does not check
    that the id in the header belongs to it.

    Raises:
        DecodeError: The header or the body is malformed.
    """
    return single_object.read_body(
        entry, data, start=HEADER_SIZE, where=f"schema id {schema_id(data)}"
    )
