"""FF3-1 argument errors: the parameter is named, data is not."""

from __future__ import annotations

import pytest

from streams.fpe import FF3_1, AlphabetFF3_1

KEY = bytes.fromhex("00112233445566778899AABBCCDDEEFF")
TWEAK = bytes.fromhex("D8E7920AFA330A")


def test_ff3_1_rejects_key_length() -> None:
    key = KEY[:12]
    with pytest.raises(ValueError, match=r"^key: must be 16, 24 or 32 bytes") as info:
        FF3_1(key, 10)
    assert key.hex() not in str(info.value).lower()


@pytest.mark.parametrize("radix", [1, 65537])
def test_ff3_1_rejects_radix_out_of_range(radix: int) -> None:
    with pytest.raises(ValueError, match=r"^radix: must be between 2 and 65536"):
        FF3_1(KEY, radix)


@pytest.mark.parametrize("size", [0, 6, 8])
def test_ff3_1_rejects_tweak_not_56_bits(size: int) -> None:
    cipher = FF3_1(KEY, 10)
    tweak = bytes(range(1, size + 1))
    with pytest.raises(
        ValueError, match=r"^tweak: must be 7 bytes \(56 bits\)"
    ) as info:
        cipher.encrypt([1] * 6, tweak)
    assert f"got {size} bytes" in str(info.value)


@pytest.mark.parametrize(
    ("radix", "expected"), [(2, 192), (10, 56), (26, 40), (64, 32), (65536, 12)]
)
def test_ff3_1_max_length_per_radix(radix: int, expected: int) -> None:
    cipher = FF3_1(KEY, radix)
    assert cipher.max_length() == expected
    assert radix ** (expected // 2) <= 2**96 < radix ** (expected // 2 + 1)


def test_ff3_1_length_limit_is_inclusive() -> None:
    cipher = FF3_1(KEY, 10)
    plaintext = [9] * 56
    assert cipher.decrypt(cipher.encrypt(plaintext, TWEAK), TWEAK) == plaintext
    with pytest.raises(ValueError, match=r"^numerals: length 57 exceeds the maximum"):
        cipher.encrypt([9] * 57, TWEAK)


def test_ff3_1_rejects_domain_below_million() -> None:
    cipher = AlphabetFF3_1(KEY, "0123456789")
    with pytest.raises(ValueError, match=r"^text: radix\*\*length") as info:
        cipher.encrypt("86753", TWEAK)
    assert "86753" not in str(info.value)


def test_ff3_1_names_position_of_bad_numeral() -> None:
    cipher = FF3_1(KEY, 10)
    with pytest.raises(ValueError, match=r"^numerals\[4\]: numeral is out of range"):
        cipher.decrypt([1, 2, 3, 4, 42, 6], TWEAK)


def test_alphabet_ff3_1_names_position_of_unknown_character() -> None:
    cipher = AlphabetFF3_1(KEY, "0123456789")
    with pytest.raises(ValueError, match=r"^text\[6\]: ") as info:
        cipher.encrypt("123456#89", TWEAK)
    assert "#" not in str(info.value)


def test_repr_and_str_hide_the_key() -> None:
    for cipher in (FF3_1(KEY, 10), AlphabetFF3_1(KEY, "0123456789")):
        for text in (repr(cipher), str(cipher)):
            assert KEY.hex() not in text.lower()
            assert KEY[::-1].hex() not in text.lower()
            assert "radix=10" in text
