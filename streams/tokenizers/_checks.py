"""Check characters of Chinese and international identifier formats."""

from __future__ import annotations

# GB 11643-1999: weights of the 17 body digits and the ISO 7064 MOD 11-2
# check character for each remainder.
_RESIDENT_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_RESIDENT_CHECK = "10X98765432"

# GB 32100-2015: the 31 code characters (no I, O, S, V, Z) and the weights
# 3**i mod 31 of the 17 body characters.
USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_USCC_WEIGHTS = tuple(pow(3, i, 31) for i in range(17))


def resident_check(body: str) -> str:
    """Return the GB 11643 check character of 17 body digits."""
    total = sum(int(d) * w for d, w in zip(body, _RESIDENT_WEIGHTS, strict=True))
    return _RESIDENT_CHECK[total % 11]


def uscc_check(body: str) -> str:
    """Return the GB 32100 check character of 17 body characters."""
    total = sum(
        USCC_ALPHABET.index(c) * w for c, w in zip(body, _USCC_WEIGHTS, strict=True)
    )
    return USCC_ALPHABET[(31 - total % 31) % 31]


def luhn_valid(digits: str) -> bool:
    """Return True when a digit string passes the Luhn (ISO/IEC 7812) check."""
    total = 0
    for position, char in enumerate(reversed(digits)):
        value = int(char)
        if position % 2 == 1:
            value *= 2
            if value > 9:
                value -= 9
        total += value
    return total % 10 == 0


def luhn_digit(payload: str) -> str:
    """Return the Luhn check digit to append to `payload`."""
    for candidate in "0123456789":
        if luhn_valid(payload + candidate):
            return candidate
    raise AssertionError("one of ten digits always completes a Luhn check")
