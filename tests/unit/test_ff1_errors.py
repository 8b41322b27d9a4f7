"""FF1 and AlphabetFF1 argument errors: the parameter is named, data is not."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import overload

import pytest

from streams.fpe import FF1, AlphabetFF1

KEY = bytes.fromhex("2B7E151628AED2A6ABF7158809CF4F3C")
SECRET_LOOKING_KEY = bytes.fromhex("00112233445566778899AABBCCDDEEFF")
DIGITS = "0123456789"


class HugeNumerals(Sequence[int]):
    """A sequence that reports 2**32 numerals without storing them."""

    def __len__(self) -> int:
        return 2**32

    @overload
    def __getitem__(self, index: int) -> int: ...

    @overload
    def __getitem__(self, index: slice) -> Sequence[int]: ...

    def __getitem__(self, index: int | slice) -> int | Sequence[int]:
        raise AssertionError("the length check must run before any numeral is read")

    def __iter__(self) -> Iterator[int]:
        raise AssertionError("the length check must run before any numeral is read")


def assert_no_key(message: str, key: bytes) -> None:
    """Assert that `message` shows the key in none of the usual encodings."""
    assert key.hex() not in message.lower()
    assert repr(key) not in message
    assert str(list(key)) not in message


@pytest.mark.parametrize("size", [0, 8, 15, 17, 31, 33, 64])
def test_ff1_rejects_key_length(size: int) -> None:
    key = bytes(range(size))
    with pytest.raises(ValueError, match=r"^key: must be 16, 24 or 32 bytes") as info:
        FF1(key, 10)
    assert f"got {size} bytes" in str(info.value)
    if size:
        assert_no_key(str(info.value), key)


def test_alphabet_ff1_rejects_key_length() -> None:
    key = SECRET_LOOKING_KEY[:15]
    with pytest.raises(ValueError, match=r"^key: ") as info:
        AlphabetFF1(key, DIGITS)
    assert_no_key(str(info.value), key)


def test_ff1_rejects_key_of_wrong_type() -> None:
    with pytest.raises(TypeError, match=r"^key: must be bytes, got str"):
        FF1("2B7E151628AED2A6ABF7158809CF4F3C", 10)  # type: ignore[arg-type]  # the error under test


@pytest.mark.parametrize("radix", [-1, 0, 1, 65537, 2**20])
def test_ff1_rejects_radix_out_of_range(radix: int) -> None:
    with pytest.raises(
        ValueError, match=r"^radix: must be between 2 and 65536"
    ) as info:
        FF1(KEY, radix)
    assert f"got {radix}" in str(info.value)


@pytest.mark.parametrize("radix", [2, 65536])
def test_ff1_accepts_radix_at_bounds(radix: int) -> None:
    cipher = FF1(KEY, radix)
    plaintext = [radix - 1] * cipher.min_length()
    assert cipher.decrypt(cipher.encrypt(plaintext)) == plaintext


@pytest.mark.parametrize(
    ("radix", "expected"),
    [(2, 20), (10, 6), (36, 4), (100, 3), (999, 3), (1000, 2), (8105, 2), (65536, 2)],
)
def test_min_length_is_smallest_million_domain(radix: int, expected: int) -> None:
    cipher = FF1(KEY, radix)
    assert cipher.min_length() == expected
    assert radix**expected >= 1_000_000
    assert expected == 2 or radix ** (expected - 1) < 1_000_000


@pytest.mark.parametrize("length", [0, 1])
def test_ff1_rejects_length_below_two(length: int) -> None:
    cipher = FF1(KEY, 65536)
    with pytest.raises(ValueError, match=r"^numerals: length \d is below the minimum"):
        cipher.encrypt([1] * length)


def test_ff1_rejects_domain_below_million() -> None:
    cipher = FF1(KEY, 10)
    with pytest.raises(ValueError, match=r"^numerals: radix\*\*length") as info:
        cipher.encrypt([3, 1, 4, 1, 5])
    message = str(info.value)
    assert "1,000,000" in message
    assert "use at least 6 numerals" in message
    assert "31415" not in message


def test_alphabet_ff1_names_text_for_short_input() -> None:
    cipher = AlphabetFF1(KEY, DIGITS)
    with pytest.raises(ValueError, match=r"^text: radix\*\*length") as info:
        cipher.encrypt("27182")
    assert "27182" not in str(info.value)


def test_ff1_rejects_length_above_maxlen() -> None:
    cipher = FF1(KEY, 10)
    with pytest.raises(ValueError, match=r"^numerals: length 4294967296 exceeds"):
        cipher.encrypt(HugeNumerals())


@pytest.mark.parametrize(
    ("position", "numeral"), [(0, -7), (3, 77), (10, 12)], ids=["negative", "77", "12"]
)
def test_ff1_names_position_of_bad_numeral(position: int, numeral: int) -> None:
    cipher = FF1(KEY, 10)
    numerals = [5] * 11
    numerals[position] = numeral
    with pytest.raises(ValueError, match=rf"^numerals\[{position}\]: ") as info:
        cipher.encrypt(numerals)
    message = str(info.value)
    assert "0..9 for radix 10" in message
    assert str(numeral) not in message


def test_ff1_decrypt_names_position_of_bad_numeral() -> None:
    cipher = FF1(KEY, 36)
    with pytest.raises(ValueError, match=r"^numerals\[2\]: numeral is out of range"):
        cipher.decrypt([0, 1, 36, 3, 4, 5])


@pytest.mark.parametrize("numeral", [2.0, "2", None], ids=["float", "str", "None"])
def test_ff1_rejects_numeral_of_wrong_type(numeral: object) -> None:
    cipher = FF1(KEY, 10)
    numerals: list[object] = [1, 2, 3, numeral, 5, 6]
    with pytest.raises(TypeError, match=r"^numerals\[3\]: must be an int"):
        cipher.encrypt(numerals)  # type: ignore[arg-type]  # the error under test


def test_alphabet_ff1_names_position_of_unknown_character() -> None:
    cipher = AlphabetFF1(KEY, DIGITS)
    with pytest.raises(ValueError, match=r"^text\[4\]: ") as info:
        cipher.encrypt("1380Z138000")
    message = str(info.value)
    assert "not in the alphabet of 10 characters" in message
    assert "Z" not in message
    assert "1380" not in message


def test_alphabet_ff1_rejects_non_bmp_character_outside_alphabet() -> None:
    alphabet = [chr(code) for code in range(0x4E00, 0x4E00 + 100)]
    cipher = AlphabetFF1(KEY, alphabet)
    stranger = "\U00020000"
    with pytest.raises(ValueError, match=r"^text\[1\]: ") as info:
        cipher.encrypt(alphabet[0] + stranger + alphabet[2])
    message = str(info.value)
    assert "alphabet of 100 characters" in message
    assert stranger not in message
    assert alphabet[0] not in message


def test_alphabet_ff1_rejects_fullwidth_digits() -> None:
    cipher = AlphabetFF1(KEY, DIGITS)
    # str.isdigit() accepts these, and the decimal shortcut must not.
    with pytest.raises(ValueError, match=r"^text\[0\]: "):
        cipher.encrypt("\uff11" + "3800138000")


def test_ff1_rejects_tweak_above_max_tweak_length() -> None:
    cipher = FF1(KEY, 10, max_tweak_length=8)
    tweak = b"secret-9!"
    with pytest.raises(ValueError, match=r"^tweak: length 9 bytes exceeds") as info:
        cipher.encrypt([1] * 6, tweak)
    message = str(info.value)
    assert "max_tweak_length 8" in message
    assert "secret" not in message


def test_ff1_accepts_tweak_at_max_tweak_length() -> None:
    cipher = FF1(KEY, 10, max_tweak_length=8)
    ciphertext = cipher.encrypt([1] * 6, b"8 bytes!")
    assert cipher.decrypt(ciphertext, b"8 bytes!") == [1] * 6


def test_ff1_default_max_tweak_length_is_256() -> None:
    cipher = FF1(KEY, 10)
    cipher.encrypt([1] * 6, bytes(256))
    with pytest.raises(ValueError, match=r"^tweak: length 257 bytes exceeds"):
        cipher.encrypt([1] * 6, bytes(257))


@pytest.mark.parametrize("value", [-1, 2**32])
def test_ff1_rejects_max_tweak_length_out_of_range(value: int) -> None:
    with pytest.raises(ValueError, match=r"^max_tweak_length: must be between 0 and"):
        FF1(KEY, 10, max_tweak_length=value)


def test_ff1_rejects_tweak_of_wrong_type() -> None:
    cipher = FF1(KEY, 10)
    with pytest.raises(TypeError, match=r"^tweak: must be bytes, got str"):
        cipher.encrypt([1] * 6, "tweak")  # type: ignore[arg-type]  # the error under test


def test_alphabet_ff1_rejects_duplicate_character() -> None:
    alphabet = "甲乙丙丁戊己庚辛壬癸甲"
    with pytest.raises(ValueError, match=r"^alphabet: positions 0 and 10 ") as info:
        AlphabetFF1(KEY, alphabet)
    assert "甲" not in str(info.value)


@pytest.mark.parametrize("size", [0, 1, 65537])
def test_alphabet_ff1_rejects_alphabet_size(size: int) -> None:
    alphabet = [chr(0x4E00 + index) for index in range(size)]
    with pytest.raises(
        ValueError, match=r"^alphabet: must contain between 2 and 65536"
    ):
        AlphabetFF1(KEY, alphabet)


def test_alphabet_ff1_rejects_entry_of_two_code_points() -> None:
    with pytest.raises(ValueError, match=r"^alphabet\[2\]: must be exactly one code"):
        AlphabetFF1(KEY, ["0", "1", "e\u0301", "3"])


def test_alphabet_ff1_rejects_text_of_wrong_type() -> None:
    cipher = AlphabetFF1(KEY, DIGITS)
    with pytest.raises(TypeError, match=r"^text: must be a str, got bytes"):
        cipher.encrypt(b"13800138000")  # type: ignore[arg-type]  # the error under test


@pytest.mark.parametrize("key_size", [16, 24, 32])
def test_repr_and_str_hide_the_key(key_size: int) -> None:
    key = SECRET_LOOKING_KEY * 2
    key = key[:key_size]
    for cipher in (FF1(key, 10), AlphabetFF1(key, DIGITS)):
        assert_no_key(repr(cipher), key)
        assert_no_key(str(cipher), key)
        assert "radix=10" in repr(cipher)
        assert not hasattr(cipher, "__dict__")


def test_alphabet_ff1_exposes_alphabet_and_radix() -> None:
    cipher = AlphabetFF1(KEY, "0123456789ABCDEF")
    assert cipher.alphabet == tuple("0123456789ABCDEF")
    assert cipher.radix == 16
    assert cipher.min_length() == 5
    assert FF1(KEY, 16).radix == 16
