"""Operator view of a running worker: metrics, health probes and logs.

This package is the edge of the worker. It serves Prometheus metrics and
the Kubernetes probes over HTTP, measures consumer lag from the broker, and
formats log lines. The masking layers below it never import it.
"""

from streams.observability.lag import (
    LagCollector,
    LagMonitor,
    LagSnapshot,
    PartitionLag,
)
from streams.observability.logs import (
    JsonFormatter,
    TextFormatter,
    logging_config,
    record_ids,
)
from streams.observability.metrics import WorkerMetrics
from streams.observability.runtime import Observability
from streams.observability.server import HealthState, ObservabilityServer

__all__ = [
    "HealthState",
    "JsonFormatter",
    "LagCollector",
    "LagMonitor",
    "LagSnapshot",
    "Observability",
    "ObservabilityServer",
    "PartitionLag",
    "TextFormatter",
    "WorkerMetrics",
    "logging_config",
    "record_ids",
]
