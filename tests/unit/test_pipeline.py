"""RouteProcessor without a broker: outputs, dead letters, headers, audit."""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

import pytest
from fastavro import parse_schema
from fastavro.validation import validate

from streams.audit import AUDIT_SCHEMA_PATH, event_id
from streams.codec.store import SchemaStore
from streams.config import Policy, Route
from streams.engine import MaskedValue, MaskingEngine
from streams.keys import Keyring
from streams.pipeline import (
    AUDIT_ID_HEADER,
    DETAIL_HEADER,
    KEY_VERSION_HEADER,
    REASON_HEADER,
    SOURCE_HEADER,
    RouteProcessor,
    SourceRecord,
)
from streams.sample_data import SampleGenerator

SCHEMAS = Path(__file__).resolve().parents[2] / "schemas"
NOW = 1_800_000_000.0


@pytest.fixture(scope="module")
def engine() -> MaskingEngine:
    keyring = Keyring.generate("unit").rotate()
    return MaskingEngine(SchemaStore.from_directory(SCHEMAS), keyring, Policy())


@pytest.fixture(scope="module")
def customer() -> dict[str, Any]:
    return SampleGenerator(seed=11).customer()


def _processor(engine: MaskingEngine, **route_options: Any) -> RouteProcessor:
    route = Route(
        name="customers",
        source="cn.crm.customers",
        destination="xb.crm.customers",
        **route_options,
    )
    return RouteProcessor(
        route,
        engine,
        audit_topic="cn.seawall.audit",
        dead_letter_topic="cn.seawall.dlq",
        policy_version="p1",
        worker="unit-host:1",
        clock=lambda: NOW,
    )


def _record(value: bytes | None, **fields: Any) -> SourceRecord:
    defaults: dict[str, Any] = {
        "topic": "cn.crm.customers",
        "partition": 2,
        "offset": 41,
        "timestamp_ms": 1_700_000_000_000,
        "key": b"C000000001",
        "value": value,
        "headers": (),
    }
    defaults.update(fields)
    return SourceRecord(**defaults)


def test_masked_record_goes_to_destination(
    engine: MaskingEngine, customer: dict[str, Any]
) -> None:
    outcome = _processor(engine).process(
        _record(engine.encode("crm.Customer", customer))
    )

    assert not outcome.rejected
    assert outcome.output.topic == "xb.crm.customers"
    assert outcome.output.timestamp_ms == 1_700_000_000_000
    masked = engine.decode(outcome.output.value or b"")
    assert masked["name"] != customer["name"]
    assert masked["resident_id"] != customer["resident_id"]
    assert masked["segment"] == customer["segment"]


def test_output_headers_name_source_audit_and_key(
    engine: MaskingEngine, customer: dict[str, Any]
) -> None:
    outcome = _processor(engine).process(
        _record(engine.encode("crm.Customer", customer))
    )

    headers = dict(outcome.output.headers)
    assert headers[SOURCE_HEADER] == b"cn.crm.customers:2:41"
    expected_id = event_id("cn.crm.customers", 2, 41, 1_700_000_000_000)
    assert headers[AUDIT_ID_HEADER] == expected_id.encode()
    assert headers[KEY_VERSION_HEADER] == b"2"


def test_audit_event_of_masked_record(
    engine: MaskingEngine, customer: dict[str, Any]
) -> None:
    outcome = _processor(engine).process(
        _record(engine.encode("crm.Customer", customer))
    )

    assert outcome.audit.topic == "cn.seawall.audit"
    event = engine.decode_audit(outcome.audit.value or b"")
    assert event["outcome"] == "masked"
    assert event["route"] == "customers"
    assert event["source_offset"] == 41
    assert event["key_version"] == 2
    assert event["policy_version"] == "p1"
    assert event["worker"] == "unit-host:1"
    assert event["sensitive"] is True
    paths = {field["path"]: field for field in event["fields"]}
    assert paths["resident_id"]["sensitive"] is True
    assert paths["name"]["pii_type"] == "person_name"
    assert len(event["subject_pseudonyms"]) == 1


def test_audit_event_holds_no_raw_value(
    engine: MaskingEngine, customer: dict[str, Any]
) -> None:
    outcome = _processor(engine).process(
        _record(engine.encode("crm.Customer", customer))
    )

    audit_bytes = outcome.audit.value or b""
    for name in ("customer_id", "name", "resident_id", "mobile"):
        assert str(customer[name]).encode() not in audit_bytes


