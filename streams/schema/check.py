"""Check a producer's schema: classify every field and list what is wrong.

`check_schema` is what ``seawall schema check`` runs on each schema. It
lists every leaf field path with its classification and action, and the
problems `lint_schema` finds. In strict mode (``unclassified: block``, the
default) an untagged string or bytes field is an error, because every record
with a value there would be blocked. With ``unclassified: pass`` it is a
warning.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from streams.schema.compiler import (
    Compiler,
    Finding,
    PolicyLookup,
    Resolver,
    TagPolicyLookup,
)
from streams.schema.names import full_name, parse
from streams.schema.plan import UnclassifiedMode, lint_schema
from streams.schema.tags import NOT_PERSONAL, TagRules


@dataclass(frozen=True)
class FieldReport:
    """One leaf field path and how it is treated.

    Attributes:
        path: The field path.
        classification: The PII type (``none`` when tagged as not personal),
            ``unclassified`` for an untagged string
            or bytes field, or ``not_text`` for other untagged leaves.
        action: The action applied, ``block`` or ``pass`` for unclassified
            fields (as configured), ``pass`` for other untagged leaves.
    """

    path: str
    classification: str
    action: str


@dataclass(frozen=True)
class SchemaReport:
    """The result of checking one schema.

    Attributes:
        name: The full name of the top-level type, or None.
        source: Where the schema came from: a file, or a registry subject.
        fields: Every leaf field path, in schema order by kind.
        findings: Errors and warnings, in schema order.
    """

    name: str | None
    source: str
    fields: tuple[FieldReport, ...]
    findings: tuple[Finding, ...]

    @property
    def errors(self) -> int:
        """The number of error findings."""
        return sum(1 for finding in self.findings if finding.severity == "error")


def check_schema(
    schema: Any,
    *,
    source: str,
    resolve: Resolver,
    policy_for: PolicyLookup,
    unclassified: UnclassifiedMode = "block",
    named_types: Mapping[str, Any] | None = None,
    tag_rules: TagRules | None = None,
    tag_policy_for: TagPolicyLookup | None = None,
) -> SchemaReport:
    """Classify every field of a schema and collect its problems."""
    findings = lint_schema(
        schema,
        resolve,
        policy_for,
        named_types=named_types,
        tag_rules=tag_rules,
        tag_policy_for=tag_policy_for,
    )
    if any(f.rule == "schema.invalid" for f in findings):
        return SchemaReport(None, source, (), tuple(findings))
    parsed, named = parse(schema, named_types)
    compiler = Compiler(
        named,
        resolve,
        policy_for,
        check_unclassified=False,
        tag_rules=tag_rules,
        tag_policy_for=tag_policy_for,
    )
    compiler.compile(parsed)
    fields = [FieldReport(f.path, f.pii_type, f.action) for f in compiler.fields]
    fields += [
        FieldReport(p, "unclassified", unclassified) for p in compiler.unclassified
    ]
    fields += [FieldReport(p, NOT_PERSONAL, "pass") for p in compiler.not_personal]
    fields += [FieldReport(p, "not_text", "pass") for p in compiler.other]
    if unclassified == "block":
        findings = [
            _as_error(f) if f.rule == "field.unclassified" else f for f in findings
        ]
    return SchemaReport(full_name(parsed), source, tuple(fields), tuple(findings))


def _as_error(finding: Finding) -> Finding:
    """Turn an unclassified-field warning into an error, for strict mode."""
    return Finding(finding.path, "error", finding.rule, finding.message)
