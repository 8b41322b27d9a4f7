"""The masking engine: decode, mask and encode one record value.

`MaskingEngine` joins the codec, the masking plans and the keyring. It works
in one of two modes:

- Schema folder (the default): values use Avro single-object encoding. The
  engine builds the plan of every schema in the folder when it is created,
  so an unknown PII type or a tag on a type its action cannot handle stops
  the worker at start, before any record is read.
- Schema registry: values (and Avro keys) use Confluent's framing, a magic
  byte and a registry schema id. The engine fetches a schema and builds its
  plan when the id first appears, and caches both by id, so schemas evolve
  under a running worker. A schema whose tags cannot be masked sends its
  records to the dead-letter topic (reason ``schema.invalid_tags``), never
  through. The cross-border schema is registered under the destination
  topic's subject (``<topic>-value`` or ``<topic>-key``, Confluent's
  TopicNameStrategy), and masked records carry its id.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from typing import Any

from streams.audit import AUDIT_SCHEMA_PATH, FieldEntry
from streams.codec import confluent, single_object
from streams.codec.registry import RegisteredSource, SchemaRegistry
from streams.codec.store import SchemaEntry, SchemaStore
from streams.config import Config, Policy
from streams.errors import DecodeError, RecordError, SchemaError
from streams.keys import Keyring
from streams.masking import MaskResult, mask_record
from streams.schema.plan import MaskingPlan, build_plan
from streams.schema.tags import TagRules
from streams.tokenizers import resolve
from streams.tokenizers.base import FieldPolicy, FieldTransformer, LeafType

logger = logging.getLogger(__name__)

# Schemas in this namespace are Seawall's own, such as the audit event. They
# are never accepted on a route.
INTERNAL_NAMESPACE = "seawall."

# HMAC contexts, so that a record key and a subject with the same bytes give
# different pseudonyms.
RECORD_KEY_CONTEXT = "record-key"
SUBJECT_CONTEXT = "subject"


@dataclass(frozen=True)
class MaskedValue:
    """A masked record value and what its audit event records.

    Attributes:
        value: The value encoded with the cross-border schema, or None for a
            tombstone, which carries no data and is forwarded as it is.
        schema_name: Full name of the writer schema ("" for a tombstone).
        fingerprint: The writer schema's fingerprint in hex ("" for a
            tombstone).
        fields: One entry per transformed field path and action.
        subject_pseudonyms: Keyed pseudonyms (hex) of the data subject values.
        key_id: Id of the keyring used.
        key_version: Version of the key used.
        source_schema_id: In registry mode, the registry id of the writer
            schema, which `restoration_plan` needs to reverse the tokens.
    """

    value: bytes | None
    schema_name: str
    fingerprint: str
    fields: tuple[FieldEntry, ...]
    subject_pseudonyms: tuple[str, ...]
    key_id: str
    key_version: int | None
    source_schema_id: int | None = None


@dataclass(frozen=True)
class _Route:
    entry: SchemaEntry
    plan: MaskingPlan
    output: SchemaEntry
    sensitive_paths: frozenset[str]


class MaskingEngine:
    """Masks record values with the plans of a schema folder or a registry.

    Args:
        store: The schema folder's schemas; empty in registry mode.
        keyring: The keys that make tokens and pseudonyms.
        policy: The masking policy.
        registry: The schema registry, or None for schema-folder mode.
    """

    def __init__(
        self,
        store: SchemaStore,
        keyring: Keyring,
        policy: Policy,
        *,
        registry: SchemaRegistry | None = None,
    ) -> None:
        self.store = store
        self.keyring = keyring
        self.policy = policy
        self.registry = registry
        self._routes = _build_routes(store, policy) if registry is None else {}
        self._by_id: dict[int, _Route | RecordError] = {}
        self._entries_by_id: dict[int, SchemaEntry] = {}
        self._output_ids: dict[tuple[int, str], int] = {}
        self._audit = SchemaEntry.from_schema(
            json.loads(AUDIT_SCHEMA_PATH.read_text(encoding="utf-8"))
        )

    @classmethod
    def from_config(cls, config: Config) -> MaskingEngine:
        """Load the schemas and keyring a configuration names.

        Raises:
            SchemaError: A schema in the folder is invalid or cannot be masked
                as tagged.
            KeyringError: The keyring cannot be loaded.
        """
        keyring = load_keyring(config)
        if config.registry is not None:
            settings = config.registry
            registry = SchemaRegistry(
                settings.url,
                max_retries=settings.max_retries,
                retry_wait_ms=settings.retry_wait_ms,
                retry_max_wait_ms=settings.retry_max_wait_ms,
                timeout_seconds=settings.timeout_seconds,
            )
            return cls(SchemaStore(), keyring, config.policy, registry=registry)
        assert config.schemas_directory is not None  # parse_config sets one
        store = SchemaStore.from_directory(config.schemas_directory)
        return cls(store, keyring, config.policy)

    @property
    def plans(self) -> Mapping[str, MaskingPlan]:
        """The masking plan of every accepted schema, by full name."""
        return {route.plan.name or "": route.plan for route in self._routes.values()}

    def mask(
        self, value: bytes | None, *, destination: str = "", is_key: bool = False
    ) -> MaskedValue:
        """Decode, mask and re-encode one record value (or Avro record key).

        Args:
            value: The value, or None for a tombstone.
            destination: The cross-border topic. In registry mode the output
                schema is registered under its subject.
            is_key: True for a record key, which registry mode registers
                under ``<destination>-key`` instead of ``<destination>-value``.

        Raises:
            RecordError: The value cannot be decoded, its schema cannot be
                fetched or masked as tagged, a tagged value does not match its
                format, the policy blocks the record, or the masked record
                does not match the cross-border schema.
        """
        key = self.keyring.active
        if value is None:
            return MaskedValue(None, "", "", (), (), key.key_id, key.version)
        if self.registry is not None:
            subject = f"{destination}-{'key' if is_key else 'value'}"
            return self._mask_framed(value, subject)
        entry, record = self.store.decode(value)
        route = self._routes.get(entry.fingerprint)
        if route is None:
            raise DecodeError(
                "decode.unexpected_schema",
                f"schema {entry.label} is Seawall's own and is not accepted on a route",
            )
        return self._masked(route, record, single_object.encode)

    def _mask_framed(self, value: bytes, subject: str) -> MaskedValue:
        """Mask a Confluent-framed value and register its output schema."""
        schema_id = confluent.schema_id(value)
        route = self._route_for_id(schema_id)
        record = confluent.decode(route.entry, value)
        output_id = self._output_id(schema_id, route, subject)

        def encode(entry: SchemaEntry, masked: Any) -> bytes:
            return confluent.encode(entry, output_id, masked)

        return replace(self._masked(route, record, encode), source_schema_id=schema_id)

    def restoration_plan(
        self, value: bytes, source_schema_id: int | None
    ) -> tuple[str, MaskingPlan, Any]:
        """Return the schema name, masking plan and decoded record of an output.

        In folder mode the output's fingerprint names the source schema. In
        registry mode the output carries the cross-border schema's id, so the
        caller passes the source schema's id from the output's
        ``seawall.source_schema_id`` header.

        Raises:
            DecodeError: The value cannot be decoded.
            RecordError: The source schema cannot be fetched, or no route
                masks it.
        """
        if self.registry is None:
            entry, decoded = self.store.decode(value)
            plan = self.plans.get(entry.label)
            if plan is None:
                raise DecodeError(
                    "decode.unexpected_schema",
                    f"schema {entry.label} is not masked by any route",
                )
            return entry.label, plan, decoded
        if source_schema_id is None:
            raise DecodeError(
                "decode.unexpected_schema",
                "the record has no seawall.source_schema_id header, so its "
                "source schema is unknown",
            )
        route = self._route_for_id(source_schema_id)
        return route.entry.label, route.plan, self.decode(value)

    def _masked(
        self,
        route: _Route,
        record: Any,
        encode: Callable[[SchemaEntry, Any], bytes],
    ) -> MaskedValue:
        """Mask a decoded record with a route and encode it with `encode`."""
        key = self.keyring.active
        result = mask_record(route.plan, record, key)
        entry = route.entry
        return MaskedValue(
            value=encode(route.output, result.record),
            schema_name=entry.label,
            fingerprint=entry.fingerprint.hex(),
            fields=_field_entries(result, route.sensitive_paths),
            subject_pseudonyms=tuple(
                key.pseudonym(_subject_bytes(s.value), SUBJECT_CONTEXT).hex()
                for s in result.subjects
            ),
            key_id=key.key_id,
            key_version=key.version,
        )

    def _route_for_id(self, schema_id: int) -> _Route:
        """Return the cached route of a schema id, building it on first use.

        A schema whose tags cannot be masked is cached as its error, so its
        records keep going to the dead-letter topic without a new build. A
        failed fetch is not cached: the next record with the id tries again.
        """
        cached = self._by_id.get(schema_id)
        if isinstance(cached, RecordError):
            raise cached
        if cached is not None:
            return cached
        assert self.registry is not None  # only registry mode has ids
        try:
            route = _registry_route(self.registry.fetch(schema_id), self.policy)
        except SchemaError as err:
            logger.warning(
                "schema id %d cannot be masked as tagged; its records go to the "
                "dead-letter topic",
                schema_id,
            )
            failure = RecordError(
                "schema.invalid_tags",
                f"schema id {schema_id} cannot be masked as tagged: {err}",
            )
            self._by_id[schema_id] = failure
            raise failure from None
        logger.info(
            "masking plan built: schema_id=%d schema=%s tagged_fields=%d",
            schema_id,
            route.entry.label,
            len(route.plan.fields),
        )
        self._by_id[schema_id] = route
        return route

    def _output_id(self, schema_id: int, route: _Route, subject: str) -> int:
        """Return the registry id of the cross-border schema under a subject."""
        cached = self._output_ids.get((schema_id, subject))
        if cached is not None:
            return cached
        assert self.registry is not None  # only registry mode has ids
        output_id = self.registry.register(subject, route.output.schema)
        logger.info(
            "cross-border schema registered: subject=%s schema_id=%d source_id=%d",
            subject,
            output_id,
            schema_id,
        )
        self._output_ids[(schema_id, subject)] = output_id
        return output_id

    def decode(self, value: bytes) -> Any:
        """Decode a value written with any known schema, such as an output.

        In registry mode the value is Confluent-framed and its schema is
        fetched by id.
        """
        if self.registry is None:
            return self.store.decode(value)[1]
        schema_id = confluent.schema_id(value)
        entry = self._entries_by_id.get(schema_id)
        if entry is None:
            entry = _registry_entry(self.registry.fetch(schema_id))
            self._entries_by_id[schema_id] = entry
        return confluent.decode(entry, value)

    def encode(self, schema_name: str, record: Any) -> bytes:
        """Encode a record with a loaded schema, as a producer would."""
        return self.store.encode(schema_name, record)

    def identify(self, value: bytes | None) -> tuple[str | None, str | None]:
        """Return the writer schema's name and fingerprint, where readable."""
        if self.registry is not None:
            return self._identify_framed(value)
        if not value or len(value) < single_object.HEADER_SIZE:
            return None, None
        if value[: len(single_object.MARKER)] != single_object.MARKER:
            return None, None
        fingerprint = bytes(
            value[len(single_object.MARKER) : single_object.HEADER_SIZE]
        )
        try:
            name = self.store.by_fingerprint(fingerprint).label
        except SchemaError:
            name = None
        return name, fingerprint.hex()

    def _identify_framed(self, value: bytes | None) -> tuple[str | None, str | None]:
        """Return the name and fingerprint of a framed value's cached schema."""
        if value is None or not confluent.is_framed(value):
            return None, None
        cached = self._by_id.get(confluent.schema_id(value))
        if isinstance(cached, _Route):
            return cached.entry.label, cached.entry.fingerprint.hex()
        return None, None

    def pseudonymize_key(self, record_key: bytes) -> bytes:
        """Return the keyed pseudonym of a record key, as ASCII hex."""
        digest = self.keyring.active.pseudonym(record_key, RECORD_KEY_CONTEXT)
        return digest.hex().encode("ascii")

    @property
    def audit_fingerprint(self) -> bytes:
        """The 8-byte fingerprint in the header of every audit event."""
        return self._audit.fingerprint

    def encode_audit(self, event: Mapping[str, Any]) -> bytes:
        """Encode an audit event with the audit schema."""
        # Audit events are built with fixed types by streams.audit, and a
        # test checks each kind against the schema, so the writer alone runs.
        return single_object.encode(self._audit, event, validate_first=False)

    def decode_audit(self, value: bytes) -> dict[str, Any]:
        """Decode an audit event."""
        _entry, event = single_object.decode(
            value, {self._audit.fingerprint: self._audit}.get
        )
        decoded: dict[str, Any] = event
        return decoded


