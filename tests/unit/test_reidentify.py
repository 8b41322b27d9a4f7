"""The re-identification audit of ``seawall detokenize`` without a broker."""

from __future__ import annotations

import json
import os
import socket
import stat
from collections.abc import Mapping
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import yaml

from streams.cli import main
from streams.codec import single_object
from streams.errors import ConfigError, SeawallError
from streams.keys import Keyring
from streams.masking import Reversal
from streams.reidentify import (
    AuditWriteError,
    FileEventSink,
    KafkaEventSink,
    Operator,
    RecordCoordinates,
    Reidentified,
    Request,
    Result,
    build_event,
    check_reason,
    encode_event,
    event_schema,
    record_json,
    run_audited,
)

SCHEMAS = Path(__file__).parents[2] / "schemas"
MOBILE = "13812345678"
OPERATOR = Operator(user="auditor", host="audit-host")


@pytest.fixture
def site(tmp_path: Path) -> Path:
    """Write a keyring and a configuration without a kafka section."""
    keyring = Keyring.generate("reid-test")
    keyring.save(tmp_path / "keys.json")
    config = {
        "schemas": {"directory": str(SCHEMAS)},
        "keys": {"file": "keys.json"},
        "audit_topic": "cn.seawall.audit",
        "dead_letter_topic": "cn.seawall.dlq",
        "routes": [
            {"name": "customers", "source": "cn.crm.c", "destination": "xb.crm.c"}
        ],
    }
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump(config), encoding="utf-8")
    return path


def token_of(site: Path, value: str, capsys: pytest.CaptureFixture[str]) -> str:
    """Tokenize one cn_mobile value with the command."""
    assert main(["tokenize", "--config", str(site), "--type", "cn_mobile", value]) == 0
    token = capsys.readouterr().out.strip()
    assert token != value
    return token


def detokenize(site: Path, *extra: str) -> int:
    """Run ``seawall detokenize`` with the site's configuration."""
    return main(["detokenize", "--config", str(site), *extra])


def log_lines(site: Path) -> list[dict[str, Any]]:
    """Read the events of the site's re-identification log."""
    text = (site.parent / "reidentification.log").read_text(encoding="utf-8")
    return [json.loads(line) for line in text.splitlines()]


