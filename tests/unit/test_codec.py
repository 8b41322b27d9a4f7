"""Schema files, fingerprints and single-object encoding."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from streams.codec import (
    HEADER_SIZE,
    SchemaEntry,
    SchemaStore,
    canonical_form,
    crc64_avro,
)
from streams.errors import DecodeError, RecordError, SchemaError

SCHEMAS = Path(__file__).parents[1] / "schemas"

# Inputs, canonical forms and fingerprints (signed 64-bit, as published) from
# Apache Avro's share/test/data/schema-tests.txt, cases 000, 014, 018, 020,
# 025, 029 and 033.
AVRO_VECTORS = [
    ('"null"', '"null"', 7195948357588979594),
    ('"string"', '"string"', -8142146995180207161),
    (
        '[ "int" , {"type":"boolean"} ]',
        '["int","boolean"]',
        5392556393470105090,
    ),
    (
        '{"fields":[], "type":"record", "name":"foo", "namespace":"x.y"}',
        '{"name":"x.y.foo","type":"record","fields":[]}',
        5916914534497305771,
    ),
    (
        '{"fields":[{"type":{"type":"boolean"}, "name":"f1"}], "type":"record", '
        '"name":"foo"}',
        '{"name":"foo","type":"record","fields":[{"name":"f1","type":"boolean"}]}',
        7843277075252814651,
    ),
    (
        '{"name":"foo","type":"fixed","size":15}',
        '{"name":"foo","type":"fixed","size":15}',
        1756455273707447556,
    ),
    (
        '{"name":"PigValue","type":"record", "fields":[{"name":"value", '
        '"type":["null", "int", "long", "PigValue"]}]}',
        '{"name":"PigValue","type":"record","fields":[{"name":"value",'
        '"type":["null","int","long","PigValue"]}]}',
        -1759257747318642341,
    ),
]

# The CRC-64-AVRO parameters from the Avro specification, "Schema Fingerprints".
EMPTY = 0xC15D213AA4D7A795


def reference_crc64(data: bytes) -> int:
    """Compute CRC-64-AVRO bit by bit, as the specification's Java code does."""
    table = []
    for i in range(256):
        fp = i
        for _ in range(8):
            fp = (fp >> 1) ^ (EMPTY & -(fp & 1))
        table.append(fp)
    fp = EMPTY
    for byte in data:
        fp = (fp >> 8) ^ table[(fp ^ byte) & 0xFF]
    return fp


@pytest.mark.parametrize(
    ("schema", "canonical", "fingerprint"),
    AVRO_VECTORS,
    ids=["null", "string", "union", "namespace", "record", "fixed", "recursive"],
)
def test_fingerprint_matches_avro_vectors(
    schema: str, canonical: str, fingerprint: int
) -> None:
    form = canonical_form(json.loads(schema))
    assert form == canonical
    expected = fingerprint.to_bytes(8, "little", signed=True)
    assert crc64_avro(form) == expected
    assert reference_crc64(form.encode()).to_bytes(8, "little") == expected


@pytest.fixture(scope="module")
def store() -> SchemaStore:
    return SchemaStore.from_directory(SCHEMAS)


def test_store_loads_every_file_recursively(store: SchemaStore) -> None:
    names = sorted(entry.name or "" for entry in store)
    assert names == [
        "clinic.Visit",
        "crm.ContactBook",
        "crm.Customer",
        "hr.Person",
        "pay.Payment",
        "shop.Order",
    ]
    assert store.by_name("shop.Order").source == SCHEMAS / "shop" / "order.avsc"


def test_store_fingerprint_covers_referenced_types(store: SchemaStore) -> None:
    order = store.by_name("shop.Order")
    assert '"name":"crm.Customer","type":"record"' in order.canonical_form
    assert order.canonical_form.count('"type":"record","fields"') == 3
    assert order.fingerprint == reference_crc64(order.canonical_form.encode()).to_bytes(
        8, "little"
    )
    assert store.by_fingerprint(order.fingerprint) is order


def test_store_lookup_misses_raise(store: SchemaStore) -> None:
    with pytest.raises(SchemaError, match=r"'crm\.Nobody'"):
        store.by_name("crm.Nobody")
    with pytest.raises(SchemaError, match="0000000000000000"):
        store.by_fingerprint(bytes(8))


def write(directory: Path, name: str, schema: Any) -> Path:
    path = directory / name
    path.write_text(schema if isinstance(schema, str) else json.dumps(schema))
    return path


def customer_schema() -> dict[str, Any]:
    return {
        "type": "record",
        "name": "Customer",
        "namespace": "crm",
        "fields": [{"name": "name", "type": "string"}],
    }


def order_schema() -> dict[str, Any]:
    return {
        "type": "record",
        "name": "Order",
        "namespace": "shop",
        "fields": [{"name": "buyer", "type": "crm.Customer"}],
    }


def test_store_loads_in_dependency_order(tmp_path: Path) -> None:
    write(tmp_path, "a_order.avsc", order_schema())
    write(tmp_path, "z_customer.avsc", customer_schema())
    store = SchemaStore.from_directory(tmp_path)
    assert len(store) == 2
    assert "crm.Customer" in store.by_name("shop.Order").canonical_form


def test_store_names_file_with_unknown_type(tmp_path: Path) -> None:
    order = write(tmp_path, "order.avsc", order_schema())
    with pytest.raises(SchemaError) as caught:
        SchemaStore.from_directory(tmp_path)
    assert str(order) in str(caught.value)
    assert "'crm.Customer'" in str(caught.value)


