"""The ``seawall keys`` commands: generate and rotate keyring files."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from streams.errors import KeyringError
from streams.keys import Keyring


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``keys generate`` and ``keys rotate`` to a command-line parser.

    Each subcommand sets ``func``, which takes the parsed arguments and
    returns the exit status.
    """
    keys = subparsers.add_parser("keys", help="create and rotate keyring files")
    commands = keys.add_subparsers(dest="keys_command", required=True)

    generate = commands.add_parser("generate", help="write a new keyring file")
    generate.add_argument(
        "--out", required=True, type=Path, help="keyring file to write"
    )
    generate.add_argument(
        "--key-id", default="pii-main", help="key id (default pii-main)"
    )
    generate.add_argument(
        "--force", action="store_true", help="overwrite an existing file"
    )
    generate.set_defaults(func=generate_command)

    rotate = commands.add_parser(
        "rotate", help="add a new key version to a keyring file and make it active"
    )
    rotate.add_argument(
        "--file", required=True, type=Path, help="keyring file to update"
    )
    rotate.set_defaults(func=rotate_command)


def generate_command(args: argparse.Namespace) -> int:
    """Write a new keyring; return 1 if the file exists and --force is unset."""
    out: Path = args.out
    if out.exists() and not args.force:
        print(
            f"error: {out} already exists; pass --force to overwrite it "
            "(tokens made with its keys can then no longer be reversed)",
            file=sys.stderr,
        )
        return 1
    try:
        ring = Keyring.generate(args.key_id)
        ring.save(out)
    except (KeyringError, OSError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(f"wrote keyring {ring.key_id!r} version 1 to {out}")
    return 0


def rotate_command(args: argparse.Namespace) -> int:
    """Add version n+1 to a keyring file and make it active."""
    path: Path = args.file
    try:
        ring = Keyring.load(path).rotate()
        ring.save(path)
    except (KeyringError, OSError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(f"keyring {ring.key_id!r}: version {ring.active_version} is now active")
    return 0
