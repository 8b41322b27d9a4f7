"""The ``pii`` tags that producers put on Avro record fields.

A field carries up to three attributes:

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
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

PII_TAG = "pii"
SENSITIVE_TAG = "pii.sensitive"
SUBJECT_TAG = "pii.subject"
KNOWN_TAGS = frozenset({PII_TAG, SENSITIVE_TAG, SUBJECT_TAG})
NOT_PERSONAL = "none"

_PII_TYPE = re.compile(r"[a-z][a-z0-9_]*\Z")


@dataclass(frozen=True)
class FieldTags:
    """The tags found on one field.

    Attributes:
        pii_type: The value of ``pii``, or None when the field has no tag.
        sensitive: The value of ``pii.sensitive``.
        subject: The value of ``pii.subject``.
    """

    pii_type: str | None = None
    sensitive: bool = False
    subject: bool = False

    @property
    def personal(self) -> bool:
        """True when the tag names a PII type (not ``none``)."""
        return self.pii_type is not None and self.pii_type != NOT_PERSONAL


def tag_names(attributes: Mapping[str, Any]) -> list[str]:
    """Return the attribute names that look like ``pii`` tags."""
    return [key for key in attributes if key == PII_TAG or key.startswith("pii.")]


def read_tags(field: Mapping[str, Any]) -> tuple[FieldTags, list[str]]:
    """Read the tags of one record field.

    Returns:
        The tags, and one message per malformed tag. The tags are only
        meaningful when the list of messages is empty.
    """
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
