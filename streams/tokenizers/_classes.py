"""Character-class patterns: digits stay digits, letters stay letters.

A pattern turns each ASCII digit into a radix-10 numeral and each ASCII
letter into a radix-26 numeral. Upper- and lower-case letters keep their
case, and every other character stays where it is.
"""

from __future__ import annotations

import string
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from streams.tokenizers._engine import Domain

_DIGITS = string.digits
_LOWER = string.ascii_lowercase
_UPPER = string.ascii_uppercase


@dataclass(frozen=True)
class ClassPattern:
    """The secret positions of a text and the class of each.

    Attributes:
        text: The source text.
        positions: The indexes of the digits and letters in `text`.
        alphabets: The alphabet of each secret position.
    """

    text: str
    positions: tuple[int, ...]
    alphabets: tuple[str, ...]

    @classmethod
    def of(cls, text: str) -> ClassPattern:
        """Classify the ASCII digits and letters of `text`."""
        positions = []
        alphabets = []
        for index, char in enumerate(text):
            alphabet = _alphabet_of(char)
            if alphabet:
                positions.append(index)
                alphabets.append(alphabet)
        return cls(text, tuple(positions), tuple(alphabets))

    @property
    def domain(self) -> Domain:
        """The domain of the secret positions."""
        return Domain(tuple(len(a) for a in self.alphabets))

    @property
    def numerals(self) -> list[int]:
        """The numerals of the secret positions."""
        return [
            alphabet.index(self.text[index])
            for index, alphabet in zip(self.positions, self.alphabets, strict=True)
        ]

    @property
    def shape(self) -> str:
        """The text with secret positions replaced by 9, A or a, for tweaks."""
        chars = list(self.text)
        for index, alphabet in zip(self.positions, self.alphabets, strict=True):
            chars[index] = alphabet[-1] if alphabet is _DIGITS else alphabet[0]
        return "".join(chars)

    def fill(self, numerals: Sequence[int]) -> str:
        """Return the text with the secret positions set to `numerals`."""
        chars = list(self.text)
        for index, alphabet, numeral in zip(
            self.positions, self.alphabets, numerals, strict=True
        ):
            chars[index] = alphabet[numeral]
        return "".join(chars)

    def filler(self) -> Callable[[Sequence[int]], str]:
        """Return `fill` as a function, for `Split.rebuild`."""
        return self.fill


def _alphabet_of(char: str) -> str:
    """Return the class alphabet of an ASCII digit or letter, else ""."""
    if char in _DIGITS:
        return _DIGITS
    if char in _LOWER:
        return _LOWER
    if char in _UPPER:
        return _UPPER
    return ""
