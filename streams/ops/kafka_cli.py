"""The ``seawall kafka start|status|stop`` commands for the local broker."""

from __future__ import annotations

import argparse
from pathlib import Path

from streams.ops import kafka, maven

EXIT_NOT_RUNNING = 3
"""Exit code of ``kafka status`` when the broker is stopped, as in LSB init scripts."""


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the ``kafka`` command and its start, status and stop subcommands."""
    parser = subparsers.add_parser(
        "kafka",
        help="run a local single-node Apache Kafka broker",
        description=(
            f"Run Apache Kafka {maven.KAFKA_VERSION} as one KRaft "
            "broker-and-controller on 127.0.0.1, for the demo and the tests. "
            "The first start downloads the broker jars with Maven into "
            f"${maven.CACHE_ENV} (default ~/.cache/seawall) and needs Java "
            f"{maven.MIN_JAVA_VERSION} or later."
        ),
    )
    actions = parser.add_subparsers(
        dest="kafka_command", required=True, metavar="ACTION"
    )

    start = actions.add_parser("start", help="start the broker in the background")
    start.add_argument(
        "--port",
        type=_port,
        default=kafka.DEFAULT_PORT,
        help="broker port for clients on 127.0.0.1 (default: %(default)s)",
    )
    start.add_argument(
        "--controller-port",
        type=_port,
        default=None,
        help="KRaft controller port on 127.0.0.1 (default: the broker port + 1)",
    )
    start.add_argument(
        "--heap",
        default="512m",
        help="maximum JVM heap, as for java -Xmx (default: %(default)s)",
    )
    _add_data_dir(start)
    start.set_defaults(func=_start)

    status = actions.add_parser(
        "status",
        help="report whether the broker runs",
        description=f"Exit code 0 when the broker runs, {EXIT_NOT_RUNNING} if not.",
    )
    _add_data_dir(status)
    status.set_defaults(func=_status)

    stop = actions.add_parser("stop", help="stop the broker (SIGTERM, then SIGKILL)")
    _add_data_dir(stop)
    stop.set_defaults(func=_stop)


def _add_data_dir(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--data-dir",
        type=Path,
        default=kafka.DEFAULT_DATA_DIR,
        help="folder for the broker's configuration, logs and topic data "
        "(default: %(default)s, relative to the current directory)",
    )


def _port(text: str) -> int:
    """Parse a TCP port number for argparse."""
    try:
        port = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"invalid port {text!r}") from None
    if not 1 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"port must be 1-65535, got {port}")
    return port


def _start(args: argparse.Namespace) -> int:
    try:
        broker = kafka.LocalKafka(
            args.data_dir,
            port=args.port,
            controller_port=args.controller_port,
            heap_max=args.heap,
        )
    except ValueError as error:
        raise kafka.LocalKafkaError(str(error)) from error
    status = broker.start()
    outcome = "started" if status.started else "already running"
    print(
        f"Kafka {outcome} at {status.bootstrap} "
        f"(pid {status.pid}, data dir {status.data_dir})"
    )
    return 0


def _status(args: argparse.Namespace) -> int:
    status = kafka.LocalKafka(args.data_dir).status()
    if status.running:
        print(f"Kafka running at {status.bootstrap} (pid {status.pid})")
        return 0
    print(f"Kafka stopped: {status.detail} (data dir {status.data_dir})")
    return EXIT_NOT_RUNNING


def _stop(args: argparse.Namespace) -> int:
    status = kafka.LocalKafka(args.data_dir).stop()
    if status.pid is None:
        print(f"Kafka not running (data dir {status.data_dir})")
    else:
        print(f"Kafka {status.detail} (pid {status.pid}, data dir {status.data_dir})")
    return 0
