"""The masking engine: decode, mask and encode one record value.

`MaskingEngine` joins the codec, the masking plans of every schema in the
schema folder, and the keyring. It builds every plan when it is created, so
an unknown PII type or a tag on a type its action cannot handle stops the
worker at start, before any record is read.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from streams.audit import AUDIT_SCHEMA_PATH, FieldEntry
from streams.codec import single_object
from streams.codec.store import SchemaEntry, SchemaStore
from streams.config import Config, Policy
from streams.errors import DecodeError, SchemaError
from streams.keys import Keyring
from streams.masking import MaskResult, mask_record
from streams.schema.plan import MaskingPlan, build_plan
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
    """

    value: bytes | None
    schema_name: str
    fingerprint: str
    fields: tuple[FieldEntry, ...]
    subject_pseudonyms: tuple[str, ...]
    key_id: str
    key_version: int | None


@dataclass(frozen=True)
class _Route:
    plan: MaskingPlan
    output: SchemaEntry
    sensitive_paths: frozenset[str]


class MaskingEngine:
    """Masks record values with the plans of one schema folder."""

    def __init__(self, store: SchemaStore, keyring: Keyring, policy: Policy) -> None:
        self.store = store
        self.keyring = keyring
        self._routes = _build_routes(store, policy)
        self._audit = SchemaEntry.from_schema(
            json.loads(AUDIT_SCHEMA_PATH.read_text(encoding="utf-8"))
        )

    @classmethod
    def from_config(cls, config: Config) -> MaskingEngine:
        """Load the schemas and keyring a configuration names.

        Raises:
            SchemaError: A schema is invalid or cannot be masked as tagged.
            KeyringError: The keyring cannot be loaded.
        """
        store = SchemaStore.from_directory(config.schemas_directory)
        return cls(store, load_keyring(config), config.policy)

    @property
    def plans(self) -> Mapping[str, MaskingPlan]:
        """The masking plan of every accepted schema, by full name."""
        return {route.plan.name or "": route.plan for route in self._routes.values()}

    def mask(self, value: bytes | None) -> MaskedValue:
        """Decode, mask and re-encode one record value.

        Raises:
            RecordError: The value cannot be decoded, a tagged value does not
                match its format, the policy blocks the record, or the masked
                record does not match the cross-border schema.
        """
        key = self.keyring.active
        if value is None:
            return MaskedValue(None, "", "", (), (), key.key_id, key.version)
        entry, record = self.store.decode(value)
        route = self._routes.get(entry.fingerprint)
        if route is None:
            raise DecodeError(
                "decode.unexpected_schema",
                f"schema {entry.label} is Seawall's own and is not accepted on a route",
            )
        result = mask_record(route.plan, record, key)
        return MaskedValue(
            value=single_object.encode(route.output, result.record),
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

    def decode(self, value: bytes) -> Any:
        """Decode a value written with any loaded schema, such as an output."""
        return self.store.decode(value)[1]

    def encode(self, schema_name: str, record: Any) -> bytes:
        """Encode a record with a loaded schema, as a producer would."""
        return self.store.encode(schema_name, record)

    def identify(self, value: bytes | None) -> tuple[str | None, str | None]:
        """Return the writer schema's name and fingerprint, where readable."""
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

    def resolve_noting_ff3_1(
        pii_type: str, leaf: LeafType, field_policy: FieldPolicy
    ) -> FieldTransformer:
        transformer = resolve(pii_type, leaf, field_policy)
        if getattr(transformer, "cipher", "ff1") == "ff3-1":
            ff3_1_types.add(pii_type)
        return transformer

    for entry in store:
        if entry.label.startswith(INTERNAL_NAMESPACE):
            continue
        try:
            plan = build_plan(
                entry.parsed,
                resolve=resolve_noting_ff3_1,
                policy_for=_policy_lookup(policy, entry.label),
                unclassified="block" if policy.unclassified == "block" else "pass",
                named_types=store.named_types,
            )
        except SchemaError as exc:
            problems.append(str(exc))
            continue
        output = SchemaEntry.from_schema(plan.cross_border_schema)
        sensitive = frozenset(f.path for f in plan.fields if f.sensitive)
        routes[entry.fingerprint] = _Route(plan, output, sensitive)
    if problems:
        raise SchemaError("\n".join(problems))
    if ff3_1_types:
        logger.warning(
            "PII types %s use FF3-1, which NIST's 2025 draft revision of SP "
            "800-38G withdraws; configure cipher: ff1 for new data",
            ", ".join(sorted(ff3_1_types)),
        )
    return routes


def _policy_lookup(policy: Policy, schema_name: str) -> Any:
    def policy_for(path: str, pii_type: str) -> FieldPolicy:
        return policy.for_field(schema_name, path, pii_type)

    return policy_for


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
