"""Named Avro types: parsing, dereferencing and self-contained forms.

fastavro's parsed form names every record, enum and fixed by its full name
and refers to a type defined elsewhere by that full name. The helpers here
look such references up in a table of named types and write a schema out
again with each named type defined at its first use, which is the form that
the Avro Parsing Canonical Form and schema registries expect.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from fastavro.schema import SchemaParseException, UnknownType, parse_schema

from streams.errors import SchemaError

PRIMITIVES = frozenset(
    {"null", "boolean", "int", "long", "float", "double", "bytes", "string"}
)
NAMED_KINDS = frozenset({"record", "enum", "fixed"})

# Keys that fastavro adds to a parsed schema. They are not Avro attributes.
_FASTAVRO_KEYS = frozenset({"__fastavro_parsed", "__named_schemas"})

NamedTypes = dict[str, Any]


class UnknownTypeError(SchemaError):
    """A schema refers to a named type that is not defined.

    Attributes:
        name: The full name of the missing type.
    """

    def __init__(self, name: str) -> None:
        super().__init__(
            f"unknown type {name!r}: define it in this schema or load the "
            "schema file that defines it first"
        )
        self.name = name


def parse(
    schema: Any, named: Mapping[str, Any] | None = None
) -> tuple[Any, NamedTypes]:
    """Parse a schema with fastavro and return it with its named-type table.

    Args:
        schema: An Avro schema as JSON objects, or a schema that fastavro has
            already parsed.
        named: Named types defined elsewhere (in other schema files) that the
            schema may refer to, keyed by full name.

    Raises:
        SchemaError: The schema is not valid Avro or refers to an unknown type.

    NOTE: fastavro 1.13 accepts some invalid schemas, such as a record
    without ``fields``, duplicate field names or duplicate union branches.
    They are not rejected here either.
    """
    table: NamedTypes = dict(named or {})
    if isinstance(schema, dict) and "__named_schemas" in schema:
        table.update(schema["__named_schemas"])
        return schema, table
    try:
        parsed = parse_schema(schema, named_schemas=table)
    except UnknownType as err:
        raise UnknownTypeError(str(err.name)) from err
    except KeyError as err:
        raise SchemaError(f"invalid Avro schema: missing attribute {err}") from err
    except (SchemaParseException, ValueError, TypeError) as err:
        raise SchemaError(f"invalid Avro schema: {err}") from err
    return parsed, table


def deref(schema: Any, named: Mapping[str, Any]) -> Any:
    """Return the definition of a named-type reference, or the schema itself."""
    if isinstance(schema, str) and schema not in PRIMITIVES:
        try:
            return named[schema]
        except KeyError:
            raise UnknownTypeError(schema) from None
    return schema


def kind(schema: Any) -> str:
    """Return the Avro type name of a dereferenced schema (``union`` for a list)."""
    if isinstance(schema, list):
        return "union"
    if isinstance(schema, str):
        return schema
    inner = schema["type"]
    return inner if isinstance(inner, str) else kind(inner)


def full_name(schema: Any) -> str | None:
    """Return the full name of a named type, or None for an unnamed one."""
    if isinstance(schema, dict) and kind(schema) in NAMED_KINDS:
        return str(schema["name"])
    return None


def inline_named_types(schema: Any, named: Mapping[str, Any]) -> Any:
    """Return a self-contained copy of a parsed schema.

    Each named type is defined at its first use, in document order, and
    referred to by full name after that, so recursive types stay finite.
    fastavro's private keys are dropped. The input is not changed.
    """
    return _inline(schema, named, set())


def _inline(schema: Any, named: Mapping[str, Any], defined: set[str]) -> Any:
    """Copy one schema node, defining named types not yet in ``defined``."""
    if isinstance(schema, str):
        if schema in PRIMITIVES or schema in defined:
            return schema
        return _inline(deref(schema, named), named, defined)
    if isinstance(schema, list):
        return [_inline(branch, named, defined) for branch in schema]
    name = full_name(schema)
    if name is not None:
        if name in defined:
            return name
        defined.add(name)
    copy = {k: v for k, v in schema.items() if k not in _FASTAVRO_KEYS}
    if "fields" in copy:
        copy["fields"] = [
            {**f, "type": _inline(f["type"], named, defined)} for f in copy["fields"]
        ]
    for key in ("items", "values"):
        if key in copy:
            copy[key] = _inline(copy[key], named, defined)
    if isinstance(copy.get("type"), (dict, list)):
        copy["type"] = _inline(copy["type"], named, defined)
    return copy


def is_recursive(schema: Any, named: Mapping[str, Any]) -> bool:
    """True when a record in the schema contains itself, directly or not."""
    return _reaches_enclosing(schema, named, ())


def _reaches_enclosing(
    schema: Any, named: Mapping[str, Any], enclosing: tuple[str, ...]
) -> bool:
    """True when the schema refers to a record in ``enclosing`` or to itself."""
    schema = deref(schema, named)
    if isinstance(schema, list):
        return any(_reaches_enclosing(b, named, enclosing) for b in schema)
    if not isinstance(schema, dict):
        return False
    avro_type = kind(schema)
    if avro_type == "record":
        name = str(schema["name"])
        if name in enclosing:
            return True
        return any(
            _reaches_enclosing(f["type"], named, (*enclosing, name))
            for f in schema["fields"]
        )
    if avro_type in ("array", "map"):
        return _reaches_enclosing(
            schema["items" if avro_type == "array" else "values"], named, enclosing
        )
    return False