def test_detokenize_prints_original(
    site: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    token = token_of(site, MOBILE, capsys)
    code = detokenize(site, "--reason", "ticket OPS-7", "--type", "cn_mobile", token)
    assert code == 0
    assert capsys.readouterr().out == MOBILE + "\n"


def test_detokenize_writes_one_event(
    site: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    token = token_of(site, MOBILE, capsys)
    detokenize(site, "--reason", "ticket OPS-7", "--type", "cn_mobile", token, "42")
    [event] = log_lines(site)
    assert event["request"] == "values"
    assert event["pii_type"] == "cn_mobile"
    assert event["reason"] == "ticket OPS-7"
    assert event["value_count"] == 2
    assert event["succeeded"] == 1
    assert event["failed"] == 1
    assert event["key_id"] == "reid-test"
    assert event["key_version"] == 1
    assert event["host"] == socket.gethostname()
    assert event["user"]
    assert event["error"] is None


def test_event_bytes_hold_no_value_or_token(
    site: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    token = token_of(site, MOBILE, capsys)
    detokenize(site, "--reason", "ticket OPS-7", "--type", "cn_mobile", token)
    raw = (site.parent / "reidentification.log").read_bytes()
    assert MOBILE.encode() not in raw
    assert token.encode() not in raw
    # The Avro form sent to the audit topic contains the same fields.
    encoded = encode_event(log_lines(site)[0])
    assert MOBILE.encode() not in encoded
    assert token.encode() not in encoded


def test_log_file_mode_is_0600(site: Path, capsys: pytest.CaptureFixture[str]) -> None:
    token = token_of(site, MOBILE, capsys)
    # With no umask, the mode comes from the code alone.
    previous = os.umask(0)
    try:
        detokenize(site, "--reason", "ticket OPS-7", "--type", "cn_mobile", token)
    finally:
        os.umask(previous)
    mode = (site.parent / "reidentification.log").stat().st_mode
    assert stat.S_IMODE(mode) == 0o600


def test_log_appends_events(site: Path, capsys: pytest.CaptureFixture[str]) -> None:
    token = token_of(site, MOBILE, capsys)
    for reason in ("first OPS-1", "second OPS-2"):
        detokenize(site, "--reason", reason, "--type", "cn_mobile", token)
    events = log_lines(site)
    assert [e["reason"] for e in events] == ["first OPS-1", "second OPS-2"]
    assert events[0]["event_id"] != events[1]["event_id"]


def test_failed_audit_write_prints_nothing(
    site: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    token = token_of(site, MOBILE, capsys)
    config = yaml.safe_load(site.read_text(encoding="utf-8"))
    config["reidentification_log"] = "missing-folder/reid.log"
    site.write_text(yaml.safe_dump(config), encoding="utf-8")
    code = detokenize(site, "--reason", "ticket OPS-7", "--type", "cn_mobile", token)
    output = capsys.readouterr()
    assert code != 0
    assert output.out == ""
    assert MOBILE not in output.err
    assert "reidentification_log" in output.err


@pytest.mark.parametrize("reason", ["", "   ", "two\nlines", "x" * 501], ids=repr)
def test_invalid_reason_rejected(
    site: Path, capsys: pytest.CaptureFixture[str], reason: str
) -> None:
    token = token_of(site, MOBILE, capsys)
    code = detokenize(site, "--reason", reason, "--type", "cn_mobile", token)
    output = capsys.readouterr()
    assert code == 2
    assert output.out == ""
    assert "--reason" in output.err
    assert not (site.parent / "reidentification.log").exists()


def test_reason_is_required(site: Path) -> None:
    with pytest.raises(SystemExit) as caught:
        detokenize(site, "--type", "cn_mobile", MOBILE)
    assert caught.value.code == 2


def test_failed_request_is_audited(
    site: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = detokenize(
        site, "--reason", "ticket OPS-7", "--type", "cn_mobile", "--key-version",
        "9", MOBILE,
    )  # fmt: skip
    output = capsys.readouterr()
    assert code == 2
    assert output.out == ""
    [event] = log_lines(site)
    assert "version 9" in event["error"]
    assert event["succeeded"] == 0
    assert MOBILE not in json.dumps(event)


def test_type_form_needs_values(site: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = detokenize(site, "--reason", "ticket OPS-7", "--type", "cn_mobile")
    assert code == 2
    assert "at least one VALUE" in capsys.readouterr().err


def test_record_form_needs_kafka(
    site: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = detokenize(site, "--reason", "ticket OPS-7", "--record", "xb.t:0:1")
    assert code == 2
    assert "no 'kafka' section" in capsys.readouterr().err
    assert not (site.parent / "reidentification.log").exists()


def test_record_form_takes_no_values(
    site: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = detokenize(site, "--reason", "ticket OPS-7", "--record", "xb.t:0:1", "x")
    assert code == 2
    assert "takes no VALUE" in capsys.readouterr().err


def test_forms_are_exclusive(site: Path) -> None:
    with pytest.raises(SystemExit):
        detokenize(
            site, "--reason", "r", "--type", "cn_mobile", "--record", "t:0:1", MOBILE
        )


def test_check_reason_strips() -> None:
    assert check_reason("  ticket OPS-9 ") == "ticket OPS-9"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("xb.crm.orders:0:42", RecordCoordinates("xb.crm.orders", 0, 42)),
        ("t:12:0", RecordCoordinates("t", 12, 0)),
    ],
)
def test_coordinates_parse(text: str, expected: RecordCoordinates) -> None:
    assert RecordCoordinates.parse(text) == expected
    assert str(expected) == text


@pytest.mark.parametrize("text", ["t", "t:0", ":0:1", "t:-1:0", "t:0:x", "a:b:0:1"])
def test_coordinates_invalid(text: str) -> None:
    with pytest.raises(ConfigError, match="TOPIC:PARTITION:OFFSET"):
        RecordCoordinates.parse(text)


def sample_event() -> dict[str, Any]:
    """Return an event of a record request with one field entry."""
    request = Request(
        OPERATOR, "ticket OPS-3", source=RecordCoordinates("xb.crm.c", 1, 7)
    )
    result = Result(
        value_count=3,
        succeeded=2,
        failed=1,
        key_id="pii-main",
        key_version=2,
        schema_name="crm.Customer",
        fields=(Reversal("mobile", "cn_mobile", "tokenize", 2, True),),
    )
    return build_event(request, result, now_ms=1_767_225_600_000)


def test_event_encodes_with_schema() -> None:
    event = sample_event()
    encoded = encode_event(event)
    entry, decoded = single_object.decode(
        encoded, {event_schema().fingerprint: event_schema()}.get
    )
    assert entry.name == "seawall.audit.ReidentificationEvent"
    assert decoded["source"] == "xb.crm.c:1:7"
    assert decoded["request"] == "record"
    assert decoded["fields"] == event["fields"]
    assert decoded["event_time"].year == 2026


def test_event_schema_is_linked() -> None:
    linked = SCHEMAS / "seawall" / "reidentification_event.avsc"
    assert linked.is_symlink()
    assert json.loads(linked.read_text("utf-8"))["name"] == "ReidentificationEvent"


class MemorySink:
    """Keeps events in a list, or fails every write."""

    def __init__(self, fail: bool = False) -> None:
        self.events: list[Mapping[str, Any]] = []
        self.fail = fail

    def write(self, event: Mapping[str, Any]) -> None:
        if self.fail:
            raise AuditWriteError("the sink is down")
        self.events.append(event)


def test_run_audited_writes_before_returning() -> None:
    sink = MemorySink()
    request = Request(OPERATOR, "ticket OPS-3", pii_type="cn_mobile")
    outcome = run_audited(
        sink,
        request,
        lambda: Reidentified(Result(1, 1, 0), [MOBILE]),
        clock=lambda: 2.5,
    )
    assert outcome.lines == (MOBILE,)
    [event] = sink.events
    assert event["event_time"] == 2500


def test_run_audited_records_error() -> None:
    sink = MemorySink()
    request = Request(OPERATOR, "ticket OPS-3", pii_type="cn_mobile")

    def failing() -> Reidentified:
        raise SeawallError("key version 4 not found")

    with pytest.raises(SeawallError, match="version 4"):
        run_audited(sink, request, failing)
    assert [e["error"] for e in sink.events] == ["key version 4 not found"]


def test_run_audited_raises_when_sink_fails() -> None:
    request = Request(OPERATOR, "ticket OPS-3", pii_type="cn_mobile")
    with pytest.raises(AuditWriteError):
        run_audited(
            MemorySink(fail=True),
            request,
            lambda: Reidentified(Result(1, 1, 0), [MOBILE]),
        )


def test_reidentified_repr_hides_lines() -> None:
    outcome = Reidentified(Result(1, 1, 0), [MOBILE])
    assert MOBILE not in repr(outcome)
    assert MOBILE not in str(outcome)


def test_file_sink_keeps_existing_mode(tmp_path: Path) -> None:
    path = tmp_path / "reid.log"
    path.write_text("", encoding="utf-8")
    path.chmod(0o640)
    FileEventSink(path).write(sample_event())
    assert stat.S_IMODE(path.stat().st_mode) == 0o640
    assert json.loads(path.read_text("utf-8"))["reason"] == "ticket OPS-3"


@pytest.fixture
def closed_port() -> int:
    """Return a port on 127.0.0.1 that nothing listens on."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


def test_kafka_sink_fails_without_broker(closed_port: int) -> None:
    sink = KafkaEventSink(f"127.0.0.1:{closed_port}", "cn.seawall.audit", timeout=1.0)
    with pytest.raises(AuditWriteError, match="was not delivered"):
        sink.write(sample_event())


def test_record_json_converts_avro_types() -> None:
    record = {
        "payment": ("crm.CardPayment", {"holder": "王芳"}),
        "amount": Decimal("12.50"),
        "raw": b"\x00\xff",
        "day": date(2026, 1, 2),
        "items": [1, 2],
    }
    assert json.loads(record_json(record)) == {
        "payment": {"crm.CardPayment": {"holder": "王芳"}},
        "amount": "12.50",
        "raw": "AP8=",
        "day": "2026-01-02",
        "items": [1, 2],
    }
    assert "王芳" in record_json(record)


def test_kafka_sink_repr_hides_client_config() -> None:
    sink = KafkaEventSink(
        "127.0.0.1:9093",
        "cn.seawall.audit",
        client_config={"sasl.password": "s3cret-value"},
    )

    assert "s3cret-value" not in repr(sink)
    assert "s3cret-value" not in str(sink)
