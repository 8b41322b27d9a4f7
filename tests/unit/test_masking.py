"""Masking of each Avro shape with a stand-in transformer.

The stand-in changes every value it gets in a visible, type-preserving way,
so a test can tell each transformed value from an untouched one.
"""

from __future__ import annotations

import copy
import datetime as dt
import uuid
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from fastavro.schema import parse_schema
from fastavro.validation import validate

from streams.codec import SchemaEntry, SchemaStore
from streams.errors import (
    BlockedRecordError,
    InvalidValueError,
    NotReversibleError,
    RecordError,
    SchemaError,
)
from streams.keys import KeyVersion
from streams.masking import MaskResult, SubjectValue, mask_record
from streams.schema import MaskingPlan, build_plan
from streams.tokenizers.base import FieldPolicy, LeafType, Transformed

SCHEMAS = Path(__file__).parents[1] / "schemas"


KEY = KeyVersion.generate("test-key", 3)


@dataclass(frozen=True)
class Stamp:
    """Change each value visibly while keeping its Avro type."""

    pii_type: str
    action: str
    leaf: LeafType

    @property
    def uses_key(self) -> bool:
        return self.action != "pass"

    def apply(self, value: Any, key: Any) -> Transformed:
        if self.action == "block":
            raise BlockedRecordError("policy.blocked_field", "the policy blocks it")
        if isinstance(value, str) and value.startswith("bad"):
            raise InvalidValueError("the value must not start with 'bad'")
        if self.action == "pass":
            return Transformed(value, "pass")
        return Transformed(stamp(value, self.leaf, key), self.action)

    def reverse(self, token: Any, key: Any) -> Any:
        raise NotReversibleError("a stamp cannot be reversed")


def stamp(value: Any, leaf: LeafType, key: Any) -> Any:
    """Return a different value of the same Avro type."""
    if leaf.avro_type == "enum":
        return "A" if value != "A" else "B"
    if isinstance(value, str):
        return f"{key.key_id}:{value[::-1]}~"
    if isinstance(value, bytes):
        return bytes(b ^ 0xFF for b in value)
    if isinstance(value, dt.date):
        return value + dt.timedelta(days=1)
    return value + 1


def resolve(pii_type: str, leaf: LeafType, policy: FieldPolicy) -> Stamp:
    """Reject unknown types and booleans, like a real resolver would."""
    if pii_type == "unknown_type":
        raise SchemaError(f"unknown PII type {pii_type!r}")
    if leaf.avro_type == "boolean":
        raise SchemaError(f"PII type {pii_type!r} cannot take Avro type boolean")
    return Stamp(pii_type, policy.action or "tokenize", leaf)


def policies(**actions: str) -> Any:
    """Return a policy lookup with actions by path (dots written as __)."""
    by_path = {path.replace("__", "."): action for path, action in actions.items()}

    def policy_for(path: str, pii_type: str) -> FieldPolicy:
        return FieldPolicy(action=by_path.get(path))

    return policy_for


STORE = SchemaStore.from_directory(SCHEMAS)


def plan_for(name: str, *, unclassified: Any = "block", **actions: str) -> MaskingPlan:
    """Build the plan of a schema from the test schema directory."""
    return build_plan(
        STORE.by_name(name).parsed,
        resolve=resolve,
        policy_for=policies(**actions),
        unclassified=unclassified,
    )


def masked_paths(result: MaskResult) -> dict[str, int]:
    """Return the count of transformed values by path."""
    return {t.path: t.count for t in result.transformations}


def assert_cross_border_valid(plan: MaskingPlan, result: MaskResult) -> None:
    """Check the masked record against the cross-border schema, both ways."""
    parsed = parse_schema(plan.cross_border_schema)
    assert validate(result.record, parsed, raise_errors=False)
    entry = SchemaEntry.from_schema(plan.cross_border_schema)
    assert entry.fingerprint == STORE.by_name(plan.name or "").fingerprint


def customer(**changes: Any) -> dict[str, Any]:
    record = {
        "customer_id": "C-1",
        "name": "王小明",
        "mobile": "13800138000",
        "id_number": "11010519491231002X",
        "address": {"city": "北京", "street": "长安街 1 号"},
    }
    record.update(changes)
    return record


def test_nested_record_masks_every_tagged_value() -> None:
    plan = plan_for("crm.Customer")
    record = customer()
    result = mask_record(plan, record, KEY)
    out = result.record
    assert out["name"] == stamp("王小明", LeafType("string"), KEY)
    assert out["mobile"] == stamp("13800138000", LeafType("string"), KEY)
    assert out["id_number"] != record["id_number"]
    assert out["address"]["street"] != record["address"]["street"]
    assert out["customer_id"] == "C-1"
    assert out["address"]["city"] == "北京"
    assert masked_paths(result) == {
        "name": 1,
        "mobile": 1,
        "id_number": 1,
        "address.street": 1,
    }
    assert_cross_border_valid(plan, result)