def load_keyring(config: Config) -> Keyring:
    """Load the keyring from the file or variable the configuration names."""
    if config.keys_file is not None:
        return Keyring.load(config.keys_file)
    assert config.keys_env is not None  # parse_config guarantees one source
    return Keyring.from_env(config.keys_env)


def _build_routes(store: SchemaStore, policy: Policy) -> dict[bytes, _Route]:
    routes: dict[bytes, _Route] = {}
    problems: list[str] = []
    ff3_1_types: set[str] = set()
    for entry in store:
        if entry.label.startswith(INTERNAL_NAMESPACE):
            continue
        try:
            route = _build_route(
                entry, policy, store.named_types, TagRules(policy.tags), ff3_1_types
            )
        except SchemaError as exc:
            problems.append(str(exc))
            continue
        routes[entry.fingerprint] = route
    if problems:
        raise SchemaError("\n".join(problems))
    _warn_ff3_1(ff3_1_types)
    return routes


def _registry_entry(source: RegisteredSource) -> SchemaEntry:
    """Parse a schema fetched from the registry."""
    return SchemaEntry.from_schema(source.schema, named_types=source.named_types)


def _registry_route(source: RegisteredSource, policy: Policy) -> _Route:
    """Build the route of a schema fetched from the registry.

    Raises:
        SchemaError: The schema is invalid, Seawall's own, or cannot be
            masked as tagged.
    """
    entry = _registry_entry(source)
    if entry.label.startswith(INTERNAL_NAMESPACE):
        raise SchemaError(
            f"schema {entry.label} is Seawall's own and is not accepted on a route"
        )
    rules = TagRules(policy.tags, source.metadata_tags)
    ff3_1_types: set[str] = set()
    route = _build_route(entry, policy, entry.named_types, rules, ff3_1_types)
    _warn_ff3_1(ff3_1_types)
    return route


