"""The ``seawall registry start|status|stop`` commands for the local registry."""

from __future__ import annotations

import argparse
from pathlib import Path

from streams.ops import maven, registry

EXIT_NOT_RUNNING = 3
"""Exit code of ``registry status`` when the registry is stopped."""


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the ``registry`` command and its start, status and stop subcommands."""
    parser = subparsers.add_parser(
        "registry",
        help="run a local Confluent-compatible schema registry",
        description=(
            f"Run Apicurio Registry {registry.APICURIO_VERSION} on 127.0.0.1 "
            "with in-memory storage, for the demo and the tests. Its "
            f"Confluent-compatible API is under {registry.CCOMPAT_PATH}. The "
            "first start downloads about 160 MB with Maven into "
            f"${maven.CACHE_ENV} (default ~/.cache/seawall). It needs Java "
            f"{registry.MIN_JAVA_VERSION} or later (set {registry.JAVA_ENV} to "
            "choose one)."
        ),
    )
    actions = parser.add_subparsers(
        dest="registry_command", required=True, metavar="ACTION"
    )
    start = actions.add_parser("start", help="start the registry in the background")
    start.add_argument(
        "--port",
        type=int,
        default=registry.DEFAULT_PORT,
        help="HTTP port on 127.0.0.1 (default: %(default)s)",
    )
    start.add_argument(
        "--heap",
        default="256m",
        help="maximum JVM heap, as for java -Xmx (default: %(default)s)",
    )
    _add_data_dir(start)
    start.set_defaults(func=_start)
    status = actions.add_parser(
        "status",
        help="report whether the registry runs",
        description=f"Exit code 0 when it runs, {EXIT_NOT_RUNNING} if not.",
    )
    _add_data_dir(status)
    status.set_defaults(func=_status)
    stop = actions.add_parser("stop", help="stop the registry")
    _add_data_dir(stop)
    stop.set_defaults(func=_stop)


def _add_data_dir(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--data-dir",
        type=Path,
        default=registry.DEFAULT_DATA_DIR,
        help="folder for the state file and the JVM output "
        "(default: %(default)s, relative to the current directory)",
    )


def _start(args: argparse.Namespace) -> int:
    try:
        local = registry.LocalRegistry(
            args.data_dir, port=args.port, heap_max=args.heap
        )
    except ValueError as error:
        raise registry.LocalRegistryError(str(error)) from error
    status = local.start()
    outcome = "started" if status.started else "already running"
    print(f"Registry {outcome} at {status.url} (pid {status.pid})")
    return 0


def _status(args: argparse.Namespace) -> int:
    status = registry.LocalRegistry(args.data_dir).status()
    if status.running:
        print(f"Registry running at {status.url} (pid {status.pid})")
        return 0
    print(f"Registry stopped: {status.detail} (data dir {status.data_dir})")
    return EXIT_NOT_RUNNING


def _stop(args: argparse.Namespace) -> int:
    status = registry.LocalRegistry(args.data_dir).stop()
    if status.pid is None:
        print(f"Registry not running (data dir {status.data_dir})")
    else:
        print(f"Registry {status.detail} (pid {status.pid})")
    return 0
