"""Everything a running worker exports, started and stopped together."""

from __future__ import annotations

import asyncio
import logging
from collections import Counter
from collections.abc import Iterable

from prometheus_client import CollectorRegistry

from streams.config import Config
from streams.kafka_clients import confluent_config
from streams.observability.lag import LagCollector, LagMonitor
from streams.observability.metrics import WorkerMetrics
from streams.observability.server import HealthState, ObservabilityServer

logger = logging.getLogger(__name__)

LAG_INTERVAL_SECONDS = 10.0


class Observability:
    """The metrics, lag monitor, health state and HTTP endpoint of a worker.

    Args:
        config: The worker's configuration.
        registry: Registry for every metric; a fresh one by default.
        lag_interval: Seconds between two lag measurements.
    """

    def __init__(
        self,
        config: Config,
        registry: CollectorRegistry | None = None,
        *,
        lag_interval: float = LAG_INTERVAL_SECONDS,
    ) -> None:
        self.registry = registry if registry is not None else CollectorRegistry()
        self.sources = tuple(route.source for route in config.routes)
        self.metrics = WorkerMetrics(
            self.registry, [route.name for route in config.routes]
        )
        self.lag = LagMonitor(
            config.kafka.bootstrap_servers,
            config.kafka.group_id,
            self.sources,
            interval=lag_interval,
            client_config=confluent_config(config.kafka),
        )
        # Three missed measurements make the lag series disappear.
        self.registry.register(LagCollector(self.lag, max_age=lag_interval * 3 + 30))
        self.health = HealthState(lambda: self.lag.broker_reachable)
        self.metrics.set_assignment(self.sources, {})
        settings = config.metrics
        self.server = (
            ObservabilityServer(
                settings.host, settings.port, self.registry, self.health
            )
            if settings.port is not None
            else None
        )

    def start(self) -> None:
        """Start the lag monitor and the HTTP endpoint."""
        self.metrics.set_up(True)
        self.lag.start()
        if self.server is not None:
            self.server.start()
            logger.info(
                "serving /metrics, /healthz and /readyz on port %d", self.server.port
            )

    def stop(self) -> None:
        """Stop the HTTP endpoint and the lag monitor."""
        self.metrics.set_up(False)
        if self.server is not None:
            self.server.stop()
        self.lag.stop()

    def bind_loop(self, loop: asyncio.AbstractEventLoop) -> None:
        """Watch the stream's event loop for liveness."""
        self.health.bind_loop(loop)

    def set_assignment(self, partitions: Iterable[tuple[str, int]]) -> None:
        """Record the worker's current partition assignment."""
        assigned = [(t, p) for t, p in partitions if t in self.sources]
        self.health.set_assignment(assigned)
        self.metrics.set_assignment(self.sources, Counter(t for t, _ in assigned))
