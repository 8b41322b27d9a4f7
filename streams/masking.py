"""Mask one decoded record by its plan, or reverse the masking.

`mask_record` walks the compiled plan of `streams.schema` over a record as
fastavro decodes it, replaces each non-null tagged value with its
transformer's output, and reports what it did. `unmask_record` walks the
same plan over a masked record and reverses every value that a reversible
action produced. Neither does I/O.

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
from typing import TYPE_CHECKING, Any, Protocol

from fastavro import _validation_py
from fastavro.validation import validate

from streams.errors import (
    BlockedRecordError,
    InvalidValueError,
    NotReversibleError,
    RecordError,
)
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
    """Transformation applied to the values at one field path.

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


@dataclass(frozen=True)
class Reversal:
    """The outcome of `unmask_record` for the values at one field path.

    Attributes:
        path: The field path, such as ``contacts[].mobile``.
        pii_type: The PII type of the field.
        action: The action that produced the values: the configured one, or
            ``pseudonymize`` where ``tokenize`` fell back to a pseudonym.
        count: The number of non-null values at the path with this outcome.
        restored: True when the values were reversed to the originals. False
            for ``pass`` values, which are the originals already, and for
            the outputs of irreversible actions, which stay as they are.
    """

    path: str
    pii_type: str
    action: str
    count: int
    restored: bool


@dataclass(frozen=True)
class UnmaskResult:
    """The outcome of reversing the masking of one record.

    Attributes:
        record: The record with every reversible value restored, a new dict.
        reversals: One entry per field path and action that held a value, in
            the order first met.
    """

    record: Any
    reversals: tuple[Reversal, ...]

    @property
    def restored_count(self) -> int:
        """The number of values reversed to their originals."""
        return sum(r.count for r in self.reversals if r.restored)

    @property
    def not_restored(self) -> tuple[Reversal, ...]:
        """The entries of values that irreversible actions produced."""
        return tuple(r for r in self.reversals if not r.restored and r.action != "pass")


class _Visitor(Protocol):
    """The leaf handling of a walk over a plan."""

    def leaf(self, node: LeafNode, value: Any, path: str) -> Any:
        """Return the new value of a non-null tagged value."""

    def unclassified(self, node: UnclassifiedNode, value: Any, path: str) -> None:
        """Check a non-null value of a field with no tag."""


@dataclass
class _Walk:
    """The state of masking one record."""

    key: KeyVersion
    counts: dict[tuple[str, str], _Tally] = field(default_factory=dict)
    subjects: list[SubjectValue] = field(default_factory=list)
    sensitive: bool = False

    def leaf(self, node: LeafNode, value: Any, path: str) -> Any:
        """Transform one tagged value and count it."""
        return _mask_leaf(node, value, path, self)

    def unclassified(self, node: UnclassifiedNode, value: Any, path: str) -> None:
        """Block a record with a value in an unclassified field in strict mode."""
        _check_unclassified(node, value, path)


@dataclass
class _UnmaskWalk:
    """The state of reversing the masking of one record."""

    key: KeyVersion
    counts: dict[tuple[str, str], Reversal] = field(default_factory=dict)

    def leaf(self, node: LeafNode, value: Any, path: str) -> Any:
        """Reverse one tagged value where its action allows, and count it."""
        transformer = node.transformer
        action = transformer.action
        restored = action != "pass"
        try:
            original = transformer.reverse(value, self.key)
        except NotReversibleError:
            # A tokenize field whose value was too short for FF1 contains a
            # pseudonym, which cannot be reversed.
            action = "pseudonymize" if action == "tokenize" else action
            original, restored = value, False
        except InvalidValueError as err:
            raise err.at(path) from err
        self._count(path, node.info.pii_type, action, restored)
        return original

    def unclassified(self, node: UnclassifiedNode, value: Any, path: str) -> None:
        """Leave a value of an unclassified field as it is."""

    def _count(self, path: str, pii_type: str, action: str, restored: bool) -> None:
        """Add one value to the entry of its path and action."""
        entry = self.counts.get((path, action))
        count = 1 if entry is None else entry.count + 1
        self.counts[(path, action)] = Reversal(path, pii_type, action, count, restored)


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


def unmask_record(plan: MaskingPlan, record: Any, key: KeyVersion) -> UnmaskResult:
    """Reverse the masking of a record, the mirror of `mask_record`.

    Values that ``tokenize`` produced are decrypted, and ``pass`` values stay
    as they are. The outputs of every other action, and the pseudonyms of
    ``tokenize`` values too short for FF1, cannot be reversed: they stay as
    they are and are listed in `UnmaskResult.not_restored`.

    Args:
        plan: The plan of the record's schema.
        record: The masked record as fastavro decodes it. It is not changed.
        key: The key version the record was masked with, as its
            ``seawall.key_version`` header names it.

    Raises:
        InvalidValueError: A tagged value is not a token of its type's
            format. The error names the field path.
        RecordError: The record does not match its schema where the walk
            needs to look (reason ``mask.schema_mismatch``), or nests deeper
            than Python's recursion limit allows (``mask.too_deep``).
    """
    walk = _UnmaskWalk(key)
    try:
        restored = record if plan.root is None else _mask(plan.root, record, "", walk)
    except RecursionError:
        raise RecordError(
            "mask.too_deep", "record nests too deeply to unmask"
        ) from None
    if restored is record and isinstance(record, dict):
        restored = dict(record)
    return UnmaskResult(restored, tuple(walk.counts.values()))


def _mask(node: Node, value: Any, path: str, walk: _Visitor) -> Any:
    """Walk one value by its node. A None value stays None."""
    if value is None:
        return None
    if isinstance(node, LeafNode):
        return walk.leaf(node, value, path)
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
    walk.unclassified(node, value, path)
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
    node: RecordNode, value: Any, path: str, walk: _Visitor
) -> dict[str, Any]:
    """Return a copy of a record with its planned fields walked."""
    if not isinstance(value, Mapping):
        raise _mismatch(path, f"record {node.name} must be a dict")
    out = dict(value)
    for name, child in node.fields:
        if name in out:
            child_path = f"{path}.{name}" if path else name
            out[name] = _mask(child, out[name], child_path, walk)
    return out


def _mask_union(node: UnionNode, value: Any, path: str, walk: _Visitor) -> Any:
    """Walk a value of a multi-branch union through the branch it belongs to."""
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
