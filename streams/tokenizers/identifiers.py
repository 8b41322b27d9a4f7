"""Generic identifiers: account numbers, customer ids, member numbers.

A string token keeps the length and the class of each character: an ASCII
digit becomes a digit, an upper-case letter an upper-case letter, a
lower-case letter a lower-case letter, and any other character stays as it
is. An Avro int or long keeps its sign and its number of digits, and stays
inside the range of its Avro type.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

from streams.errors import InvalidValueError
from streams.tokenizers._classes import ClassPattern
from streams.tokenizers._engine import Domain, make_tweak
from streams.tokenizers._transformer import Segment, Split

PII_TYPE = "identifier"
# The largest magnitude of each Avro integer type, per sign.
_LIMITS = {
    "int": {1: 2**31 - 1, -1: 2**31},
    "long": {1: 2**63 - 1, -1: 2**63},
}


def shape_digest(pattern: ClassPattern) -> str:
    """Return a short digest of a pattern's shape, for the tweak."""
    return hashlib.sha256(pattern.shape.encode()).hexdigest()[:32]


def class_split(pii_type: str, value: str, *context: str) -> Split:
    """Split a string into one class-preserving segment."""
    pattern = ClassPattern.of(value)
    tweak = make_tweak(pii_type, "chars", shape_digest(pattern), *context)
    segment = Segment("chars", pattern.domain, pattern.numerals, tweak)

    def rebuild(parts: list[list[int]]) -> str:
        return pattern.fill(parts[0])

    return Split((segment,), rebuild, value.encode())


@dataclass(frozen=True)
class IdentifierCodec:
    """Splits an identifier string or integer.

    Attributes:
        avro_type: ``string``, ``int`` or ``long``.
    """

    avro_type: str = "string"

    def split(self, value: Any) -> Split:
        """Cut an identifier into one segment."""
        if self.avro_type == "string":
            if not isinstance(value, str):
                raise InvalidValueError("an identifier field must hold a string")
            return class_split(PII_TYPE, value)
        if not isinstance(value, int) or isinstance(value, bool):
            raise InvalidValueError(
                f"an identifier field must hold an Avro {self.avro_type}"
            )
        return self._split_integer(value)

    def _split_integer(self, value: int) -> Split:
        """Split an integer into the offset of its magnitude among equals."""
        sign = -1 if value < 0 else 1
        magnitude = abs(value)
        digits = len(str(magnitude))
        low = 0 if digits == 1 else 10 ** (digits - 1)
        high = min(10**digits - 1, _LIMITS[self.avro_type][sign])
        if magnitude > high:
            raise InvalidValueError(
                f"the identifier is outside the Avro {self.avro_type} range"
            )
        domain = Domain((high - low + 1,))
        tweak = make_tweak(PII_TYPE, "integer", self.avro_type, str(digits), str(sign))

        def rebuild(parts: list[list[int]]) -> int:
            return sign * (low + parts[0][0])

        segment = Segment("integer", domain, [magnitude - low], tweak)
        return Split((segment,), rebuild, str(value).encode())
