"""Tagged fields reached only through references, unions, containers, recursion.

A walker that follows only plain nested records would miss every tagged
field of these schemas. The fields sit behind a named type reference, in a
union of two record types, in an array or a map of records, or in a
recursive type. Each case runs with the tag in the ``pii`` attribute, in
Confluent's ``confluent:tags`` and in Confluent's ``metadata.tags``, and
checks that every tagged value is masked and that no original value is
left in the encoded output.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator
from typing import Any

import pytest

from streams.codec import single_object
from streams.codec.store import SchemaEntry, SchemaStore
from streams.config import Policy
from streams.engine import MaskingEngine
from streams.errors import BlockedRecordError
from streams.keys import Keyring
from streams.masking import mask_record
from streams.schema import build_plan
from streams.schema.tags import TagRule, TagRules
from streams.tokenizers import resolve
from streams.tokenizers.base import FieldPolicy

PHONE_TAG = "PHONE"
TAG_TYPES = {PHONE_TAG: TagRule("cn_mobile")}
METADATA = {"**.mobile": [PHONE_TAG]}
KEYRING = Keyring.generate("reach")
TAG_FORMS = ["pii", "confluent", "metadata"]


def _mobile(form: str) -> dict[str, Any]:
    """Return a tagged ``mobile`` field in one of the three tag forms."""
    field: dict[str, Any] = {"name": "mobile", "type": "string"}
    if form == "pii":
        field["pii"] = "cn_mobile"
    elif form == "confluent":
        field["confluent:tags"] = [PHONE_TAG]
    return field


def _record(name: str, form: str, *extra: dict[str, Any]) -> dict[str, Any]:
    return {
        "type": "record",
        "name": name,
        "fields": [_mobile(form), {"name": "rank", "type": "int"}, *extra],
    }


def _named_reference(form: str) -> tuple[dict[str, Any], dict[str, Any]]:
    schema = {
        "type": "record",
        "name": "Holder",
        "namespace": "reach",
        "fields": [
            {"name": "primary", "type": _record("Contact", form)},
            {"name": "backup", "type": "Contact"},
            {"name": "spare", "type": ["null", "reach.Contact"]},
        ],
    }
    value = {
        "primary": {"mobile": "13800138001", "rank": 1},
        "backup": {"mobile": "13900139002", "rank": 2},
        "spare": {"mobile": "13700137003", "rank": 3},
    }
    return schema, value


def _union_of_records(form: str) -> tuple[dict[str, Any], dict[str, Any]]:
    schema = {
        "type": "record",
        "name": "Deal",
        "namespace": "reach",
        "fields": [
            {
                "name": "party",
                "type": [_record("Person", form), _record("Company", form)],
            },
            {"name": "other", "type": ["null", "Person", "Company"]},
        ],
    }
    value = {
        "party": ("reach.Person", {"mobile": "13800138011", "rank": 1}),
        "other": ("reach.Company", {"mobile": "13900139012", "rank": 2}),
    }
    return schema, value


def _array_of_records(form: str) -> tuple[dict[str, Any], dict[str, Any]]:
    schema = {
        "type": "record",
        "name": "Book",
        "namespace": "reach",
        "fields": [
            {
                "name": "entries",
                "type": {"type": "array", "items": _record("Entry", form)},
            }
        ],
    }
    value = {
        "entries": [
            {"mobile": "13800138021", "rank": 1},
            {"mobile": "13900139022", "rank": 2},
        ]
    }
    return schema, value


def _map_of_records(form: str) -> tuple[dict[str, Any], dict[str, Any]]:
    schema = {
        "type": "record",
        "name": "Directory",
        "namespace": "reach",
        "fields": [
            {
                "name": "by_team",
                "type": {"type": "map", "values": _record("Member", form)},
            }
        ],
    }
    value = {
        "by_team": {
            "sales": {"mobile": "13800138031", "rank": 1},
            "ops": {"mobile": "13900139032", "rank": 2},
        }
    }
    return schema, value


def _recursive(form: str) -> tuple[dict[str, Any], dict[str, Any]]:
    schema = _record(
        "Employee", form, {"name": "manager", "type": ["null", "Employee"]}
    )
    schema["namespace"] = "reach"
    value = {
        "mobile": "13800138041",
        "rank": 3,
        "manager": {
            "mobile": "13900139042",
            "rank": 2,
            "manager": {"mobile": "13700137043", "rank": 1, "manager": None},
        },
    }
    return schema, value


CASES = {
    "named_reference": _named_reference,
    "union_of_records": _union_of_records,
    "array_of_records": _array_of_records,
    "map_of_records": _map_of_records,
    "recursive": _recursive,
}


def _mobiles(value: Any) -> Iterator[str]:
    """Yield every ``mobile`` value in a decoded record, at any depth."""
    if isinstance(value, tuple):
        yield from _mobiles(value[1])
    elif isinstance(value, dict):
        for name, item in value.items():
            if name == "mobile":
                yield item
            else:
                yield from _mobiles(item)
    elif isinstance(value, list):
        for item in value:
            yield from _mobiles(item)


def _mask_with_engine(schema: dict[str, Any], value: dict[str, Any]) -> bytes:
    store = SchemaStore()
    store.add(schema)
    engine = MaskingEngine(store, KEYRING, Policy(tags=TAG_TYPES))
    masked = engine.mask(store.encode(f"reach.{schema['name']}", value))
    assert masked.value is not None
    return masked.value


def _mask_with_metadata(schema: dict[str, Any], value: dict[str, Any]) -> bytes:
    store = SchemaStore()
    entry = store.add(schema)
    plan = build_plan(
        entry.parsed,
        resolve=resolve,
        policy_for=lambda path, pii_type: FieldPolicy(),
        named_types=entry.named_types,
        tag_rules=TagRules(TAG_TYPES, METADATA),
    )
    _, decoded = store.decode(store.encode(entry, value))
    result = mask_record(plan, decoded, KEYRING.active)
    output = SchemaEntry.from_schema(plan.cross_border_schema)
    return single_object.encode(output, result.record)


@pytest.mark.parametrize("form", TAG_FORMS)
@pytest.mark.parametrize("case", sorted(CASES))
def test_tagged_fields_masked(case: str, form: str) -> None:
    schema, value = CASES[case](form)
    originals = list(_mobiles(value))
    mask = _mask_with_metadata if form == "metadata" else _mask_with_engine

    output = mask(schema, copy.deepcopy(value))

    entry = SchemaEntry.from_schema(schema)
    out_record = single_object.decode(output, lambda _fingerprint: entry)[1]
    masked = list(_mobiles(out_record))
    assert len(masked) == len(originals)
    for before, after in zip(originals, masked, strict=True):
        assert after != before
        assert len(after) == len(before)
    for original in originals:
        assert original.encode("ascii") not in output


@pytest.mark.parametrize("case", sorted(CASES))
def test_untagged_mobiles_blocked(case: str) -> None:
    # The same schemas without any tag: strict mode must block them, which
    # shows that the tests above pass because of the tags.
    schema, value = CASES[case]("none")
    store = SchemaStore()
    store.add(schema)
    engine = MaskingEngine(store, KEYRING, Policy())

    with pytest.raises(BlockedRecordError) as caught:
        engine.mask(store.encode(f"reach.{schema['name']}", value))

    assert caught.value.reason == "policy.unclassified_field"
