"""``seawall schema check``: check tagged Avro schemas before they reach Kafka.

Producer teams run it in their own CI, on ``.avsc`` files or on a subject of
a Confluent-compatible schema registry. It prints every field path with its
classification and action, then the problems, and exits 1 when it finds an
error (2 when it cannot run, as every ``seawall`` command). ``--format json``
prints one JSON document for CI tools.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Iterator
from dataclasses import asdict
from pathlib import Path
from typing import Any

from streams.codec.registry import SchemaRegistry
from streams.codec.store import SchemaStore
from streams.config import Policy, load_config
from streams.errors import ConfigError, SchemaError
from streams.schema.check import SchemaReport, check_schema
from streams.schema.names import UnknownTypeError
from streams.schema.tags import TagRules
from streams.tokenizers import resolve
from streams.tokenizers.base import FieldPolicy


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the ``schema check`` subcommand."""
    parser = subparsers.add_parser("schema", help="check tagged Avro schemas")
    actions = parser.add_subparsers(
        dest="schema_command", required=True, metavar="ACTION"
    )
    check = actions.add_parser(
        "check",
        help="list every field's classification and action, and the problems",
        description=(
            "Check .avsc files (PATH may be a file or a folder, whose files "
            "may share named types) or the latest version of a registry "
            "subject. Unclassified string and bytes fields are errors unless "
            "the configuration sets policy.unclassified: pass. Exit code 1 "
            "when an error is found."
        ),
    )
    check.add_argument("paths", nargs="*", metavar="PATH", type=Path)
    check.add_argument("--registry", metavar="URL", help="schema registry API URL")
    check.add_argument("--subject", help="registry subject, such as orders-value")
    check.add_argument(
        "--config",
        help="worker configuration whose policy (types, fields, tags, "
        "unclassified) applies; default: the built-in defaults",
    )
    check.add_argument(
        "--format", choices=("text", "json"), default="text", help="output format"
    )
    check.set_defaults(func=run_check)


def run_check(args: argparse.Namespace) -> int:
    """Check the schemas and print the report; return 1 when errors are found."""
    if bool(args.paths) == bool(args.registry):
        raise ConfigError("schema check needs PATH arguments or --registry, not both")
    if bool(args.registry) != bool(args.subject):
        raise ConfigError("--registry and --subject go together")
    policy = load_config(args.config).policy if args.config else Policy()
    if args.registry:
        reports = [_check_subject(args.registry, args.subject, policy)]
    else:
        reports = list(_check_files(args.paths, policy))
    print(_json(reports) if args.format == "json" else _text(reports))
    return 1 if any(report.errors for report in reports) else 0


def _check_subject(url: str, subject: str, policy: Policy) -> SchemaReport:
    registered = SchemaRegistry(url).fetch_subject(subject)
    source = f"{subject} v{registered.version} (id {registered.schema_id})"
    rules = TagRules(policy.tags, registered.metadata_tags)
    return _check(registered.schema, source, policy, registered.named_types, rules)


def _check_files(paths: list[Path], policy: Policy) -> Iterator[SchemaReport]:
    store = _load(paths)
    for entry in store:
        yield _check(
            entry.schema,
            str(entry.source),
            policy,
            store.named_types,
            TagRules(policy.tags),
        )


def _load(paths: list[Path]) -> SchemaStore:
    """Load schema files and folders into one store, in dependency order."""
    files: list[Path] = []
    for path in paths:
        if path.is_dir():
            files += sorted(p for p in path.rglob("*.avsc") if p.is_file())
        elif path.is_file():
            files.append(path)
        else:
            raise ConfigError(f"{path}: no such file or folder")
    store = SchemaStore()
    pending = {file: _read(file) for file in files}
    while pending:
        missing: dict[Path, Any] = {}
        for file, document in pending.items():
            try:
                store.add(document, source=file)
            except UnknownTypeError:
                missing[file] = document
        if len(missing) == len(pending):
            names = ", ".join(str(file) for file in missing)
            raise SchemaError(f"{names}: refer to types that no given file defines")
        pending = missing
    return store


def _read(file: Path) -> Any:
    try:
        return json.loads(file.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as err:
        raise SchemaError(f"{file}: cannot be read as JSON: {err}") from None


def _check(
    schema: Any,
    source: str,
    policy: Policy,
    named: Any,
    rules: TagRules,
) -> SchemaReport:
    name = schema.get("name", "") if isinstance(schema, dict) else ""
    namespace = schema.get("namespace", "") if isinstance(schema, dict) else ""
    label = f"{namespace}.{name}" if namespace and "." not in name else str(name)

    def policy_for(path: str, pii_type: str) -> FieldPolicy:
        return policy.for_field(label, path, pii_type)

    def tag_policy_for(path: str, pii_type: str, tag: str) -> FieldPolicy:
        return policy.for_field(label, path, pii_type, tag)

    return check_schema(
        schema,
        source=source,
        resolve=resolve,
        policy_for=policy_for,
        unclassified="pass" if policy.unclassified == "pass" else "block",
        named_types=named,
        tag_rules=rules,
        tag_policy_for=tag_policy_for,
    )


def _json(reports: list[SchemaReport]) -> str:
    document = {
        "errors": sum(report.errors for report in reports),
        "schemas": [
            {
                "name": report.name,
                "source": report.source,
                "fields": [asdict(field) for field in report.fields],
                "findings": [asdict(finding) for finding in report.findings],
            }
            for report in reports
        ],
    }
    return json.dumps(document, indent=2, ensure_ascii=False)


def _text(reports: list[SchemaReport]) -> str:
    lines: list[str] = []
    for report in reports:
        lines.append(f"{report.name or '(unnamed)'}  ({report.source})")
        width = max((len(field.path) for field in report.fields), default=0)
        for field in report.fields:
            lines.append(
                f"  {field.path:<{width}}  {field.classification:<16} {field.action}"
            )
        for finding in report.findings:
            lines.append(f"  {finding.severity.upper()}: {finding}")
        lines.append("")
    errors = sum(report.errors for report in reports)
    lines.append(f"{len(reports)} schemas checked, {errors} errors")
    return "\n".join(lines)
