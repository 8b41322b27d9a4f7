"""Compile a parsed Avro schema into masking-plan nodes.

The compiler walks the schema once per path from the top-level type. A named
record met again inside itself becomes a cycle back to the node of its
enclosing occurrence, so a recursive type compiles to a finite graph. A
named type used at two unrelated paths is compiled at each of them, because
the caller's policy is looked up by path.

Problems are collected as `Finding` objects so that one run reports every
problem in the schema.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Literal, Protocol

from fastavro.schema import parse_schema

from streams.errors import ConfigError, SchemaError
from streams.schema.names import (
    deref,
    full_name,
    inline_named_types,
    is_recursive,
    kind,
)
from streams.schema.nodes import (
    ArrayNode,
    LeafNode,
    MapNode,
    Node,
    RecordNode,
    TaggedField,
    UnclassifiedNode,
    UnionBranch,
    UnionNode,
)
from streams.schema.tags import (
    NOT_PERSONAL,
    PII_TAG,
    FieldTags,
    TagRules,
    read_tags,
    tag_names,
)
from streams.tokenizers.base import FieldPolicy, FieldTransformer, LeafType

Resolver = Callable[[str, LeafType, FieldPolicy], FieldTransformer]
PolicyLookup = Callable[[str, str], FieldPolicy]


class TagPolicyLookup(Protocol):
    """Returns the policy for a field path, PII type and Confluent tag name."""

    def __call__(self, path: str, pii_type: str, tag: str) -> FieldPolicy: ...


ROOT_PATH = "(root)"


@dataclass(frozen=True)
class Finding:
    """One problem found in a schema.

    Attributes:
        path: The field path, or ``(root)`` for the top-level type.
        severity: ``error`` when the schema cannot be masked as tagged,
            ``warning`` when it can but a reviewer should look.
        rule: A short rule id, such as ``tag.on_record``.
        message: What is wrong and what to do, in one line.
    """

    path: str
    severity: Literal["error", "warning"]
    rule: str
    message: str

    def __str__(self) -> str:
        return f"{self.path}: {self.message} [{self.rule}]"


def join_path(path: str, name: str) -> str:
    """Append a record field name to a field path."""
    return f"{path}.{name}" if path else name


class Compiler:
    """Walk one parsed schema and build its plan nodes.

    Attributes:
        findings: Every problem found, in schema order.
        fields: The tagged fields, one per path.
        unclassified: Paths of string and bytes fields with no tag.
        other: Paths of the other untagged leaves (numbers, booleans,
            enums, fixed), which cannot hold free text.
        not_personal: Paths of fields tagged ``"pii": "none"``.
        warnings: Problems that do not stop masking, such as tag names no
            rule maps.
        annotations: Tagged fields by ``(record full name, field name)``,
            used to annotate the cross-border schema.
    """

    def __init__(
        self,
        named: Mapping[str, Any],
        resolve: Resolver,
        policy_for: PolicyLookup,
        *,
        check_unclassified: bool,
        tag_rules: TagRules | None = None,
        tag_policy_for: TagPolicyLookup | None = None,
    ) -> None:
        self._named = named
        self._tag_rules = tag_rules
        self._tag_policy_for = tag_policy_for
        self._resolve = resolve
        self._policy_for = policy_for
        self._check_unclassified = check_unclassified
        self.findings: list[Finding] = []
        self.fields: list[TaggedField] = []
        self.unclassified: list[str] = []
        self.other: list[str] = []
        self.not_personal: list[str] = []
        self.warnings: list[Finding] = []
        self.annotations: dict[tuple[str, str], list[TaggedField]] = {}

    def compile(self, schema: Any) -> Node | None:
        """Compile the top-level schema and return its root node."""
        return self._type(schema, "", {})

    def _error(self, path: str, rule: str, message: str) -> None:
        """Record an error at a field path."""
        self.findings.append(Finding(path or ROOT_PATH, "error", rule, message))

    def _type(
        self, schema: Any, path: str, ancestors: Mapping[str, RecordNode]
    ) -> Node | None:
        """Compile an untagged type."""
        schema = deref(schema, self._named)
        avro_type = kind(schema)
        if avro_type == "union":
            return self._union(schema, path, ancestors)
        if isinstance(schema, dict):
            self._check_type_tags(schema, path)
        if avro_type == "record":
            return self._record(schema, path, ancestors)
        if avro_type == "array":
            items = self._type(schema["items"], path + "[]", ancestors)
            return None if items is None else ArrayNode(items)
        if avro_type == "map":
            values = self._type(schema["values"], path + "{}", ancestors)
            return None if values is None else MapNode(values)
        if _may_hold_text(schema, avro_type):
            self.unclassified.append(path or ROOT_PATH)
            return UnclassifiedNode() if self._check_unclassified else None
        self.other.append(path or ROOT_PATH)
        return None

    def _check_type_tags(self, schema: Mapping[str, Any], path: str) -> None:
        """Report tags written on a type instead of on a record field."""
        for key in tag_names(schema):
            self._error(
                path,
                "tag.misplaced",
                f"tag {key!r} is on a type, where it has no effect: move it to "
                "the record field that uses the type",
            )

    def _record(
        self,
        schema: Mapping[str, Any],
        path: str,
        ancestors: Mapping[str, RecordNode],
    ) -> Node | None:
        """Compile a record, or link back to an enclosing occurrence of it."""
        name = str(schema["name"])
        if name in ancestors:
            return ancestors[name]
        node = RecordNode(name)
        inner = {**ancestors, name: node}
        for field in schema["fields"]:
            child = self._field(name, field, join_path(path, field["name"]), inner)
            if child is not None:
                node.fields.append((field["name"], child))
        return node if node.fields else None

    def _field(
        self,
        record: str,
        field: Mapping[str, Any],
        path: str,
        ancestors: Mapping[str, RecordNode],
    ) -> Node | None:
        """Compile one record field, tagged or not."""
        tags, problems = read_tags(field, record=record, rules=self._tag_rules)
        for problem in problems:
            self._error(path, "tag.malformed", problem)
        if problems:
            return None
        for name in tags.unmapped:
            self.warnings.append(
                Finding(
                    path,
                    "warning",
                    "tag.unmapped",
                    f"Confluent tag {name!r} maps to no PII type: add it to "
                    "policy.tags, or ignore this when the tag is not about "
                    "personal information",
                )
            )
        if tags.pii_type is None:
            return self._type(field["type"], path, ancestors)
        target = self._leaf_target(field["type"], path, tags.pii_type)
        if target is not None and tags.pii_type == NOT_PERSONAL:
            self.not_personal.append(path + target[1])
        if target is None or tags.pii_type == NOT_PERSONAL:
            return None
        leaf, suffix = target
        return self._tagged(record, field["name"], tags, leaf, (path, suffix))

    def _leaf_target(
        self, schema: Any, path: str, pii_type: str
    ) -> tuple[LeafType, str] | None:
        """Find the leaf type a tag applies to, through nulls, arrays and maps.

        Returns the leaf type and the path suffix of its containers (``[]``
        per array, ``{}`` per map), or None after recording an error.
        """
        suffix = ""
        while True:
            schema = deref(schema, self._named)
            nullable = False
            if isinstance(schema, list):
                branches = [branch for branch in schema if branch != "null"]
                if len(branches) != 1:
                    self._error(
                        path + suffix,
                        "tag.on_union",
                        f"tag {PII_TAG}={pii_type!r} is on a union of "
                        f"{len(branches)} non-null types: a tag needs one type, "
                        "optionally with null, so split the field by type",
                    )
                    return None
                nullable = len(branches) < len(schema)
                schema = deref(branches[0], self._named)
            avro_type = kind(schema)
            if avro_type in ("array", "map"):
                suffix += "[]" if avro_type == "array" else "{}"
                schema = schema["items" if avro_type == "array" else "values"]
                continue
            if avro_type == "record":
                self._error(
                    path + suffix,
                    "tag.on_record",
                    f"tag {PII_TAG}={pii_type!r} is on a field of record type "
                    f"{schema['name']}: put tags on the fields of "
                    f"{schema['name']} instead",
                )
                return None
            logical = schema.get("logicalType") if isinstance(schema, dict) else None
            return LeafType(avro_type, logical, nullable), suffix

    def _tagged(
        self,
        record: str,
        field_name: str,
        tags: FieldTags,
        leaf: LeafType,
        where: tuple[str, str],
    ) -> Node | None:
        """Resolve the transformer of a tagged field and wrap it in containers.

        ``where`` is the field path and the container suffix of the leaf.
        """
        path, suffix = where
        leaf_path = path + suffix
        pii_type = tags.pii_type or NOT_PERSONAL
        try:
            if tags.tag is not None and self._tag_policy_for is not None:
                policy = self._tag_policy_for(leaf_path, pii_type, tags.tag)
            else:
                policy = self._policy_for(leaf_path, pii_type)
            transformer = self._resolve(pii_type, leaf, policy)
        except (SchemaError, ConfigError) as err:
            self._error(leaf_path, "tag.rejected", str(err))
            return None
        info = TaggedField(
            leaf_path,
            pii_type,
            transformer.action,
            tags.sensitive,
            tags.subject,
            leaf,
        )
        self.fields.append(info)
        self.annotations.setdefault((record, field_name), []).append(info)
        node: Node = LeafNode(info, transformer)
        for mark in reversed(_container_marks(suffix)):
            node = ArrayNode(node) if mark == "[]" else MapNode(node)
        return node

    def _union(
        self, schema: list[Any], path: str, ancestors: Mapping[str, RecordNode]
    ) -> Node | None:
        """Compile a union. A union of null and one type compiles as that type."""
        branches = [branch for branch in schema if branch != "null"]
        if len(branches) == 1:
            return self._type(branches[0], path, ancestors)
        resolved = [deref(branch, self._named) for branch in branches]
        labels = _branch_labels(resolved)
        nodes = [
            self._type(branch, f"{path}<{label}>", ancestors)
            for branch, label in zip(resolved, labels, strict=True)
        ]
        if all(node is None for node in nodes):
            return None
        return UnionNode(
            [
                UnionBranch(
                    label,
                    full_name(branch) or kind(branch),
                    parse_schema(inline_named_types(branch, self._named)),
                    node,
                    kind(branch) == "record",
                    is_recursive(branch, self._named),
                )
                for branch, label, node in zip(resolved, labels, nodes, strict=True)
            ]
        )


def _container_marks(suffix: str) -> list[str]:
    """Split a container suffix such as ``[]{}`` into its marks."""
    return [suffix[i : i + 2] for i in range(0, len(suffix), 2)]


def _may_hold_text(schema: Any, avro_type: str) -> bool:
    """True for string and bytes types, except bytes holding a decimal number."""
    if avro_type not in ("string", "bytes"):
        return False
    logical = schema.get("logicalType") if isinstance(schema, dict) else None
    return logical != "decimal"


def _branch_labels(branches: list[Any]) -> list[str]:
    """Name each union branch by short name, or full name when short ones clash."""
    names = [full_name(branch) or kind(branch) for branch in branches]
    short = [name.rsplit(".", 1)[-1] for name in names]
    return [
        name if short.count(label) > 1 else label
        for name, label in zip(names, short, strict=True)
    ]
