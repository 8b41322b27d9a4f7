"""The opt-in FF3-1 cipher of the digit types: round trip, format, separation."""

from __future__ import annotations

import re

import pytest

from streams.errors import InvalidValueError, SchemaError
from streams.keys import KeyVersion
from streams.tokenizers import FF3_1_TYPES, resolve
from streams.tokenizers._checks import luhn_valid, resident_check
from streams.tokenizers._ff3 import ff3_1_tweak
from streams.tokenizers._transformer import Transformer
from streams.tokenizers.base import FieldPolicy, LeafType

KEY = KeyVersion.generate("ff3-test", 1)
FF3_1 = FieldPolicy(options={"cipher": "ff3-1"})

# One valid input per type, and the format its token must keep.
CASES = {
    "cn_mobile": ("13812345678", re.compile(r"138[0-9]{8}")),
    "bank_card": ("6222021234567890128", re.compile(r"622202[0-9]{13}")),
    "identifier": (
        "AB-1234-xyz-5678",
        re.compile(r"[A-Z]{2}-[0-9]{4}-[a-z]{3}-[0-9]{4}"),
    ),
    "cn_resident_id": ("11010519491231002X", re.compile(r"[0-9]{17}[0-9X]")),
    "phone": ("+8613812345678", re.compile(r"\+86[0-9]{11}")),
}


def test_ff3_1_types_are_the_digit_types() -> None:
    assert set(CASES) == FF3_1_TYPES


@pytest.mark.parametrize("pii_type", sorted(CASES))
def test_ff3_1_round_trip(pii_type: str) -> None:
    value, _ = CASES[pii_type]
    transformer = resolve(pii_type, LeafType("string"), FF3_1)
    token = transformer.apply(value, KEY)
    assert token.action == "tokenize"
    assert transformer.reverse(token.value, KEY) == value


@pytest.mark.parametrize("pii_type", sorted(CASES))
def test_ff3_1_keeps_format(pii_type: str) -> None:
    value, pattern = CASES[pii_type]
    token = resolve(pii_type, LeafType("string"), FF3_1).apply(value, KEY).value
    assert pattern.fullmatch(token), pii_type


@pytest.mark.parametrize("pii_type", sorted(CASES))
def test_ff3_1_differs_from_ff1(pii_type: str) -> None:
    value, _ = CASES[pii_type]
    ff1 = resolve(pii_type, LeafType("string"), FieldPolicy()).apply(value, KEY)
    ff3 = resolve(pii_type, LeafType("string"), FF3_1).apply(value, KEY)
    assert ff3.value != ff1.value


def test_ff3_1_keeps_type_checks() -> None:
    transformer = resolve("bank_card", LeafType("string"), FF3_1)
    card = transformer.apply("6222021234567890128", KEY).value
    assert luhn_valid(card)
    resident = resolve("cn_resident_id", LeafType("string"), FF3_1)
    token = resident.apply("11010519491231002X", KEY).value
    assert resident_check(token[:17]) == token[17]


def test_ff3_1_integer_identifier() -> None:
    transformer = resolve("identifier", LeafType("long"), FF3_1)
    token = transformer.apply(987654321012, KEY).value
    assert len(str(token)) == 12
    assert transformer.reverse(token, KEY) == 987654321012


def test_ff3_1_cipher_attribute() -> None:
    ff3_1 = resolve("cn_mobile", LeafType("string"), FF3_1)
    ff1 = resolve("cn_mobile", LeafType("string"), FieldPolicy())

    assert isinstance(ff3_1, Transformer)
    assert isinstance(ff1, Transformer)
    assert ff3_1.cipher == "ff3-1"
    assert ff1.cipher == "ff1"


def test_ff3_1_tweak_is_56_bits() -> None:
    tweak = ff3_1_tweak(b"cn_mobile\x1fbody\x1f138")
    assert len(tweak) == 7
    assert tweak != ff3_1_tweak(b"cn_mobile\x1fbody\x1f139")


def test_ff3_1_too_long_value_rejected() -> None:
    transformer = resolve("identifier", LeafType("string"), FF3_1)
    long_value = "A1" * 30  # 30 letters and 30 digits: about 282 bits
    with pytest.raises(InvalidValueError, match="FF3-1") as caught:
        transformer.apply(long_value, KEY)
    assert caught.value.reason == "mask.domain_too_large"
    assert long_value not in str(caught.value)
    assert resolve("identifier", LeafType("string"), FieldPolicy()).apply(
        long_value, KEY
    )


def test_ff3_1_rejected_for_other_types() -> None:
    with pytest.raises(SchemaError, match="unknown options"):
        resolve("person_name", LeafType("string"), FF3_1)


def test_ff3_1_rejected_for_other_actions() -> None:
    policy = FieldPolicy(action="pseudonymize", options={"cipher": "ff3-1"})
    with pytest.raises(SchemaError, match="only to action 'tokenize'"):
        resolve("cn_mobile", LeafType("string"), policy)


def test_unknown_cipher_rejected() -> None:
    policy = FieldPolicy(options={"cipher": "ff3"})
    with pytest.raises(SchemaError, match=r"cipher must be one of \['ff1', 'ff3-1'\]"):
        resolve("cn_mobile", LeafType("string"), policy)
