"""Property tests of the phone, document, device, network and address types."""

from __future__ import annotations

import ipaddress
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from streams.keys import Keyring
from streams.tokenizers import resolve
from streams.tokenizers._checks import USCC_ALPHABET, luhn_digit, luhn_valid, uscc_check
from streams.tokenizers._data import han_characters
from streams.tokenizers.base import FieldPolicy, FieldTransformer, LeafType

KEY = Keyring.generate("formats").active
STRING = LeafType("string")
FAST = settings(max_examples=40, deadline=None)


def tokenizer(
    pii_type: str, leaf: LeafType = STRING, **options: Any
) -> FieldTransformer:
    """Resolve a tokenize transformer."""
    return resolve(pii_type, leaf, FieldPolicy("tokenize", options))


def check_round_trip(tr: FieldTransformer, value: Any) -> Any:
    """Tokenize twice, check determinism and reversal, return the token."""
    first = tr.apply(value, KEY)
    assert tr.apply(value, KEY) == first
    assert first.action == "tokenize"
    assert tr.reverse(first.value, KEY) == value
    return first.value


@FAST
@given(st.text(st.sampled_from(USCC_ALPHABET), min_size=17, max_size=17))
def test_uscc_round_trip(body: str) -> None:
    value = body + uscc_check(body)
    token = check_round_trip(tokenizer("cn_uscc"), value)
    assert token[:8] == value[:8]
    assert uscc_check(token[:17]) == token[17]


@FAST
@given(st.from_regex(r"[0-9]{14}", fullmatch=True))
def test_imei_round_trip(body: str) -> None:
    value = body + luhn_digit(body)
    token = check_round_trip(tokenizer("device_id"), value)
    assert token[:8] == value[:8]
    assert luhn_valid(token)


@FAST
@given(
    st.from_regex(r"[A-Z]{1,2}[0-9]{8}", fullmatch=True).filter(lambda v: len(v) <= 10)
)
def test_passport_round_trip(value: str) -> None:
    token = check_round_trip(tokenizer("passport"), value)
    letters = len(value) - sum(c.isdigit() for c in value)
    assert token[:letters] == value[:letters]
    assert token[letters:].isdigit()


@FAST
@given(st.ip_addresses(), st.integers(0, 12))
def test_ip_round_trip(address: Any, prefix: int) -> None:
    tr = tokenizer("ip_address", ipv4_prefix=prefix, ipv6_prefix=prefix * 8)
    value = str(address)
    token = check_round_trip(tr, value)
    bits = prefix if address.version == 4 else prefix * 8
    network = ipaddress.ip_network(f"{value}/{bits}", strict=False)
    assert ipaddress.ip_address(token) in network


han = st.text(st.sampled_from(han_characters()), min_size=2, max_size=6)
digits = st.from_regex(r"[0-9]{0,4}", fullmatch=True)


@FAST
@given(han, digits)
def test_address_detail_round_trip(street: str, number: str) -> None:
    value = "浙江省杭州市西湖区" + street + number
    token = check_round_trip(tokenizer("address"), value)
    assert token.startswith("浙江省杭州市西湖区")
    assert len(token) == len(value)
    for original, char in zip(value, token, strict=True):
        assert char.isdigit() == original.isdigit()


@FAST
@given(st.integers(-2_000_000_000_000, 4_000_000_000_000))
def test_timestamp_round_trip(value: int) -> None:
    tr = tokenizer("birth_date", LeafType("long", "timestamp-millis"))
    token = check_round_trip(tr, value)
    first_ms = -2_208_988_800_000  # 1900-01-01T00:00:00Z
    last_ms = 4_102_444_800_000  # 2100-01-01T00:00:00Z
    assert first_ms <= token < last_ms
