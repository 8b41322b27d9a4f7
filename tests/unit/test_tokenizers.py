"""Unit tests of the PII type transformers."""

from __future__ import annotations

import re
from typing import Any

import pytest

from streams.errors import (
    BlockedRecordError,
    InvalidValueError,
    NotReversibleError,
    SchemaError,
)
from streams.keys import Keyring, KeyVersion
from streams.tokenizers import DEFAULT_ACTIONS, PII_TYPES, resolve
from streams.tokenizers._checks import luhn_valid, resident_check
from streams.tokenizers._data import han_characters, province_prefixes, region_codes
from streams.tokenizers.base import FieldPolicy, FieldTransformer, LeafType

STRING = LeafType("string")
KEY = Keyring.generate("unit").active


def transformer(
    pii_type: str, action: str | None = None, leaf: LeafType = STRING, **options: Any
) -> FieldTransformer:
    """Resolve a transformer with the given action and options."""
    return resolve(pii_type, leaf, FieldPolicy(action=action, options=options))


def round_trip(pii_type: str, value: Any, key: KeyVersion = KEY, **options: Any) -> Any:
    """Tokenize a value, check the reverse, and return the token."""
    tr = transformer(pii_type, **options)
    out = tr.apply(value, key)
    assert out.action == "tokenize"
    assert tr.reverse(out.value, key) == value
    return out.value


# person_name


@pytest.mark.parametrize(
    "name", ["张三丰", "王小明", "欧阳娜娜", "阿沛·阿旺晋美", "𬉼淼鑫"]
)
def test_chinese_name_keeps_script(name: str) -> None:
    token = round_trip("person_name", name)
    assert len(token) == len(name)
    assert token != name
    table = set(han_characters())
    for original, char in zip(name, token, strict=True):
        if original == "·":
            assert char == "·"
        else:
            assert char in table


@pytest.mark.parametrize("name", ["Mary-Jane O'Neil", "Zhang Sanfeng", "JOHN SMITH"])
def test_latin_name_keeps_case_and_separators(name: str) -> None:
    token = round_trip("person_name", name)
    assert len(token) == len(name)
    for original, char in zip(name, token, strict=True):
        if original.isalpha():
            assert char.isascii()
            assert char.isalpha()
            assert char.isupper() == original.isupper()
        else:
            assert char == original


def test_compound_surname_kept() -> None:
    token = round_trip("person_name", "欧阳娜娜", keep_surname=True)
    assert token.startswith("欧阳")
    assert token[2:] != "娜娜"
    token = round_trip("person_name", "王小明", keep_surname=True)
    assert token.startswith("王")


def test_short_name_falls_back_to_pseudonym() -> None:
    tr = transformer("person_name")
    out = tr.apply("李", KEY)
    assert out.action == "pseudonymize"
    assert len(out.value) == 1
    assert out.value in set(han_characters())
    assert tr.apply("李", KEY) == out
    with pytest.raises(NotReversibleError):
        tr.reverse(out.value, KEY)


def test_short_name_reject_option() -> None:
    tr = transformer("person_name", small_domain="reject")
    with pytest.raises(InvalidValueError) as caught:
        tr.apply("Li Na", KEY)
    assert caught.value.reason == "mask.domain_too_small"
    assert "Li Na" not in str(caught.value)


def test_name_outside_table_names_position() -> None:
    with pytest.raises(InvalidValueError) as caught:
        transformer("person_name").apply("王小龘", KEY)
    message = str(caught.value)
    assert "position 2" in message
    assert "龘" not in message
    assert "王" not in message


# cn_resident_id

RESIDENT_IDS = ["11010519491231002X", "440308199901011234", "110101200002290013"]


def valid_resident_id(text: str) -> bool:
    """Check the format, date, region and check character of an ID."""
    return (
        bool(re.fullmatch(r"[0-9]{17}[0-9X]", text))
        and resident_check(text[:17]) == text[17]
    )


@pytest.mark.parametrize(
    "value", [v[:17] + resident_check(v[:17]) for v in RESIDENT_IDS]
)
def test_resident_id_token_is_valid(value: str) -> None:
    token = round_trip("cn_resident_id", value)
    assert valid_resident_id(token)
    assert token[:6] in set(region_codes())
    year, month, day = int(token[6:10]), int(token[10:12]), int(token[12:14])
    assert 1900 <= year <= 2099
    assert 1 <= month <= 12
    assert 1 <= day <= 31


