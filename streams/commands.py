"""The ``worker``, ``tokenize`` and ``detokenize`` subcommands.

``detokenize`` re-identifies personal information, so every call writes a
re-identification event (see `streams.reidentify`) before it prints a value.
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence

from streams.config import Config, load_config
from streams.engine import MaskingEngine, load_keyring
from streams.errors import ConfigError, InvalidValueError
from streams.kafka_clients import confluent_config
from streams.keys import KeyVersion
from streams.reidentify import (
    DEFAULT_TIMEOUT_SECONDS,
    Operator,
    RecordCoordinates,
    Reidentified,
    Request,
    check_reason,
    fetch_record,
    restore_record,
    reverse_values,
    run_audited,
    sink_for,
)
from streams.tokenizers import resolve
from streams.tokenizers.base import FieldPolicy, FieldTransformer, LeafType

logger = logging.getLogger(__name__)

_KEY_VERSION_HELP = (
    "key version (default: the active one). To reverse tokens of an output "
    "record, pass the value of the record's seawall.key_version header"
)


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the worker and tokenization subcommands."""
    worker = subparsers.add_parser(
        "worker", help="run the stream worker until SIGTERM or SIGINT"
    )
    _add_config(worker)
    worker.set_defaults(func=run_worker)

    tokenize = subparsers.add_parser(
        "tokenize", help="print the token of each VALUE, one per line"
    )
    _add_config(tokenize)
    tokenize.add_argument(
        "--type", required=True, dest="pii_type", help="PII type, such as cn_mobile"
    )
    tokenize.add_argument("--key-version", type=int, help=_KEY_VERSION_HELP)
    tokenize.add_argument("values", nargs="+", metavar="VALUE")
    tokenize.set_defaults(func=run_tokenize)

    _register_detokenize(subparsers)


def _register_detokenize(
    subparsers: argparse._SubParsersAction[argparse.ArgumentParser],
) -> None:
    """Add the detokenize subcommand and its two forms."""
    parser = subparsers.add_parser(
        "detokenize",
        help="print the originals of tokens, or restore one output record",
        description=(
            "Reverse tokens given as VALUE arguments (--type), or restore the "
            "record at TOPIC:PARTITION:OFFSET of a cross-border topic "
            "(--record). Every call first writes a re-identification event to "
            "the audit topic, or to reidentification_log when the "
            "configuration has no kafka section; nothing is printed when that "
            "write fails."
        ),
    )
    _add_config(parser)
    parser.add_argument(
        "--reason",
        required=True,
        help="purpose of the re-identification, recorded in the audit event "
        "(required, one line; a ticket reference, never personal data)",
    )
    target = parser.add_mutually_exclusive_group(required=True)
    target.add_argument(
        "--type",
        dest="pii_type",
        help="PII type of the VALUE tokens, such as cn_mobile",
    )
    target.add_argument(
        "--record",
        metavar="TOPIC:PARTITION:OFFSET",
        help="restore the record at these coordinates (as in its seawall.source "
        "header on the audit event) and print it as JSON; the key version comes "
        "from its seawall.key_version header",
    )
    parser.add_argument("--key-version", type=int, help=_KEY_VERSION_HELP)
    parser.add_argument(
        "--timeout",
        type=float,
        default=DEFAULT_TIMEOUT_SECONDS,
        help="seconds to wait for the record with --record "
        f"(default {DEFAULT_TIMEOUT_SECONDS:g})",
    )
    parser.add_argument("values", nargs="*", metavar="VALUE")
    parser.set_defaults(func=run_detokenize)


def _add_config(parser: argparse.ArgumentParser) -> None:
    """Add the --config option every subcommand takes."""
    parser.add_argument(
        "--config", required=True, help="path of the YAML configuration file"
    )


def run_worker(args: argparse.Namespace) -> int:
    """Run the worker: build every masking plan, check the topics, consume."""
    from streams.worker import SeawallApp

    config = load_config(args.config)
    if config.kafka_settings is None:
        raise ConfigError(
            f"configuration {args.config} has no 'kafka' section: the worker "
            "command needs kafka.bootstrap_servers"
        )
    engine = MaskingEngine.from_config(config)
    app = SeawallApp(config, engine)
    app.check_topics()
    return app.run()


