"""Avro Parsing Canonical Form and CRC-64-AVRO fingerprints.

The Avro specification ("Schema Fingerprints") defines CRC-64-AVRO, a 64-bit
Rabin fingerprint of a schema's Parsing Canonical Form, and single-object
encoding puts it in the header as 8 little-endian bytes. fastavro 1.13's
``fingerprint(form, "CRC-64-AVRO")`` returns the hex of exactly those bytes;
the unit tests check it against the spec's vectors.
"""

from __future__ import annotations

from typing import Any

from fastavro.schema import fingerprint, parse_schema, to_parsing_canonical_form

FINGERPRINT_SIZE = 8


def canonical_form(schema: Any) -> str:
    """Return the Parsing Canonical Form of a self-contained schema."""
    return str(to_parsing_canonical_form(parse_schema(schema)))


def crc64_avro(form: str) -> bytes:
    """Return the CRC-64-AVRO fingerprint of a canonical form, little-endian."""
    return bytes.fromhex(fingerprint(form, "CRC-64-AVRO"))
