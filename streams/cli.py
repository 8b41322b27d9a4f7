"""The ``seawall`` command."""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence

from streams.errors import SeawallError


def build_parser() -> argparse.ArgumentParser:
    """Build the argument parser with every subcommand."""
    from streams import commands, demo, keys_cli, sample_cli, schema_cli
    from streams.ops import kafka_cli, registry_cli

    parser = argparse.ArgumentParser(
        prog="seawall",
        description=(
            "Mask personal information in Avro records on Kafka before they "
            "reach cross-border topics."
        ),
    )
    subparsers = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    commands.register(subparsers)
    keys_cli.register(subparsers)
    kafka_cli.register(subparsers)
    registry_cli.register(subparsers)
    schema_cli.register(subparsers)
    demo.register(subparsers)
    sample_cli.register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``seawall`` command and return its exit code."""
    logging.basicConfig(
        level=logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        code: int = args.func(args)
    except SeawallError as exc:
        print(f"seawall: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    return code


if __name__ == "__main__":
    sys.exit(main())
