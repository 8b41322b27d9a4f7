"""Property tests of the tokenizers: round trip, format, determinism."""

from __future__ import annotations

import re
import string
from datetime import date
from typing import Any

from hypothesis import assume, given, settings
from hypothesis import strategies as st

from streams.keys import Keyring
from streams.tokenizers import resolve
from streams.tokenizers._checks import luhn_digit, luhn_valid, resident_check
from streams.tokenizers._data import han_characters, region_codes
from streams.tokenizers.base import FieldPolicy, FieldTransformer, LeafType

KEY = Keyring.generate("properties").active
OTHER_KEY = Keyring.generate("properties").active
STRING = LeafType("string")
FAST = settings(max_examples=60, deadline=None)


def tokenizer(
    pii_type: str, leaf: LeafType = STRING, **options: Any
) -> FieldTransformer:
    """Resolve a tokenize transformer."""
    return resolve(pii_type, leaf, FieldPolicy("tokenize", options))


def check_round_trip(tr: FieldTransformer, value: Any) -> Any:
    """Tokenize twice, check determinism and reversal, return the token."""
    first = tr.apply(value, KEY)
    assert tr.apply(value, KEY) == first
    if first.action == "tokenize":
        assert tr.reverse(first.value, KEY) == value
    else:
        assert first.action == "pseudonymize"
    return first.value


han_names = st.text(st.sampled_from(han_characters()), min_size=2, max_size=4)
latin_names = st.from_regex(
    r"[A-Z][a-z]{2,8}( [A-Z][a-z]{1,8}| [A-Z]-[a-z]{3})?", fullmatch=True
)
mobiles = st.from_regex(r"1[3-9][0-9]{9}", fullmatch=True)
card_bodies = st.from_regex(r"[1-9][0-9]{11,17}", fullmatch=True)
births = st.dates(date(1900, 1, 1), date(2099, 12, 31))


@st.composite
def resident_ids(draw: st.DrawFn) -> str:
    """Draw a valid resident ID with a listed region."""
    region = draw(st.sampled_from(region_codes()))
    birth = draw(births)
    body = f"{region}{birth:%Y%m%d}{draw(st.integers(0, 999)):03d}"
    return body + resident_check(body)


@FAST
@given(han_names)
def test_han_name_round_trip(name: str) -> None:
    token = check_round_trip(tokenizer("person_name"), name)
    table = set(han_characters())
    assert len(token) == len(name)
    assert all(char in table for char in token)


@FAST
@given(latin_names)
def test_latin_name_round_trip(name: str) -> None:
    token = check_round_trip(tokenizer("person_name"), name)
    assert [c.isupper() for c in token] == [c.isupper() for c in name]
    assert [c.isalpha() for c in token] == [c.isalpha() for c in name]


@FAST
@given(resident_ids())
def test_resident_id_round_trip(value: str) -> None:
    token = check_round_trip(tokenizer("cn_resident_id"), value)
    assert token[:6] in set(region_codes())
    assert resident_check(token[:17]) == token[17]
    birth = date(int(token[6:10]), int(token[10:12]), int(token[12:14]))
    assert date(1900, 1, 1) <= birth <= date(2099, 12, 31)


@FAST
@given(resident_ids())
def test_resident_id_kept_parts(value: str) -> None:
    tr = tokenizer("cn_resident_id", keep_birth_year=True, keep_gender=True)
    token = check_round_trip(tr, value)
    assert token[6:10] == value[6:10]
    assert int(token[16]) % 2 == int(value[16]) % 2


@FAST
@given(mobiles)
def test_mobile_round_trip(value: str) -> None:
    token = check_round_trip(tokenizer("cn_mobile"), value)
    assert token[:3] == value[:3]
    assert re.fullmatch(r"1[0-9]{10}", token)


@FAST
@given(card_bodies, st.booleans())
def test_card_luhn_preserved(body: str, valid: bool) -> None:
    digit = luhn_digit(body)
    check = digit if valid else str((int(digit) + 1) % 10)
    value = body + check
    token = check_round_trip(tokenizer("bank_card"), value)
    assert token[:6] == value[:6]
    assert len(token) == len(value)
    assert luhn_valid(token) == valid


@FAST
@given(
    st.from_regex(
        r"[a-z][a-z0-9._-]{3,20}[a-z0-9]@[a-z]{3,10}\.(com|cn)", fullmatch=True
    )
)
def test_email_round_trip(value: str) -> None:
    assume(".." not in value)
    token = check_round_trip(tokenizer("email"), value)
    assert token.split("@")[1] == value.split("@")[1]
    assert len(token) == len(value)


@FAST
@given(st.text(string.ascii_letters + string.digits + "-_/", min_size=1, max_size=30))
def test_identifier_string_classes(value: str) -> None:
    token = check_round_trip(tokenizer("identifier"), value)
    for original, char in zip(value, token, strict=True):
        assert char.isdigit() == original.isdigit()
        assert char.isupper() == original.isupper()
        assert char.islower() == original.islower()
        if not original.isalnum():
            assert char == original


@FAST
@given(st.integers(-(2**63), 2**63 - 1))
def test_identifier_long_digits(value: int) -> None:
    token = check_round_trip(tokenizer("identifier", LeafType("long")), value)
    assert len(str(abs(token))) == len(str(abs(value)))
    assert (token < 0) == (value < 0)
    assert -(2**63) <= token < 2**63


@FAST
@given(st.from_regex(r"1[3-9][0-9]{9}", fullmatch=True))
def test_types_and_keys_separate(value: str) -> None:
    mobile = tokenizer("cn_mobile").apply(value, KEY).value
    ident = tokenizer("identifier").apply(value, KEY).value
    other = tokenizer("cn_mobile").apply(value, OTHER_KEY).value
    # A collision has probability about 1e-8 per example.
    assert mobile != ident
    assert mobile != other


@FAST
@given(births, st.sampled_from(region_codes()))
def test_resident_id_pseudonym_valid(birth: date, region: str) -> None:
    body = f"{region}{birth:%Y%m%d}001"
    value = body + resident_check(body)
    tr = resolve("cn_resident_id", STRING, FieldPolicy("pseudonymize"))
    out = tr.apply(value, KEY)
    assert out.action == "pseudonymize"
    assert resident_check(out.value[:17]) == out.value[17]
    assert out.value[:6] in set(region_codes())
    token_birth = date(
        int(out.value[6:10]), int(out.value[10:12]), int(out.value[12:14])
    )
    assert date(1900, 1, 1) <= token_birth <= date(2099, 12, 31)