def test_resident_id_keeps_year_and_gender() -> None:
    value = "11010519491231002X"
    token = round_trip("cn_resident_id", value, keep_birth_year=True, keep_gender=True)
    assert token[6:10] == "1949"
    assert int(token[16]) % 2 == int(value[16]) % 2


def test_resident_id_unlisted_region_round_trips() -> None:
    body = "11019919800101001"
    value = body + resident_check(body)
    token = round_trip("cn_resident_id", value)
    assert token[:2] in province_prefixes()
    assert token[:6] not in set(region_codes())
    assert valid_resident_id(token)


def test_resident_id_birth_range() -> None:
    tr = transformer(
        "cn_resident_id", birth_date_min="1990-01-01", birth_date_max="1999-12-31"
    )
    token = tr.apply("440308199901011234", KEY).value
    assert 1990 <= int(token[6:10]) <= 1999
    with pytest.raises(InvalidValueError, match="outside the configured range"):
        tr.apply("11010519491231002X", KEY)


@pytest.mark.parametrize(
    ("value", "rule"),
    [
        ("11010519491231002", "18 characters"),
        ("110105194912310021", "check character"),
        ("11010519491331002" + resident_check("11010519491331002"), "valid date"),
        ("99010519491231002" + resident_check("99010519491231002"), "province"),
    ],
)
def test_resident_id_invalid_names_rule(value: str, rule: str) -> None:
    with pytest.raises(InvalidValueError) as caught:
        transformer("cn_resident_id").apply(value, KEY)
    assert rule in str(caught.value)
    assert value not in str(caught.value)


# cn_mobile


def test_mobile_keeps_prefix() -> None:
    token = round_trip("cn_mobile", "13800138000")
    assert re.fullmatch(r"138[0-9]{8}", token)
    assert token != "13800138000"


def test_mobile_rejects_bad_format() -> None:
    with pytest.raises(InvalidValueError, match="11 ASCII digits"):
        transformer("cn_mobile").apply("2380013800", KEY)


# email


def test_email_keeps_domain_and_classes() -> None:
    token = round_trip("email", "John.Doe_88+news@example.com.cn")
    local, domain = token.split("@")
    assert domain == "example.com.cn"
    assert re.fullmatch(r"[A-Z][a-z]{3}\.[A-Z][a-z]{2}_[0-9]{2}\+[a-z]{4}", local)


def test_email_domain_option_keeps_tld() -> None:
    token = round_trip("email", "zhang.wei@corp-mail.com", tokenize_domain=True)
    local, domain = token.split("@")
    assert re.fullmatch(r"[a-z]{5}\.[a-z]{3}", local)
    assert re.fullmatch(r"[a-z]{4}-[a-z]{4}\.com", domain)
    assert domain != "corp-mail.com"


@pytest.mark.parametrize("value", ["no-at-sign", "a..b@example.com", "x@localhost"])
def test_email_invalid(value: str) -> None:
    with pytest.raises(InvalidValueError) as caught:
        transformer("email").apply(value, KEY)
    assert value not in str(caught.value)


# bank_card


def test_card_luhn_kept() -> None:
    for value in ["6222021234567890128", "4111111111111111", "5500005555555559"]:
        assert luhn_valid(value)
        token = round_trip("bank_card", value)
        assert token[:6] == value[:6]
        assert len(token) == len(value)
        assert luhn_valid(token)


def test_card_failing_luhn_kept() -> None:
    for value in ["6222021234567890121", "4111111111111112"]:
        assert not luhn_valid(value)
        token = round_trip("bank_card", value)
        assert token[:6] == value[:6]
        assert not luhn_valid(token)


def test_card_invalid_length() -> None:
    with pytest.raises(InvalidValueError, match="12 to 19"):
        transformer("bank_card").apply("12345", KEY)


# identifier


def test_identifier_string_keeps_classes() -> None:
    token = round_trip("identifier", "AB-12cd-9981/x")
    assert re.fullmatch(r"[A-Z]{2}-[0-9]{2}[a-z]{2}-[0-9]{4}/[a-z]", token)


@pytest.mark.parametrize("avro_type", ["int", "long"])
def test_identifier_integer_keeps_digits_and_sign(avro_type: str) -> None:
    tr = transformer("identifier", leaf=LeafType(avro_type))
    limit = 2**31 if avro_type == "int" else 2**63
    for value in [1234567, -7654321, limit - 1, -limit, 10**6]:
        out = tr.apply(value, KEY)
        assert out.action == "tokenize"
        assert len(str(abs(out.value))) == len(str(abs(value)))
        assert (out.value < 0) == (value < 0)
        assert -limit <= out.value < limit
        assert tr.reverse(out.value, KEY) == value


