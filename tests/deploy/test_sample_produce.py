"""``seawall sample produce``: pacing, and records on a real broker."""

from __future__ import annotations

import argparse
import uuid
from pathlib import Path

import pytest

from streams.codec.store import SchemaStore
from streams.demo import read_all
from streams.errors import ConfigError
from streams.ops.kafka import create_topics
from streams.sample_cli import (
    CUSTOMERS_TOPIC,
    ORDERS_TOPIC,
    RateLimiter,
    produce_samples,
    register,
)

REPO = Path(__file__).resolve().parents[2]


class FakeClock:
    """A monotonic clock that only moves when `sleep` is called."""

    def __init__(self) -> None:
        self.now = 100.0
        self.sleeps: list[float] = []

    def time(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


def test_rate_limiter_spaces_calls() -> None:
    clock = FakeClock()
    limiter = RateLimiter(4.0, clock=clock.time, sleep=clock.sleep)
    for _ in range(5):
        limiter.wait()
    assert clock.sleeps == [0.25, 0.25, 0.25, 0.25]
    assert clock.now == pytest.approx(101.0)


def test_rate_limiter_catches_up_after_delay() -> None:
    clock = FakeClock()
    limiter = RateLimiter(2.0, clock=clock.time, sleep=clock.sleep)
    limiter.wait()
    clock.now += 2.0  # the caller was slow: two calls are overdue
    limiter.wait()
    limiter.wait()
    assert clock.sleeps == []


def test_rate_limiter_without_rate_never_sleeps() -> None:
    clock = FakeClock()
    limiter = RateLimiter(None, clock=clock.time, sleep=clock.sleep)
    for _ in range(3):
        limiter.wait()
    assert clock.sleeps == []


@pytest.mark.parametrize("rate", [0.0, -1.0])
def test_rate_limiter_rejects_rate(rate: float) -> None:
    with pytest.raises(ConfigError, match="--rate"):
        RateLimiter(rate)


def test_parser_defaults() -> None:
    parser = argparse.ArgumentParser()
    register(parser.add_subparsers(dest="command"))
    args = parser.parse_args(
        ["sample", "produce", "--bootstrap", "b:9092", "--count", "5"]
    )
    assert args.topic_prefix == ""
    assert args.rate is None
    assert args.schemas == "schemas"


@pytest.mark.kafka
def test_produce_to_prefixed_topics(kafka_bootstrap: str) -> None:
    prefix = f"t{uuid.uuid4().hex[:8]}."
    customers, orders = prefix + CUSTOMERS_TOPIC, prefix + ORDERS_TOPIC
    create_topics(kafka_bootstrap, [customers, orders], partitions=2)
    store = SchemaStore.from_directory(REPO / "schemas")

    summary = produce_samples(
        kafka_bootstrap, store, count=60, topic_prefix=prefix, seed=7
    )

    assert summary.total == 60
    assert summary.errors == []
    on_customers = read_all(kafka_bootstrap, customers)
    on_orders = read_all(kafka_bootstrap, orders)
    assert len(on_customers) == summary.acknowledged[customers]
    assert len(on_orders) == summary.acknowledged[orders]
    assert on_orders, "60 records at a 20% order share gave no order"
    for message in on_customers:
        entry, record = store.decode(message.value())
        assert entry.name == "crm.Customer"
        assert message.key() == record["customer_id"].encode()
    for message in on_orders:
        entry, record = store.decode(message.value())
        assert entry.name == "crm.Order"
        assert message.key() == record["order_id"].encode()
