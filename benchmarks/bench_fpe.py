"""Measure FF1 throughput against the `ff3` package, and the token cache.

Run from the repository root:

    .venv/bin/python benchmarks/bench_fpe.py

Each case encrypts the same pseudo-random values (fixed seed) with one key and
one tweak, and reports values per second as the best of several repeats timed
with `time.perf_counter`. The baseline is the `ff3` package from PyPI
(FF3-1 on pycryptodome), fed the same inputs. Where it cannot take an input,
the reason is printed in place of a figure.

A second table measures the ``cn_mobile`` and ``person_name`` tokenizers on a
stream with repeated values, with the token cache and without it. The stream
draws each value from a population of `POPULATION` values with Zipf
probabilities: rank r has weight 1 / r ** `ZIPF_EXPONENT`. In 20,000 draws
that gives about 30% repeats, and the script prints the measured share. Each
pass starts with an empty cache.
"""

from __future__ import annotations

import argparse
import os
import platform
import random
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from ff3 import FF3Cipher

from streams.fpe import AlphabetFF1
from streams.keys import KeyVersion, SecretBytes
from streams.tokenizers import resolve
from streams.tokenizers._cache import DEFAULT_CACHE_SIZE
from streams.tokenizers._data import han_characters
from streams.tokenizers.base import FieldPolicy, FieldTransformer, LeafType

SEED = 20_250_301
KEY = bytes(range(16))
FF1_TWEAK = b"contacts[].mobile"
FF3_TWEAK = bytes.fromhex("D8E7920AFA330A")
DIGITS = "0123456789"
# 8,105 code points from U+4E00, as many as the Table of General Standard
# Chinese Characters has. Only the radix matters for speed.
_EPOCH = datetime(2026, 1, 1, tzinfo=UTC)
CJK_ALPHABET = "".join(chr(code) for code in range(0x4E00, 0x4E00 + 8105))
# The goal for FF1 on 11 digits, as a multiple of the ff3 package's rate.
GOAL_RATIO_11_DIGITS = 8.0
# The repeated-value stream of the token cache rows.
POPULATION = 100_000
ZIPF_EXPONENT = 0.7
MOBILE_PREFIXES = ("138", "139", "150", "186", "177")
# Surnames and given-name characters are drawn from the first 3,500
# characters of the general standard table (level 1, the common ones).
COMMON_HAN = 3_500


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


@dataclass(frozen=True)
class CacheRow:
    """The rates of one tokenizer on a repeated-value stream."""

    case: str
    uncached_per_second: float
    cached_per_second: float
    repeat_share: float


def zipf_stream(population: Sequence[str], count: int, seed: str) -> list[str]:
    """Draw `count` values, rank r with weight 1 / r ** ZIPF_EXPONENT."""
    rng = random.Random(f"{SEED}-{seed}")
    weights = [1 / rank**ZIPF_EXPONENT for rank in range(1, len(population) + 1)]
    return rng.choices(population, weights=weights, k=count)


def mobile_population() -> list[str]:
    """Return `POPULATION` distinct 11-digit mobile numbers."""
    rng = random.Random(f"{SEED}-mobiles")
    numbers: set[str] = set()
    while len(numbers) < POPULATION:
        prefix = rng.choice(MOBILE_PREFIXES)
        numbers.add(prefix + "".join(rng.choice(DIGITS) for _ in range(8)))
    return sorted(numbers)


def name_population() -> list[str]:
    """Return `POPULATION` distinct Chinese names of 2 or 3 characters."""
    rng = random.Random(f"{SEED}-names")
    common = han_characters()[:COMMON_HAN]
    names: set[str] = set()
    while len(names) < POPULATION:
        length = rng.choice((2, 3, 3))
        names.add("".join(rng.choice(common) for _ in range(length)))
    return sorted(names)


def tokenizer_rate(
    pii_type: str, values: Sequence[str], repeats: int, cache_size: int
) -> float:
    """Return the best rate of `apply` over `values`, each pass on a new cache."""
    key = KeyVersion(
        key_id="bench", version=1, material=_bench_material(), created=_EPOCH
    )
    policy = FieldPolicy(options={"cache_size": cache_size})
    best = float("inf")
    for _ in range(repeats):
        transformer: FieldTransformer = resolve(pii_type, LeafType("string"), policy)
        start = time.perf_counter()
        for value in values:
            transformer.apply(value, key)
        best = min(best, time.perf_counter() - start)
    return len(values) / best


def tokenizer_rows(count: int, repeats: int) -> list[CacheRow]:
    """Return the cn_mobile and person_name rates with and without the cache."""
    rows = []
    for pii_type, population in (
        ("cn_mobile", mobile_population()),
        ("person_name", name_population()),
    ):
        stream = zipf_stream(population, count, pii_type)
        rows.append(
            CacheRow(
                case=pii_type,
                uncached_per_second=tokenizer_rate(pii_type, stream, repeats, 0),
                cached_per_second=tokenizer_rate(
                    pii_type, stream, repeats, DEFAULT_CACHE_SIZE
                ),
                repeat_share=1 - len(set(stream)) / len(stream),
            )
        )
    return rows


def _bench_material() -> SecretBytes:
    """Return fixed key material, so runs are repeatable."""
    return SecretBytes(bytes(range(32)))


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


def print_cache_rows(rows: Sequence[CacheRow]) -> None:
    """Print the tokenizer rates with and without the cache."""
    print(
        f"{'tokenizer, Zipf stream':24} {'repeats':>8} {'no cache/s':>12} "
        f"{'cache/s':>12} {'speed-up':>9}"
    )
    for row in rows:
        speed_up = row.cached_per_second / row.uncached_per_second
        print(
            f"{row.case:24} {row.repeat_share:>7.1%} "
            f"{row.uncached_per_second:>12,.0f} {row.cached_per_second:>12,.0f} "
            f"{speed_up:>8.2f}x"
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
    print_rows(rows)
    print_goal(rows)
    print(
        f"Token cache: {arguments.values} draws from {POPULATION:,} values, "
        f"Zipf exponent {ZIPF_EXPONENT}, cache of {DEFAULT_CACHE_SIZE:,} entries"
    )
    print_cache_rows(tokenizer_rows(arguments.values, arguments.repeats))


if __name__ == "__main__":
    main()
