"""Person names in Chinese characters or in Latin letters.

Chinese names are encrypted over the 8,105 characters of the Table of
General Standard Chinese Characters, so a Chinese name gives a Chinese token
of the same length. Latin names are encrypted over the 26 letters, and the
token keeps the case of each position and every space, hyphen, apostrophe
and full stop. The middle dot of transliterated names (阿沛·阿旺晋美) stays
in place.

With the option ``keep_surname``, a Chinese surname stays as it is, two
characters long for a compound surname such as 欧阳 or 司马, and the given
name alone is encrypted.
"""

from __future__ import annotations

import string
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from streams.errors import InvalidValueError
from streams.tokenizers import _data
from streams.tokenizers._engine import Domain, make_tweak
from streams.tokenizers._transformer import Segment, Split

PII_TYPE = "person_name"
HAN_SEPARATORS = frozenset("·•・ ")
LATIN_SEPARATORS = frozenset(" -'.")

# Compound (two-character) surnames: those of the Hundred Family Surnames
# (百家姓) plus 太史 and 独孤. A name starting with one keeps both characters.
COMPOUND_SURNAMES = frozenset(
    {
        "万俟", "司马", "上官", "欧阳", "夏侯", "诸葛", "闻人", "东方", "赫连",
        "皇甫", "尉迟", "公羊", "澹台", "公冶", "宗政", "濮阳", "淳于", "单于",
        "太叔", "申屠", "公孙", "仲孙", "轩辕", "令狐", "钟离", "宇文", "长孙",
        "慕容", "鲜于", "闾丘", "司徒", "司空", "亓官", "司寇", "子车", "颛孙",
        "端木", "巫马", "公西", "漆雕", "乐正", "壤驷", "公良", "拓跋", "夹谷",
        "宰父", "谷梁", "段干", "百里", "东郭", "南门", "呼延", "羊舌", "微生",
        "梁丘", "左丘", "东门", "西门", "南宫", "第五", "太史", "独孤",
    }
)  # fmt: skip


@dataclass(frozen=True)
class NameCodec:
    """Splits a person name into its letters or characters.

    Attributes:
        keep_surname: Keep the surname of a Chinese name.
    """

    keep_surname: bool = False

    def split(self, value: Any) -> Split:
        """Cut a name into one segment of characters or letters."""
        if not isinstance(value, str) or not value.strip():
            raise InvalidValueError("a person name must be a non-empty string")
        if any(char in _data.han_index() for char in value):
            return self._split_han(value)
        return _split_latin(value)

    def _split_han(self, value: str) -> Split:
        """Split a Chinese name; every non-separator must be in the table."""
        index = _data.han_index()
        kept = self._surname_length(value)
        positions = []
        for position, char in enumerate(value):
            if position < kept or char in HAN_SEPARATORS:
                continue
            if char not in index:
                raise InvalidValueError(
                    f"character at position {position} of the Chinese name is "
                    "not in the Table of General Standard Chinese Characters"
                )
            positions.append(position)
        numerals = [index[value[p]] for p in positions]
        tweak = make_tweak(PII_TYPE, "han", value[:kept])
        domain = Domain.uniform(len(_data.han_characters()), len(positions))

        def rebuild(parts: list[list[int]]) -> str:
            chars = list(value)
            for position, numeral in zip(positions, parts[0], strict=True):
                chars[position] = _data.han_characters()[numeral]
            return "".join(chars)

        segment = Segment("han", domain, numerals, tweak)
        return Split((segment,), rebuild, value.encode())

    def _surname_length(self, value: str) -> int:
        """Return how many leading characters the surname option keeps."""
        if not self.keep_surname:
            return 0
        return 2 if value[:2] in COMPOUND_SURNAMES else 1


def _split_latin(value: str) -> Split:
    """Split a Latin name into case-folded letters."""
    positions = []
    for position, char in enumerate(value):
        if char in string.ascii_letters:
            positions.append(position)
        elif char not in LATIN_SEPARATORS:
            raise InvalidValueError(
                f"character at position {position} of the name is neither a "
                "general standard Chinese character nor an ASCII letter, space, "
                "hyphen, apostrophe or full stop"
            )
    numerals = [string.ascii_lowercase.index(value[p].lower()) for p in positions]

    def rebuild(parts: list[list[int]]) -> str:
        return _apply_letters(value, positions, parts[0])

    domain = Domain.uniform(26, len(positions))
    segment = Segment("latin", domain, numerals, make_tweak(PII_TYPE, "latin"))
    return Split((segment,), rebuild, value.encode())


def _apply_letters(
    value: str, positions: Sequence[int], numerals: Sequence[int]
) -> str:
    """Write letters into `value`, keeping the case of each position."""
    chars = list(value)
    for position, numeral in zip(positions, numerals, strict=True):
        letter = string.ascii_lowercase[numeral]
        chars[position] = letter.upper() if value[position].isupper() else letter
    return "".join(chars)
