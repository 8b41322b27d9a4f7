"""Bank card numbers (ISO/IEC 7812).

A card number of 12 to 19 digits keeps its first six digits (the issuer
identification number) and the rest, check digit included, is encrypted.
A number that passes the Luhn check gives a token that passes it, and a
number that fails gives a token that fails. FF1 cycle-walks inside the
passing or the failing set, so the token stays reversible. No check digit is
recomputed, because some UnionPay cards do not pass Luhn.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from streams.errors import InvalidValueError
from streams.tokenizers._checks import luhn_valid
from streams.tokenizers._engine import Domain, make_tweak
from streams.tokenizers._transformer import Segment, Split

PII_TYPE = "bank_card"
KEPT_DIGITS = 6
_FORMAT = re.compile(r"[0-9]{12,19}")


@dataclass(frozen=True)
class BankCardCodec:
    """Splits a card number into its issuer prefix and secret digits."""

    def split(self, value: Any) -> Split:
        """Cut a card number into one segment after the first six digits."""
        if not isinstance(value, str) or not _FORMAT.fullmatch(value):
            raise InvalidValueError("a bank card number must be 12 to 19 ASCII digits")
        prefix = value[:KEPT_DIGITS]
        passes = luhn_valid(value)

        def accept(numerals: Sequence[int]) -> bool:
            return luhn_valid(prefix + "".join(map(str, numerals))) == passes

        def rebuild(parts: list[list[int]]) -> str:
            return prefix + "".join(map(str, parts[0]))

        numerals = [int(d) for d in value[KEPT_DIGITS:]]
        domain = Domain.uniform(10, len(numerals))
        tweak = make_tweak(PII_TYPE, "body", prefix)
        segment = Segment("body", domain, numerals, tweak, accept)
        return Split((segment,), rebuild, value.encode())
