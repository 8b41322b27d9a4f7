"""Worker metrics, the lag collector, the HTTP endpoint and their config."""

from __future__ import annotations

import asyncio
import threading
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from prometheus_client import CollectorRegistry, generate_latest

from streams.config import parse_config
from streams.errors import ConfigError
from streams.observability import (
    HealthState,
    LagCollector,
    LagSnapshot,
    ObservabilityServer,
    PartitionLag,
    WorkerMetrics,
)

SCHEMAS = Path(__file__).resolve().parents[2] / "schemas"


def _sample_names(registry: CollectorRegistry) -> set[str]:
    return {s.name for family in registry.collect() for s in family.samples}


def _value(registry: CollectorRegistry, name: str, **labels: str) -> float | None:
    return registry.get_sample_value(name, labels)


def test_metric_names_are_exact() -> None:
    registry = CollectorRegistry()
    metrics = WorkerMetrics(registry, ["customers"])
    metrics.set_key("prod", 3)
    metrics.set_up(True)
    metrics.set_assignment(["cn.crm.customers"], {"cn.crm.customers": 2})
    metrics.record_processed("customers", "decode.bad_marker", [], 0.001)
    metrics.record_processed("customers", None, [("cn_mobile", "tokenize", 2)], 0.002)

    names = _sample_names(registry)

    assert {
        "seawall_records_total",
        "seawall_fields_transformed_total",
        "seawall_dead_letters_total",
        "seawall_processing_seconds_bucket",
        "seawall_record_age_seconds_count",
        "seawall_audit_events_total",
        "seawall_audit_send_failures_total",
        "seawall_key_info",
        "seawall_worker_up",
        "seawall_partitions_assigned",
    } <= names
    assert all(name.startswith("seawall_") for name in names)


def test_route_series_start_at_zero() -> None:
    registry = CollectorRegistry()
    WorkerMetrics(registry, ["orders"])

    for outcome in ("masked", "rejected"):
        assert (
            _value(registry, "seawall_records_total", route="orders", outcome=outcome)
            == 0
        )
    assert _value(registry, "seawall_audit_send_failures_total", route="orders") == 0
    assert _value(registry, "seawall_processing_seconds_count", route="orders") == 0


def test_processed_records_are_counted_by_outcome() -> None:
    registry = CollectorRegistry()
    metrics = WorkerMetrics(registry, ["customers"])

    metrics.record_processed("customers", None, [("person_name", "tokenize", 3)], 0.5)
    metrics.record_processed("customers", "mask.invalid_value", [], 0.25)

    assert (
        _value(registry, "seawall_records_total", route="customers", outcome="masked")
        == 1
    )
    assert (
        _value(registry, "seawall_records_total", route="customers", outcome="rejected")
        == 1
    )
    assert (
        _value(
            registry,
            "seawall_dead_letters_total",
            route="customers",
            reason="mask.invalid_value",
        )
        == 1
    )
    assert (
        _value(
            registry,
            "seawall_fields_transformed_total",
            pii_type="person_name",
            action="tokenize",
        )
        == 3
    )
    assert _value(registry, "seawall_processing_seconds_sum", route="customers") == 0.75


def test_acknowledged_age_is_never_negative() -> None:
    registry = CollectorRegistry()
    metrics = WorkerMetrics(registry, ["customers"])

    metrics.record_acknowledged("customers", -2.0)

    assert _value(registry, "seawall_record_age_seconds_sum", route="customers") == 0
    assert _value(registry, "seawall_record_age_seconds_count", route="customers") == 1


def test_audit_deliveries_are_counted() -> None:
    registry = CollectorRegistry()
    metrics = WorkerMetrics(registry, ["customers"])

    metrics.audit_sent("customers", failed=False)
    metrics.audit_sent("customers", failed=False)
    metrics.audit_sent("customers", failed=True)

    assert _value(registry, "seawall_audit_events_total", route="customers") == 2
    assert _value(registry, "seawall_audit_send_failures_total", route="customers") == 1


