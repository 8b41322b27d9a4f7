"""The broker side of exactly-once: aiokafka transactions on the local broker.

A transactional mode would send each batch's outputs, audit events and
consumed offsets in one transaction of an aiokafka producer whose
transactional id belongs to one source partition. These tests check the
parts it relies on against the Kafka version that `LocalKafka` runs:
commit with offsets, abort, and fencing of a producer that a restarted
worker replaces.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable
from typing import Any

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.errors import KafkaError
from confluent_kafka import Consumer
from confluent_kafka import TopicPartition as ConfluentPartition

from streams.ops.chaos import read_topics

pytestmark = pytest.mark.kafka

TopicFactory = Callable[..., str]


def _committed(bootstrap: str, group: str, topic: str) -> int:
    consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": group})
    try:
        (partition,) = consumer.committed([ConfluentPartition(topic, 0)], timeout=30)
        return int(partition.offset)
    finally:
        consumer.close()


async def _transactional(bootstrap: str, transactional_id: str) -> AIOKafkaProducer:
    producer = AIOKafkaProducer(
        bootstrap_servers=bootstrap, transactional_id=transactional_id
    )
    await producer.start()
    return producer


async def _commit_batch(
    bootstrap: str, source: str, output: str, group: str, count: int
) -> None:
    """Consume `count` records; forward them and their offsets in one transaction."""
    consumer = AIOKafkaConsumer(
        source,
        bootstrap_servers=bootstrap,
        group_id=group,
        enable_auto_commit=False,
        auto_offset_reset="earliest",
    )
    await consumer.start()
    producer = await _transactional(bootstrap, f"{group}-{source}-0")
    try:
        records: list[Any] = []
        while len(records) < count:
            batches = await consumer.getmany(timeout_ms=1000)
            for batch in batches.values():
                records += batch
        async with producer.transaction():
            for record in records:
                await producer.send(output, record.value)
            await producer.send_offsets_to_transaction(
                {TopicPartition(source, 0): records[-1].offset + 1}, group
            )
    finally:
        await producer.stop()
        await consumer.stop()


def test_transaction_commits_outputs_and_offsets(
    kafka_bootstrap: str, new_topic: TopicFactory
) -> None:
    source, output = new_topic("tx-source"), new_topic("tx-output")
    group = f"tx-{uuid.uuid4().hex[:8]}"

    async def scenario() -> None:
        producer = AIOKafkaProducer(bootstrap_servers=kafka_bootstrap)
        await producer.start()
        for index in range(10):
            await producer.send_and_wait(source, str(index).encode())
        await producer.stop()
        await _commit_batch(kafka_bootstrap, source, output, group, 10)

    asyncio.run(scenario())
    values = [m.value() for m in read_topics(kafka_bootstrap, [output])]
    assert values == [str(index).encode() for index in range(10)]
    assert _committed(kafka_bootstrap, group, source) == 10


def test_aborted_transaction_is_invisible(
    kafka_bootstrap: str, new_topic: TopicFactory
) -> None:
    output = new_topic("tx-output")

    async def scenario() -> None:
        producer = await _transactional(kafka_bootstrap, f"tx-{uuid.uuid4().hex}")
        try:
            await producer.begin_transaction()
            await producer.send_and_wait(output, b"aborted")
            await producer.abort_transaction()
            async with producer.transaction():
                await producer.send_and_wait(output, b"committed")
        finally:
            await producer.stop()

    asyncio.run(scenario())
    values = [m.value() for m in read_topics(kafka_bootstrap, [output])]
    assert values == [b"committed"]


def test_new_producer_fences_the_old_one(
    kafka_bootstrap: str, new_topic: TopicFactory
) -> None:
    output = new_topic("tx-output")
    transactional_id = f"tx-{uuid.uuid4().hex}"

    async def scenario() -> type[BaseException] | None:
        zombie = await _transactional(kafka_bootstrap, transactional_id)
        await zombie.begin_transaction()
        await zombie.send_and_wait(output, b"zombie")
        successor = await _transactional(kafka_bootstrap, transactional_id)
        failure: type[BaseException] | None = None
        try:
            await zombie.commit_transaction()
        except KafkaError as error:
            failure = type(error)
        async with successor.transaction():
            await successor.send_and_wait(output, b"successor")
        await successor.stop()
        await zombie.stop()
        return failure

    failure = asyncio.run(scenario())
    values = [m.value() for m in read_topics(kafka_bootstrap, [output])]
    assert failure is not None
    assert values == [b"successor"]
