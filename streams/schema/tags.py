"""The tags that classify Avro record fields as personal information.

A field is classified from three places:

1. Its own ``pii`` attributes, described below.
2. Confluent's field-level ``"confluent:tags": ["TAG", ...]`` attribute.
3. Confluent's schema-level ``metadata.tags``, which a schema registry keeps
   beside the schema and which maps path patterns to tag names, such as
   ``{"**.ssn": ["PII_SSN"]}``. A pattern is matched against the record's
   full name and the field name (``crm.Customer.ssn``): ``?`` matches one
   character and ``*`` one or more characters within a dot-separated name,
   ``**`` any characters across names, as in Confluent's wildcard matcher.

Confluent tag names mean nothing by themselves: `TagRules.types` maps each
tag name to a PII type (from the ``policy.tags`` configuration). A tag name
that no rule maps leaves the field unclassified, so strict mode still blocks
records with a value there.

A field carries up to three ``pii`` attributes:

- ``"pii": "<type>"`` names the PII type of the field's values, such as
  ``"cn_mobile"``. ``"pii": "none"`` marks a field as classified and not
  personal information, so it passes unchanged.
- ``"pii.sensitive": true`` marks sensitive personal information in the
  sense of PIPL article 28.
- ``"pii.subject": true`` marks the field that identifies the data subject.

Tags belong on record fields. Any other attribute whose name starts with
``pii`` is reported as malformed, so a misspelt tag never passes silently.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

PII_TAG = "pii"
SENSITIVE_TAG = "pii.sensitive"
SUBJECT_TAG = "pii.subject"
KNOWN_TAGS = frozenset({PII_TAG, SENSITIVE_TAG, SUBJECT_TAG})
NOT_PERSONAL = "none"
CONFLUENT_TAGS = "confluent:tags"

_PII_TYPE = re.compile(r"[a-z][a-z0-9_]*\Z")


@dataclass(frozen=True)
class FieldTags:
    """The tags found on one field.

    Attributes:
        pii_type: The value of ``pii``, or None when the field has no tag.
        sensitive: The value of ``pii.sensitive``.
        subject: The value of ``pii.subject``.
        tag: The Confluent tag name that gave the PII type, or None when
            the ``pii`` attribute gave it or the field has no tag.
        unmapped: Confluent tag names on the field that no rule maps.
    """

    pii_type: str | None = None
    sensitive: bool = False
    subject: bool = False
    tag: str | None = None
    unmapped: tuple[str, ...] = ()

    @property
    def personal(self) -> bool:
        """True when the tag names a PII type (not ``none``)."""
        return self.pii_type is not None and self.pii_type != NOT_PERSONAL


@dataclass(frozen=True)
class TagRule:
    """The meaning of one Confluent tag name.

    Attributes:
        pii_type: The PII type of fields with the tag.
        sensitive: True when such fields contain sensitive personal
            information (PIPL article 28).
    """

    pii_type: str
    sensitive: bool = False


@dataclass(frozen=True)
class TagRules:
    """The rules by which Confluent tags classify the fields of one schema.

    Attributes:
        types: The rule of each tag name, by tag name.
        metadata: The schema's ``metadata.tags``: tag names by path pattern.
    """

    types: Mapping[str, TagRule] = field(default_factory=dict)
    metadata: Mapping[str, Sequence[str]] = field(default_factory=dict)

    def with_metadata(self, metadata: Mapping[str, Sequence[str]]) -> TagRules:
        """Return these rules with a schema's ``metadata.tags``."""
        return TagRules(self.types, dict(metadata))

    def tags_at(self, field_name: str) -> list[str]:
        """Return the metadata tag names whose pattern matches a field name.

        Args:
            field_name: The record's full name and the field name, joined by
                a dot, such as ``crm.Customer.ssn``.
        """
        found: list[str] = []
        for pattern, names in self.metadata.items():
            if _wildcard(pattern).fullmatch(field_name):
                found += [name for name in names if name not in found]
        return found


