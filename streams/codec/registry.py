"""Fetch and register schemas in a Confluent-compatible schema registry.

`SchemaRegistry` wraps confluent-kafka's `SchemaRegistryClient`, which caches
every schema by id and every registration by subject, and retries a request
that got HTTP 408, 429 or 5xx, or no response at all, with exponentially
growing backoff and random jitter ("full jitter"). When the retries fail,
`SchemaRegistry` raises `RegistryError`, a `RecordError`, so the worker sends
the record to the dead-letter topic with a message that names the schema id
or subject and the registry's HTTP status.

Schemas that use references (named types registered under other subjects)
are supported: the referenced schemas are fetched first and their named
types are made available to the referring schema.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from confluent_kafka.schema_registry import Schema, SchemaRegistryClient

# confluent-kafka 2.16 sends requests with httpx (or its fork httpx2) and lets
# the transport error through when no response arrives after every retry. It
# exposes whichever module it uses only here.
from confluent_kafka.schema_registry.common._httpx_compat import httpx
from confluent_kafka.schema_registry.error import SchemaRegistryError

from streams.errors import RecordError, SchemaError
from streams.schema.names import parse

MAX_REFERENCE_DEPTH = 16
"""Deepest chain of schema references followed, against reference cycles."""


class RegistryError(RecordError):
    """The registry did not return or accept a schema, after every retry.

    Attributes:
        status: The HTTP status of the last response, or None when no
            response arrived.
    """

    def __init__(self, reason: str, message: str, status: int | None) -> None:
        super().__init__(reason, message)
        self.status = status


@dataclass(frozen=True)
class RegisteredSource:
    """A schema fetched from the registry.

    Attributes:
        schema_id: The registry's id of the schema.
        schema: The schema as JSON objects.
        metadata_tags: The schema's ``metadata.tags``: tag names by path
            pattern. Empty when the registry keeps no metadata.
        named_types: Named types of the referenced schemas, by full name.
        subject: The subject it was fetched under, or None when fetched by id.
        version: Its version under `subject`, or None.
    """

    schema_id: int
    schema: Any
    metadata_tags: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    named_types: Mapping[str, Any] = field(default_factory=dict)
    subject: str | None = None
    version: int | None = None


class SchemaRegistry:
    """A cached, retrying client for a Confluent-compatible registry.

    Args:
        url: Base URL of the registry API.
        max_retries: Retries of a failed request.
        retry_wait_ms: First backoff between retries, in milliseconds.
        retry_max_wait_ms: Maximum backoff between retries, in milliseconds.
        timeout_seconds: Timeout of one request.
    """

    def __init__(
        self,
        url: str,
        *,
        max_retries: int = 3,
        retry_wait_ms: int = 200,
        retry_max_wait_ms: int = 2000,
        timeout_seconds: float = 10.0,
    ) -> None:
        self.url = url
        self.max_retries = max_retries
        self.client = SchemaRegistryClient(
            {
                "url": url,
                "max.retries": max_retries,
                "retries.wait.ms": retry_wait_ms,
                "retries.max.wait.ms": retry_max_wait_ms,
                "timeout": timeout_seconds,
            }
        )

    def fetch(self, schema_id: int) -> RegisteredSource:
        """Return the schema with a registry id, from the cache when it is there.

        Raises:
            RegistryError: The registry has no such id (reason
                ``schema.not_found``) or did not respond (reason
                ``schema.fetch_failed``) after every retry.
            SchemaError: A referenced schema is not valid Avro.
        """
        where = f"schema id {schema_id}"
        schema = self._call(
            where, "schema.fetch_failed", self.client.get_schema, schema_id
        )
        return RegisteredSource(
            schema_id=schema_id,
            schema=_schema_json(schema, where),
            metadata_tags=_metadata_tags(schema),
            named_types=self._referenced_types(schema, where, 0),
        )

    def fetch_subject(
        self, subject: str, version: int | None = None
    ) -> RegisteredSource:
        """Return the latest (or a given) version of the schema under a subject.

        Raises:
            RegistryError: As for `fetch`.
            SchemaError: As for `fetch`.
        """
        where = f"subject {subject!r}"
        if version is None:
            registered = self._call(
                where, "schema.fetch_failed", self.client.get_latest_version, subject
            )
        else:
            registered = self._call(
                where, "schema.fetch_failed", self.client.get_version, subject, version
            )
        schema = registered.schema
        return RegisteredSource(
            schema_id=int(registered.schema_id),
            schema=_schema_json(schema, where),
            metadata_tags=_metadata_tags(schema),
            named_types=self._referenced_types(schema, where, 0),
            subject=subject,
            version=int(registered.version),
        )

    def register(self, subject: str, schema: Any) -> int:
        """Register a self-contained schema under a subject and return its id.

        Registering the same schema again returns the same id; the client
        caches it, so only the first call sends a request.

        Raises:
            RegistryError: The registry rejected the schema, for example as
                incompatible with the subject's earlier versions (reason
                ``schema.register_failed``), or did not answer.
        """
        text = json.dumps(schema, sort_keys=True, separators=(",", ":"))
        found: int = self._call(
            f"subject {subject!r}",
            "schema.register_failed",
            self.client.register_schema,
            subject,
            Schema(text, "AVRO"),
        )
        return found

    def _referenced_types(self, schema: Any, where: str, depth: int) -> dict[str, Any]:
        """Fetch the schemas a schema refers to and return their named types."""
        references: Sequence[Any] = getattr(schema, "references", None) or []
        if not references:
            return {}
        if depth >= MAX_REFERENCE_DEPTH:
            raise SchemaError(
                f"{where}: schema references nest deeper than "
                f"{MAX_REFERENCE_DEPTH} levels, or form a cycle"
            )
        named: dict[str, Any] = {}
        for reference in references:
            label = f"{where}, reference {reference.subject!r} v{reference.version}"
            registered = self._call(
                label,
                "schema.fetch_failed",
                self.client.get_version,
                reference.subject,
                reference.version,
            )
            inner = registered.schema
            named.update(self._referenced_types(inner, label, depth + 1))
            _, types = parse(_schema_json(inner, label), named)
            named.update(types)
        return named

    def _call(self, where: str, reason: str, method: Any, *args: Any) -> Any:
        """Call a client method, turning its errors into `RegistryError`."""
        try:
            return method(*args)
        except SchemaRegistryError as err:
            not_found = err.http_status_code == 404
            raise RegistryError(
                "schema.not_found" if not_found else reason,
                f"{where}: registry {self.url} returned HTTP "
                f"{err.http_status_code} (error code {err.error_code})"
                + ("" if not_found else f" after up to {self.max_retries} retries")
                + ": check the id or subject and the registry",
                err.http_status_code,
            ) from None
        except httpx.HTTPError as err:
            raise RegistryError(
                reason,
                f"{where}: registry {self.url} did not respond "
                f"({type(err).__name__}) after {self.max_retries} retries: check "
                "that the registry runs and the URL is right",
                None,
            ) from None


def _schema_json(schema: Any, where: str) -> Any:
    """Parse the text of a registry schema, which must be Avro."""
    schema_type = getattr(schema, "schema_type", None) or "AVRO"
    if schema_type != "AVRO":
        raise SchemaError(f"{where}: schema type is {schema_type}, not AVRO")
    try:
        return json.loads(schema.schema_str)
    except json.JSONDecodeError as err:
        raise SchemaError(f"{where}: schema is not valid JSON: {err.msg}") from None


def _metadata_tags(schema: Any) -> dict[str, tuple[str, ...]]:
    """Return a registry schema's ``metadata.tags``, or an empty mapping."""
    metadata = getattr(schema, "metadata", None)
    tags = getattr(getattr(metadata, "tags", None), "tags", None) or {}
    return {
        str(path): tuple(str(name) for name in names) for path, names in tags.items()
    }
