"""Load Avro schema files and look schemas up by fingerprint or name."""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from streams.codec import single_object
from streams.codec.fingerprint import canonical_form, crc64_avro
from streams.errors import SchemaError
from streams.schema.names import (
    UnknownTypeError,
    full_name,
    inline_named_types,
    is_recursive,
    parse,
)


@dataclass(frozen=True, eq=False)
class SchemaEntry:
    """One top-level schema and its fingerprint.

    Attributes:
        name: The full name of the top-level type, or None when it is not a
            named type.
        fingerprint: The CRC-64-AVRO fingerprint, 8 little-endian bytes as in
            the single-object header.
        schema: The schema as self-contained JSON objects, each named type
            defined at its first use.
        parsed: The schema as parsed by fastavro, for reading and writing.
        canonical_form: The Avro Parsing Canonical Form of the schema.
        named_types: Every named type the schema can use, by full name.
        recursive: True when a record of the schema contains itself, so
            that values can nest to any depth.
        source: The file the schema came from, or None.
    """

    name: str | None
    fingerprint: bytes
    schema: Any
    parsed: Any
    canonical_form: str
    named_types: Mapping[str, Any]
    recursive: bool
    source: Path | None = None

    @property
    def label(self) -> str:
        """The name, or the fingerprint in hex when the schema has no name."""
        return self.name or self.fingerprint.hex()

    @classmethod
    def from_schema(
        cls,
        schema: Any,
        *,
        named_types: Mapping[str, Any] | None = None,
        source: Path | None = None,
    ) -> SchemaEntry:
        """Parse a schema and compute its fingerprint.

        Args:
            schema: The schema, as JSON objects or as parsed by fastavro.
            named_types: Named types defined elsewhere, by full name.
            source: The file the schema came from, for error messages.

        Raises:
            SchemaError: The schema is invalid or refers to an unknown type.
        """
        parsed, named = parse(schema, named_types)
        inlined = inline_named_types(parsed, named)
        form = canonical_form(inlined)
        return cls(
            name=full_name(parsed),
            fingerprint=crc64_avro(form),
            schema=inlined,
            parsed=parsed,
            canonical_form=form,
            named_types=named,
            recursive=is_recursive(parsed, named),
            source=source,
        )


class SchemaStore:
    """The schemas a worker can decode, by fingerprint and by full name."""

    def __init__(self) -> None:
        self._by_fingerprint: dict[bytes, SchemaEntry] = {}
        self._by_name: dict[str, SchemaEntry] = {}
        self._named: dict[str, Any] = {}

    @classmethod
    def from_directory(cls, path: str | Path) -> SchemaStore:
        """Load every ``*.avsc`` file under a directory, recursively.

        A file may refer to named types defined in other files. Files are
        added in dependency order, so the order on disk does not matter.

        Raises:
            SchemaError: A file is not valid JSON or Avro, defines a type
                that another file defines too, or refers to a type no file
                defines. The message names each file.
        """
        root = Path(path)
        files = sorted(p for p in root.rglob("*.avsc") if p.is_file())
        if not files:
            raise SchemaError(f"{root}: no *.avsc files found under the directory")
        store = cls()
        store._add_in_dependency_order({file: _load_json(file) for file in files})
        return store

    def _add_in_dependency_order(self, documents: dict[Path, Any]) -> None:
        """Add documents, retrying those that need types from later ones."""
        pending = dict(documents)
        while pending:
            missing: dict[Path, str] = {}
            for file, document in pending.items():
                try:
                    self.add(document, source=file)
                except UnknownTypeError as err:
                    missing[file] = err.name
            if len(missing) == len(pending):
                raise SchemaError(
                    "\n".join(
                        f"{file}: refers to type {name!r}, which no schema file defines"
                        for file, name in sorted(missing.items())
                    )
                )
            pending = {file: pending[file] for file in missing}

    def add(self, schema: Any, *, source: Path | None = None) -> SchemaEntry:
        """Add one top-level schema, which may use types added before.

        Raises:
            UnknownTypeError: The schema refers to a type not added yet.
            SchemaError: The schema is invalid, or redefines a type or a
                fingerprint already in the store.
        """
        where = f"{source}: " if source else ""
        try:
            entry = SchemaEntry.from_schema(
                schema, named_types=self._named, source=source
            )
        except UnknownTypeError:
            raise
        except SchemaError as err:
            raise SchemaError(f"{where}{err}") from err
        self._check_new(entry, where)
        self._by_fingerprint[entry.fingerprint] = entry
        if entry.name is not None:
            self._by_name[entry.name] = entry
        self._named.update(entry.named_types)
        return entry

    def _check_new(self, entry: SchemaEntry, where: str) -> None:
        """Reject an entry whose name or fingerprint is already taken."""
        taken = self._by_fingerprint.get(entry.fingerprint)
        if taken is None and entry.name is not None:
            taken = self._by_name.get(entry.name)
        if taken is not None:
            raise SchemaError(
                f"{where}schema {entry.label} (fingerprint "
                f"{entry.fingerprint.hex()}) is already loaded from "
                f"{taken.source or 'another schema'}: remove one of them"
            )

    @property
    def named_types(self) -> Mapping[str, Any]:
        """Every named type of the loaded schemas, by full name."""
        return self._named

    def __iter__(self) -> Iterator[SchemaEntry]:
        return iter(self._by_fingerprint.values())

    def __len__(self) -> int:
        return len(self._by_fingerprint)

    def by_fingerprint(self, fingerprint: bytes) -> SchemaEntry:
        """Return the schema with an 8-byte little-endian fingerprint.

        Raises:
            SchemaError: No loaded schema has the fingerprint.
        """
        try:
            return self._by_fingerprint[fingerprint]
        except KeyError:
            raise SchemaError(
                f"no loaded schema has fingerprint {fingerprint.hex()}"
            ) from None

    def by_name(self, name: str) -> SchemaEntry:
        """Return the top-level schema with a full name.

        Raises:
            SchemaError: No loaded top-level schema has the name.
        """
        try:
            return self._by_name[name]
        except KeyError:
            known = ", ".join(sorted(self._by_name)) or "none"
            raise SchemaError(
                f"no loaded top-level schema is named {name!r}. Loaded: {known}"
            ) from None

    def encode(self, schema: SchemaEntry | str, record: Any) -> bytes:
        """Encode a record with a schema given as entry or full name.

        Raises:
            SchemaError: No loaded schema has the name.
            RecordError: The record does not match the schema.
        """
        entry = self.by_name(schema) if isinstance(schema, str) else schema
        return single_object.encode(entry, record)

    def decode(self, data: bytes) -> tuple[SchemaEntry, Any]:
        """Decode a single-object encoded value with the schema it names.

        Raises:
            DecodeError: The value is malformed or its schema is not loaded.
        """
        return single_object.decode(data, self._by_fingerprint.get)


def _load_json(file: Path) -> Any:
    """Read one schema file as JSON."""
    try:
        return json.loads(file.read_text(encoding="utf-8"))
    except json.JSONDecodeError as err:
        raise SchemaError(
            f"{file}: invalid JSON at line {err.lineno} column {err.colno}: {err.msg}"
        ) from None
    except (OSError, UnicodeDecodeError) as err:
        raise SchemaError(f"{file}: cannot be read: {err}") from None
