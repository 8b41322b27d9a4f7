"""Measure FF1 throughput against the `ff3` package as a baseline.

Run from the repository root:

    .venv/bin/python benchmarks/bench_fpe.py

Each case encrypts the same pseudo-random values (fixed seed) with one key and
one tweak, and reports values per second as the best of several repeats timed
with `time.perf_counter`. The baseline is the `ff3` package from PyPI
(FF3-1 on pycryptodome), fed the same inputs. Where it cannot take an input,
the reason is printed in place of a figure.
"""

from __future__ import annotations

import argparse
import os
import platform
import random
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from ff3 import FF3Cipher

from streams.fpe import AlphabetFF1

SEED = 20_250_301
KEY = bytes(range(16))
FF1_TWEAK = b"contacts[].mobile"
FF3_TWEAK = bytes.fromhex("D8E7920AFA330A")
DIGITS = "0123456789"
# 8,105 code points from U+4E00, as many as the Table of General Standard
# Chinese Characters has. Only the radix matters for speed.
CJK_ALPHABET = "".join(chr(code) for code in range(0x4E00, 0x4E00 + 8105))
# The goal for FF1 on 11 digits, as a multiple of the ff3 package's rate.
GOAL_RATIO_11_DIGITS = 8.0


@dataclass(frozen=True)
class Case:
    """One input shape: an alphabet and a value length."""

    name: str
    alphabet: str
    length: int


@dataclass(frozen=True)
class Row:
    """The measured rates of one case, or why the baseline has none."""

    case: str
    ff1_per_second: float
    baseline_per_second: float | None
    baseline_note: str = ""


CASES = (
    Case("11 digits", DIGITS, 11),
    Case("18 digits", DIGITS, 18),
    Case("3 CJK characters (radix 8105)", CJK_ALPHABET, 3),
)


def make_values(case: Case, count: int) -> list[str]:
    """Return `count` pseudo-random values of the case, the same on every run."""
    rng = random.Random(f"{SEED}-{case.name}")
    return [
        "".join(rng.choice(case.alphabet) for _ in range(case.length))
        for _ in range(count)
    ]


def values_per_second(
    encrypt: Callable[[str], str], values: Sequence[str], repeats: int
) -> float:
    """Return the best rate over `repeats` passes of `encrypt` over `values`."""
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        for value in values:
            encrypt(value)
        best = min(best, time.perf_counter() - start)
    return len(values) / best


def measure_ff1(case: Case, values: Sequence[str], repeats: int) -> float:
    """Return the FF1 rate of `AlphabetFF1.encrypt` on the values."""
    cipher = AlphabetFF1(KEY, case.alphabet)
    return values_per_second(
        lambda value: cipher.encrypt(value, FF1_TWEAK), values, repeats
    )


def measure_baseline(
    case: Case, values: Sequence[str], repeats: int
) -> tuple[float | None, str]:
    """Return the ff3 package's rate on the values, or None and the reason."""
    if len(case.alphabet) > FF3Cipher.RADIX_MAX:
        return None, (
            f"ff3 accepts at most radix {FF3Cipher.RADIX_MAX} "
            f"(FF3Cipher.RADIX_MAX), this case needs {len(case.alphabet)}"
        )
    cipher = FF3Cipher.withCustomAlphabet(KEY.hex(), FF3_TWEAK.hex(), case.alphabet)
    return values_per_second(cipher.encrypt, values, repeats), ""


def measure_case(case: Case, count: int, repeats: int) -> Row:
    """Measure FF1 and the baseline on the same values of one case."""
    values = make_values(case, count)
    ff1_rate = measure_ff1(case, values, repeats)
    # The baseline is slow, so it gets a tenth of the values.
    baseline_rate, note = measure_baseline(case, values[: max(count // 10, 1)], repeats)
    return Row(case.name, ff1_rate, baseline_rate, note)


def tokenizer_rows(count: int, repeats: int) -> list[Row]:
    """Return rows for the tokenizer path with a bounded cache."""
    # TODO: measure the tokenizer path with its bounded cache here, once
    # streams.tokenizers provides it, and add its rows to the same table.
    return []


def cpu_model() -> str:
    """Return the CPU model name from /proc/cpuinfo, or the platform's guess."""
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        for line in cpuinfo.read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    return platform.processor() or "unknown"


def print_machine() -> None:
    """Print the CPU, core count and Python version behind the figures."""
    print(f"CPU: {cpu_model()}, {os.cpu_count()} logical cores")
    print(f"Python: {platform.python_version()} ({platform.python_implementation()})")


def print_rows(rows: Sequence[Row]) -> None:
    """Print the rates and the FF1-to-baseline ratio of each row."""
    print(f"{'case':32} {'FF1 values/s':>14} {'ff3 values/s':>14} {'ratio':>7}")
    for row in rows:
        if row.baseline_per_second is None:
            print(f"{row.case:32} {row.ff1_per_second:>14,.0f} {'n/a':>14} {'n/a':>7}")
            print(f"{'':32} ff3: {row.baseline_note}")
            continue
        ratio = row.ff1_per_second / row.baseline_per_second
        print(
            f"{row.case:32} {row.ff1_per_second:>14,.0f} "
            f"{row.baseline_per_second:>14,.0f} {ratio:>6.1f}x"
        )


def print_goal(rows: Sequence[Row]) -> None:
    """Print whether FF1 on 11 digits meets its goal against the baseline."""
    row = next(row for row in rows if row.case == "11 digits")
    if row.baseline_per_second is None:
        return
    ratio = row.ff1_per_second / row.baseline_per_second
    verdict = "met" if ratio >= GOAL_RATIO_11_DIGITS else "NOT met"
    print(f"Goal FF1 >= {GOAL_RATIO_11_DIGITS:.0f}x ff3 on 11 digits: {verdict}")


def parse_arguments() -> argparse.Namespace:
    """Parse the command line."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--values",
        type=int,
        default=20_000,
        help="values per FF1 pass; the ff3 baseline gets a tenth (default 20000)",
    )
    parser.add_argument(
        "--repeats",
        type=int,
        default=5,
        help="passes per measurement; the best one counts (default 5)",
    )
    return parser.parse_args()


def main() -> None:
    """Run every case and print the table."""
    arguments = parse_arguments()
    print_machine()
    print(f"{arguments.values} values per FF1 pass, best of {arguments.repeats}")
    rows = [measure_case(case, arguments.values, arguments.repeats) for case in CASES]
    rows += tokenizer_rows(arguments.values, arguments.repeats)
    print_rows(rows)
    print_goal(rows)


if __name__ == "__main__":
    main()
