"""The worker's Prometheus metrics, registered on an explicit registry.

Every name starts with ``seawall_``. Labels take only bounded values that
hold no personal data: route names and topics from the configuration,
partition numbers, PII types and actions from the masking plans, and the
reason codes of `streams.errors.RecordError`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, Info

OUTCOMES = ("masked", "rejected")

# Masking one record takes about a millisecond; the upper buckets catch
# records held up by a slow producer.
PROCESSING_BUCKETS = (
    0.0005,
    0.001,
    0.0025,
    0.005,
    0.01,
    0.025,
    0.05,
    0.1,
    0.25,
    0.5,
    1.0,
    2.5,
)

# Record age spans a healthy pipeline (well under a second) to a backlog
# of hours after an outage.
AGE_BUCKETS = (
    0.05,
    0.1,
    0.25,
    0.5,
    1.0,
    2.5,
    5.0,
    10.0,
    30.0,
    60.0,
    300.0,
    900.0,
    3600.0,
    14400.0,
)


class WorkerMetrics:
    """The metrics one worker process exports.

    Args:
        registry: The registry to register on; tests pass a fresh one.
        routes: Route names, whose per-route series start at zero so that
            rates and alerts see them before the first record.
    """

    def __init__(self, registry: CollectorRegistry, routes: Sequence[str]) -> None:
        self.registry = registry
        self.records = Counter(
            "seawall_records",
            "Source records processed, by route and outcome (masked or rejected).",
            ["route", "outcome"],
            registry=registry,
        )
        self.fields_transformed = Counter(
            "seawall_fields_transformed",
            "Field values transformed, by PII type and action.",
            ["pii_type", "action"],
            registry=registry,
        )
        self.dead_letters = Counter(
            "seawall_dead_letters",
            "Records sent to the dead-letter topic, by route and reason code.",
            ["route", "reason"],
            registry=registry,
        )
        self.processing_seconds = Histogram(
            "seawall_processing_seconds",
            "Time from taking a source record to handing its output and audit "
            "event to the producer.",
            ["route"],
            buckets=PROCESSING_BUCKETS,
            registry=registry,
        )
        self.record_age_seconds = Histogram(
            "seawall_record_age_seconds",
            "Age of a source record (now minus its timestamp) when the broker "
            "acknowledged its output and audit event.",
            ["route"],
            buckets=AGE_BUCKETS,
            registry=registry,
        )
        self.audit_events = Counter(
            "seawall_audit_events",
            "Audit events the broker acknowledged.",
            ["route"],
            registry=registry,
        )
        self.audit_send_failures = Counter(
            "seawall_audit_send_failures",
            "Audit events the broker did not acknowledge.",
            ["route"],
            registry=registry,
        )
        self.key = Info(
            "seawall_key",
            "Id and version of the active key, which makes new tokens.",
            registry=registry,
        )
        self.worker_up = Gauge(
            "seawall_worker_up",
            "1 while the worker process runs.",
            registry=registry,
        )
        self.partitions_assigned = Gauge(
            "seawall_partitions_assigned",
            "Source partitions assigned to this worker, by topic.",
            ["topic"],
            registry=registry,
        )
        for route in routes:
            self._start_route(route)

    def _start_route(self, route: str) -> None:
        """Create the series of one route at zero."""
        for outcome in OUTCOMES:
            self.records.labels(route=route, outcome=outcome)
        self.processing_seconds.labels(route=route)
        self.record_age_seconds.labels(route=route)
        self.audit_events.labels(route=route)
        self.audit_send_failures.labels(route=route)

    def record_processed(
        self,
        route: str,
        reason: str | None,
        fields: Iterable[tuple[str, str, int]],
        seconds: float,
    ) -> None:
        """Count one processed record.

        Args:
            route: Route name.
            reason: Rejection reason code, or None for a masked record.
            fields: ``(pii_type, action, count)`` of each transformed path.
            seconds: Processing time.
        """
        outcome = "masked" if reason is None else "rejected"
        self.records.labels(route=route, outcome=outcome).inc()
        if reason is not None:
            self.dead_letters.labels(route=route, reason=reason).inc()
        for pii_type, action, count in fields:
            self.fields_transformed.labels(pii_type=pii_type, action=action).inc(count)
        self.processing_seconds.labels(route=route).observe(seconds)

    def record_acknowledged(self, route: str, age_seconds: float) -> None:
        """Observe the age of a record whose output the broker acknowledged."""
        self.record_age_seconds.labels(route=route).observe(max(age_seconds, 0.0))

    def audit_sent(self, route: str, failed: bool) -> None:
        """Count one audit event the broker acknowledged or did not."""
        counter = self.audit_send_failures if failed else self.audit_events
        counter.labels(route=route).inc()

    def set_key(self, key_id: str, key_version: int) -> None:
        """Export the id and version of the active key."""
        self.key.info({"key_id": key_id, "key_version": str(key_version)})

    def set_up(self, up: bool) -> None:
        """Set ``seawall_worker_up``."""
        self.worker_up.set(1 if up else 0)

    def set_assignment(
        self, topics: Iterable[str], assignment: Mapping[str, int]
    ) -> None:
        """Set the partition count of every source topic; absent ones get 0."""
        for topic in topics:
            self.partitions_assigned.labels(topic=topic).set(assignment.get(topic, 0))
