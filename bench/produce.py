"""Topics of SINETStream messages made by the real writer: filled at once, or paced.

Filling uses the tests' `produce_sinetstream` (the async writer, message format v3).  The paced
writer sends at a steady rate for the latency runs; each record's Kafka timestamp is stamped
by the producer when the message is handed to it, which is the send time latencies start from.
"""

from __future__ import annotations

import json
import os
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from confluent_kafka import Consumer, Producer, TopicPartition

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from helpers import produce_sinetstream  # noqa: E402

# The writer's producer settings for big messages: kafka-python stalls on multi-MB requests
# with the default socket buffer.
BIG_MESSAGES = {"send_buffer_bytes": 16 * 1024 * 1024}


@dataclass(frozen=True)
class Workload:
    """A filled topic: its name, how many messages of what payload size, where it ends."""

    topic: str
    payload_bytes: int
    messages: int
    end_offsets: dict[int, int]  # partition -> high watermark (the topic starts at 0)
    produce_s: float


def end_offsets(bootstrap: str, topic: str, partitions: int) -> dict[int, int]:
    consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": "bench-watermarks"})
    try:
        return {
            p: consumer.get_watermark_offsets(TopicPartition(topic, p), timeout=10)[1]
            for p in range(partitions)
        }
    finally:
        consumer.close()


def fill(bootstrap: str, topic: str, partitions: int, payload_bytes: int, count: int) -> Workload:
    """Send `count` messages of random bytes of one size; SINETStream spreads them at random
    over the partitions.  One payload repeated: the sinks do not look at the bytes."""
    payload = os.urandom(payload_bytes)
    t0 = time.monotonic()
    # Chunks keep the writer's promise list (and the driver's memory) small.
    for start in range(0, count, 20_000):
        produce_sinetstream(
            bootstrap, topic, [payload] * min(20_000, count - start), type_spec=BIG_MESSAGES
        )
    produce_s = time.monotonic() - t0
    ends = end_offsets(bootstrap, topic, partitions)
    if sum(ends.values()) != count:
        raise RuntimeError(f"{topic} holds {sum(ends.values())} messages, expected {count}")
    return Workload(topic, payload_bytes, count, ends, produce_s)


def json_document(index: int, payload_bytes: int) -> bytes:
    """One sensor reading as a JSON document of about ``payload_bytes``: the kinds of values
    a converter meets (strings, integers, floats, a nested object, a list of floats)."""
    readings = [round(20 + (index * 7 + i) % 100 / 7, 3) for i in range(16)]
    document: dict[str, Any] = {
        "device": f"sensor-{index % 50:03d}",
        "seq": index,
        "time": 1_764_000_000_000 + index,
        "location": {"site": "lab-a", "rack": index % 8, "lat": 35.6895, "lon": 139.6917},
        "temperature": 21.5 + (index % 40) / 10,
        "ok": index % 13 != 0,
        "readings": readings,
    }
    text = json.dumps(document, separators=(",", ":"))
    pad = max(0, payload_bytes - len(text) - len(',"note":""'))
    document["note"] = ("sample " * (pad // 7 + 1))[:pad]
    return json.dumps(document, separators=(",", ":")).encode()


def fill_json(
    bootstrap: str, topic: str, partitions: int, payload_bytes: int, count: int
) -> Workload:
    """Send ``count`` JSON documents of about ``payload_bytes`` with a plain Kafka producer
    (no SINETStream framing: the values are what a JsonConverter reads), spread round-robin
    over the partitions.  Documents differ (a sequence number, a device, readings)."""
    producer = Producer(
        {"bootstrap.servers": bootstrap, "linger.ms": 20, "batch.size": 1 << 20, "acks": "all"}
    )
    t0 = time.monotonic()
    for index in range(count):
        value = json_document(index, payload_bytes)
        while True:
            try:
                producer.produce(topic, value, partition=index % partitions)
                break
            except BufferError:  # the local queue is full: let it drain
                producer.poll(0.05)
        if index % 10_000 == 0:
            producer.poll(0)
    if producer.flush(60) != 0:
        raise RuntimeError(f"{topic}: messages still unsent after 60 s")
    produce_s = time.monotonic() - t0
    ends = end_offsets(bootstrap, topic, partitions)
    if sum(ends.values()) != count:
        raise RuntimeError(f"{topic} holds {sum(ends.values())} messages, expected {count}")
    return Workload(topic, payload_bytes, count, ends, produce_s)


def produce_paced(
    bootstrap: str, topic: str, payload_bytes: int, rate: float, seconds: float
) -> dict[str, Any]:
    """Send rate * seconds messages at a steady rate with the SINETStream writer.

    Sends follow a fixed schedule (message i at t0 + i / rate), so a late send does not shift
    the ones after it.  linger 0: a message waits for no batch, as a sensor's would not.
    """
    from sinetstream import AsyncMessageWriter

    config: dict[str, Any] = {
        "type": "kafka",
        "brokers": bootstrap,
        "value_type": "byte_array",
        "message_format": 3,
        "consistency": "AT_LEAST_ONCE",
        "type_spec": {"linger_ms": 0},
    }
    payload = os.urandom(payload_bytes)
    count = int(rate * seconds)
    with AsyncMessageWriter(service="bench", topic=topic, no_config=True, **config) as writer:
        t0 = time.time()
        promises = []
        for i in range(count):
            delay = t0 + i / rate - time.time()
            if delay > 0:
                time.sleep(delay)
            promises.append(writer.publish(payload))
        sent_s = time.time() - t0
    for promise in promises:
        if not promise.is_fulfilled:
            promise.get(timeout=60)
    return {"messages": count, "started_wall": t0, "send_s": round(sent_s, 2)}


def record_timestamps(bootstrap: str, topic: str, count: int, timeout: float = 60) -> dict:
    """(partition, offset) -> record timestamp in seconds, for `count` records of topic."""
    consumer = Consumer(
        {
            "bootstrap.servers": bootstrap,
            "group.id": f"bench-stamps-{time.monotonic_ns()}",
            "auto.offset.reset": "earliest",
            "enable.auto.commit": False,
        }
    )
    stamps: dict[tuple[int, int], float] = {}
    deadline = time.monotonic() + timeout
    try:
        consumer.subscribe([topic])
        while len(stamps) < count and time.monotonic() < deadline:
            for msg in consumer.consume(num_messages=1000, timeout=0.5):
                if msg.error() is None:
                    stamps[(msg.partition(), msg.offset())] = msg.timestamp()[1] / 1000
    finally:
        consumer.close()
    return stamps
