"""Properties of masking with the real tokenizers over generated records."""

from __future__ import annotations

import copy
import re
from pathlib import Path
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from streams.codec import SchemaEntry, SchemaStore
from streams.keys import KeyVersion
from streams.masking import mask_record
from streams.schema import build_plan
from streams.tokenizers import resolve
from streams.tokenizers.base import FieldPolicy

SCHEMAS = Path(__file__).parents[1] / "schemas"
STORE = SchemaStore.from_directory(SCHEMAS)
KEY = KeyVersion.generate("property-key", 1)
MOBILE = re.compile(r"1[3-9][0-9]{9}\Z")


def default_policy(path: str, pii_type: str) -> FieldPolicy:
    return FieldPolicy()


CONTACTS_PLAN = build_plan(
    STORE.by_name("crm.ContactBook").parsed,
    resolve=resolve,
    policy_for=default_policy,
)
PERSON_PLAN = build_plan(
    STORE.by_name("hr.Person").parsed, resolve=resolve, policy_for=default_policy
)
CONTACTS_OUT = SchemaEntry.from_schema(CONTACTS_PLAN.cross_border_schema)

mobiles = st.from_regex(MOBILE, fullmatch=True)
names = st.text(
    alphabet="王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋", min_size=2, max_size=4
)
emails = st.from_regex(r"[a-z]{3,10}@[a-z]{3,8}\.(com|cn)", fullmatch=True)
labels = st.sampled_from(["home", "work", "boss", "hr"])
contacts = st.fixed_dictionaries({"label": labels, "mobile": st.none() | mobiles})
contact_books = st.fixed_dictionaries(
    {
        "owner": names,
        "contacts": st.lists(contacts, max_size=4),
        "by_role": st.dictionaries(labels, contacts, max_size=3),
        "phones": st.lists(mobiles, max_size=4),
        "emails": st.none() | st.dictionaries(labels, emails, max_size=3),
    }
)


def non_null_mobiles(book: dict[str, Any]) -> int:
    return sum(c["mobile"] is not None for c in book["contacts"])


@settings(max_examples=60, deadline=None)
@given(contact_books)
def test_every_tagged_value_changes_and_keeps_format(book: dict[str, Any]) -> None:
    before = copy.deepcopy(book)
    result = mask_record(CONTACTS_PLAN, book, KEY)
    out = result.record
    assert book == before
    assert out["owner"] != book["owner"]
    for new, old in zip(out["contacts"], book["contacts"], strict=True):
        assert new["label"] == old["label"]
        if old["mobile"] is None:
            assert new["mobile"] is None
        else:
            assert new["mobile"] != old["mobile"]
            assert MOBILE.match(new["mobile"])
    for role, contact in book["by_role"].items():
        if contact["mobile"] is not None:
            assert out["by_role"][role]["mobile"] != contact["mobile"]
    for new, old in zip(out["phones"], book["phones"], strict=True):
        assert new != old
        assert MOBILE.match(new)
    for label, email in (book["emails"] or {}).items():
        assert out["emails"][label] != email


@settings(max_examples=60, deadline=None)
@given(contact_books)
def test_counts_match_non_null_values(book: dict[str, Any]) -> None:
    result = mask_record(CONTACTS_PLAN, book, KEY)
    counts: dict[str, int] = {}
    for t in result.transformations:
        counts[t.path] = counts.get(t.path, 0) + t.count
    assert counts.get("contacts[].mobile", 0) == non_null_mobiles(book)
    assert counts.get("phones[]", 0) == len(book["phones"])
    assert counts.get("emails{}", 0) == len(book["emails"] or {})
    assert counts["owner"] == 1


@settings(max_examples=60, deadline=None)
@given(contact_books)
def test_masked_record_encodes_with_cross_border_schema(book: dict[str, Any]) -> None:
    result = mask_record(CONTACTS_PLAN, book, KEY)
    data = STORE.encode(CONTACTS_OUT, result.record)
    entry, decoded = STORE.decode(data)
    assert entry.name == "crm.ContactBook"
    assert decoded == result.record


@settings(max_examples=30, deadline=None)
@given(contact_books)
def test_masking_is_deterministic_per_key(book: dict[str, Any]) -> None:
    first = mask_record(CONTACTS_PLAN, book, KEY).record
    second = mask_record(CONTACTS_PLAN, copy.deepcopy(book), KEY).record
    assert first == second


def chain(people: list[tuple[str, str | None]]) -> dict[str, Any] | None:
    record: dict[str, Any] | None = None
    for name, mobile in reversed(people):
        record = {"name": name, "mobile": mobile, "manager": record}
    return record


@settings(max_examples=40, deadline=None)
@given(st.lists(st.tuples(names, st.none() | mobiles), min_size=1, max_size=6))
def test_manager_chain_masked_at_every_level(
    people: list[tuple[str, str | None]],
) -> None:
    result = mask_record(PERSON_PLAN, chain(people), KEY)
    node = result.record
    for name, mobile in people:
        assert node is not None
        assert node["name"] != name
        assert (node["mobile"] is None) == (mobile is None)
        assert mobile is None or node["mobile"] != mobile
        node = node["manager"]
    assert node is None
    paths = {t.path for t in result.transformations}
    deepest = ".".join(["manager"] * (len(people) - 1) + ["name"])
    assert deepest in paths
    assert len(result.subjects) == len(people)
