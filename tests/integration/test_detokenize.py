"""``seawall detokenize --record`` on a real broker.

A record is masked by `RouteProcessor`, as the worker masks it, and produced
with its headers to a cross-border topic. The command then reads it back by
its coordinates, restores it, and writes its re-identification event to the
audit topic.
"""

from __future__ import annotations

import contextlib
import io
import json
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml
from confluent_kafka import Producer

from streams.cli import main
from streams.codec import single_object
from streams.config import Route, load_config
from streams.demo import read_all
from streams.engine import MaskingEngine
from streams.keys import Keyring
from streams.ops.kafka import create_topics
from streams.pipeline import RouteProcessor, SourceRecord
from streams.reidentify import event_schema, record_json
from streams.sample_data import SampleGenerator

pytestmark = pytest.mark.kafka

SCHEMAS = Path(__file__).parents[2] / "schemas"
REASON = "complaint ticket CS-2291"


@dataclass
class Site:
    """A configuration, its engine, and the topics of one test module."""

    config_path: Path
    engine: MaskingEngine
    bootstrap: str
    source: str
    destination: str
    audit: str


@pytest.fixture(scope="module")
def site(kafka_bootstrap: str, tmp_path_factory: pytest.TempPathFactory) -> Site:
    tmp = tmp_path_factory.mktemp("detokenize")
    suffix = uuid.uuid4().hex[:8]
    topics = {
        "source": f"cn.crm.customers.{suffix}",
        "destination": f"xb.crm.customers.{suffix}",
        "audit": f"cn.seawall.audit.{suffix}",
        "dlq": f"cn.seawall.dlq.{suffix}",
    }
    create_topics(kafka_bootstrap, list(topics.values()))
    Keyring.generate("detok-test").save(tmp / "keys.json")
    config = {
        "kafka": {"bootstrap_servers": kafka_bootstrap},
        "schemas": {"directory": str(SCHEMAS)},
        "keys": {"file": "keys.json"},
        "audit_topic": topics["audit"],
        "dead_letter_topic": topics["dlq"],
        "routes": [
            {
                "name": "customers",
                "source": topics["source"],
                "destination": topics["destination"],
            }
        ],
    }
    config_path = tmp / "config.yaml"
    config_path.write_text(yaml.safe_dump(config), encoding="utf-8")
    engine = MaskingEngine.from_config(load_config(config_path))
    return Site(
        config_path,
        engine,
        kafka_bootstrap,
        topics["source"],
        topics["destination"],
        topics["audit"],
    )


@dataclass
class Published:
    """One masked record on the cross-border topic."""

    original: dict[str, Any]
    masked_value: bytes
    offset: int


def publish(site: Site, customer: dict[str, Any]) -> Published:
    """Mask a customer as the worker does and produce it with its headers."""
    route = Route("customers", site.source, site.destination)
    processor = RouteProcessor(
        route,
        site.engine,
        audit_topic=site.audit,
        dead_letter_topic="unused",
        policy_version="test",
    )
    source = SourceRecord(
        topic=site.source,
        partition=0,
        offset=17,
        timestamp_ms=1_767_225_600_000,
        key=b"customer",
        value=site.engine.encode("crm.Customer", customer),
    )

    outcome = processor.process(source)
    assert not outcome.rejected
    output = outcome.output
    assert output.value is not None

    offsets: list[int | None] = []
    producer = Producer({"bootstrap.servers": site.bootstrap, "acks": "all"})
    producer.produce(
        output.topic,
        key=output.key,
        value=output.value,
        headers=list(output.headers),
        on_delivery=lambda err, msg: offsets.append(-1 if err else msg.offset()),
    )
    assert producer.flush(30) == 0

    [offset] = offsets
    assert offset is not None
    assert offset >= 0
    return Published(customer, output.value, offset)


def detokenize(site: Site, *extra: str) -> int:
    """Run ``seawall detokenize`` with the site's configuration."""
    return main(
        ["detokenize", "--config", str(site.config_path), "--reason", REASON, *extra]
    )


def audit_events(site: Site) -> list[tuple[bytes, dict[str, Any]]]:
    """Read every event of the audit topic, raw and decoded."""
    entry = event_schema()
    events = []
    for message in read_all(site.bootstrap, site.audit):
        raw = message.value()
        _, event = single_object.decode(raw, {entry.fingerprint: entry}.get)
        events.append((raw, event))
    return events


@pytest.fixture(scope="module")
def restored_run(site: Site) -> tuple[Published, str, int]:
    customer = SampleGenerator(seed=3).customer()
    # Every tokenized value is long enough for FF1, so none falls back to an
    # irreversible pseudonym.
    customer["email"] = "zhang.wei.1987@example.com"
    customer["name"] = "张建华"
    customer["notes"] = "asked for a callback"
    published = publish(site, customer)
    coordinates = f"{site.destination}:0:{published.offset}"
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        code = detokenize(site, "--record", coordinates)
    return published, printed.getvalue(), code


def test_record_restored(site: Site, restored_run: tuple[Published, str, int]) -> None:
    published, printed, code = restored_run
    assert code == 0
    expected = site.engine.decode(
        site.engine.encode("crm.Customer", published.original)
    )
    # free_text is redacted and cannot be restored.
    expected["address"]["street"] = ""
    expected["notes"] = None
    assert json.loads(printed) == json.loads(record_json(expected))


def test_record_was_masked(
    site: Site, restored_run: tuple[Published, str, int]
) -> None:
    published, _, _ = restored_run
    masked = site.engine.decode(published.masked_value)
    assert masked["mobile"] != published.original["mobile"]
    assert masked["resident_id"] != published.original["resident_id"]


def test_record_event_on_audit_topic(
    site: Site, restored_run: tuple[Published, str, int]
) -> None:
    published, _, _ = restored_run
    [event] = [
        event
        for _, event in audit_events(site)
        if event["source"] == f"{site.destination}:0:{published.offset}"
    ]
    assert event["request"] == "record"
    assert event["reason"] == REASON
    assert event["schema_name"] == "crm.Customer"
    assert event["key_id"] == "detok-test"
    assert event["key_version"] == 1
    assert event["failed"] == 1  # address.street, redacted
    assert event["succeeded"] == event["value_count"] - 1
    assert event["error"] is None
    restored = {f["path"] for f in event["fields"] if f["restored"]}
    assert {"mobile", "name", "resident_id", "contacts[].mobile"} <= restored


def test_record_event_holds_no_values(
    site: Site, restored_run: tuple[Published, str, int]
) -> None:
    published, _, _ = restored_run
    masked = site.engine.decode(published.masked_value)
    raw = b"".join(raw for raw, _ in audit_events(site))
    for field in ("mobile", "resident_id", "customer_id", "bank_card", "email"):
        for record in (published.original, masked):
            value = record[field]
            if value:
                assert value.encode() not in raw, field


def test_missing_record_fails_and_is_audited(
    site: Site, capsys: pytest.CaptureFixture[str]
) -> None:
    coordinates = f"{site.destination}:0:100000"
    code = detokenize(site, "--record", coordinates, "--timeout", "10")
    output = capsys.readouterr()
    assert code == 2
    assert output.out == ""
    assert "not found" in output.err
    errors = [e["error"] for _, e in audit_events(site) if e["source"] == coordinates]
    assert len(errors) == 1
    assert "not found" in errors[0]