def test_nested_record_reports_subject_and_sensitive() -> None:
    result = mask_record(plan_for("crm.Customer"), customer(), KEY)
    assert [(s.path, s.pii_type, s.value) for s in result.subjects] == [
        ("name", "person_name", "王小明")
    ]
    assert result.sensitive is True
    by_path = {t.path: t for t in result.transformations}
    assert by_path["id_number"].sensitive is True
    assert by_path["name"].sensitive is False
    assert by_path["name"].key_version is KEY


def test_null_values_are_kept_and_not_counted() -> None:
    result = mask_record(plan_for("crm.Customer"), customer(mobile=None), KEY)
    assert result.record["mobile"] is None
    assert "mobile" not in masked_paths(result)


def test_record_without_sensitive_fields() -> None:
    plan = plan_for("hr.Person")
    result = mask_record(plan, {"name": "李雷", "mobile": None, "manager": None}, KEY)
    assert result.sensitive is False


def test_input_record_is_not_changed() -> None:
    record = customer()
    before = copy.deepcopy(record)
    result = mask_record(plan_for("crm.Customer"), record, KEY)
    assert record == before
    assert result.record is not record
    assert result.record["address"] is not record["address"]


def test_named_reference_across_files_masks_every_use() -> None:
    plan = plan_for("shop.Order")
    record = {
        "order_id": "O-1",
        "buyer": customer(),
        "recipient": customer(name="韩梅梅", mobile=None),
        "billing": {"city": "上海", "street": "南京路 2 号"},
        "note": None,
    }
    result = mask_record(plan, record, KEY)
    out = result.record
    assert out["buyer"]["name"] != "王小明"
    assert out["recipient"]["name"] != "韩梅梅"
    assert out["recipient"]["address"]["street"] != "长安街 1 号"
    assert out["billing"]["street"] != "南京路 2 号"
    assert out["billing"]["city"] == "上海"
    assert masked_paths(result) == {
        "buyer.name": 1,
        "buyer.mobile": 1,
        "buyer.id_number": 1,
        "buyer.address.street": 1,
        "recipient.name": 1,
        "recipient.id_number": 1,
        "recipient.address.street": 1,
        "billing.street": 1,
    }
    assert [s.path for s in result.subjects] == ["buyer.name", "recipient.name"]
    assert_cross_border_valid(plan, result)


def order_with_note(note: str | None) -> dict[str, Any]:
    return {
        "order_id": "O-2",
        "buyer": customer(),
        "recipient": None,
        "billing": {"city": "上海", "street": "南京路 2 号"},
        "note": note,
    }


def test_unclassified_value_blocks_in_strict_mode() -> None:
    with pytest.raises(BlockedRecordError) as caught:
        mask_record(plan_for("shop.Order"), order_with_note("请在门口放下"), KEY)
    assert caught.value.reason == "policy.unclassified_field"
    assert "'note'" in str(caught.value)
    assert "门口" not in str(caught.value)


@pytest.mark.parametrize("note", [None, ""], ids=["null", "empty"])
def test_unclassified_empty_value_passes_strict_mode(note: str | None) -> None:
    result = mask_record(plan_for("shop.Order"), order_with_note(note), KEY)
    assert result.record["note"] == note


def test_unclassified_value_passes_in_pass_mode() -> None:
    plan = plan_for("shop.Order", unclassified="pass")
    result = mask_record(plan, order_with_note("请在门口放下"), KEY)
    assert result.record["note"] == "请在门口放下"
    assert plan.unclassified == ("note",)


def card(number: str = "6222020200112233445") -> dict[str, Any]:
    return {"number": number, "holder": "王小明"}


def payment(method: Any, refund_to: Any = None) -> dict[str, Any]:
    return {"payment_id": "P-1", "method": method, "refund_to": refund_to}


def test_union_of_records_masks_card_branch() -> None:
    plan = plan_for("pay.Payment")
    result = mask_record(plan, payment(card()), KEY)
    name, value = result.record["method"]
    assert name == "pay.CardPayment"
    assert value["number"] != card()["number"]
    assert value["holder"] != "王小明"
    assert masked_paths(result) == {
        "method<CardPayment>.number": 1,
        "method<CardPayment>.holder": 1,
    }
    assert_cross_border_valid(plan, result)