def _build_route(
    entry: SchemaEntry,
    policy: Policy,
    named_types: Mapping[str, Any],
    tag_rules: TagRules,
    ff3_1_types: set[str],
) -> _Route:
    """Build the plan and output schema of one source schema."""

    def resolve_noting_ff3_1(
        pii_type: str, leaf: LeafType, field_policy: FieldPolicy
    ) -> FieldTransformer:
        transformer = resolve(pii_type, leaf, field_policy)
        if getattr(transformer, "cipher", "ff1") == "ff3-1":
            ff3_1_types.add(pii_type)
        return transformer

    def policy_for(path: str, pii_type: str) -> FieldPolicy:
        return policy.for_field(entry.label, path, pii_type)

    def tag_policy_for(path: str, pii_type: str, tag: str) -> FieldPolicy:
        return policy.for_field(entry.label, path, pii_type, tag)

    plan = build_plan(
        entry.parsed,
        resolve=resolve_noting_ff3_1,
        policy_for=policy_for,
        unclassified="block" if policy.unclassified == "block" else "pass",
        named_types=named_types,
        tag_rules=tag_rules,
        tag_policy_for=tag_policy_for,
    )
    output = SchemaEntry.from_schema(plan.cross_border_schema)
    sensitive = frozenset(f.path for f in plan.fields if f.sensitive)
    return _Route(entry, plan, output, sensitive)


def _warn_ff3_1(ff3_1_types: set[str]) -> None:
    """Log the PII types that use FF3-1, if any."""
    if ff3_1_types:
        logger.warning(
            "PII types %s use FF3-1, which NIST's 2025 draft revision of SP "
            "800-38G withdraws; configure cipher: ff1 for new data",
            ", ".join(sorted(ff3_1_types)),
        )


def _field_entries(
    result: MaskResult, sensitive_paths: frozenset[str]
) -> tuple[FieldEntry, ...]:
    return tuple(
        FieldEntry(
            path=t.path,
            pii_type=t.pii_type,
            action=t.action,
            count=t.count,
            sensitive=t.path in sensitive_paths,
        )
        for t in result.transformations
    )


def _subject_bytes(value: Any) -> bytes:
    if isinstance(value, bytes):
        return value
    return str(value).encode("utf-8")
