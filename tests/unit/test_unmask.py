"""Reversing the masking of a record with `unmask_record` and the real tokenizers."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest

from streams.codec import SchemaStore
from streams.errors import InvalidValueError
from streams.keys import KeyVersion
from streams.masking import mask_record, unmask_record
from streams.sample_data import SampleGenerator
from streams.schema import MaskingPlan, build_plan
from streams.tokenizers import resolve
from streams.tokenizers.base import FieldPolicy

SCHEMAS = Path(__file__).parents[2] / "schemas"
KEY = KeyVersion.generate("unmask-test", 1)


def plan_for(name: str, policies: dict[str, FieldPolicy] | None = None) -> MaskingPlan:
    """Build the plan of one schema of the repository's schema folder."""
    store = SchemaStore.from_directory(SCHEMAS)
    chosen = policies or {}
    return build_plan(
        store.by_name(name).parsed,
        resolve=resolve,
        policy_for=lambda path, pii_type: chosen.get(path, FieldPolicy()),
        named_types=store.named_types,
    )


@pytest.fixture(scope="module")
def customer_plan() -> MaskingPlan:
    return plan_for("crm.Customer")


def customer() -> dict[str, Any]:
    record = SampleGenerator(seed=11).customer()
    # Latin and Chinese names of FF1 size; short names are tested apart.
    record["name"] = "欧阳娜娜"
    record["notes"] = "called on Monday"
    record["contacts"] = [
        {"relation": "SPOUSE", "name": "王小明", "mobile": "13912345678"},
        {"relation": "FRIEND", "name": "Alexander Smith", "mobile": "18611112222"},
    ]
    return record


def test_unmask_restores_tokenized_fields(customer_plan: MaskingPlan) -> None:
    original = customer()
    masked = mask_record(customer_plan, original, KEY).record
    restored = unmask_record(customer_plan, masked, KEY).record
    expected = copy.deepcopy(original)
    # free_text is redacted: a non-nullable street becomes "", notes null.
    expected["address"]["street"] = ""
    expected["notes"] = None
    assert restored == expected


def test_unmask_lists_irreversible_paths(customer_plan: MaskingPlan) -> None:
    masked = mask_record(customer_plan, customer(), KEY).record
    result = unmask_record(customer_plan, masked, KEY)
    not_restored = {(r.path, r.action, r.count) for r in result.not_restored}
    assert not_restored == {("address.street", "redact", 1)}


def test_unmask_counts_restored_values(customer_plan: MaskingPlan) -> None:
    masked = mask_record(customer_plan, customer(), KEY).record
    result = unmask_record(customer_plan, masked, KEY)
    by_path = {r.path: r for r in result.reversals if r.restored}
    assert by_path["contacts[].mobile"].count == 2
    assert by_path["contacts[].name"].count == 2
    assert by_path["mobile"].action == "tokenize"
    # customer_id, name, resident_id, mobile, email, bank_card, 2 x 2 contacts
    assert result.restored_count == 10


def test_unmask_passes_untouched_values() -> None:
    plan = plan_for("crm.Customer", {"email": FieldPolicy(action="pass")})
    original = customer()
    masked = mask_record(plan, original, KEY).record
    result = unmask_record(plan, masked, KEY)
    passed = [r for r in result.reversals if r.action == "pass"]
    assert [(r.path, r.restored) for r in passed] == [("email", False)]
    assert result.not_restored == tuple(
        r for r in result.reversals if r.path == "address.street"
    )
    assert result.record["email"] == original["email"]


def test_unmask_leaves_input_unchanged(customer_plan: MaskingPlan) -> None:
    masked = mask_record(customer_plan, customer(), KEY).record
    before = copy.deepcopy(masked)
    unmask_record(customer_plan, masked, KEY)
    assert masked == before


def test_unmask_lists_pseudonym_fallback(customer_plan: MaskingPlan) -> None:
    original = customer()
    original["contacts"][1]["name"] = "Li"  # 26**2 values: below the FF1 minimum
    masked = mask_record(customer_plan, original, KEY).record
    result = unmask_record(customer_plan, masked, KEY)
    fallback = [r for r in result.not_restored if r.path == "contacts[].name"]
    assert [(r.action, r.count) for r in fallback] == [("pseudonymize", 1)]
    assert result.record["contacts"][1]["name"] == masked["contacts"][1]["name"]
    assert result.record["contacts"][0]["name"] == "王小明"


def test_unmask_restores_union_branch() -> None:
    plan = plan_for("crm.Order")
    order = SampleGenerator(seed=5).order()
    order["payment"] = (
        "crm.CardPayment",
        {"card_number": "6222021234567890128", "holder": "Zhang Wei"},
    )
    masked = mask_record(plan, order, KEY).record
    restored = unmask_record(plan, masked, KEY).record
    assert masked["payment"][1]["card_number"] != "6222021234567890128"
    assert restored["payment"] == order["payment"]
    assert restored["buyer"]["mobile"] == order["buyer"]["mobile"]


def test_unmask_with_other_key_differs(customer_plan: MaskingPlan) -> None:
    original = customer()
    masked = mask_record(customer_plan, original, KEY).record
    other = KeyVersion.generate("unmask-test", 1)
    restored = unmask_record(customer_plan, masked, other).record
    assert restored["mobile"] != original["mobile"]


def test_unmask_rejects_value_that_is_no_token(customer_plan: MaskingPlan) -> None:
    masked = mask_record(customer_plan, customer(), KEY).record
    masked["contacts"][0]["mobile"] = "not a number"
    with pytest.raises(InvalidValueError, match=r"contacts\[\]\.mobile") as caught:
        unmask_record(customer_plan, masked, KEY)
    assert "not a number" not in str(caught.value)


def test_unmask_reverses_ff3_1_tokens() -> None:
    policy = FieldPolicy(options={"cipher": "ff3-1"})
    plan = plan_for("crm.Customer", {"mobile": policy, "bank_card": policy})
    original = customer()
    masked = mask_record(plan, original, KEY).record
    restored = unmask_record(plan, masked, KEY).record
    assert masked["mobile"] != original["mobile"]
    assert restored["mobile"] == original["mobile"]
    assert restored["bank_card"] == original["bank_card"]
