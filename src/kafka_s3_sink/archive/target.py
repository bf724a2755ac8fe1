"""The topic a restore writes to: its partitions, its end offsets, its last records."""

from __future__ import annotations

import time
from typing import Any

from confluent_kafka import Consumer, KafkaException, Producer, TopicPartition
from confluent_kafka.admin import AdminClient, NewTopic

from ..engine.kafka_io import client_config

Headers = tuple[tuple[str, bytes | None], ...]
TargetRecord = tuple[bytes | None, bytes | None, Headers]  # value, key, headers


class TargetError(RuntimeError):
    """The target topic cannot take this restore; the message says why."""


def producer(bootstrap: str) -> Producer:
    return Producer(
        {
            **client_config(bootstrap),
            # No duplicates from retries, and per partition the broker appends in send order:
            # what reached a partition is always a prefix of what was sent to it.  The
            # resume logic (restore.py) rests on that.
            "enable.idempotence": True,
            "acks": "all",
            "linger.ms": 20,
            "batch.size": 1_000_000,
            # Bounds what may be in flight at a kill, hence what a resume re-reads.
            "queue.buffering.max.messages": 20_000,
            "message.max.bytes": 16 * 1024 * 1024 + 64 * 1024,
            "log_level": 3,
        }
    )


def partition_count(bootstrap: str, topic: str, create_with: int | None) -> int:
    """Partitions of ``topic``; created with ``create_with`` partitions when missing (and
    ``create_with`` is given), with the broker's default replication."""
    admin = AdminClient({**client_config(bootstrap), "log_level": 0})
    try:
        metadata = admin.list_topics(timeout=15)
    except KafkaException as error:
        raise TargetError(f"cannot reach the Kafka broker at {bootstrap}: {error}") from None
    found = metadata.topics.get(topic)
    if found is not None and found.error is None:
        return len(found.partitions)
    if create_with is None:
        raise TargetError(f"topic {topic!r} does not exist at {bootstrap}")
    futures = admin.create_topics([NewTopic(topic, num_partitions=create_with)])
    try:
        futures[topic].result(30)
    except KafkaException as error:
        raise TargetError(f"cannot create topic {topic!r}: {error.args[0].str()}") from None
    _wait_for_leaders(admin, topic, create_with)
    return create_with


def _wait_for_leaders(admin: AdminClient, topic: str, partitions: int) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        found = admin.list_topics(topic, timeout=10).topics.get(topic)
        if (
            found is not None
            and len(found.partitions) == partitions
            and all(p.leader >= 0 for p in found.partitions.values())
        ):
            return
        time.sleep(0.2)


def _consumer(bootstrap: str) -> Consumer:
    return Consumer(
        {
            **client_config(bootstrap),
            "group.id": "kafka-s3-sink-restore-reader",  # never subscribes nor commits
            "enable.auto.commit": False,
            "isolation.level": "read_uncommitted",
            "log_level": 3,
        }
    )


def end_offsets(bootstrap: str, topic: str, partitions: list[int]) -> dict[int, int]:
    """Each partition's end offset.  A topic created a moment ago may answer "not leader"
    for a few seconds while its leaders settle: asked again until it answers."""
    consumer = _consumer(bootstrap)
    try:
        out: dict[int, int] = {}
        deadline = time.monotonic() + 30
        for p in partitions:
            while p not in out:
                try:
                    out[p] = consumer.get_watermark_offsets(TopicPartition(topic, p), 15)[1]
                except KafkaException:
                    if time.monotonic() > deadline:
                        raise
                    time.sleep(0.2)
        return out
    finally:
        consumer.close()


def read_range(
    bootstrap: str, topic: str, partition: int, start: int, end: int, timeout_s: float = 60
) -> list[TargetRecord]:
    """The records at offsets [start, end) of one partition, in order."""
    if end <= start:
        return []
    consumer = _consumer(bootstrap)
    out: list[TargetRecord] = []
    try:
        consumer.assign([TopicPartition(topic, partition, start)])
        deadline = time.monotonic() + timeout_s
        while len(out) < end - start:
            if time.monotonic() > deadline:
                raise TargetError(
                    f"read {len(out)} of the {end - start} records at {topic}[{partition}] "
                    f"offsets {start}..{end - 1} in {timeout_s:.0f} s"
                )
            for message in consumer.consume(1000, 0.5):
                if message.error() is not None or message.offset() >= end:
                    continue
                headers: Any = message.headers() or ()
                out.append((message.value(), message.key(), tuple(headers)))
    finally:
        consumer.close()
    return out
