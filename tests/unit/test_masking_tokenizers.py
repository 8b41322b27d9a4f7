"""Masking an order with the real tokenizers and a real key version."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from streams.codec import SchemaEntry, SchemaStore
from streams.keys import KeyVersion
from streams.masking import mask_record
from streams.schema import build_plan
from streams.tokenizers import resolve
from streams.tokenizers.base import FieldPolicy

SCHEMAS = Path(__file__).parents[1] / "schemas"
STORE = SchemaStore.from_directory(SCHEMAS)
KEY = KeyVersion.generate("unit-key", 2)


def policy_for(path: str, pii_type: str) -> FieldPolicy:
    return FieldPolicy(action="mask" if path == "billing.street" else None)


PLAN = build_plan(
    STORE.by_name("shop.Order").parsed, resolve=resolve, policy_for=policy_for
)


def order() -> dict[str, Any]:
    buyer = {
        "customer_id": "C-1",
        "name": "欧阳小明",
        "mobile": "13800138000",
        "id_number": "11010519491231002X",
        "address": {"city": "北京", "street": "长安街 1 号"},
    }
    return {
        "order_id": "O-1",
        "buyer": buyer,
        "recipient": None,
        "billing": {"city": "上海", "street": "南京路 2 号"},
        "note": None,
    }


def test_order_masked_by_real_tokenizers() -> None:
    record = order()
    result = mask_record(PLAN, record, KEY)
    buyer = result.record["buyer"]
    assert buyer["name"] != "欧阳小明"
    assert buyer["mobile"] != "13800138000"
    assert len(buyer["mobile"]) == 11
    assert buyer["mobile"].isdigit()
    assert buyer["id_number"] != "11010519491231002X"
    assert len(buyer["id_number"]) == 18
    assert buyer["address"]["street"] == ""
    assert buyer["address"]["city"] == "北京"
    assert result.record["billing"]["street"] != "南京路 2 号"


def test_order_transformations_name_key_and_action() -> None:
    result = mask_record(PLAN, order(), KEY)
    by_path = {t.path: t for t in result.transformations}
    assert by_path["buyer.mobile"].action == "tokenize"
    assert by_path["buyer.mobile"].key_version is KEY
    assert by_path["buyer.address.street"].action == "redact"
    assert by_path["buyer.address.street"].key_version is None
    assert by_path["billing.street"].action == "mask"
    assert [s.value for s in result.subjects] == ["欧阳小明"]
    assert result.sensitive is True


def test_order_tokens_reverse_to_originals() -> None:
    result = mask_record(PLAN, order(), KEY)
    (field,) = [f for f in PLAN.fields if f.path == "buyer.mobile"]
    transformer = resolve(field.pii_type, field.leaf, FieldPolicy())
    token = result.record["buyer"]["mobile"]
    assert transformer.reverse(token, KEY) == "13800138000"


def test_masked_order_decodes_with_cross_border_schema() -> None:
    result = mask_record(PLAN, order(), KEY)
    entry = SchemaEntry.from_schema(PLAN.cross_border_schema)
    decoded_entry, decoded = STORE.decode(STORE.encode(entry, result.record))
    assert decoded_entry.name == "shop.Order"
    assert decoded == result.record
