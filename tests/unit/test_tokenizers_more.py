"""Unit tests of phone, document, device, network, date and address types."""

from __future__ import annotations

import ipaddress
import re
from datetime import date
from typing import Any

import phonenumbers
import pytest

from streams.errors import InvalidValueError, NotReversibleError, SchemaError
from streams.keys import Keyring
from streams.tokenizers import resolve
from streams.tokenizers._checks import luhn_valid, uscc_check
from streams.tokenizers._data import cn_mobile_pattern, divisions
from streams.tokenizers.base import FieldPolicy, FieldTransformer, LeafType

STRING = LeafType("string")
KEY = Keyring.generate("unit-more").active


def transformer(
    pii_type: str, action: str | None = None, leaf: LeafType = STRING, **options: Any
) -> FieldTransformer:
    """Resolve a transformer with the given action and options."""
    return resolve(pii_type, leaf, FieldPolicy(action=action, options=options))


def round_trip(tr: FieldTransformer, value: Any) -> Any:
    """Tokenize a value, check the reverse, and return the token."""
    out = tr.apply(value, KEY)
    assert out.action == "tokenize"
    assert tr.reverse(out.value, KEY) == value
    return out.value


def test_mobile_token_in_numbering_plan() -> None:
    tr = transformer("cn_mobile")
    for value in ["13800138000", "19912345678", "16212345678", "17012345678"]:
        assert cn_mobile_pattern().fullmatch(value)
        token = round_trip(tr, value)
        assert cn_mobile_pattern().fullmatch(token)


def test_mobile_outside_plan_stays_outside() -> None:
    value = "14112345678"
    assert not cn_mobile_pattern().fullmatch(value)
    token = round_trip(transformer("cn_mobile"), value)
    assert not cn_mobile_pattern().fullmatch(token)


@pytest.mark.parametrize("value", ["+8613800138000", "+14155552671", "+442079460958"])
def test_phone_keeps_country_and_validity(value: str) -> None:
    token = round_trip(transformer("phone"), value)
    parsed = phonenumbers.parse(value)
    token_parsed = phonenumbers.parse(token)
    assert token_parsed.country_code == parsed.country_code
    assert phonenumbers.is_valid_number(token_parsed)
    assert len(token) == len(value)


def test_phone_rejects_non_e164() -> None:
    with pytest.raises(InvalidValueError, match=r"E\.164"):
        transformer("phone").apply("13800138000", KEY)


def test_uscc_token_check_character() -> None:
    value = "91350100M000100Y43"
    token = round_trip(transformer("cn_uscc"), value)
    assert token[:8] == value[:8]
    assert uscc_check(token[:17]) == token[17]
    assert re.fullmatch(r"[0-9ABCDEFGHJKLMNPQRTUWXY]{18}", token)


def test_uscc_wrong_check_rejected() -> None:
    with pytest.raises(InvalidValueError, match="GB 32100"):
        transformer("cn_uscc").apply("91350100M000100Y44", KEY)


@pytest.mark.parametrize(
    ("pii_type", "value", "pattern"),
    [
        ("passport", "E12345678", r"E[0-9]{8}"),
        ("passport", "EA1234567", r"EA[0-9]{7}"),
        ("hk_macau_permit", "C12345678", r"C[0-9]{8}"),
        ("mainland_travel_permit", "H1234567801", r"H[0-9]{10}"),
    ],
)
def test_document_keeps_letter_prefix(pii_type: str, value: str, pattern: str) -> None:
    token = round_trip(transformer(pii_type), value)
    assert re.fullmatch(pattern, token)
    assert token != value


def test_imei_keeps_tac_and_luhn() -> None:
    value = "490154203237518"
    token = round_trip(transformer("device_id"), value)
    assert token[:8] == value[:8]
    assert luhn_valid(token)


def test_imei_bad_check_rejected() -> None:
    with pytest.raises(InvalidValueError, match="Luhn"):
        transformer("device_id").apply("490154203237519", KEY)


