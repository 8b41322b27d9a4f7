"""Parameter checks and numeral conversions shared by FF1 and FF3-1.

Messages name the parameter, the rule and the sizes involved. They never
contain a key, a numeral or a character of the input, because the input is
personal data.
"""

from __future__ import annotations

from collections.abc import Sequence

from cryptography.hazmat.primitives.ciphers import Cipher, CipherContext, algorithms
from cryptography.hazmat.primitives.ciphers.modes import ECB

MIN_RADIX = 2
MAX_RADIX = 2**16

# SP 800-38G Rev. 1 requires radix**minlen >= 1,000,000 for FF1 and FF3-1.
MIN_DOMAIN_SIZE = 1_000_000

AES_KEY_SIZES = (16, 24, 32)


def check_key(key: bytes) -> None:
    """Raise unless `key` is an AES-128, AES-192 or AES-256 key."""
    if not isinstance(key, bytes):
        raise TypeError(f"key: must be bytes, got {type(key).__name__}")
    if len(key) not in AES_KEY_SIZES:
        raise ValueError(
            f"key: must be 16, 24 or 32 bytes (AES-128, AES-192 or AES-256), "
            f"got {len(key)} bytes"
        )


def aes_ecb_encryptor(key: bytes) -> CipherContext:
    """Create the single-block AES encryptor that FF1 and FF3-1 reuse per key."""
    # ECB here only computes CIPH_K on single blocks: FF1's CBC-MAC chaining
    # and FF3-1's round function are built from it by the callers.
    cipher = Cipher(algorithms.AES(key), ECB())  # noqa: S305 - single-block CIPH_K
    return cipher.encryptor()


def check_radix(radix: int) -> None:
    """Raise unless `radix` is an int in SP 800-38G's range 2..65536."""
    if not isinstance(radix, int) or isinstance(radix, bool):
        raise TypeError(f"radix: must be an int, got {type(radix).__name__}")
    if not MIN_RADIX <= radix <= MAX_RADIX:
        raise ValueError(
            f"radix: must be between {MIN_RADIX} and {MAX_RADIX} "
            f"(SP 800-38G), got {radix}"
        )


def min_length(radix: int) -> int:
    """Return the smallest length n >= 2 with radix**n >= 1,000,000."""
    length = 2
    while radix**length < MIN_DOMAIN_SIZE:
        length += 1
    return length


def check_length(
    length: int, radix: int, max_length: int, parameter: str, algorithm: str
) -> None:
    """Raise unless a string of `length` numerals is allowed for `radix`."""
    if length < 2:
        raise ValueError(
            f"{parameter}: length {length} is below the minimum of 2 "
            f"numerals ({algorithm})"
        )
    if length > max_length:
        raise ValueError(
            f"{parameter}: length {length} exceeds the maximum of {max_length} "
            f"numerals for radix {radix} ({algorithm})"
        )
    if radix**length < MIN_DOMAIN_SIZE:
        raise ValueError(
            f"{parameter}: radix**length must be at least {MIN_DOMAIN_SIZE:,} "
            f"(SP 800-38G Rev. 1), but length {length} with radix {radix} gives "
            f"{radix**length:,}; use at least {min_length(radix)} numerals"
        )


def check_numerals(numerals: Sequence[int], radix: int, parameter: str) -> None:
    """Raise unless every numeral is an int in 0..radix-1, naming the position."""
    # min() and max() run in C, so valid input costs little; the loop below
    # runs only to find and name the first bad position.
    try:
        if min(numerals) >= 0 and max(numerals) < radix:
            return
    except TypeError:
        pass
    check_each_numeral(numerals, radix, parameter)


def check_each_numeral(numerals: Sequence[int], radix: int, parameter: str) -> None:
    """Raise for the first numeral that is not an int in 0..radix-1."""
    for position, numeral in enumerate(numerals):
        if not isinstance(numeral, int):
            raise TypeError(
                f"{parameter}[{position}]: must be an int, got {type(numeral).__name__}"
            )
        if not 0 <= numeral < radix:
            raise ValueError(
                f"{parameter}[{position}]: numeral is out of range; "
                f"it must be in 0..{radix - 1} for radix {radix}"
            )


def check_tweak(tweak: bytes) -> None:
    """Raise unless `tweak` is bytes."""
    if not isinstance(tweak, bytes):
        raise TypeError(f"tweak: must be bytes, got {type(tweak).__name__}")


def numerals_to_int(numerals: Sequence[int], radix: int) -> int:
    """Return NUM_radix(X): the numerals read with the first most significant."""
    value = 0
    for numeral in numerals:
        value = value * radix + numeral
    return value


def int_to_numerals(value: int, radix: int, length: int) -> list[int]:
    """Return STR^length_radix(value): `length` numerals, most significant first."""
    numerals = [0] * length
    for position in range(length - 1, -1, -1):
        value, numerals[position] = divmod(value, radix)
    return numerals
