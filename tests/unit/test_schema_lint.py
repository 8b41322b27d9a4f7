"""The schema lint that producers run before publishing a schema."""

from __future__ import annotations

from typing import Any

from streams.schema import Finding, lint_schema
from streams.tokenizers import resolve
from streams.tokenizers.base import FieldPolicy


def default_policy(path: str, pii_type: str) -> FieldPolicy:
    return FieldPolicy()


def lint(*fields: dict[str, Any]) -> list[Finding]:
    schema = {"type": "record", "name": "R", "fields": list(fields)}
    return lint_schema(schema, resolve, default_policy)


def test_clean_schema_has_no_findings() -> None:
    findings = lint(
        {"name": "name", "type": "string", "pii": "person_name"},
        {"name": "city", "type": "string", "pii": "none"},
        {"name": "age", "type": "int"},
    )
    assert findings == []


def test_unclassified_string_and_bytes_are_warnings() -> None:
    findings = lint(
        {"name": "note", "type": ["null", "string"]},
        {"name": "blob", "type": "bytes"},
        {
            "name": "fee",
            "type": {"type": "bytes", "logicalType": "decimal", "precision": 4},
        },
    )
    assert [(f.path, f.severity, f.rule) for f in findings] == [
        ("note", "warning", "field.unclassified"),
        ("blob", "warning", "field.unclassified"),
    ]


def test_unknown_type_and_unsupported_action_are_errors() -> None:
    def policy_for(path: str, pii_type: str) -> FieldPolicy:
        return FieldPolicy(action="tokenize" if path == "memo" else None)

    schema = {
        "type": "record",
        "name": "R",
        "fields": [
            {"name": "code", "type": "string", "pii": "postcode"},
            {"name": "memo", "type": "string", "pii": "free_text"},
        ],
    }
    findings = lint_schema(schema, resolve, policy_for)
    assert [(f.path, f.severity, f.rule) for f in findings] == [
        ("code", "error", "tag.rejected"),
        ("memo", "error", "tag.rejected"),
    ]
    assert "postcode" in findings[0].message
    assert "tokenize" in findings[1].message


def test_invalid_schema_is_one_error() -> None:
    findings = lint_schema({"type": "enum", "name": "E"}, resolve, default_policy)
    assert [(f.path, f.rule) for f in findings] == [("(root)", "schema.invalid")]


def test_finding_str_names_path_and_rule() -> None:
    finding = Finding("a.b", "warning", "field.unclassified", "needs a tag")
    assert str(finding) == "a.b: needs a tag [field.unclassified]"
