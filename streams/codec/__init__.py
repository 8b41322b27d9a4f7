"""Avro schema files and single-object encoding.

`SchemaStore` loads ``*.avsc`` files and looks schemas up by CRC-64-AVRO
fingerprint and full name. Its `SchemaStore.encode` and `SchemaStore.decode`
write and read Avro single-object encoding. `encode` and `decode` are the
same operations for callers that manage the entries themselves.
"""

from streams.codec.fingerprint import canonical_form, crc64_avro
from streams.codec.single_object import HEADER_SIZE, MARKER, decode, encode
from streams.codec.store import SchemaEntry, SchemaStore

__all__ = [
    "HEADER_SIZE",
    "MARKER",
    "SchemaEntry",
    "SchemaStore",
    "canonical_form",
    "crc64_avro",
    "decode",
    "encode",
]
