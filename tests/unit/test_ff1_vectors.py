"""FF1 against the nine NIST SP 800-38G samples, in both directions."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from streams.fpe import FF1, AlphabetFF1

VECTORS_PATH = Path(__file__).parents[1] / "vectors" / "fpe_vectors.json"


def load_ff1_vectors() -> list[dict[str, Any]]:
    """Return the FF1 entries of the vector file."""
    vectors: list[dict[str, Any]] = json.loads(VECTORS_PATH.read_text())["ff1"]
    return vectors


FF1_VECTORS = load_ff1_vectors()
FF1_IDS = [vector["name"] for vector in FF1_VECTORS]


def to_numerals(text: str, alphabet: str) -> list[int]:
    """Return the alphabet index of each character."""
    return [alphabet.index(character) for character in text]


def test_vector_file_has_all_nine_samples() -> None:
    expected = [f"FF1 S{number}" for number in range(1, 10)]
    assert expected == FF1_IDS


@pytest.mark.parametrize("vector", FF1_VECTORS, ids=FF1_IDS)
def test_alphabet_encrypt_matches_sample(vector: dict[str, Any]) -> None:
    cipher = AlphabetFF1(bytes.fromhex(vector["key"]), vector["alphabet"])
    tweak = bytes.fromhex(vector["tweak"])
    assert cipher.encrypt(vector["plaintext"], tweak) == vector["ciphertext"]


@pytest.mark.parametrize("vector", FF1_VECTORS, ids=FF1_IDS)
def test_alphabet_decrypt_matches_sample(vector: dict[str, Any]) -> None:
    cipher = AlphabetFF1(bytes.fromhex(vector["key"]), vector["alphabet"])
    tweak = bytes.fromhex(vector["tweak"])
    assert cipher.decrypt(vector["ciphertext"], tweak) == vector["plaintext"]


@pytest.mark.parametrize("vector", FF1_VECTORS, ids=FF1_IDS)
def test_numeral_encrypt_matches_sample(vector: dict[str, Any]) -> None:
    cipher = FF1(bytes.fromhex(vector["key"]), vector["radix"])
    plaintext = to_numerals(vector["plaintext"], vector["alphabet"])
    expected = to_numerals(vector["ciphertext"], vector["alphabet"])
    assert cipher.encrypt(plaintext, bytes.fromhex(vector["tweak"])) == expected


@pytest.mark.parametrize("vector", FF1_VECTORS, ids=FF1_IDS)
def test_numeral_decrypt_matches_sample(vector: dict[str, Any]) -> None:
    cipher = FF1(bytes.fromhex(vector["key"]), vector["radix"])
    ciphertext = to_numerals(vector["ciphertext"], vector["alphabet"])
    expected = to_numerals(vector["plaintext"], vector["alphabet"])
    assert cipher.decrypt(ciphertext, bytes.fromhex(vector["tweak"])) == expected


@pytest.mark.parametrize("vector", FF1_VECTORS, ids=FF1_IDS)
def test_numeral_api_accepts_tuple(vector: dict[str, Any]) -> None:
    cipher = FF1(bytes.fromhex(vector["key"]), vector["radix"])
    plaintext = tuple(to_numerals(vector["plaintext"], vector["alphabet"]))
    expected = to_numerals(vector["ciphertext"], vector["alphabet"])
    assert cipher.encrypt(plaintext, bytes.fromhex(vector["tweak"])) == expected