def test_store_names_file_with_invalid_json(tmp_path: Path) -> None:
    broken = write(tmp_path, "broken.avsc", '{"type": "record",\n "name": }')
    with pytest.raises(SchemaError) as caught:
        SchemaStore.from_directory(tmp_path)
    assert str(broken) in str(caught.value)
    assert "line 2" in str(caught.value)


def test_store_names_file_with_invalid_avro(tmp_path: Path) -> None:
    bad = write(tmp_path, "bad.avsc", {"type": "enum", "name": "E"})
    with pytest.raises(SchemaError) as caught:
        SchemaStore.from_directory(tmp_path)
    assert str(bad) in str(caught.value)
    assert "symbols" in str(caught.value)


def test_store_rejects_type_defined_twice(tmp_path: Path) -> None:
    write(tmp_path, "a.avsc", customer_schema())
    second = write(tmp_path, "b.avsc", customer_schema())
    with pytest.raises(SchemaError) as caught:
        SchemaStore.from_directory(tmp_path)
    assert str(second) in str(caught.value)


def test_store_rejects_empty_directory(tmp_path: Path) -> None:
    with pytest.raises(SchemaError, match=r"no \*\.avsc files"):
        SchemaStore.from_directory(tmp_path)


def person() -> dict[str, Any]:
    return {"name": "王小明", "mobile": "13800138000", "manager": None}


def test_encode_writes_marker_and_fingerprint(store: SchemaStore) -> None:
    entry = store.by_name("hr.Person")
    data = store.encode("hr.Person", person())
    assert data[:2] == b"\xc3\x01"
    assert data[2:HEADER_SIZE] == entry.fingerprint
    assert store.decode(data) == (entry, person())


def test_encode_mismatch_names_field_not_value(store: SchemaStore) -> None:
    record = person() | {"mobile": 13800138000}
    with pytest.raises(RecordError) as caught:
        store.encode("hr.Person", record)
    assert caught.value.reason == "encode.schema_mismatch"
    assert "hr.Person.mobile" in str(caught.value)
    assert "13800138000" not in str(caught.value)
    assert "王小明" not in str(caught.value)


def expect_decode_error(store: SchemaStore, data: bytes, reason: str) -> str:
    with pytest.raises(DecodeError) as caught:
        store.decode(data)
    assert caught.value.reason == reason
    return str(caught.value)


def test_decode_bad_marker(store: SchemaStore) -> None:
    data = store.encode("hr.Person", person())
    expect_decode_error(store, b"\x00\x01" + data[2:], "decode.bad_marker")
    expect_decode_error(store, b"", "decode.bad_marker")


def test_decode_header_too_short(store: SchemaStore) -> None:
    data = store.encode("hr.Person", person())
    message = expect_decode_error(store, data[:6], "decode.truncated")
    assert "byte 6" in message


def test_decode_unknown_fingerprint(store: SchemaStore) -> None:
    data = store.encode("hr.Person", person())
    message = expect_decode_error(
        store, data[:2] + bytes(range(8)) + data[10:], "decode.unknown_fingerprint"
    )
    assert "0001020304050607" in message


def test_decode_truncated_body(store: SchemaStore) -> None:
    data = store.encode("hr.Person", person())
    message = expect_decode_error(store, data[:-3], "decode.truncated")
    assert store.by_name("hr.Person").fingerprint.hex() in message
    assert "王" not in message


def test_decode_trailing_bytes(store: SchemaStore) -> None:
    data = store.encode("hr.Person", person())
    message = expect_decode_error(store, data + b"\x00\x00", "decode.invalid_body")
    assert f"from byte {len(data)}" in message


def test_decode_invalid_utf8(store: SchemaStore) -> None:
    data = store.encode("hr.Person", {"name": "ab", "mobile": None, "manager": None})
    broken = data[:HEADER_SIZE] + b"\x04\xff\xfe" + data[HEADER_SIZE + 3 :]
    expect_decode_error(store, broken, "decode.invalid_body")


def test_decode_invalid_union_index(store: SchemaStore) -> None:
    data = store.encode("hr.Person", {"name": "", "mobile": None, "manager": None})
    broken = data[:HEADER_SIZE] + b"\x00\x10\x00"
    expect_decode_error(store, broken, "decode.invalid_body")


def test_entry_from_schema_matches_store(store: SchemaStore) -> None:
    entry = SchemaEntry.from_schema(store.by_name("hr.Person").schema)
    assert entry.fingerprint == store.by_name("hr.Person").fingerprint
    assert entry.source is None


def person_chain_bytes(store: SchemaStore, levels: int) -> bytes:
    """Encode by hand a chain of managers, each an empty name and no mobile."""
    entry = store.by_name("hr.Person")
    level = b"\x00\x00\x02"  # name "", mobile null, manager present
    return b"\xc3\x01" + entry.fingerprint + level * levels + b"\x00\x00\x00"


def test_decode_recursive_record_within_limit(store: SchemaStore) -> None:
    _, record = store.decode(person_chain_bytes(store, 100))
    depth = 0
    while record is not None:
        record = record["manager"]
        depth += 1
    assert depth == 101


def test_decode_too_deep_raises_instead_of_crashing(store: SchemaStore) -> None:
    assert store.by_name("hr.Person").recursive is True
    message = expect_decode_error(
        store, person_chain_bytes(store, 10_000), "decode.invalid_body"
    )
    assert "too deeply" in message


def test_encode_too_deep_raises_instead_of_crashing(store: SchemaStore) -> None:
    record: dict[str, Any] | None = None
    for _ in range(10_000):
        record = {"name": "", "mobile": None, "manager": record}
    with pytest.raises(RecordError) as caught:
        store.encode("hr.Person", record)
    assert caught.value.reason == "encode.too_deep"