def test_ipv4_keeps_prefix() -> None:
    tr = transformer("ip_address", ipv4_prefix=8)
    token = round_trip(tr, "10.20.30.40")
    assert ipaddress.ip_address(token) in ipaddress.ip_network("10.0.0.0/8")


def test_ipv6_keeps_prefix() -> None:
    tr = transformer("ip_address", ipv6_prefix=48)
    token = round_trip(tr, "2001:db8:1::42")
    assert ipaddress.ip_address(token) in ipaddress.ip_network("2001:db8:1::/48")


def test_ip_small_host_part_pseudonymized() -> None:
    tr = transformer("ip_address", ipv4_prefix=24)
    out = tr.apply("10.20.30.40", KEY)
    assert out.action == "pseudonymize"
    assert ipaddress.ip_address(out.value) in ipaddress.ip_network("10.20.30.0/24")


def test_ip_generalize() -> None:
    tr = transformer("ip_address", "generalize", ipv4_prefix=16)
    assert tr.apply("10.20.30.40", KEY).value == "10.20.0.0"


def test_birth_date_generalize_forms() -> None:
    by_year = transformer("birth_date")
    assert by_year.apply("1990-05-17", KEY) == ("1990-01-01", "generalize")
    by_month = transformer("birth_date", "generalize", to="month")
    assert by_month.apply("19900517", KEY).value == "19900501"
    days = transformer("birth_date", leaf=LeafType("int", "date"))
    may17 = (date(1990, 5, 17) - date(1970, 1, 1)).days
    assert days.apply(may17, KEY).value == (date(1990, 1, 1) - date(1970, 1, 1)).days


def test_birth_date_string_falls_back() -> None:
    tr = transformer("birth_date", "tokenize")
    out = tr.apply("1990-05-17", KEY)
    assert out.action == "pseudonymize"
    assert re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", out.value)
    assert date(1900, 1, 1) <= date.fromisoformat(out.value) <= date(2099, 12, 31)


def test_birth_timestamp_tokenized() -> None:
    leaf = LeafType("long", "timestamp-micros")
    tr = transformer("birth_date", "tokenize", leaf=leaf)
    value = 642_902_400_123_456
    token = round_trip(tr, value)
    assert token != value


def test_birth_date_shift_bounded() -> None:
    tr = transformer(
        "birth_date", "pseudonymize", LeafType("int", "date"), max_shift_days=10
    )
    out = tr.apply(7000, KEY)
    assert out.action == "pseudonymize"
    assert 0 < abs(out.value - 7000) <= 10
    with pytest.raises(NotReversibleError):
        tr.reverse(out.value, KEY)


def test_birth_date_logical_type_checked() -> None:
    with pytest.raises(SchemaError, match="logical type"):
        transformer("birth_date", leaf=LeafType("long"))


def test_address_generalize_levels() -> None:
    text = "广东省深圳市南山区科技园路10号A座1201"
    assert transformer("address").apply(text, KEY).value == "广东省深圳市"
    province = transformer("address", "generalize", level="province")
    assert province.apply(text, KEY).value == "广东省"
    county = transformer("address", "generalize", level="county")
    assert county.apply("深圳南山区科技园", KEY).value == "广东省深圳市南山区"


def test_address_tokenize_keeps_divisions() -> None:
    text = "北京市朝阳区建国路88号B座"
    token = round_trip(transformer("address", "tokenize"), text)
    assert token.startswith("北京市朝阳区")
    assert re.fullmatch(r"北京市朝阳区\w\w\w[0-9]{2}\w[A-Z]\w", token)


def test_address_unknown_division() -> None:
    with pytest.raises(InvalidValueError, match="GB/T 2260"):
        transformer("address").apply("Main Street 1", KEY)


def test_division_data_covers_special_cases() -> None:
    found = divisions()
    assert found["441900"].city == "东莞市"
    assert found["429004"].county == "仙桃市"
    assert found["810000"].province == "香港特别行政区"
    assert len(found) > 2800
