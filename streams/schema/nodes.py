"""The compiled form of a masking plan, walked by `streams.masking`.

A plan is a graph of nodes that mirrors the schema but keeps only the parts
that need work: tagged leaves, unclassified strings in strict mode, and the
records, arrays, maps and unions that lead to them. A recursive type is a
cycle in the graph, so the plan stays finite while records nest to any depth.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from streams.tokenizers.base import FieldTransformer, LeafType


@dataclass(frozen=True)
class TaggedField:
    """One tagged field of a schema.

    Attributes:
        path: The field path, such as ``contacts[].mobile``.
        pii_type: The PII type named by the ``pii`` tag.
        action: The action configured for the field, one of
            `streams.tokenizers.base.ACTIONS`.
        sensitive: True when the field contains sensitive personal information.
        subject: True when the field identifies the data subject.
        leaf: The Avro type of each value at the path.
    """

    path: str
    pii_type: str
    action: str
    sensitive: bool
    subject: bool
    leaf: LeafType


@dataclass(eq=False)
class LeafNode:
    """A tagged leaf: each non-null value goes through the transformer."""

    info: TaggedField
    transformer: FieldTransformer


@dataclass(eq=False)
class UnclassifiedNode:
    """A string or bytes leaf with no tag, checked in strict mode."""


@dataclass(eq=False)
class RecordNode:
    """A record whose listed fields need work.

    Attributes:
        name: The record's full name.
        fields: ``(field name, node)`` pairs, in schema order.
    """

    name: str
    fields: list[tuple[str, Node]] = field(default_factory=list)


@dataclass(eq=False)
class ArrayNode:
    """An array whose items need work."""

    items: Node


@dataclass(eq=False)
class MapNode:
    """A map whose values need work."""

    values: Node


@dataclass(eq=False)
class UnionBranch:
    """One non-null branch of a union with several non-null branches.

    Attributes:
        label: The branch's segment in a field path, such as ``CardPayment``.
        type_name: The name fastavro uses for the branch in tuple notation:
            the full name of a named type, otherwise the Avro type name.
        schema: The branch as a self-contained parsed schema, used to tell
            which branch a value belongs to.
        node: The work inside the branch, or None.
        is_record: True when the branch is a record.
        recursive: True when a record in the branch contains itself.
    """

    label: str
    type_name: str
    schema: Any
    node: Node | None
    is_record: bool
    recursive: bool


@dataclass(eq=False)
class UnionNode:
    """A union with several non-null branches, at least one needing work."""

    branches: list[UnionBranch]


Node = LeafNode | UnclassifiedNode | RecordNode | ArrayNode | MapNode | UnionNode