def test_identifier_small_integer_pseudonymized() -> None:
    tr = transformer("identifier", leaf=LeafType("long"))
    out = tr.apply(4242, KEY)
    assert out.action == "pseudonymize"
    assert 1000 <= out.value <= 9999


# free_text, none and the generic actions


def test_free_text_redacts() -> None:
    assert transformer("free_text").apply("secret", KEY).value == ""
    nullable = transformer("free_text", leaf=LeafType("string", nullable=True))
    assert nullable.apply("secret", KEY).value is None
    raw = transformer("free_text", leaf=LeafType("bytes"))
    assert raw.apply(b"secret", KEY).value == b""


def test_none_passes() -> None:
    tr = transformer("none", leaf=LeafType("long"))
    assert tr.apply(5, KEY) == (5, "pass")
    assert not tr.uses_key


def test_mask_keeps_ends() -> None:
    tr = transformer("cn_mobile", "mask", keep_first=3, keep_last=4)
    assert tr.apply("13800138000", KEY).value == "138****8000"
    with pytest.raises(NotReversibleError):
        tr.reverse("138****8000", KEY)


def test_block_raises() -> None:
    with pytest.raises(BlockedRecordError) as caught:
        transformer("bank_card", "block").apply("4111111111111111", KEY)
    assert caught.value.reason == "mask.blocked"


def test_pseudonymize_fits_format_and_is_irreversible() -> None:
    tr = transformer("bank_card", "pseudonymize")
    out = tr.apply("4111111111111111", KEY)
    assert out.action == "pseudonymize"
    assert luhn_valid(out.value)
    assert out.value[:6] == "411111"
    assert tr.apply("4111111111111111", KEY) == out
    with pytest.raises(NotReversibleError):
        tr.reverse(out.value, KEY)


def test_types_get_different_tokens() -> None:
    digits = "13800138000"
    mobile = transformer("cn_mobile").apply(digits, KEY).value
    ident = transformer("identifier").apply(digits, KEY).value
    assert mobile != ident


def test_key_versions_give_different_tokens() -> None:
    ring = Keyring.generate("unit").rotate()
    tr = transformer("cn_mobile")
    first = tr.apply("13800138000", ring.get(1)).value
    second = tr.apply("13800138000", ring.get(2)).value
    assert first != second
    assert tr.reverse(first, ring.get(1)) == "13800138000"


def test_every_type_has_default() -> None:
    assert set(DEFAULT_ACTIONS) == PII_TYPES
    assert DEFAULT_ACTIONS["free_text"] == "redact"
    assert DEFAULT_ACTIONS["none"] == "pass"


# resolve errors


@pytest.mark.parametrize(
    ("pii_type", "action", "leaf", "options", "expected"),
    [
        ("shoe_size", None, STRING, {}, "unknown PII type 'shoe_size'"),
        ("email", "encrypt", STRING, {}, "unknown action 'encrypt'"),
        ("free_text", "tokenize", STRING, {}, "does not support action 'tokenize'"),
        ("cn_mobile", "tokenize", LeafType("long"), {}, "Avro type 'long'"),
        ("identifier", "redact", LeafType("long"), {}, "non-nullable long"),
        ("email", None, STRING, {"colour": 1}, "unknown options ['colour']"),
        ("email", "mask", STRING, {"keep_first": -1}, "keep_first"),
        ("person_name", None, STRING, {"small_domain": "maybe"}, "small_domain"),
        ("cn_resident_id", None, STRING, {"birth_date_min": "x"}, "birth_date_min"),
    ],
)
def test_resolve_errors(
    pii_type: str,
    action: str | None,
    leaf: LeafType,
    options: dict[str, Any],
    expected: str,
) -> None:
    with pytest.raises(SchemaError) as caught:
        resolve(pii_type, leaf, FieldPolicy(action=action, options=options))
    assert expected in str(caught.value)


def test_resolve_error_lists_allowed() -> None:
    with pytest.raises(SchemaError) as caught:
        resolve("free_text", STRING, FieldPolicy(action="tokenize"))
    message = str(caught.value)
    assert "free_text" in message
    assert "string" in message
    assert "redact" in message
