"""Confluent framing, and registry errors retried then named in the message."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from streams.codec import confluent
from streams.codec.registry import RegistryError, SchemaRegistry
from streams.codec.store import SchemaEntry
from streams.errors import DecodeError

SCHEMA = {
    "type": "record",
    "name": "P",
    "namespace": "t",
    "fields": [{"name": "n", "type": "int"}, {"name": "s", "type": "string"}],
}
ENTRY = SchemaEntry.from_schema(SCHEMA)


def test_encode_writes_magic_and_id() -> None:
    data = confluent.encode(ENTRY, 258, {"n": 1, "s": "a"})

    assert data[:5] == b"\x00\x00\x00\x01\x02"
    assert data[5:] == b"\x02\x02a"


def test_round_trip() -> None:
    data = confluent.encode(ENTRY, 7, {"n": -3, "s": "xyz"})

    assert confluent.schema_id(data) == 7
    assert confluent.decode(ENTRY, data) == {"n": -3, "s": "xyz"}


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"\x00\x00\x00", "decode.truncated"),
        (b"\xc3\x01\x00\x00\x00\x00", "decode.bad_marker"),
        (b"\x00\x00\x00\x00\x07\x02", "decode.truncated"),
        (b"\x00\x00\x00\x00\x07\x02\x02ab", "decode.invalid_body"),
    ],
    ids=["short_header", "single_object_marker", "short_body", "trailing_bytes"],
)
def test_malformed_values_rejected(data: bytes, reason: str) -> None:
    with pytest.raises(DecodeError) as caught:
        confluent.decode(ENTRY, data)

    assert caught.value.reason == reason


def test_header_rejects_negative_id() -> None:
    with pytest.raises(ValueError, match="schema_id"):
        confluent.header(-1)


class _Registry(BaseHTTPRequestHandler):
    """Return the schema of id 1 after `failures` HTTP 503 responses."""

    failures = 0
    requests = 0

    def do_GET(self) -> None:
        type(self).requests += 1
        if type(self).requests <= type(self).failures:
            self._send(503, {"error_code": 50301, "message": "unavailable"})
        elif self.path.startswith("/schemas/ids/1"):
            self._send(200, {"schema": json.dumps(SCHEMA)})
        else:
            self._send(404, {"error_code": 40403, "message": "Schema not found"})

    def _send(self, status: int, body: dict[str, Any]) -> None:
        payload = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def registry_url() -> Iterator[str]:
    _Registry.requests = 0
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Registry)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_fetch_retries_then_succeeds(registry_url: str) -> None:
    _Registry.failures = 2
    registry = SchemaRegistry(registry_url, max_retries=3, retry_wait_ms=1)

    source = registry.fetch(1)

    assert source.schema == SCHEMA
    assert _Registry.requests == 3


def test_fetch_failure_names_id_and_status(registry_url: str) -> None:
    _Registry.failures = 100
    registry = SchemaRegistry(registry_url, max_retries=2, retry_wait_ms=1)

    with pytest.raises(RegistryError) as caught:
        registry.fetch(1)

    assert caught.value.reason == "schema.fetch_failed"
    assert caught.value.status == 503
    assert "schema id 1" in str(caught.value)
    assert "HTTP 503" in str(caught.value)
    assert _Registry.requests == 3


def test_fetch_is_cached(registry_url: str) -> None:
    _Registry.failures = 0
    registry = SchemaRegistry(registry_url)

    registry.fetch(1)
    registry.fetch(1)

    assert _Registry.requests == 1


def test_unknown_id_not_found(registry_url: str) -> None:
    _Registry.failures = 0
    registry = SchemaRegistry(registry_url, retry_wait_ms=1)

    with pytest.raises(RegistryError) as caught:
        registry.fetch(2)

    assert caught.value.reason == "schema.not_found"
    assert caught.value.status == 404