def test_redelivery_gives_same_audit_id(
    engine: MaskingEngine, customer: dict[str, Any]
) -> None:
    value = engine.encode("crm.Customer", customer)
    first = _processor(engine).process(_record(value))
    second = _processor(engine).process(_record(value))

    assert first.audit.key == second.audit.key
    assert first.output.value == second.output.value


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        (b"\x00\x01" + bytes(20), "decode.bad_marker"),
        (b"\xc3\x01" + bytes(8) + b"\x02", "decode.unknown_fingerprint"),
        (b"\xc3\x01", "decode.truncated"),
    ],
    ids=["bad-marker", "unknown-fingerprint", "truncated-header"],
)
def test_undecodable_value_becomes_dead_letter(
    engine: MaskingEngine, value: bytes, reason: str
) -> None:
    outcome = _processor(engine).process(_record(value, headers=(("trace", b"1"),)))

    assert outcome.reason == reason
    assert outcome.output.topic == "cn.seawall.dlq"
    assert outcome.output.value == value
    assert outcome.output.key == b"C000000001"
    headers = dict(outcome.output.headers)
    assert headers[REASON_HEADER] == reason.encode()
    assert headers["trace"] == b"1"
    event = engine.decode_audit(outcome.audit.value or b"")
    assert event["outcome"] == "rejected"
    assert event["reason"] == reason
    assert event["destination_topic"] == "cn.seawall.dlq"


def test_invalid_value_detail_names_path_not_value(
    engine: MaskingEngine, customer: dict[str, Any]
) -> None:
    broken = dict(customer, resident_id="11010519491231002Y")
    outcome = _processor(engine).process(_record(engine.encode("crm.Customer", broken)))

    assert outcome.reason == "mask.invalid_value"
    detail = dict(outcome.output.headers)[DETAIL_HEADER].decode()
    assert "resident_id" in detail
    assert "11010519491231002Y" not in detail
    event = engine.decode_audit(outcome.audit.value or b"")
    assert event["schema_name"] == "crm.Customer"


def test_only_allowed_headers_are_copied(
    engine: MaskingEngine, customer: dict[str, Any]
) -> None:
    headers = (
        ("trace_id", b"t-1"),
        ("x-user-mobile", b"13800138000"),
        ("seawall.key_version", b"99"),
    )
    processor = _processor(engine, allowed_headers=("trace_id", "seawall.key_version"))
    outcome = processor.process(
        _record(engine.encode("crm.Customer", customer), headers=headers)
    )

    names = [name for name, _ in outcome.output.headers]
    assert "trace_id" in names
    assert "x-user-mobile" not in names
    assert names.count("seawall.key_version") == 1
    assert dict(outcome.output.headers)["seawall.key_version"] == b"2"


@pytest.mark.parametrize(
    ("key_action", "expected"),
    [("drop", None), ("pass", b"C000000001")],
    ids=["drop", "pass"],
)
def test_key_action_drop_and_pass(
    engine: MaskingEngine,
    customer: dict[str, Any],
    key_action: str,
    expected: bytes | None,
) -> None:
    processor = _processor(engine, key_action=key_action)
    outcome = processor.process(_record(engine.encode("crm.Customer", customer)))

    assert outcome.output.key == expected


def test_default_key_is_stable_pseudonym(
    engine: MaskingEngine, customer: dict[str, Any]
) -> None:
    value = engine.encode("crm.Customer", customer)
    first = _processor(engine).process(_record(value)).output.key or b""
    other = _processor(engine).process(_record(value, key=b"C2")).output.key

    assert len(first) == 64
    assert int(first, 16) >= 0
    assert b"C000000001" not in first
    assert first == _processor(engine).process(_record(value)).output.key
    assert other != first


def test_tombstone_is_forwarded_with_pseudonymous_key(engine: MaskingEngine) -> None:
    outcome = _processor(engine).process(_record(None))

    assert not outcome.rejected
    assert outcome.output.value is None
    assert outcome.output.key not in (None, b"C000000001")
    event = engine.decode_audit(outcome.audit.value or b"")
    assert event["fields"] == []


class _BrokenEngine(MaskingEngine):
    """An engine whose mask step fails with a message that quotes a value."""

    def mask(
        self, value: bytes | None, *, destination: str = "", is_key: bool = False
    ) -> MaskedValue:
        raise RuntimeError("unexpected failure near 13800138000")


def test_unexpected_error_fails_closed(
    engine: MaskingEngine, caplog: pytest.LogCaptureFixture
) -> None:
    broken = _BrokenEngine(engine.store, engine.keyring, Policy())
    with caplog.at_level(logging.ERROR, logger="streams.pipeline"):
        outcome = _processor(broken).process(_record(b"\xc3\x01" + bytes(8)))

    assert "RuntimeError" in caplog.text
    assert "offset=41" in caplog.text
    assert "13800138000" not in caplog.text
    assert outcome.reason == "internal.error"
    assert outcome.output.topic == "cn.seawall.dlq"
    detail = dict(outcome.output.headers)[DETAIL_HEADER]
    assert detail == b"RuntimeError"


def test_every_audit_event_kind_matches_schema(
    engine: MaskingEngine, customer: dict[str, Any]
) -> None:
    audit_schema = parse_schema(json.loads(AUDIT_SCHEMA_PATH.read_text("utf-8")))
    processor = _processor(engine)
    outcomes = [
        processor.process(_record(engine.encode("crm.Customer", customer))),
        processor.process(_record(b"\x00\x01")),
        processor.process(_record(None)),
    ]

    for outcome in outcomes:
        event = engine.decode_audit(outcome.audit.value or b"")
        assert validate(event, audit_schema, raise_errors=True)
