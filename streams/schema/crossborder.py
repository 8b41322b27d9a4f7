"""Derive the cross-border schema that masked records are written with.

The cross-border schema has the shape and field types of the source schema,
so an overseas consumer decodes masked records with it. Each ``pii`` tag is
replaced by a ``seawall.masked`` annotation that names the PII type and the
action, and ``"pii": "none"`` tags are dropped.

Avro's Parsing Canonical Form drops attributes that are not part of the
type, so the cross-border schema usually has the same CRC-64-AVRO
fingerprint as the source schema. That is expected: the two write the same
bytes for the same values.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from streams.schema.names import inline_named_types
from streams.schema.nodes import TaggedField
from streams.schema.tags import tag_names

MASKED_ANNOTATION = "seawall.masked"

Annotations = Mapping[tuple[str, str], list[TaggedField]]


def cross_border_schema(
    schema: Any, named: Mapping[str, Any], annotations: Annotations
) -> Any:
    """Return the self-contained cross-border form of a parsed schema.

    Args:
        schema: The parsed source schema.
        named: Its named-type table.
        annotations: Tagged fields by ``(record full name, field name)``.
    """
    inlined = inline_named_types(schema, named)
    return _rewrite(inlined, annotations)


def _rewrite(schema: Any, annotations: Annotations) -> Any:
    """Replace the tags in one inlined schema node and its children."""
    if isinstance(schema, list):
        return [_rewrite(branch, annotations) for branch in schema]
    if not isinstance(schema, dict):
        return schema
    out = dict(schema)
    if "fields" in out:
        out["fields"] = [
            _rewrite_field(str(out["name"]), field, annotations)
            for field in out["fields"]
        ]
    for key in ("items", "values", "type"):
        if isinstance(out.get(key), (dict, list)):
            out[key] = _rewrite(out[key], annotations)
    return out


def _rewrite_field(
    record: str, field: Mapping[str, Any], annotations: Annotations
) -> dict[str, Any]:
    """Return a field with its tags replaced by the masking annotation."""
    tags = set(tag_names(field))
    out = {key: value for key, value in field.items() if key not in tags}
    out["type"] = _rewrite(out["type"], annotations)
    tagged = annotations.get((record, str(field["name"])))
    if tagged:
        out[MASKED_ANNOTATION] = _annotation(tagged)
    return out


def _annotation(tagged: list[TaggedField]) -> dict[str, Any]:
    """Describe a tagged field, listing actions by path when paths disagree."""
    first = tagged[0]
    note: dict[str, Any] = {
        "pii_type": first.pii_type,
        "sensitive": first.sensitive,
        "subject": first.subject,
    }
    actions = {t.path: t.action for t in tagged}
    if len(set(actions.values())) == 1:
        note["action"] = first.action
    else:
        note["actions"] = actions
    return note
