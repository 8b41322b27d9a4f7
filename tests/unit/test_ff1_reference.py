"""FF1 against a literal, slow transcription of SP 800-38G, Algorithm 7.

The NIST samples only reach the case where Q's last block contains [i] and
NUM(B) and d <= 16. These tests compare the optimized cipher with a plain
reference on long tweaks, long inputs and large radixes, which take the
multi-block paths of the CBC-MAC and of S.
"""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from streams.fpe import FF1, AlphabetFF1

VECTORS_PATH = Path(__file__).parents[1] / "vectors" / "fpe_vectors.json"


def reference_byte_count(radix: int, v: int) -> int:
    """Return b = ceil(ceil(v * log2(radix)) / 8) by searching powers of two."""
    bits = 0
    while 2**bits < radix**v:
        bits += 1
    return (bits + 7) // 8


def reference_num(numerals: list[int], radix: int) -> int:
    """Return NUM_radix(X)."""
    value = 0
    for numeral in numerals:
        value = value * radix + numeral
    return value


def reference_str(value: int, radix: int, length: int) -> list[int]:
    """Return STR^length_radix(value)."""
    numerals = []
    for _ in range(length):
        value, numeral = divmod(value, radix)
        numerals.append(numeral)
    return numerals[::-1]


def reference_prf(key: bytes, data: bytes) -> bytes:
    """Return the last block of CBC-MAC with a zero IV, with a fresh cipher."""
    encryptor = Cipher(algorithms.AES(key), modes.CBC(bytes(16))).encryptor()
    return (encryptor.update(data) + encryptor.finalize())[-16:]


def reference_ciph(key: bytes, block: bytes) -> bytes:
    """Return AES_K of one block, with a fresh cipher."""
    encryptor = Cipher(algorithms.AES(key), modes.ECB()).encryptor()  # noqa: S305 - one block, as CIPH_K
    return encryptor.update(block) + encryptor.finalize()


def reference_encrypt(
    key: bytes, radix: int, tweak: bytes, numerals: list[int]
) -> list[int]:
    """Encrypt step by step as SP 800-38G, Algorithm 7 prints it."""
    n = len(numerals)
    t = len(tweak)
    u = n // 2
    v = n - u
    a = numerals[:u]
    b = numerals[u:]
    byte_count = reference_byte_count(radix, v)
    d = 4 * -(-byte_count // 4) + 4

    p = (
        bytes([1, 2, 1])
        + radix.to_bytes(3, "big")
        + bytes([10, u % 256])
        + n.to_bytes(4, "big")
        + t.to_bytes(4, "big")
    )

    for i in range(10):
        q = (
            tweak
            + bytes((-t - byte_count - 1) % 16)
            + bytes([i])
            + reference_num(b, radix).to_bytes(byte_count, "big")
        )
        r = reference_prf(key, p + q)

        s = r
        for j in range(1, -(-d // 16)):
            mask = j.to_bytes(16, "big")
            s += reference_ciph(key, bytes(x ^ y for x, y in zip(r, mask, strict=True)))

        y = int.from_bytes(s[:d], "big")
        m = u if i % 2 == 0 else v
        c = (reference_num(a, radix) + y) % radix**m
        a, b = b, reference_str(c, radix, m)
    return a + b


@pytest.mark.parametrize(
    "name", [f"FF1 S{number}" for number in range(1, 10)], ids=lambda name: name
)
def test_reference_matches_nist_sample(name: str) -> None:
    vectors = json.loads(VECTORS_PATH.read_text())["ff1"]
    vector = next(entry for entry in vectors if entry["name"] == name)
    alphabet = vector["alphabet"]
    plaintext = [alphabet.index(character) for character in vector["plaintext"]]
    ciphertext = reference_encrypt(
        bytes.fromhex(vector["key"]),
        vector["radix"],
        bytes.fromhex(vector["tweak"]),
        plaintext,
    )
    assert "".join(alphabet[numeral] for numeral in ciphertext) == vector["ciphertext"]


# (radix, min length, max length): long enough inputs make b > 12
# (d > 16, S spans extra blocks) and b > 15 (Q's tail spans several blocks).
REFERENCE_CASES = [
    (2, 20, 300),
    (10, 6, 160),
    (36, 4, 80),
    (256, 3, 40),
    (8105, 2, 30),
    (65536, 2, 40),
]


@pytest.mark.parametrize(
    ("radix", "min_length", "max_length"),
    REFERENCE_CASES,
    ids=[f"radix {case[0]}" for case in REFERENCE_CASES],
)
def test_matches_reference_on_random_inputs(
    radix: int, min_length: int, max_length: int
) -> None:
    rng = random.Random(radix)
    for _ in range(12):
        key = rng.randbytes(rng.choice((16, 24, 32)))
        tweak = rng.randbytes(rng.choice((0, 1, 7, 15, 16, 17, 40, 100, 256)))
        length = rng.randint(min_length, max_length)
        plaintext = [rng.randrange(radix) for _ in range(length)]
        cipher = FF1(key, radix)

        expected = reference_encrypt(key, radix, tweak, plaintext)
        assert cipher.encrypt(plaintext, tweak) == expected
        assert cipher.decrypt(expected, tweak) == plaintext


def test_many_tweaks_and_lengths_share_one_cipher() -> None:
    rng = random.Random(7)
    key = rng.randbytes(16)
    cipher = FF1(key, 10)
    # More distinct (length, tweak) pairs than the caches keep, so entries are
    # evicted and rebuilt while results stay correct.
    for index in range(1500):
        tweak = index.to_bytes(4, "big")
        length = 6 + index % 40
        plaintext = [rng.randrange(10) for _ in range(length)]
        ciphertext = cipher.encrypt(plaintext, tweak)
        if index % 50 == 0:
            assert ciphertext == reference_encrypt(key, 10, tweak, plaintext)
        assert cipher.decrypt(ciphertext, tweak) == plaintext


def test_decimal_shortcut_matches_numeral_api() -> None:
    rng = random.Random(11)
    key = rng.randbytes(32)
    decimal = AlphabetFF1(key, "0123456789")
    # Digits in another order take the per-character path.
    shuffled_digits = AlphabetFF1(key, "1023456789")
    # Lengths above 4,000 also take the per-character path, because int()
    # rejects more than 4,300 digits.
    for length in (6, 11, 18, 19, 60, 4001, 4100):
        plaintext = "".join(rng.choice("0123456789") for _ in range(length))
        ciphertext = decimal.encrypt(plaintext, b"field")
        numerals = [int(character) for character in plaintext]
        expected = FF1(key, 10).encrypt(numerals, b"field")
        assert ciphertext == "".join(str(numeral) for numeral in expected)
        assert (
            shuffled_digits.decrypt(
                shuffled_digits.encrypt(plaintext, b"field"), b"field"
            )
            == plaintext
        )
        assert decimal.decrypt(ciphertext, b"field") == plaintext