def test_key_info_follows_rotation() -> None:
    registry = CollectorRegistry()
    metrics = WorkerMetrics(registry, [])

    metrics.set_key("prod", 1)
    metrics.set_key("prod", 2)

    assert _value(registry, "seawall_key_info", key_id="prod", key_version="2") == 1
    assert _value(registry, "seawall_key_info", key_id="prod", key_version="1") is None


def test_assignment_sets_absent_topics_to_zero() -> None:
    registry = CollectorRegistry()
    metrics = WorkerMetrics(registry, [])

    metrics.set_assignment(["a", "b"], {"a": 3})

    assert _value(registry, "seawall_partitions_assigned", topic="a") == 3
    assert _value(registry, "seawall_partitions_assigned", topic="b") == 0


class _Snapshots:
    def __init__(self, latest: LagSnapshot | None) -> None:
        self.latest = latest


def test_lag_collector_exports_latest_snapshot() -> None:
    snapshot = LagSnapshot(
        taken_at=1000.0,
        partitions=(
            PartitionLag("cn.a", 0, offsets=5, seconds=12.5),
            PartitionLag("cn.a", 1, offsets=0, seconds=0.0),
            PartitionLag("cn.a", 2, offsets=7, seconds=None),
        ),
    )
    registry = CollectorRegistry()
    registry.register(
        LagCollector(_Snapshots(snapshot), max_age=60, clock=lambda: 1010)
    )

    assert (
        _value(registry, "seawall_consumer_lag_offsets", topic="cn.a", partition="0")
        == 5
    )
    assert (
        _value(registry, "seawall_consumer_lag_seconds", topic="cn.a", partition="0")
        == 12.5
    )
    assert (
        _value(registry, "seawall_consumer_lag_seconds", topic="cn.a", partition="1")
        == 0
    )
    # A record that could not be read leaves a gap, never a made-up age.
    assert (
        _value(registry, "seawall_consumer_lag_seconds", topic="cn.a", partition="2")
        is None
    )


def test_lag_collector_drops_stale_snapshot() -> None:
    snapshot = LagSnapshot(1000.0, (PartitionLag("cn.a", 0, 5, 1.0),))
    registry = CollectorRegistry()
    registry.register(
        LagCollector(_Snapshots(snapshot), max_age=60, clock=lambda: 1061)
    )

    assert "seawall_consumer_lag_offsets{" not in generate_latest(registry).decode()
    assert (
        _value(registry, "seawall_consumer_lag_offsets", topic="cn.a", partition="0")
        is None
    )


@pytest.fixture
def loop() -> Iterator[asyncio.AbstractEventLoop]:
    """Run an event loop in a thread, as the worker's stream loop runs."""
    event_loop = asyncio.new_event_loop()
    thread = threading.Thread(target=event_loop.run_forever, daemon=True)
    thread.start()
    yield event_loop
    event_loop.call_soon_threadsafe(event_loop.stop)
    thread.join(timeout=10)
    event_loop.close()


class _Broker:
    def __init__(self) -> None:
        self.reachable = False

    def __call__(self) -> bool:
        return self.reachable


@pytest.fixture
def served(
    loop: asyncio.AbstractEventLoop,
) -> Iterator[tuple[str, HealthState, _Broker]]:
    registry = CollectorRegistry()
    WorkerMetrics(registry, ["customers"]).set_up(True)
    broker = _Broker()
    health = HealthState(broker)
    server = ObservabilityServer("127.0.0.1", 0, registry, health)
    server.start()
    try:
        yield f"http://127.0.0.1:{server.port}", health, broker
    finally:
        server.stop()


def _get(url: str) -> tuple[int, str, Any]:
    try:
        with urllib.request.urlopen(url, timeout=10) as response:  # noqa: S310
            return response.status, response.read().decode(), response.headers
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode(), error.headers