def test_union_of_records_masks_bank_branch() -> None:
    plan = plan_for("pay.Payment")
    bank = {"account": "6228480402564890018", "bank": "ICBC"}
    result = mask_record(plan, payment(bank, refund_to=card("6222")), KEY)
    name, value = result.record["method"]
    assert name == "pay.BankPayment"
    assert value["account"] != bank["account"]
    assert value["bank"] == "ICBC"
    refund_name, refund = result.record["refund_to"]
    assert refund_name == "pay.CardPayment"
    assert refund["number"] != "6222"
    assert set(masked_paths(result)) == {
        "method<BankPayment>.account",
        "refund_to<CardPayment>.number",
        "refund_to<CardPayment>.holder",
    }
    assert_cross_border_valid(plan, result)


def test_union_of_records_decoded_in_tuple_notation() -> None:
    plan = plan_for("pay.Payment")
    bank = {"account": "6228480402564890018", "bank": "ICBC"}
    data = STORE.encode("pay.Payment", payment(("pay.BankPayment", bank)))
    _, decoded = STORE.decode(data)
    assert decoded["method"] == ("pay.BankPayment", bank)
    result = mask_record(plan, decoded, KEY)
    assert result.record["method"][1]["account"] != bank["account"]
    masked = SchemaEntry.from_schema(plan.cross_border_schema)
    _, back = STORE.decode(STORE.encode(masked, result.record))
    assert back["method"] == result.record["method"]


def test_union_value_of_no_branch_is_rejected() -> None:
    with pytest.raises(RecordError) as caught:
        mask_record(plan_for("pay.Payment"), payment({"iban": "x"}), KEY)
    assert caught.value.reason == "mask.schema_mismatch"
    assert "'method'" in str(caught.value)


def contact_book() -> dict[str, Any]:
    return {
        "owner": "王小明",
        "contacts": [
            {"label": "home", "mobile": "13800138000"},
            {"label": "none", "mobile": None},
            {"label": "work", "mobile": "13900139000"},
        ],
        "by_role": {
            "boss": {"label": "boss", "mobile": "13700137000"},
            "hr": {"label": "hr", "mobile": None},
        },
        "phones": ["13800138000", "13900139000", "13700137000"],
        "emails": {"home": "a@example.com", "work": "b@example.com"},
    }


def test_array_of_records_masks_each_item() -> None:
    plan = plan_for("crm.ContactBook")
    record = contact_book()
    result = mask_record(plan, record, KEY)
    contacts = result.record["contacts"]
    assert contacts[0]["mobile"] != "13800138000"
    assert contacts[1]["mobile"] is None
    assert contacts[2]["mobile"] != "13900139000"
    assert [c["label"] for c in contacts] == ["home", "none", "work"]
    assert masked_paths(result)["contacts[].mobile"] == 2
    assert_cross_border_valid(plan, result)


def test_map_of_records_masks_each_value() -> None:
    result = mask_record(plan_for("crm.ContactBook"), contact_book(), KEY)
    by_role = result.record["by_role"]
    assert by_role["boss"]["mobile"] != "13700137000"
    assert by_role["hr"]["mobile"] is None
    assert masked_paths(result)["by_role{}.mobile"] == 1


def test_tag_on_array_of_strings_masks_each_item() -> None:
    record = contact_book()
    result = mask_record(plan_for("crm.ContactBook"), record, KEY)
    phones = result.record["phones"]
    assert len(phones) == 3
    assert all(new != old for new, old in zip(phones, record["phones"], strict=True))
    assert masked_paths(result)["phones[]"] == 3


def test_tag_on_map_of_strings() -> None:
    result = mask_record(plan_for("crm.ContactBook"), contact_book(), KEY)
    emails = result.record["emails"]
    assert emails["home"] != "a@example.com"
    assert emails["work"] != "b@example.com"
    assert masked_paths(result)["emails{}"] == 2


def test_empty_array_and_null_map_count_nothing() -> None:
    record = contact_book() | {"contacts": [], "phones": [], "emails": None}
    result = mask_record(plan_for("crm.ContactBook"), record, KEY)
    paths = masked_paths(result)
    assert "contacts[].mobile" not in paths
    assert "phones[]" not in paths
    assert "emails{}" not in paths
    assert result.record["emails"] is None


def manager_chain() -> dict[str, Any]:
    return {
        "name": "员工甲",
        "mobile": "13800138000",
        "manager": {
            "name": "经理乙",
            "mobile": None,
            "manager": {"name": "总监丙", "mobile": "13900139000", "manager": None},
        },
    }


