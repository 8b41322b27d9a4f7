"""Mask one decoded record by its plan.

`mask_record` walks the compiled plan of `streams.schema` over a record as
fastavro decodes it, replaces each non-null tagged value with its
transformer's output, and reports what it did. It does no I/O.

Union branches are found the way fastavro's writer finds them: tuple notation
``(name, value)`` names the branch, otherwise the first branch the value
validates against, preferring among record branches the one that shares the
most field names with the value. A record value that went through a union of
several non-null branches comes out in tuple notation, so the writer encodes
the branch that was masked.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from fastavro import _validation_py
from fastavro.validation import validate

from streams.errors import BlockedRecordError, InvalidValueError, RecordError
from streams.schema.nodes import (
    ArrayNode,
    LeafNode,
    MapNode,
    Node,
    RecordNode,
    UnclassifiedNode,
    UnionBranch,
    UnionNode,
)
from streams.schema.plan import MaskingPlan

if TYPE_CHECKING:
    from streams.keys import KeyVersion


class SubjectValue:
    """The raw value of a ``pii.subject`` field, masked in repr and str.

    Attributes:
        path: The field path of the value.
        pii_type: The PII type of the field.
        value: The raw value. Pseudonymize it at once and drop it.
    """

    __slots__ = ("path", "pii_type", "value")

    def __init__(self, path: str, pii_type: str, value: Any) -> None:
        self.path = path
        self.pii_type = pii_type
        self.value = value

    def __repr__(self) -> str:
        return f"SubjectValue(path={self.path!r}, pii_type={self.pii_type!r}, ***)"

    __str__ = __repr__


@dataclass(frozen=True)
class Transformation:
    """What was done to the values at one field path.

    Attributes:
        path: The field path, such as ``contacts[].mobile``.
        pii_type: The PII type of the field.
        action: The action the transformer reports it used. When values at
            one path used different actions (a fallback), each action has its
            own entry.
        key_version: The key used, or None when the action uses no key.
        count: The number of non-null values transformed at the path.
        sensitive: True when the field contains sensitive personal information.
    """

    path: str
    pii_type: str
    action: str
    key_version: KeyVersion | None
    count: int
    sensitive: bool


@dataclass(frozen=True)
class MaskResult:
    """The outcome of masking one record.

    Attributes:
        record: The masked record, a new dict. Parts of the input that hold
            nothing to mask are shared with the input, not copied.
        transformations: One entry per field path and action that held a
            value, in the order first met.
        subjects: The raw values of ``pii.subject`` fields.
        sensitive: True when a ``pii.sensitive`` field held a value.
    """

    record: Any
    transformations: tuple[Transformation, ...]
    subjects: tuple[SubjectValue, ...]
    sensitive: bool


@dataclass
class _Tally:
    """The values transformed at one path with one action."""

    pii_type: str
    key_version: KeyVersion | None
    sensitive: bool
    count: int = 0


@dataclass
class _Walk:
    """The state of masking one record."""

    key: KeyVersion
    counts: dict[tuple[str, str], _Tally] = field(default_factory=dict)
    subjects: list[SubjectValue] = field(default_factory=list)
    sensitive: bool = False


def mask_record(plan: MaskingPlan, record: Any, key: KeyVersion) -> MaskResult:
    """Mask every tagged value of a record.

    Args:
        plan: The plan of the record's schema.
        record: The record as fastavro decodes it. It is not changed.
        key: The key version passed to each transformer.

    Raises:
        InvalidValueError: A tagged value does not match its type's format.
            The error names the field path.
        BlockedRecordError: The policy blocks the record, for example a
            value in an unclassified field in strict mode
            (reason ``policy.unclassified_field``).
        RecordError: The record does not match its schema where masking
            needs to look (reason ``mask.schema_mismatch``), or nests deeper
            than Python's recursion limit allows (``mask.too_deep``).
    """
    walk = _Walk(key)
    try:
        masked = record if plan.root is None else _mask(plan.root, record, "", walk)
    except RecursionError:
        raise RecordError("mask.too_deep", "record nests too deeply to mask") from None
    if masked is record and isinstance(record, dict):
        masked = dict(record)
    transformations = tuple(
        Transformation(path, t.pii_type, action, t.key_version, t.count, t.sensitive)
        for (path, action), t in walk.counts.items()
    )
    return MaskResult(masked, transformations, tuple(walk.subjects), walk.sensitive)


def _mask(node: Node, value: Any, path: str, walk: _Walk) -> Any:
    """Mask one value by its node. A None value stays None."""
    if value is None:
        return None
    if isinstance(node, LeafNode):
        return _mask_leaf(node, value, path, walk)
    if isinstance(node, RecordNode):
        return _mask_record_fields(node, value, path, walk)
    if isinstance(node, ArrayNode):
        if not isinstance(value, list | tuple):
            raise _mismatch(path, "an array must be a list")
        return [_mask(node.items, item, path + "[]", walk) for item in value]
    if isinstance(node, MapNode):
        if not isinstance(value, Mapping):
            raise _mismatch(path, "a map must be a dict")
        return {k: _mask(node.values, v, path + "{}", walk) for k, v in value.items()}
    if isinstance(node, UnionNode):
        return _mask_union(node, value, path, walk)
    _check_unclassified(node, value, path)
    return value


def _mask_leaf(node: LeafNode, value: Any, path: str, walk: _Walk) -> Any:
    """Transform one tagged value and count it."""
    info = node.info
    try:
        result = node.transformer.apply(value, walk.key)
    except InvalidValueError as err:
        raise err.at(path) from err
    except BlockedRecordError as err:
        raise BlockedRecordError(err.reason, f"field {path!r}: {err}") from err
    version = walk.key if node.transformer.uses_key else None
    tally = walk.counts.get((path, result.action))
    if tally is None:
        tally = _Tally(info.pii_type, version, info.sensitive)
        walk.counts[(path, result.action)] = tally
    tally.count += 1
    if info.subject:
        walk.subjects.append(SubjectValue(path, info.pii_type, value))
    walk.sensitive = walk.sensitive or info.sensitive
    return result.value


def _mask_record_fields(
    node: RecordNode, value: Any, path: str, walk: _Walk
) -> dict[str, Any]:
    """Return a copy of a record with its planned fields masked."""
    if not isinstance(value, Mapping):
        raise _mismatch(path, f"record {node.name} must be a dict")
    out = dict(value)
    for name, child in node.fields:
        if name in out:
            child_path = f"{path}.{name}" if path else name
            out[name] = _mask(child, out[name], child_path, walk)
    return out


def _mask_union(node: UnionNode, value: Any, path: str, walk: _Walk) -> Any:
    """Mask a value of a multi-branch union through the branch it belongs to."""
    named = isinstance(value, tuple)
    branch, inner = _select_branch(node, value, path)
    branch_path = f"{path}<{branch.label}>"
    masked = (
        inner if branch.node is None else _mask(branch.node, inner, branch_path, walk)
    )
    if named or branch.is_record:
        return (branch.type_name, masked)
    return masked


def _select_branch(node: UnionNode, value: Any, path: str) -> tuple[UnionBranch, Any]:
    """Find the branch of a value, as fastavro's writer does."""
    if isinstance(value, tuple) and len(value) == 2:
        for branch in node.branches:
            if branch.type_name == value[0]:
                return branch, value[1]
        raise _mismatch(path, "the tuple names no branch of the union")
    best: UnionBranch | None = None
    best_overlap = -1
    for branch in node.branches:
        # fastavro's compiled validator can crash on a deeply nested value
        # of a recursive type, while the pure-Python one raises an error.
        check = _validation_py.validate if branch.recursive else validate
        if not check(value, branch.schema, raise_errors=False):
            continue
        if not branch.is_record:
            return branch, value
        overlap = len(set(value) & {f["name"] for f in branch.schema["fields"]})
        if overlap > best_overlap:
            best, best_overlap = branch, overlap
    if best is None:
        raise _mismatch(path, "the value matches no branch of the union")
    return best, value


def _check_unclassified(node: UnclassifiedNode, value: Any, path: str) -> None:
    """Block a record with a non-empty value in an unclassified field."""
    if value in ("", b""):
        return
    raise BlockedRecordError(
        "policy.unclassified_field",
        f"field {path!r} contains a value but has no pii tag, and strict mode "
        'blocks such records: tag the field in the schema ("pii": "none" '
        "when it contains no personal information) or set unclassified to 'pass'",
    )


def _mismatch(path: str, rule: str) -> RecordError:
    """Build the error for a record that does not match its schema."""
    return RecordError("mask.schema_mismatch", f"field {path or '(root)'!r}: {rule}")
