"""``seawall sample produce``: generated customers and orders onto Kafka.

The records come from `SampleGenerator` (Faker's ``zh_CN`` provider) and are
encoded with Avro single-object encoding by `SchemaStore.encode`, as the
worker expects them. ``crm.Customer`` records go to
``<prefix>cn.crm.customers`` and ``crm.Order`` records to
``<prefix>cn.crm.orders``. The command does not create topics.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from confluent_kafka import Producer

from streams.codec.store import SchemaStore
from streams.errors import ConfigError, SeawallError
from streams.sample_data import SampleGenerator

CUSTOMERS_TOPIC = "cn.crm.customers"
ORDERS_TOPIC = "cn.crm.orders"
TOPIC_BY_SCHEMA = {"crm.Customer": CUSTOMERS_TOPIC, "crm.Order": ORDERS_TOPIC}
FLUSH_TIMEOUT_SECONDS = 60.0


class SampleProduceError(SeawallError):
    """The broker did not acknowledge every sample record."""


@dataclass
class ProduceSummary:
    """Records acknowledged by the broker, by topic, and delivery errors."""

    acknowledged: dict[str, int] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)

    @property
    def total(self) -> int:
        """Records acknowledged on every topic."""
        return sum(self.acknowledged.values())


class RateLimiter:
    """Spaces calls `1 / rate` seconds apart on a monotonic clock.

    Args:
        rate: Calls per second, or None for no limit.
        clock: Monotonic time in seconds.
        sleep: Blocks for a number of seconds.
    """

    def __init__(
        self,
        rate: float | None,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if rate is not None and not rate > 0:
            raise ConfigError(f"--rate must be more than 0 records/s, got {rate}")
        self._interval = 0.0 if rate is None else 1.0 / rate
        self._clock = clock
        self._sleep = sleep
        self._next: float | None = None

    def wait(self) -> None:
        """Block until the next call is due."""
        if not self._interval:
            return
        now = self._clock()
        if self._next is None:
            self._next = now
        if self._next > now:
            self._sleep(self._next - now)
        # Scheduling from the planned time, not from now, keeps the average
        # rate exact when a sleep overshoots.
        self._next += self._interval


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``sample produce`` to a command-line parser."""
    sample = subparsers.add_parser(
        "sample", help="produce generated customers and orders for trials"
    )
    commands = sample.add_subparsers(dest="sample_command", required=True)
    produce = commands.add_parser(
        "produce",
        help="produce generated crm.Customer and crm.Order records",
        description=(
            f"Produce generated records: crm.Customer to PREFIX{CUSTOMERS_TOPIC}, "
            f"crm.Order to PREFIX{ORDERS_TOPIC}. The topics must exist."
        ),
    )
    produce.add_argument(
        "--bootstrap", required=True, help="bootstrap servers, host:port[,host:port]"
    )
    produce.add_argument(
        "--topic-prefix",
        default="",
        metavar="PREFIX",
        help="text put before each topic name (default: none)",
    )
    produce.add_argument(
        "--count", type=int, required=True, help="number of records to produce"
    )
    produce.add_argument(
        "--rate",
        type=float,
        help="maximum records per second (default: as fast as the broker takes them)",
    )
    produce.add_argument(
        "--schemas", default="schemas", help="schema folder (default ./schemas)"
    )
    produce.add_argument(
        "--seed",
        type=int,
        default=2026,
        help="random seed (default 2026). The same seed gives the same records",
    )
    produce.set_defaults(func=run_produce)


def run_produce(args: argparse.Namespace) -> int:
    """Produce the records and print how many went to each topic."""
    if args.count < 1:
        raise ConfigError(f"--count must be at least 1, got {args.count}")
    limiter = RateLimiter(args.rate)
    store = SchemaStore.from_directory(args.schemas)
    summary = produce_samples(
        args.bootstrap,
        store,
        count=args.count,
        topic_prefix=args.topic_prefix,
        limiter=limiter,
        seed=args.seed,
    )
    for topic, number in sorted(summary.acknowledged.items()):
        print(f"{topic}: {number} records")
    return 0


def produce_samples(
    bootstrap: str,
    store: SchemaStore,
    *,
    count: int,
    topic_prefix: str = "",
    limiter: RateLimiter | None = None,
    seed: int = 2026,
) -> ProduceSummary:
    """Produce `count` generated records and wait for every acknowledgement.

    Args:
        bootstrap: Bootstrap servers, ``host:port[,host:port]``.
        store: Schemas that contain ``crm.Customer`` and ``crm.Order``.
        count: Number of records.
        topic_prefix: Text put before each topic name.
        limiter: Paces the records; None sends them as fast as possible.
        seed: Seed of the generator.

    Returns:
        The acknowledged records by topic.

    Raises:
        SchemaError: The store lacks one of the two schemas.
        SampleProduceError: The broker rejected a record, or did not
            acknowledge them all within 60 seconds after the last one.
    """
    for schema_name in TOPIC_BY_SCHEMA:
        store.by_name(schema_name)
    producer = Producer(
        {"bootstrap.servers": bootstrap, "acks": "all", "linger.ms": 20}
    )
    summary = ProduceSummary()
    for sample in SampleGenerator(seed).records(count):
        if limiter is not None:
            limiter.wait()
        topic = topic_prefix + TOPIC_BY_SCHEMA[sample.schema_name]
        value = store.encode(sample.schema_name, sample.value)
        _produce(producer, topic, sample.key, value, summary)
    _flush(producer, count, summary)
    return summary


def _produce(
    producer: Producer, topic: str, key: bytes, value: bytes, summary: ProduceSummary
) -> None:
    """Queue one record, waiting for room when the local queue is full."""
    while True:
        try:
            producer.produce(
                topic, key=key, value=value, on_delivery=_on_delivery(summary)
            )
        except BufferError:
            producer.poll(0.5)
            continue
        producer.poll(0)
        return


def _on_delivery(summary: ProduceSummary) -> Callable[[Any, Any], None]:
    """Return a delivery callback that counts into `summary`."""

    def delivered(err: Any, msg: Any) -> None:
        if err is not None:
            summary.errors.append(f"{msg.topic()}: {err}")
            return
        summary.acknowledged[msg.topic()] = summary.acknowledged.get(msg.topic(), 0) + 1

    return delivered


def _flush(producer: Producer, count: int, summary: ProduceSummary) -> None:
    """Wait for every acknowledgement; raise when one is missing or failed."""
    unsent = producer.flush(FLUSH_TIMEOUT_SECONDS)
    if summary.errors:
        raise SampleProduceError(
            f"the broker rejected {len(summary.errors)} of {count} records. "
            f"First error: {summary.errors[0]}"
        )
    if unsent:
        raise SampleProduceError(
            f"{unsent} of {count} records were not acknowledged within "
            f"{FLUSH_TIMEOUT_SECONDS:.0f} s; check that the broker is reachable "
            "and the topics exist"
        )
