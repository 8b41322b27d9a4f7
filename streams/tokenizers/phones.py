"""Chinese mobile numbers.

An 11-digit mobile number keeps its first three digits (the network
prefix) and the other eight are encrypted. When the input matches the
Chinese mobile numbering plan of the ``phonenumbers`` package, FF1
cycle-walks until the token matches it too. An input outside the plan (a
number range withdrawn since) gives a token outside the plan, so that every
token stays reversible.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from streams.errors import InvalidValueError
from streams.tokenizers import _data
from streams.tokenizers._engine import Domain, make_tweak
from streams.tokenizers._transformer import Segment, Split

PII_TYPE = "cn_mobile"
KEPT_DIGITS = 3
_FORMAT = re.compile(r"1[0-9]{10}")


@dataclass(frozen=True)
class CnMobileCodec:
    """Splits a mobile number into its kept prefix and eight secret digits."""

    def split(self, value: Any) -> Split:
        """Cut a mobile number into one 8-digit segment."""
        if not isinstance(value, str) or not _FORMAT.fullmatch(value):
            raise InvalidValueError(
                "a Chinese mobile number must be 11 ASCII digits starting with 1"
            )
        prefix = value[:KEPT_DIGITS]
        in_plan = bool(_data.cn_mobile_pattern().fullmatch(value))

        def accept(numerals: Sequence[int]) -> bool:
            candidate = prefix + "".join(map(str, numerals))
            return bool(_data.cn_mobile_pattern().fullmatch(candidate)) == in_plan

        def rebuild(parts: list[list[int]]) -> str:
            return prefix + "".join(map(str, parts[0]))

        numerals = [int(d) for d in value[KEPT_DIGITS:]]
        tweak = make_tweak(PII_TYPE, "body", prefix)
        segment = Segment("body", Domain.uniform(10, 8), numerals, tweak, accept)
        return Split((segment,), rebuild, value.encode())