def test_recursive_manager_chain_masks_three_levels() -> None:
    plan = plan_for("hr.Person")
    result = mask_record(plan, manager_chain(), KEY)
    level1 = result.record
    level2 = level1["manager"]
    level3 = level2["manager"]
    assert level1["name"] != "员工甲"
    assert level2["name"] != "经理乙"
    assert level3["name"] != "总监丙"
    assert level3["mobile"] != "13900139000"
    assert level2["mobile"] is None
    assert level3["manager"] is None
    assert masked_paths(result) == {
        "name": 1,
        "mobile": 1,
        "manager.name": 1,
        "manager.manager.name": 1,
        "manager.manager.mobile": 1,
    }
    assert [s.path for s in result.subjects] == [
        "name",
        "manager.name",
        "manager.manager.name",
    ]
    assert_cross_border_valid(plan, result)


def visit() -> dict[str, Any]:
    return {
        "visit_id": uuid.UUID("12345678-1234-5678-1234-567812345678"),
        "birth_date": dt.date(1990, 5, 17),
        "seen_at": dt.datetime(2026, 1, 2, 3, 4, 5, tzinfo=dt.UTC),
        "fee": Decimal("120.50"),
        "diagnosis": "C",
        "device": b"\x01\x02\x03\x04",
        "second_device": None,
    }


def test_logical_enum_and_fixed_leaves() -> None:
    plan = plan_for("clinic.Visit")
    record = visit()
    result = mask_record(plan, record, KEY)
    out = result.record
    assert out["birth_date"] == dt.date(1990, 5, 18)
    assert out["diagnosis"] == "A"
    assert out["device"] == b"\xfe\xfd\xfc\xfb"
    assert out["visit_id"] == record["visit_id"]
    assert out["seen_at"] == record["seen_at"]
    assert out["fee"] == record["fee"]
    assert set(masked_paths(result)) == {"birth_date", "diagnosis", "device"}
    assert plan.unclassified == ()
    assert_cross_border_valid(plan, result)


def test_leaf_types_reach_the_resolver() -> None:
    leaves = {f.path: f.leaf for f in plan_for("clinic.Visit").fields}
    assert leaves["birth_date"] == LeafType("int", "date", False)
    assert leaves["diagnosis"] == LeafType("enum", None, False)
    assert leaves["device"] == LeafType("fixed", None, False)
    assert leaves["second_device"] == LeafType("fixed", None, True)


def test_invalid_value_error_names_the_path() -> None:
    record = contact_book()
    record["contacts"][2]["mobile"] = "bad-13900139000"
    with pytest.raises(InvalidValueError) as caught:
        mask_record(plan_for("crm.ContactBook"), record, KEY)
    assert caught.value.path == "contacts[].mobile"
    assert caught.value.reason == "mask.invalid_value"
    assert "contacts[].mobile" in str(caught.value)
    assert "13900139000" not in str(caught.value)


def test_block_action_names_the_path() -> None:
    plan = plan_for("crm.Customer", address__street="block")
    with pytest.raises(BlockedRecordError) as caught:
        mask_record(plan, customer(), KEY)
    assert caught.value.reason == "policy.blocked_field"
    assert "'address.street'" in str(caught.value)


def test_pass_action_reports_no_key() -> None:
    plan = plan_for("crm.Customer", mobile="pass")
    result = mask_record(plan, customer(), KEY)
    by_path = {t.path: t for t in result.transformations}
    assert result.record["mobile"] == "13800138000"
    assert by_path["mobile"].action == "pass"
    assert by_path["mobile"].key_version is None


def test_subject_value_masks_repr_and_str() -> None:
    subject = SubjectValue("name", "person_name", "王小明")
    assert "王小明" not in repr(subject)
    assert "王小明" not in str(subject)
    result = mask_record(plan_for("crm.Customer"), customer(), KEY)
    assert "王小明" not in repr(result.subjects)


def test_too_deep_record_raises_record_error() -> None:
    record: dict[str, Any] | None = None
    for _ in range(10_000):
        record = {"name": "x", "mobile": None, "manager": record}
    with pytest.raises(RecordError) as caught:
        mask_record(plan_for("hr.Person"), record, KEY)
    assert caught.value.reason == "mask.too_deep"


@pytest.mark.parametrize(
    ("field", "value", "words"),
    [
        ("contacts", "13800138000", "an array must be a list"),
        ("by_role", ["x"], "a map must be a dict"),
    ],
    ids=["array", "map"],
)
def test_container_of_wrong_type_is_rejected(
    field: str, value: Any, words: str
) -> None:
    record = contact_book() | {field: value}
    with pytest.raises(RecordError) as caught:
        mask_record(plan_for("crm.ContactBook"), record, KEY)
    assert caught.value.reason == "mask.schema_mismatch"
    assert words in str(caught.value)
    assert "13800138000" not in str(caught.value)
