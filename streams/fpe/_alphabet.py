"""Alphabets that map characters to FPE numerals and back.

Each alphabet entry is one Unicode code point, so characters outside the Basic
Multilingual Plane count once, as Python's `str` counts them. The numeral of a
character is its position in the alphabet.
"""

from __future__ import annotations

from collections.abc import Sequence

from streams.fpe._params import MAX_RADIX, MIN_RADIX

DECIMAL_DIGITS = tuple("0123456789")


class Alphabet:
    """An ordered set of 2..65536 distinct code points.

    Attributes:
        characters: The entries in numeral order.
        is_decimal: True for exactly the ASCII digits "0".."9" in order, which
            lets callers convert with `int()` and string formatting.
    """

    __slots__ = ("_index", "characters", "is_decimal")

    def __init__(self, alphabet: str | Sequence[str]) -> None:
        """Validate `alphabet` and index its characters.

        Raises:
            ValueError: The size is outside 2..65536, an entry is not exactly
                one code point, or a character appears twice. The message
                names positions, never characters.
            TypeError: An entry is not a str.
        """
        characters = tuple(alphabet)
        _check_size(len(characters))
        _check_entries(characters)
        self._index = _index_characters(characters)
        self.characters = characters
        self.is_decimal = characters == DECIMAL_DIGITS

    @property
    def radix(self) -> int:
        """The number of characters, which is the FPE radix."""
        return len(self.characters)

    def to_numerals(self, text: str, parameter: str) -> list[int]:
        """Return the numeral of each character of `text`.

        Raises:
            ValueError: A character is not in the alphabet. The message names
                its position and the alphabet size, not the character.
        """
        index = self._index
        try:
            return [index[character] for character in text]
        except KeyError:
            raise self._unknown_character_error(text, parameter) from None

    def to_text(self, numerals: Sequence[int]) -> str:
        """Return the characters for `numerals`, each in 0..radix-1."""
        characters = self.characters
        return "".join([characters[numeral] for numeral in numerals])

    def __repr__(self) -> str:
        return f"Alphabet(radix={self.radix})"

    def _unknown_character_error(self, text: str, parameter: str) -> ValueError:
        """Build the error for the first character of `text` not in the alphabet."""
        position = next(
            position
            for position, character in enumerate(text)
            if character not in self._index
        )
        return ValueError(
            f"{parameter}[{position}]: character is not in the alphabet "
            f"of {len(self.characters)} characters"
        )


class AlphabetCipher:
    """Base of the FPE ciphers over an `Alphabet`, with the alphabet properties."""

    __slots__ = ("_alphabet",)

    _alphabet: Alphabet

    @property
    def alphabet(self) -> tuple[str, ...]:
        """The characters in numeral order."""
        return self._alphabet.characters

    @property
    def radix(self) -> int:
        """The number of characters in the alphabet."""
        return self._alphabet.radix

    def __repr__(self) -> str:
        return f"{type(self).__name__}(radix={self.radix})"

    __str__ = __repr__


def check_text(text: str, parameter: str) -> None:
    """Raise TypeError unless `text` is a str."""
    if not isinstance(text, str):
        raise TypeError(f"{parameter}: must be a str, got {type(text).__name__}")


def _check_size(size: int) -> None:
    """Raise unless an alphabet of `size` characters is a valid radix."""
    if not MIN_RADIX <= size <= MAX_RADIX:
        raise ValueError(
            f"alphabet: must contain between {MIN_RADIX} and {MAX_RADIX} "
            f"characters (the SP 800-38G radix range), got {size}"
        )


def _check_entries(characters: tuple[str, ...]) -> None:
    """Raise unless every entry is a str of exactly one code point."""
    for position, character in enumerate(characters):
        if not isinstance(character, str):
            raise TypeError(
                f"alphabet[{position}]: must be a str, got {type(character).__name__}"
            )
        if len(character) != 1:
            raise ValueError(
                f"alphabet[{position}]: must be exactly one code point, "
                f"got {len(character)}"
            )


def _index_characters(characters: tuple[str, ...]) -> dict[str, int]:
    """Map each character to its position, raising on a duplicate."""
    index: dict[str, int] = {}
    for position, character in enumerate(characters):
        first = index.setdefault(character, position)
        if first != position:
            raise ValueError(
                f"alphabet: positions {first} and {position} hold the same "
                f"character; each character may appear only once"
            )
    return index
