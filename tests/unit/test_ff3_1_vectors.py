"""FF3-1 against the ACVP-derived vectors and against the ff3 package."""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Any

import pytest
from ff3 import FF3Cipher

from streams.fpe import FF3_1, AlphabetFF3_1

VECTORS_PATH = Path(__file__).parents[1] / "vectors" / "fpe_vectors.json"


def load_ff3_1_vectors() -> list[dict[str, Any]]:
    """Return the FF3-1 entries of the vector file."""
    vectors: list[dict[str, Any]] = json.loads(VECTORS_PATH.read_text())["ff3_1"]
    return vectors


FF3_1_VECTORS = load_ff3_1_vectors()
# Two vectors share the name "ACVP tg1", so the ids add radix and length.
FF3_1_IDS = [
    f"{vector['name']} radix {vector['radix']} length {len(vector['plaintext'])}"
    for vector in FF3_1_VECTORS
]


def to_numerals(text: str, alphabet: str) -> list[int]:
    """Return the alphabet index of each character."""
    return [alphabet.index(character) for character in text]


def test_vector_ids_are_unique() -> None:
    assert len(set(FF3_1_IDS)) == len(FF3_1_VECTORS) == 6


@pytest.mark.parametrize("vector", FF3_1_VECTORS, ids=FF3_1_IDS)
def test_alphabet_encrypt_matches_vector(vector: dict[str, Any]) -> None:
    cipher = AlphabetFF3_1(bytes.fromhex(vector["key"]), vector["alphabet"])
    tweak = bytes.fromhex(vector["tweak"])
    assert cipher.encrypt(vector["plaintext"], tweak) == vector["ciphertext"]


@pytest.mark.parametrize("vector", FF3_1_VECTORS, ids=FF3_1_IDS)
def test_alphabet_decrypt_matches_vector(vector: dict[str, Any]) -> None:
    cipher = AlphabetFF3_1(bytes.fromhex(vector["key"]), vector["alphabet"])
    tweak = bytes.fromhex(vector["tweak"])
    assert cipher.decrypt(vector["ciphertext"], tweak) == vector["plaintext"]


@pytest.mark.parametrize("vector", FF3_1_VECTORS, ids=FF3_1_IDS)
def test_numeral_encrypt_matches_vector(vector: dict[str, Any]) -> None:
    cipher = FF3_1(bytes.fromhex(vector["key"]), vector["radix"])
    plaintext = to_numerals(vector["plaintext"], vector["alphabet"])
    expected = to_numerals(vector["ciphertext"], vector["alphabet"])
    assert cipher.encrypt(plaintext, bytes.fromhex(vector["tweak"])) == expected


@pytest.mark.parametrize("vector", FF3_1_VECTORS, ids=FF3_1_IDS)
def test_numeral_decrypt_matches_vector(vector: dict[str, Any]) -> None:
    cipher = FF3_1(bytes.fromhex(vector["key"]), vector["radix"])
    ciphertext = to_numerals(vector["ciphertext"], vector["alphabet"])
    expected = to_numerals(vector["plaintext"], vector["alphabet"])
    assert cipher.decrypt(ciphertext, bytes.fromhex(vector["tweak"])) == expected


@pytest.mark.parametrize(
    ("alphabet", "key_size"),
    [
        ("0123456789", 16),
        ("0123456789abcdefghijklmnopqrstuvwxyz", 24),
        ("".join(chr(code) for code in range(0x21, 0x21 + 200)), 32),
    ],
    ids=["radix 10 AES-128", "radix 36 AES-192", "radix 200 AES-256"],
)
def test_matches_ff3_package_on_random_inputs(alphabet: str, key_size: int) -> None:
    rng = random.Random(20_250_301)
    for _ in range(40):
        key = rng.randbytes(key_size)
        tweak = rng.randbytes(7)
        ours = AlphabetFF3_1(key, alphabet)
        theirs = FF3Cipher.withCustomAlphabet(key.hex(), tweak.hex(), alphabet)
        length = rng.randint(ours.min_length(), ours.max_length())
        plaintext = "".join(rng.choice(alphabet) for _ in range(length))

        expected = theirs.encrypt(plaintext)
        assert ours.encrypt(plaintext, tweak) == expected
        assert ours.decrypt(expected, tweak) == plaintext
