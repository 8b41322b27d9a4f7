"""Schema walking: find the ``pii`` tags of an Avro schema and plan masking.

Field paths name a place in a record, the same way in plans, errors, policy
lookups and audit events:

- record fields are joined by ``.``: ``customer.address.city``;
- ``[]`` means every item of an array: ``contacts[].mobile``, and a tag
  on an array of strings applies to each item, at ``phones[]``;
- ``{}`` means every value of a map: ``attributes{}.value``;
- in a union of several non-null types, ``<Name>`` selects a branch by the
  short name of a named type (the full name when two branches share a short
  name) or by the Avro type name: ``payment<CardPayment>.number``. A union of
  null and one type adds no segment.

Recursive types repeat segments at run time (``manager.manager.name``),
while the plan itself stays finite.
"""

from streams.schema.compiler import Finding, PolicyLookup, Resolver
from streams.schema.crossborder import MASKED_ANNOTATION
from streams.schema.names import inline_named_types
from streams.schema.nodes import TaggedField
from streams.schema.plan import MaskingPlan, UnclassifiedMode, build_plan, lint_schema

__all__ = [
    "MASKED_ANNOTATION",
    "Finding",
    "MaskingPlan",
    "PolicyLookup",
    "Resolver",
    "TaggedField",
    "UnclassifiedMode",
    "build_plan",
    "inline_named_types",
    "lint_schema",
]
