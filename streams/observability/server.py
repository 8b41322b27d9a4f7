"""The worker's HTTP endpoint: ``/metrics``, ``/healthz`` and ``/readyz``.

The server runs in a thread of its own, not in the stream's event loop, so
a scrape still gets the lag and a liveness probe still gets a response when
the event loop is stuck.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable, Iterable
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest

from streams.errors import ConfigError

# How long a liveness probe waits for the event loop to run a callback.
LOOP_TIMEOUT_SECONDS = 2.0


class HealthState:
    """State the probes report: the event loop, the broker and the assignment.

    Args:
        broker_reachable: Returns True while the broker responds to the worker.
    """

    def __init__(self, broker_reachable: Callable[[], bool]) -> None:
        self._broker_reachable = broker_reachable
        self._loop: asyncio.AbstractEventLoop | None = None
        self._assigned: frozenset[tuple[str, int]] = frozenset()
        self._lock = threading.Lock()

    def bind_loop(self, loop: asyncio.AbstractEventLoop) -> None:
        """Watch `loop`, the loop that runs the stream agents."""
        self._loop = loop

    def set_assignment(self, partitions: Iterable[tuple[str, int]]) -> None:
        """Store the source partitions assigned to the worker."""
        with self._lock:
            self._assigned = frozenset(partitions)

    @property
    def assignment(self) -> frozenset[tuple[str, int]]:
        """The assigned ``(topic, partition)`` pairs."""
        with self._lock:
            return self._assigned

    def liveness(self) -> tuple[bool, str]:
        """Check that the event loop runs a callback within a timeout."""
        loop = self._loop
        if loop is None:
            return False, "event loop not started"
        answered = threading.Event()
        try:
            loop.call_soon_threadsafe(answered.set)
        except RuntimeError:
            return False, "event loop closed"
        if not answered.wait(LOOP_TIMEOUT_SECONDS):
            return False, f"event loop did not answer within {LOOP_TIMEOUT_SECONDS} s"
        return True, "ok"

    def readiness(self) -> tuple[bool, str]:
        """Check the broker connection and that a partition is assigned."""
        if not self._broker_reachable():
            return False, "not connected to the Kafka broker"
        if not self.assignment:
            return False, "no partitions assigned"
        return True, "ok"


class ObservabilityServer:
    """Serves the three endpoints from a daemon thread.

    Args:
        host: Address to bind.
        port: Port to bind.
        registry: The registry ``/metrics`` exposes.
        health: The state the probes report.
    """

    def __init__(
        self, host: str, port: int, registry: CollectorRegistry, health: HealthState
    ) -> None:
        handler = _handler_class(registry, health)
        try:
            self._server = ThreadingHTTPServer((host, port), handler)
        except OSError as exc:
            raise ConfigError(
                f"metrics.port: cannot listen on {host}:{port}: {exc.strerror}; "
                "choose a free port or set metrics.port to null"
            ) from exc
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            target=self._server.serve_forever, name="seawall-http", daemon=True
        )

    @property
    def port(self) -> int:
        """The bound port."""
        return int(self._server.server_address[1])

    def start(self) -> None:
        """Start serving."""
        self._thread.start()

    def stop(self) -> None:
        """Stop serving and close the socket."""
        if self._thread.is_alive():
            self._server.shutdown()
            self._thread.join()
        self._server.server_close()


def _handler_class(
    registry: CollectorRegistry, health: HealthState
) -> type[BaseHTTPRequestHandler]:
    """Build a request handler class bound to a registry and health state."""

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            path = self.path.split("?", 1)[0]
            if path == "/metrics":
                self._send(
                    HTTPStatus.OK, generate_latest(registry), CONTENT_TYPE_LATEST
                )
            elif path == "/healthz":
                self._send_check(*health.liveness())
            elif path == "/readyz":
                self._send_check(*health.readiness())
            else:
                self._send(HTTPStatus.NOT_FOUND, b"not found\n")

        def _send_check(self, passed: bool, reason: str) -> None:
            status = HTTPStatus.OK if passed else HTTPStatus.SERVICE_UNAVAILABLE
            self._send(status, f"{reason}\n".encode())

        def _send(
            self,
            status: HTTPStatus,
            body: bytes,
            content_type: str = "text/plain; charset=utf-8",
        ) -> None:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:
            # Scrapes and probes arrive every few seconds; logging each
            # would drown the worker's own lines.
            return

    return Handler
