"""Build the masking plan of a tagged Avro schema, and lint such schemas.

`build_plan` checks every tag against the caller's resolver and policy,
raises one `SchemaError` that lists every problem, and returns a
`MaskingPlan`: the parsed source schema, the cross-border schema, the tagged
and unclassified fields, and the compiled nodes that `streams.masking`
walks. `lint_schema` runs the same checks and returns the problems instead.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from streams.errors import SchemaError
from streams.schema.compiler import (
    Compiler,
    Finding,
    PolicyLookup,
    Resolver,
    TagPolicyLookup,
)
from streams.schema.crossborder import cross_border_schema
from streams.schema.names import full_name, parse
from streams.schema.nodes import Node, TaggedField
from streams.schema.tags import TagRules

UnclassifiedMode = Literal["block", "pass"]
UNCLASSIFIED_MODES = ("block", "pass")


@dataclass(frozen=True, eq=False)
class MaskingPlan:
    """How to mask the records of one schema.

    Attributes:
        name: The full name of the top-level type, or None when it is not a
            named type.
        source_schema: The source schema as parsed by fastavro.
        named_types: Every named type the source schema can use, by full name.
        cross_border_schema: The schema masked records are written with, as
            self-contained JSON objects (see `streams.schema.crossborder`).
        fields: The tagged fields, one per path, in schema order. A recursive
            type is listed once, at its outermost path.
        unclassified: Paths of string and bytes fields with no tag.
        unclassified_mode: ``block`` when a value in an unclassified field
            blocks the record, ``pass`` when it passes unchanged.
        root: The compiled nodes, or None when no field needs work.
    """

    name: str | None
    source_schema: Any
    named_types: Mapping[str, Any]
    cross_border_schema: Any
    fields: tuple[TaggedField, ...]
    unclassified: tuple[str, ...]
    unclassified_mode: UnclassifiedMode
    root: Node | None


def build_plan(
    schema: Any,
    *,
    resolve: Resolver,
    policy_for: PolicyLookup,
    unclassified: UnclassifiedMode = "block",
    named_types: Mapping[str, Any] | None = None,
    tag_rules: TagRules | None = None,
    tag_policy_for: TagPolicyLookup | None = None,
) -> MaskingPlan:
    """Check the tags of a schema and build its masking plan.

    Args:
        schema: The source schema, as JSON objects or as parsed by fastavro.
        resolve: Returns the transformer for a PII type, leaf type and policy,
            and raises `SchemaError` when it has none.
        policy_for: Returns the policy for a field path and PII type.
        unclassified: ``block`` (the default) blocks a record when a string
            or bytes field with no tag contains a non-empty value. ``pass`` lets
            such values through unchanged.
        named_types: Named types defined in other schema files, by full name.
        tag_rules: What Confluent tags mean, or None to read only the ``pii``
            attributes.
        tag_policy_for: Returns the policy for a field classified by a
            Confluent tag, given its path, PII type and tag name. Without
            it, `policy_for` is used.

    Raises:
        SchemaError: The schema is invalid or cannot be masked as tagged. The
            message has one line per problem, each naming the field path.
    """
    if unclassified not in UNCLASSIFIED_MODES:
        raise SchemaError(
            f"unclassified={unclassified!r} is invalid: use 'block' or 'pass'"
        )
    parsed, named = parse(schema, named_types)
    compiler = Compiler(
        named,
        resolve,
        policy_for,
        check_unclassified=unclassified == "block",
        tag_rules=tag_rules,
        tag_policy_for=tag_policy_for,
    )
    root = compiler.compile(parsed)
    name = full_name(parsed)
    if compiler.findings:
        raise SchemaError(_report(name, compiler.findings))
    return MaskingPlan(
        name=name,
        source_schema=parsed,
        named_types=named,
        cross_border_schema=cross_border_schema(parsed, named, compiler.annotations),
        fields=tuple(compiler.fields),
        unclassified=tuple(compiler.unclassified),
        unclassified_mode=unclassified,
        root=root,
    )


def lint_schema(
    schema: Any,
    resolve: Resolver,
    policy_for: PolicyLookup,
    *,
    named_types: Mapping[str, Any] | None = None,
    tag_rules: TagRules | None = None,
    tag_policy_for: TagPolicyLookup | None = None,
) -> list[Finding]:
    """Check the tags of a schema for a producer and list what is wrong.

    Errors are the problems that make `build_plan` raise: malformed or
    misplaced tags, tags on records or multi-type unions, and tags the
    resolver rejects (an unknown PII type, or a type or action the PII type
    cannot take), all under rule ``tag.rejected`` with the resolver's
    message. Each string or bytes field with no tag is a warning under rule
    ``field.unclassified``, because strict mode blocks records with a value
    there. A Confluent tag that no rule maps is a warning under rule
    ``tag.unmapped``.

    Returns:
        The findings in schema order, or an empty list when the schema is clean.
    """
    try:
        parsed, named = parse(schema, named_types)
    except SchemaError as err:
        return [Finding("(root)", "error", "schema.invalid", str(err))]
    compiler = Compiler(
        named,
        resolve,
        policy_for,
        check_unclassified=False,
        tag_rules=tag_rules,
        tag_policy_for=tag_policy_for,
    )
    compiler.compile(parsed)
    warnings = compiler.warnings + [
        Finding(
            path,
            "warning",
            "field.unclassified",
            "string or bytes field has no pii tag: tag it with its PII type, "
            'or with "pii": "none" when it contains no personal information',
        )
        for path in compiler.unclassified
    ]
    return compiler.findings + warnings


def _report(name: str | None, findings: list[Finding]) -> str:
    """Format the findings of a failed build, one line each."""
    subject = f"schema {name}" if name else "schema"
    lines = [f"{subject} cannot be masked as tagged ({len(findings)} problems):"]
    lines += [f"  {finding}" for finding in findings]
    return "\n".join(lines)
