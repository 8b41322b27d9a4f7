"""Building masking plans and the cross-border schema from tagged schemas."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from streams.codec import SchemaStore, canonical_form
from streams.errors import SchemaError
from streams.schema import MASKED_ANNOTATION, build_plan, inline_named_types
from streams.tokenizers import resolve
from streams.tokenizers.base import FieldPolicy

SCHEMAS = Path(__file__).parents[1] / "schemas"
STORE = SchemaStore.from_directory(SCHEMAS)


def default_policy(path: str, pii_type: str) -> FieldPolicy:
    return FieldPolicy()


def plan_of(schema: Any, **kwargs: Any) -> Any:
    return build_plan(schema, resolve=resolve, policy_for=default_policy, **kwargs)


def record(*fields: dict[str, Any], name: str = "R") -> dict[str, Any]:
    return {"type": "record", "name": name, "namespace": "t", "fields": list(fields)}


def problems_of(schema: Any) -> list[str]:
    """Return the problem lines of the SchemaError that building raises."""
    with pytest.raises(SchemaError) as caught:
        plan_of(schema)
    header, *lines = str(caught.value).splitlines()
    assert header.endswith(f"({len(lines)} problems):")
    return [line.strip() for line in lines]


def tagged_paths(plan: Any) -> list[str]:
    return [f.path for f in plan.fields]


def test_fields_of_nested_record() -> None:
    plan = plan_of(STORE.by_name("crm.Customer").parsed)
    assert tagged_paths(plan) == ["name", "mobile", "id_number", "address.street"]
    by_path = {f.path: f for f in plan.fields}
    assert by_path["name"].subject is True
    assert by_path["id_number"].sensitive is True
    assert by_path["mobile"].leaf.nullable is True
    assert by_path["address.street"].pii_type == "free_text"


def test_fields_follow_named_types_at_each_path() -> None:
    plan = plan_of(STORE.by_name("shop.Order").parsed)
    paths = tagged_paths(plan)
    assert "buyer.address.street" in paths
    assert "recipient.address.street" in paths
    assert "billing.street" in paths
    assert plan.unclassified == ("note",)


def test_fields_of_union_arrays_and_maps() -> None:
    assert tagged_paths(plan_of(STORE.by_name("pay.Payment").parsed)) == [
        "method<CardPayment>.number",
        "method<CardPayment>.holder",
        "method<BankPayment>.account",
        "refund_to<CardPayment>.number",
        "refund_to<CardPayment>.holder",
        "refund_to<BankPayment>.account",
    ]
    assert tagged_paths(plan_of(STORE.by_name("crm.ContactBook").parsed)) == [
        "owner",
        "contacts[].mobile",
        "by_role{}.mobile",
        "phones[]",
        "emails{}",
    ]


def test_recursive_type_has_finite_plan() -> None:
    plan = plan_of(STORE.by_name("hr.Person").parsed)
    assert tagged_paths(plan) == ["name", "mobile"]


def test_policy_lookup_gets_leaf_paths() -> None:
    calls: list[tuple[str, str]] = []

    def policy_for(path: str, pii_type: str) -> FieldPolicy:
        calls.append((path, pii_type))
        return FieldPolicy(action="redact" if path == "phones[]" else None)

    plan = build_plan(
        STORE.by_name("crm.ContactBook").parsed,
        resolve=resolve,
        policy_for=policy_for,
    )
    assert ("phones[]", "cn_mobile") in calls
    assert ("contacts[].mobile", "cn_mobile") in calls
    actions = {f.path: f.action for f in plan.fields}
    assert actions["phones[]"] == "redact"
    assert actions["owner"] == "tokenize"


def test_union_labels_use_full_names_on_clash() -> None:
    schema = record(
        {
            "name": "x",
            "type": [
                record(
                    {"name": "n", "type": "string", "pii": "person_name"}, name="a.R"
                ),
                record(
                    {"name": "n", "type": "string", "pii": "person_name"}, name="b.R"
                ),
            ],
        },
        name="Top",
    )
    assert tagged_paths(plan_of(schema)) == ["x<a.R>.n", "x<b.R>.n"]


def test_every_problem_is_listed_on_its_own_line() -> None:
    address = record({"name": "street", "type": "string"}, name="A")
    schema = record(
        {"name": "home", "type": address, "pii": "free_text"},
        {"name": "either", "type": ["string", "long"], "pii": "identifier"},
        {"name": "count", "type": "int", "pii": 5},
        {"name": "flag", "type": "string", "pii": "email", "pii.sensitive": "yes"},
        {"name": "typo", "type": "string", "pii": "email", "pii.subjekt": True},
        {"name": "orphan", "type": "string", "pii.subject": True},
        {"name": "mystery", "type": "string", "pii": "unknown_type"},
        {"name": "active", "type": "boolean", "pii": "email"},
        {"name": "inner", "type": {"type": "string", "pii": "email"}},
    )
    lines = problems_of(schema)
    assert len(lines) == 9
    expected = [
        ("home:", "tag.on_record", "fields of t.A"),
        ("either:", "tag.on_union", "2 non-null types"),
        ("count:", "tag.malformed", "PII type name"),
        ("flag:", "tag.malformed", "true or false"),
        ("typo:", "tag.malformed", "'pii.subjekt'"),
        ("orphan:", "tag.malformed", "need a 'pii' tag"),
        ("mystery:", "tag.rejected", "unknown_type"),
        ("active:", "tag.rejected", "boolean"),
        ("inner:", "tag.misplaced", "move it to the record field"),
    ]
    for line, (path, rule, words) in zip(lines, expected, strict=True):
        assert line.startswith(path), line
        assert f"[{rule}]" in line, line
        assert words in line, line


def test_tag_on_array_of_records_is_rejected() -> None:
    contact = record({"name": "m", "type": "string"}, name="Contact")
    schema = record(
        {"name": "contacts", "type": {"type": "array", "items": contact}, "pii": "x"}
    )
    (line,) = problems_of(schema)
    assert line.startswith("contacts[]:")
    assert "[tag.on_record]" in line


def test_none_tag_is_classified_and_not_planned() -> None:
    schema = record({"name": "city", "type": "string", "pii": "none"})
    plan = plan_of(schema)
    assert plan.fields == ()
    assert plan.unclassified == ()
    assert plan.root is None


def test_invalid_unclassified_mode_is_rejected() -> None:
    with pytest.raises(SchemaError, match="unclassified='drop'"):
        plan_of(record({"name": "a", "type": "string"}), unclassified="drop")


def test_invalid_avro_is_a_schema_error() -> None:
    with pytest.raises(SchemaError, match="invalid Avro schema"):
        plan_of(record({"name": "a"}))
    with pytest.raises(SchemaError, match="missing attribute 'symbols'"):
        plan_of({"type": "enum", "name": "E"})


def test_unknown_named_type_is_a_schema_error() -> None:
    with pytest.raises(SchemaError, match=r"'crm\.Missing'"):
        plan_of(record({"name": "a", "type": "crm.Missing"}))


def test_named_types_from_other_files() -> None:
    order = json.loads((SCHEMAS / "shop" / "order.avsc").read_text())
    plan = plan_of(order, named_types=STORE.named_types)
    assert "buyer.name" in tagged_paths(plan)


def walk_json(schema: Any) -> list[dict[str, Any]]:
    """Return every JSON object in a schema."""
    if isinstance(schema, list):
        return [obj for item in schema for obj in walk_json(item)]
    if isinstance(schema, dict):
        return [schema] + [obj for v in schema.values() for obj in walk_json(v)]
    return []


def test_cross_border_schema_replaces_tags() -> None:
    plan = plan_of(STORE.by_name("shop.Order").parsed)
    objects = walk_json(plan.cross_border_schema)
    tagged = [o for o in objects if any(k == "pii" or k.startswith("pii.") for k in o)]
    assert tagged == []
    fields = {
        o["name"]: o[MASKED_ANNOTATION] for o in objects if MASKED_ANNOTATION in o
    }
    assert fields["id_number"] == {
        "pii_type": "cn_resident_id",
        "action": "tokenize",
        "sensitive": True,
        "subject": False,
    }
    assert fields["name"]["subject"] is True
    assert "customer_id" not in fields


def test_cross_border_schema_lists_differing_actions() -> None:
    def policy_for(path: str, pii_type: str) -> FieldPolicy:
        return FieldPolicy(action="mask" if path == "billing.street" else None)

    plan = build_plan(
        STORE.by_name("shop.Order").parsed, resolve=resolve, policy_for=policy_for
    )
    objects = walk_json(plan.cross_border_schema)
    (street,) = [o for o in objects if o.get("name") == "street"]
    assert street[MASKED_ANNOTATION]["actions"]["billing.street"] == "mask"
    assert street[MASKED_ANNOTATION]["actions"]["buyer.address.street"] == "redact"


def test_cross_border_schema_has_source_canonical_form() -> None:
    for entry in STORE:
        plan = build_plan(
            entry.parsed,
            resolve=lambda t, leaf, p: resolve("free_text", leaf, FieldPolicy("pass")),
            policy_for=default_policy,
        )
        source = inline_named_types(entry.parsed, entry.parsed["__named_schemas"])
        assert canonical_form(plan.cross_border_schema) == canonical_form(source)
        assert canonical_form(source) == entry.canonical_form