def run_tokenize(args: argparse.Namespace) -> int:
    """Print the token of each value."""
    config = load_config(args.config)
    transformer = _transformer(config, args.pii_type)
    key = _key_version(config, args.key_version)
    failures = 0
    for position, value in enumerate(args.values, start=1):
        try:
            print(transformer.apply(value, key).value)
        except InvalidValueError as exc:
            # The message names the rule, never the value. The position shows
            # the operator which argument it was.
            print(f"seawall: VALUE {position}: {exc}", file=sys.stderr)
            failures += 1
    return 1 if failures else 0


def run_detokenize(args: argparse.Namespace) -> int:
    """Reverse tokens or one record, audit the request, then print the output.

    Raises:
        ConfigError: The options or the configuration are invalid. No event
            is written, because nothing was reversed.
        AuditWriteError: The event could not be written; nothing is printed.
        SeawallError: The request failed after its event was written.
    """
    reason = check_reason(args.reason)
    config = load_config(args.config)
    operator = Operator.current()
    if args.record is None:
        _check_values_form(args)
        request = Request(operator, reason, pii_type=args.pii_type)
        outcome = run_audited(
            sink_for(config),
            request,
            lambda: _reverse_arguments(
                config, args.pii_type, args.key_version, args.values
            ),
        )
        return _print(outcome, exit_on_problems=True)
    coordinates = _check_record_form(args, config)
    request = Request(operator, reason, source=coordinates)
    outcome = run_audited(
        sink_for(config),
        request,
        lambda: _restore_from_topic(config, coordinates, args.timeout),
    )
    return _print(outcome, exit_on_problems=False)


def _check_values_form(args: argparse.Namespace) -> None:
    """Reject --type without VALUE arguments."""
    if not args.values:
        raise ConfigError("detokenize --type needs at least one VALUE token")


def _check_record_form(args: argparse.Namespace, config: Config) -> RecordCoordinates:
    """Reject options --record does not take, and parse its coordinates."""
    if args.values:
        raise ConfigError(
            "detokenize --record takes no VALUE arguments: the record's tokens "
            "are read from the topic"
        )
    if args.key_version is not None:
        raise ConfigError(
            "detokenize --record takes no --key-version: the record's "
            "seawall.key_version header names it"
        )
    if not args.timeout > 0:
        raise ConfigError(f"--timeout must be more than 0 seconds, got {args.timeout}")
    if config.kafka_settings is None:
        raise ConfigError(
            f"configuration {args.config} has no 'kafka' section: detokenize "
            "--record needs kafka.bootstrap_servers to read the record"
        )
    return RecordCoordinates.parse(args.record)


def _reverse_arguments(
    config: Config, pii_type: str, version: int | None, tokens: Sequence[str]
) -> Reidentified:
    """Reverse tokens of one PII type with the chosen key version."""
    transformer = _transformer(config, pii_type)
    return reverse_values(transformer, _key_version(config, version), tokens)


def _restore_from_topic(
    config: Config, coordinates: RecordCoordinates, timeout: float
) -> Reidentified:
    """Read one record from its topic and reverse its tokens."""
    engine = MaskingEngine.from_config(config)
    fetched = fetch_record(
        config.kafka.bootstrap_servers,
        coordinates,
        timeout=timeout,
        client_config=confluent_config(config.kafka),
    )
    return restore_record(engine, fetched)


def _print(outcome: Reidentified, *, exit_on_problems: bool) -> int:
    """Print the output lines, then the problems on standard error."""
    for line in outcome.lines:
        print(line)
    for problem in outcome.problems:
        print(f"seawall: {problem}", file=sys.stderr)
    return 1 if exit_on_problems and outcome.problems else 0


def _transformer(config: Config, pii_type: str) -> FieldTransformer:
    """Resolve the transformer of a PII type with the configured type policy."""
    policy = config.policy.types.get(pii_type, FieldPolicy())
    transformer = resolve(pii_type, LeafType("string"), policy)
    if getattr(transformer, "cipher", "ff1") == "ff3-1":
        logger.warning(
            "PII type %s uses FF3-1, which NIST's 2025 draft revision of "
            "SP 800-38G withdraws; use FF1 for new data",
            pii_type,
        )
    return transformer


def _key_version(config: Config, version: int | None) -> KeyVersion:
    """Return the requested key version, or the active one."""
    keyring = load_keyring(config)
    return keyring.active if version is None else keyring.get(version)
