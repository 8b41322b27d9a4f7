"""Avro single-object encoding: ``C3 01``, an 8-byte fingerprint, the body.

The header is the two-byte marker ``C3 01`` and the little-endian
CRC-64-AVRO fingerprint of the writer schema. The body is the record in
Avro binary encoding (Avro specification, "Single-object encoding").

Decoding turns every malformed input into a `DecodeError` whose reason is
one of ``decode.bad_marker``, ``decode.unknown_fingerprint``,
``decode.truncated`` or ``decode.invalid_body``. Records come out as
fastavro reads them, except that a record in a union of several record types
comes out in tuple notation, ``(full name, record)``, so that the branch is
known without guessing.
"""

from __future__ import annotations

import io
import struct
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from fastavro import (
    _read_py,
    _validation_py,
    _write_py,
    schemaless_reader,
    schemaless_writer,
)
from fastavro.validation import ValidationError, validate

from streams.codec.fingerprint import FINGERPRINT_SIZE
from streams.errors import DecodeError, RecordError

if TYPE_CHECKING:
    from streams.codec.store import SchemaEntry

MARKER = b"\xc3\x01"
HEADER_SIZE = len(MARKER) + FINGERPRINT_SIZE

# fastavro's compiled reader, writer and validator recurse on the C stack
# and crash the process (a segmentation fault, measured with fastavro 1.13.1
# at a few thousand nesting levels) instead of raising RecursionError. Values
# of a recursive schema therefore go through fastavro's pure-Python modules,
# where Python's recursion limit turns a too-deep value into an error.
# NOTE: that limit allows fewer than 200 levels of a simple recursive record
# at the default recursion limit of 1000 frames. The exact number depends on
# the schema and on the caller's stack depth.

# Besides EOFError and UnicodeDecodeError, fastavro 1.13.1 raised these on
# fuzzed bodies: IndexError (a bad union or enum index, an over-long varint),
# ValueError (an invalid UUID) and OverflowError (a date or timestamp out of
# range). MemoryError, OSError (datetime on some platforms) and struct.error
# (the pure-Python reader) were not seen but come from the same reads.
_INVALID_BODY_ERRORS = (
    ValueError,
    IndexError,
    OverflowError,
    MemoryError,
    OSError,
    struct.error,
)


def encode(entry: SchemaEntry, record: Any, *, validate_first: bool = True) -> bytes:
    """Encode a record in single-object encoding.

    Args:
        entry: The writer schema.
        record: The record to encode.
        validate_first: Validate the record before writing it. fastavro's
            writer does not check every rule (it writes an out-of-range int,
            for one), so only records built by Seawall itself with fixed
            types, such as audit events, skip it.

    Raises:
        RecordError: The record does not match the schema (reason
            ``encode.schema_mismatch``), naming the field paths the way
            fastavro does (``hr.Person.mobile``) and never the values. Reason
            ``encode.too_deep``: the record nests too deeply for a recursive
            schema.
    """
    check, write = (
        (_validation_py.validate, _write_py.schemaless_writer)
        if entry.recursive
        else (validate, schemaless_writer)
    )
    try:
        if validate_first:
            check(record, entry.parsed, raise_errors=True)
    except RecursionError:
        raise RecordError(
            "encode.too_deep",
            f"record nests too deeply to encode with schema {entry.label}",
        ) from None
    except ValidationError as err:
        fields = sorted({str(e.field) or "(root)" for e in err.errors})
        raise RecordError(
            "encode.schema_mismatch",
            f"record does not match schema {entry.label} at "
            f"{', '.join(fields)}: check those fields' types",
        ) from None
    buffer = io.BytesIO()
    buffer.write(MARKER + entry.fingerprint)
    write(buffer, entry.parsed, record)
    return buffer.getvalue()


def decode(
    data: bytes, lookup: Callable[[bytes], SchemaEntry | None]
) -> tuple[SchemaEntry, Any]:
    """Decode one single-object encoded value.

    Args:
        data: The encoded value.
        lookup: Returns the schema of an 8-byte fingerprint, or None.

    Raises:
        DecodeError: The value is malformed or its schema is unknown.
    """
    if len(data) < len(MARKER) or data[: len(MARKER)] != MARKER:
        raise DecodeError(
            "decode.bad_marker",
            f"value of {len(data)} bytes does not start with the Avro "
            "single-object marker C3 01",
        )
    if len(data) < HEADER_SIZE:
        raise DecodeError(
            "decode.truncated",
            f"value ends at byte {len(data)}, inside the {HEADER_SIZE}-byte header",
        )
    fingerprint = bytes(data[len(MARKER) : HEADER_SIZE])
    entry = lookup(fingerprint)
    if entry is None:
        raise DecodeError(
            "decode.unknown_fingerprint",
            f"no loaded schema has fingerprint {fingerprint.hex()}: load the "
            "writer's schema",
        )
    return entry, read_body(
        entry, data, start=HEADER_SIZE, where=f"schema {entry.fingerprint.hex()}"
    )


def read_body(entry: SchemaEntry, data: bytes, *, start: int, where: str) -> Any:
    """Read the Avro body from byte `start` and check that nothing is left over.

    Both wire formats share this, so every malformed body becomes the same
    `DecodeError` reasons. `where` names the schema in messages.

    Raises:
        DecodeError: The body is truncated, invalid, or followed by bytes.
    """
    buffer = io.BytesIO(data)
    buffer.seek(start)
    read = _read_py.schemaless_reader if entry.recursive else schemaless_reader
    try:
        record = read(
            buffer,
            entry.parsed,
            None,
            return_record_name=True,
            return_record_name_override=True,
        )
    except EOFError:
        raise DecodeError(
            "decode.truncated",
            f"{where}: body ends early, at byte {len(data)}",
        ) from None
    except RecursionError:
        raise DecodeError(
            "decode.invalid_body",
            f"{where}: record nests too deeply, near byte {buffer.tell()}",
        ) from None
    except (*_INVALID_BODY_ERRORS, UnicodeDecodeError) as err:
        raise DecodeError(
            "decode.invalid_body",
            f"{where}: invalid body near byte {buffer.tell()} ({type(err).__name__})",
        ) from None
    if buffer.tell() != len(data):
        raise DecodeError(
            "decode.invalid_body",
            f"{where}: {len(data) - buffer.tell()} bytes left after the record, "
            f"from byte {buffer.tell()}",
        )
    return record
