"""A rebalance that waits for uploads never stalls the event loop (real broker).

When another member joins, the task's revocation callback (on its Kafka thread) waits for
the event loop to finish the revoked partitions' uploads.  Anything the event loop asks the
consumer meanwhile (the lag of the progress line, GET /metrics, a task's status) must not
wait for that callback: the two would wait for each other until the shutdown timeout.
"""

from __future__ import annotations

import asyncio
import threading
import time
from pathlib import Path

from confluent_kafka import Consumer, Producer

from kafka_s3_sink.connect.config.parser import parse_connector_config
from kafka_s3_sink.engine.kafka_io import consumer_config
from kafka_s3_sink.engine.sink_task import SinkTask, TaskOptions
from kafka_s3_sink.store.local import LocalObjectStore

SHUTDOWN_TIMEOUT_S = 40.0  # how long the revocation waits for uploads at most


class HeldStore(LocalObjectStore):
    """A local store whose puts wait until the test releases them (a slow S3)."""

    def __init__(self, root: Path) -> None:
        super().__init__(root, "b", threads=2)
        self.release = asyncio.Event()
        self.waiting = 0

    async def put(self, key: str, body: bytes | memoryview) -> None:
        self.waiting += 1
        await self.release.wait()
        await super().put(key, body)


def test_lag_answers_while_a_revocation_waits_for_uploads(tmp_path, kafka_broker, topic_factory):
    topic = topic_factory(partitions=2)
    producer = Producer({"bootstrap.servers": kafka_broker.bootstrap})
    for i in range(20):
        producer.produce(topic, f"record {i}".encode(), partition=i % 2)
    producer.flush(10)
    asyncio.run(_revoke_while_uploads_wait(tmp_path, kafka_broker.bootstrap, topic))


async def _revoke_while_uploads_wait(tmp_path: Path, bootstrap: str, topic: str) -> None:
    spec = parse_connector_config("data", {
        "name": "data",
        "connector.class": "io.confluent.connect.s3.S3SinkConnector",
        "topics": topic,
        "s3.bucket.name": "b",
        "flush.size": "1",
        "storage.class": "io.confluent.connect.s3.storage.S3Storage",
        "format.class": "io.confluent.connect.s3.format.bytearray.ByteArrayFormat",
        "value.converter": "org.apache.kafka.connect.converters.ByteArrayConverter",
    })
    group = f"liveness-{topic}"
    settings = consumer_config(bootstrap, group)
    settings["session.timeout.ms"] = 10_000
    store = HeldStore(tmp_path)
    await store.check()
    options = TaskOptions("dead-letter", 64, 1 << 24, 1.0, SHUTDOWN_TIMEOUT_S)
    task = SinkTask(spec, settings, store, options)
    revoking = threading.Event()
    drain = task._uploads.drain

    async def noted_drain() -> None:
        revoking.set()
        await drain()

    task._uploads.drain = noted_drain  # type: ignore[method-assign]
    stop = asyncio.Event()
    running = asyncio.create_task(task.run(stop))
    joined = threading.Event()
    other: list[Consumer] = []

    def second_member() -> None:
        consumer = Consumer({**settings, "client.id": "second"})
        other.append(consumer)
        consumer.subscribe([topic])
        while not joined.is_set():
            consumer.consume(10, 0.2)
        consumer.close()

    try:
        await _until(lambda: store.waiting > 0, 60, "uploads started and held")
        thread = threading.Thread(target=second_member, daemon=True)
        thread.start()
        await _until(revoking.is_set, 60, "the revocation waiting for uploads")
        started = time.monotonic()
        task.lag()  # as the progress line does, every second
        answered_in = time.monotonic() - started
        store.release.set()
        assert answered_in < SHUTDOWN_TIMEOUT_S / 4, (
            f"lag() waited {answered_in:.1f} s for the revocation callback"
        )
        # The revocation ends with its uploads stored, not by its timeout.
        await _until(lambda: not task.assigned() or len(task.assigned()) < 2, 30,
                     "the revocation to finish")
    finally:
        store.release.set()
        joined.set()
        stop.set()
        await asyncio.wait_for(running, 60)
        await store.close()


async def _until(predicate, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, f"timed out after {timeout}s waiting for {what}"
        await asyncio.sleep(0.05)
