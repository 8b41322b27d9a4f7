"""The contract between the schema layer and the tokenizers.

The schema layer describes each tagged leaf as a `LeafType` and gets a
`FieldTransformer` from `streams.tokenizers.resolve`. The masking layer then
calls `FieldTransformer.apply` on each non-null value at that leaf.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, NamedTuple, Protocol

if TYPE_CHECKING:
    from streams.keys import KeyVersion

ACTIONS = frozenset(
    {"tokenize", "pseudonymize", "generalize", "mask", "redact", "pass", "block"}
)


@dataclass(frozen=True)
class LeafType:
    """The Avro type of a tagged field, after unwrapping a null union.

    Attributes:
        avro_type: The primitive type name: ``string``, ``int``, ``long``,
            ``bytes``, ``float``, ``double``, ``boolean``, ``enum`` or
            ``fixed``.
        logical_type: The Avro logical type, such as ``date``, or None.
        nullable: True when the field's union also admits null.
    """

    avro_type: str
    logical_type: str | None = None
    nullable: bool = False


@dataclass(frozen=True)
class FieldPolicy:
    """Configured action and options of one field.

    Attributes:
        action: One of `ACTIONS`, or None for the type's default action.
        options: Type-specific options, such as ``{"keep_last": 4}``.
    """

    action: str | None = None
    options: Mapping[str, Any] = field(default_factory=dict)


class Transformed(NamedTuple):
    """A transformed value and the action that produced it.

    The action differs from the configured one when a fallback applied, for
    example a pseudonym for a name too short for FF1.
    """

    value: Any
    action: str


class FieldTransformer(Protocol):
    """Transforms the values of one tagged leaf.

    Implementations are immutable and safe to share between records.
    """

    @property
    def pii_type(self) -> str:
        """The PII type, such as ``cn_mobile``."""

    @property
    def action(self) -> str:
        """The configured action, one of `ACTIONS`."""

    @property
    def uses_key(self) -> bool:
        """True when the output depends on key material."""

    def apply(self, value: Any, key: KeyVersion) -> Transformed:
        """Transform one non-null value.

        Raises:
            InvalidValueError: The value does not match the type's format.
                The message names the rule and never the value.
            BlockedRecordError: The action is ``block``.
        """

    def reverse(self, token: Any, key: KeyVersion) -> Any:
        """Return the original value of a token made by `apply`.

        Raises:
            NotReversibleError: The action cannot be reversed.
            InvalidValueError: The token does not match the type's format.
        """