def test_metrics_endpoint_serves_text_format(
    served: tuple[str, HealthState, _Broker],
) -> None:
    base, _health, _broker = served

    status, body, headers = _get(f"{base}/metrics")

    assert status == 200
    assert headers["Content-Type"].startswith("text/plain; version=")
    assert "seawall_worker_up 1.0" in body


def test_liveness_needs_a_running_loop(
    served: tuple[str, HealthState, _Broker], loop: asyncio.AbstractEventLoop
) -> None:
    base, health, _broker = served

    before = _get(f"{base}/healthz")
    health.bind_loop(loop)
    after = _get(f"{base}/healthz")

    assert before[:2] == (503, "event loop not started\n")
    assert after[:2] == (200, "ok\n")


def test_liveness_fails_while_loop_is_blocked(
    served: tuple[str, HealthState, _Broker], loop: asyncio.AbstractEventLoop
) -> None:
    base, health, _broker = served
    health.bind_loop(loop)
    release = threading.Event()
    loop.call_soon_threadsafe(release.wait, 30)
    try:
        status, body, _headers = _get(f"{base}/healthz")
    finally:
        release.set()

    assert status == 503
    assert "did not answer" in body


def test_readiness_needs_broker_and_partitions(
    served: tuple[str, HealthState, _Broker],
) -> None:
    base, health, broker = served

    disconnected = _get(f"{base}/readyz")
    broker.reachable = True
    unassigned = _get(f"{base}/readyz")
    health.set_assignment([("cn.crm.customers", 0)])
    ready = _get(f"{base}/readyz")
    health.set_assignment([])
    revoked = _get(f"{base}/readyz")

    assert disconnected[:2] == (503, "not connected to the Kafka broker\n")
    assert unassigned[:2] == (503, "no partitions assigned\n")
    assert ready[:2] == (200, "ok\n")
    assert revoked[:2] == (503, "no partitions assigned\n")


def test_unknown_path_is_not_found(served: tuple[str, HealthState, _Broker]) -> None:
    base, _health, _broker = served

    assert _get(f"{base}/nothing")[0] == 404


def test_port_in_use_is_a_config_error(
    served: tuple[str, HealthState, _Broker],
) -> None:
    base, health, _broker = served
    port = int(base.rsplit(":", 1)[1])

    with pytest.raises(ConfigError, match=f"metrics.port: cannot listen on .*:{port}"):
        ObservabilityServer("127.0.0.1", port, CollectorRegistry(), health)


def _config(**sections: Any) -> dict[str, Any]:
    return {
        "kafka": {"bootstrap_servers": "127.0.0.1:9092"},
        "schemas": {"directory": str(SCHEMAS)},
        "keys": {"file": "keys.json"},
        "audit_topic": "cn.seawall.audit",
        "dead_letter_topic": "cn.seawall.dlq",
        "routes": [{"name": "c", "source": "cn.c", "destination": "xb.c"}],
        **sections,
    }


def test_metrics_config_defaults() -> None:
    config = parse_config(_config(), base_dir=Path("/etc/seawall"))

    assert config.metrics.port == 9400
    assert config.metrics.host == "0.0.0.0"  # noqa: S104


def test_metrics_port_null_disables() -> None:
    config = parse_config(
        _config(metrics={"port": None, "host": "127.0.0.1"}), base_dir=Path("/")
    )

    assert config.metrics.port is None
    assert config.metrics.host == "127.0.0.1"


@pytest.mark.parametrize("port", [0, 70000, "9400", True])
def test_metrics_port_invalid(port: Any) -> None:
    with pytest.raises(ConfigError, match=r"metrics\.port: must be a port number"):
        parse_config(_config(metrics={"port": port}), base_dir=Path("/"))


def test_metrics_unknown_key_rejected() -> None:
    with pytest.raises(ConfigError, match=r"metrics\.path: unknown key"):
        parse_config(_config(metrics={"path": "/m"}), base_dir=Path("/"))