def _wildcard(pattern: str) -> re.Pattern[str]:
    """Compile a Confluent path pattern into a regular expression."""
    pattern = pattern.replace("**.*", "**")
    parts: list[str] = []
    i = 0
    while i < len(pattern):
        if pattern.startswith("**", i):
            parts.append(".*")
            i += 2
            continue
        char = pattern[i]
        if char == "*":
            parts.append("[^.]*")
        elif char == "?":
            parts.append("[^.]")
        else:
            parts.append(re.escape(char))
        i += 1
    return re.compile("".join(parts))


def tag_names(attributes: Mapping[str, Any]) -> list[str]:
    """Return the attribute names that look like ``pii`` tags."""
    return [key for key in attributes if key == PII_TAG or key.startswith("pii.")]


def read_tags(
    field: Mapping[str, Any], *, record: str = "", rules: TagRules | None = None
) -> tuple[FieldTags, list[str]]:
    """Read the tags of one record field.

    Args:
        field: The record field.
        record: The full name of the record, for ``metadata.tags`` patterns.
        rules: What Confluent tag names mean, or None to read only the
            ``pii`` attributes.

    Returns:
        The tags, and one message per malformed or conflicting tag. The tags
        are only meaningful when the list of messages is empty.
    """
    tags, problems = _read_pii_attributes(field)
    if rules is None:
        return tags, problems
    names = _confluent_tag_names(field, problems)
    names += [
        name
        for name in rules.tags_at(f"{record}.{field.get('name')}")
        if name not in names
    ]
    mapped = [name for name in names if name in rules.types]
    unmapped = tuple(name for name in names if name not in rules.types)
    types = {rules.types[name].pii_type for name in mapped}
    if tags.pii_type is not None:
        types.add(tags.pii_type)
    if len(types) > 1:
        problems.append(
            f"tags give different PII types ({', '.join(sorted(types))}): keep "
            "one type per field, or map the tags to the same type"
        )
        return tags, problems
    if tags.pii_type is not None or not mapped:
        return FieldTags(
            tags.pii_type, tags.sensitive, tags.subject, None, unmapped
        ), problems
    sensitive = tags.sensitive or any(rules.types[n].sensitive for n in mapped)
    return FieldTags(
        rules.types[mapped[0]].pii_type, sensitive, tags.subject, mapped[0], unmapped
    ), problems


def _confluent_tag_names(field: Mapping[str, Any], problems: list[str]) -> list[str]:
    """Return the names in a field's ``confluent:tags`` attribute."""
    value = field.get(CONFLUENT_TAGS, [])
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return list(dict.fromkeys(value))
    problems.append(f"attribute {CONFLUENT_TAGS!r} must be a list of tag names")
    return []


def _read_pii_attributes(field: Mapping[str, Any]) -> tuple[FieldTags, list[str]]:
    """Read the ``pii`` attributes of one record field."""
    problems = [
        f"unknown tag {key!r}: the known tags are {', '.join(sorted(KNOWN_TAGS))}"
        for key in tag_names(field)
        if key not in KNOWN_TAGS
    ]
    pii_type = field.get(PII_TAG)
    if pii_type is not None and not (
        isinstance(pii_type, str) and _PII_TYPE.match(pii_type)
    ):
        problems.append(
            f"tag {PII_TAG!r} must be a PII type name in lower case letters, "
            'digits and underscores, such as "cn_mobile", or "none"'
        )
        pii_type = None
    sensitive = _read_flag(field, SENSITIVE_TAG, problems)
    subject = _read_flag(field, SUBJECT_TAG, problems)
    tags = FieldTags(pii_type, sensitive, subject)
    if (sensitive or subject) and not tags.personal:
        problems.append(
            f"tags {SENSITIVE_TAG!r} and {SUBJECT_TAG!r} need a {PII_TAG!r} tag "
            "that names a PII type"
        )
    return tags, problems


def _read_flag(field: Mapping[str, Any], name: str, problems: list[str]) -> bool:
    """Read a boolean tag, appending a message when it is not a boolean."""
    value = field.get(name, False)
    if isinstance(value, bool):
        return value
    problems.append(f"tag {name!r} must be true or false")
    return False
