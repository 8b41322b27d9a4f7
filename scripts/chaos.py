"""Run the worker under SIGKILLs, a broker restart and rebalances; print findings.

Usage, from the repository root::

    .venv/bin/python scripts/chaos.py --records 50000

The script starts a Kafka broker of its own on free ports under a temporary
folder (kept with ``--keep``) and stops it at the end. It exits with 0 when
no source record is lost, leaked, unaudited or inconsistently duplicated,
and with 1 otherwise. Duplicates are counted and printed, not failed on,
because the worker delivers at least once.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
from pathlib import Path

from streams.ops.chaos import ChaosPlan, run_chaos


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--records", type=int, default=50_000, help="records to produce (50000)"
    )
    parser.add_argument(
        "--seconds",
        type=float,
        default=120.0,
        help="seconds over which the records are produced (120)",
    )
    parser.add_argument(
        "--kills", type=int, default=3, help="SIGKILLs of the main worker (3)"
    )
    parser.add_argument(
        "--broker-restarts", type=int, default=1, help="broker restarts (1)"
    )
    parser.add_argument(
        "--joins",
        type=int,
        default=1,
        help="times a second worker joins and leaves the group (1)",
    )
    parser.add_argument("--seed", type=int, default=2026, help="random seed (2026)")
    parser.add_argument(
        "--processing-guarantee",
        choices=["at_least_once", "exactly_once"],
        default="at_least_once",
        help="the workers' worker.processing_guarantee (at_least_once)",
    )
    parser.add_argument(
        "--settle-timeout",
        type=float,
        default=600.0,
        help="seconds to wait for the last audit events after producing (600)",
    )
    parser.add_argument(
        "--schemas", type=Path, default=Path("schemas"), help="schema folder"
    )
    parser.add_argument(
        "--keep",
        action="store_true",
        help="keep the working folder (broker data, worker logs) and print it",
    )
    return parser


def main() -> int:
    """Run the chaos plan from the command line and print the report."""
    args = _parser().parse_args()
    plan = ChaosPlan(
        records=args.records,
        produce_seconds=args.seconds,
        kills=args.kills,
        broker_restarts=args.broker_restarts,
        joins=args.joins,
        seed=args.seed,
        processing_guarantee=args.processing_guarantee,
        settle_timeout=args.settle_timeout,
        schemas=args.schemas,
    )
    workdir = Path(tempfile.mkdtemp(prefix="seawall-chaos-"))
    try:
        report = run_chaos(plan, workdir, log=lambda line: print(line, flush=True))
    finally:
        if args.keep:
            print(f"working folder: {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)
    print()
    for line in report.lines():
        print(line)
    return 0 if report.passed else 1


if __name__ == "__main__":
    sys.exit(main())
