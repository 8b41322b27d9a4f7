"""Fuzzing single-object decoding: malformed input raises only DecodeError."""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from streams.codec import HEADER_SIZE, MARKER, SchemaStore
from streams.errors import DecodeError

SCHEMAS = Path(__file__).parents[1] / "schemas"
STORE = SchemaStore.from_directory(SCHEMAS)

VALID = [
    STORE.encode(
        "crm.ContactBook",
        {
            "owner": "王小明",
            "contacts": [{"label": "home", "mobile": "13800138000"}],
            "by_role": {"boss": {"label": "boss", "mobile": None}},
            "phones": ["13900139000"],
            "emails": {"home": "a@example.com"},
        },
    ),
    STORE.encode(
        "hr.Person",
        {
            "name": "甲",
            "mobile": None,
            "manager": {"name": "乙", "mobile": "1", "manager": None},
        },
    ),
    STORE.encode(
        "clinic.Visit",
        {
            "visit_id": uuid.UUID(int=7),
            "birth_date": dt.date(1990, 1, 1),
            "seen_at": dt.datetime(2026, 1, 1, tzinfo=dt.UTC),
            "fee": Decimal("1.25"),
            "diagnosis": "B",
            "device": b"abcd",
            "second_device": b"wxyz",
        },
    ),
    STORE.encode(
        "pay.Payment",
        {
            "payment_id": "P",
            "method": {"account": "6228", "bank": "ICBC"},
            "refund_to": None,
        },
    ),
]


REASONS = {
    "decode.bad_marker",
    "decode.unknown_fingerprint",
    "decode.truncated",
    "decode.invalid_body",
}


def decode_or_reject(data: bytes) -> None:
    """Decode, accepting success or DecodeError and nothing else."""
    reason = None
    try:
        STORE.decode(data)
    except DecodeError as err:
        reason = err.reason
    assert reason is None or reason in REASONS


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=64))
def test_random_bytes_raise_only_decode_error(data: bytes) -> None:
    decode_or_reject(data)


@settings(max_examples=300, deadline=None)
@given(st.sampled_from(VALID).map(lambda v: v[:HEADER_SIZE]), st.binary(max_size=80))
def test_random_body_raises_only_decode_error(header: bytes, body: bytes) -> None:
    decode_or_reject(header + body)


@settings(max_examples=500, deadline=None)
@given(
    st.sampled_from(VALID),
    st.lists(st.tuples(st.integers(0, 10_000), st.integers(0, 255)), max_size=4),
    st.integers(0, 10_000),
)
def test_mutated_records_raise_only_decode_error(
    valid: bytes, changes: list[tuple[int, int]], cut: int
) -> None:
    data = bytearray(valid)
    for position, byte in changes:
        data[HEADER_SIZE + position % (len(data) - HEADER_SIZE)] = byte
    decode_or_reject(bytes(data[: max(len(MARKER), len(data) - cut % 8)]))


def test_valid_records_decode() -> None:
    for data in VALID:
        entry, record = STORE.decode(data)
        assert STORE.encode(entry, record) == data
