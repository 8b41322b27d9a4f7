"""The ``worker``, ``tokenize`` and ``detokenize`` subcommands."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from streams.config import Config, load_config
from streams.engine import MaskingEngine, load_keyring
from streams.errors import InvalidValueError, NotReversibleError
from streams.tokenizers import resolve
from streams.tokenizers.base import FieldTransformer, LeafType


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the worker and tokenization subcommands."""
    worker = subparsers.add_parser(
        "worker", help="run the stream worker until SIGTERM or SIGINT"
    )
    worker.add_argument(
        "--config", required=True, help="path of the YAML configuration file"
    )
    worker.set_defaults(func=run_worker)

    for name, func, help_text in (
        ("tokenize", run_tokenize, "print the token of each VALUE, one per line"),
        (
            "detokenize",
            run_detokenize,
            "print the original of each token, one per line",
        ),
    ):
        parser = subparsers.add_parser(name, help=help_text)
        parser.add_argument(
            "--config", required=True, help="path of the YAML configuration file"
        )
        parser.add_argument(
            "--type", required=True, dest="pii_type", help="PII type, such as cn_mobile"
        )
        parser.add_argument(
            "--key-version",
            type=int,
            help="key version (default: the active one; output records name it in "
            "their seawall.key_version header)",
        )
        parser.add_argument("values", nargs="+", metavar="VALUE")
        parser.set_defaults(func=func)


def run_worker(args: argparse.Namespace) -> int:
    """Run the worker: build every masking plan, check the topics, consume."""
    from streams.worker import SeawallApp

    config = load_config(args.config)
    engine = MaskingEngine.from_config(config)
    app = SeawallApp(config, engine)
    app.check_topics()
    return app.run()


def run_tokenize(args: argparse.Namespace) -> int:
    """Print the token of each value."""
    config, transformer = _transformer(args)
    key = _key_version(config, args.key_version)
    return _print_each(args.values, lambda value: transformer.apply(value, key).value)


def run_detokenize(args: argparse.Namespace) -> int:
    """Print the original of each token."""
    config, transformer = _transformer(args)
    key = _key_version(config, args.key_version)
    return _print_each(args.values, lambda token: transformer.reverse(token, key))


def _transformer(args: argparse.Namespace) -> tuple[Config, FieldTransformer]:
    config = load_config(args.config)
    policy = config.policy.types.get(args.pii_type)
    transformer = resolve(
        args.pii_type, LeafType("string"), policy or _default_policy()
    )
    return config, transformer


def _default_policy() -> Any:
    from streams.tokenizers.base import FieldPolicy

    return FieldPolicy()


def _key_version(config: Config, version: int | None) -> Any:
    keyring = load_keyring(config)
    return keyring.active if version is None else keyring.get(version)


def _print_each(values: list[str], convert: Any) -> int:
    failures = 0
    for position, value in enumerate(values, start=1):
        try:
            print(convert(value))
        except (InvalidValueError, NotReversibleError) as exc:
            # The message names the rule, never the value; the position tells
            # the operator which argument it was.
            print(f"seawall: VALUE {position}: {exc}", file=sys.stderr)
            failures += 1
    return 1 if failures else 0
