"""Helpers shared by the tests: topics, SINETStream producing, Kafka reading, S3 buckets.

Import as ``from helpers import ...`` (tests/conftest.py puts tests/ on sys.path).
"""

from __future__ import annotations

import time
import uuid
from typing import TYPE_CHECKING, Any

from confluent_kafka import Consumer, Message

if TYPE_CHECKING:
    from kafka_s3_sink.devtools.kafka_broker import LocalKafkaBroker

# moto accepts any credentials, but boto3 (and obstore) refuse to sign without some.
S3_REGION = "us-east-1"
S3_ACCESS_KEY = "testing"
S3_SECRET_KEY = "testing"


def unique_name(prefix: str = "t") -> str:
    """A name no other test of this session uses (topics, buckets, consumer groups)."""
    return f"{prefix}-{uuid.uuid4().hex[:12]}"


def make_topic(broker: LocalKafkaBroker, partitions: int = 3, prefix: str = "topic") -> str:
    """Create a fresh topic on ``broker`` (all partitions led) and return its name."""
    return broker.create_topic(unique_name(prefix), partitions=partitions)


def produce_sinetstream(
    bootstrap: str,
    topic: str,
    payloads: list[bytes],
    timestamp: float | None = None,
    message_format: int = 3,
    **params: Any,
) -> None:
    """Send ``payloads`` with the real SINETStream writer; return once the broker acked all.

    Messages go out in list order, each to a random partition (kafka-python's default
    partitioner for messages without a key). ``timestamp`` (seconds since the epoch) is the
    SINETStream timestamp inside each message (default: the time of each publish); the Kafka
    record timestamp is always the producer's clock. ``message_format=3`` is the current
    format (header ``DF 03 00 00`` + key version + Avro), 2 the older Avro-only one. Extra
    ``params`` are SINETStream writer options; kafka-python producer options go in
    ``type_spec={...}`` (without a config file SINETStream uses config v3, which reads the
    plugin's options only from there and silently drops them anywhere else).
    """
    # Imported here so that unit tests can import this module without SINETStream's deps.
    from sinetstream import AsyncMessageWriter

    producer = {
        # kafka-python refuses records over 1 MiB by default; the test broker takes 16 MiB.
        "max_request_size": 16 * 1024 * 1024 + 64 * 1024,
        # Fuller batches: fewer requests for the broker, which shares the 2 cores.
        "linger_ms": 5,
        "batch_size": 256 * 1024,
        # A loaded 2-core CI machine can take a while to ack a multi-megabyte batch.
        "request_timeout_ms": 120_000,
        # kafka-python stalls now and then on multi-megabyte requests with a small socket
        # send buffer (seen: 3 of 4 sends of a 6 MB message timed out at 128 KiB, 0 of 8 here).
        "send_buffer_bytes": 16 * 1024 * 1024,
        **params.pop("type_spec", {}),
    }
    config: dict[str, Any] = {
        "type": "kafka",
        "brokers": bootstrap,
        "value_type": "byte_array",
        "message_format": message_format,
        # acks=1: the default AT_MOST_ONCE is acks=0, which can lose messages silently.
        "consistency": "AT_LEAST_ONCE",
        "type_spec": producer,
        **params,
    }
    # The async writer: the plain MessageWriter waits for the ack of every single message
    # (~500 msg/s here), the async one pipelines them (~3,000-7,000 msg/s) with the same bytes.
    with AsyncMessageWriter(service="kafka-s3-sink-test", topic=topic, no_config=True,
                            **config) as writer:
        promises = [writer.publish(p, timestamp) for p in payloads]
    # Closing the writer flushed the producer, so every promise is settled by now; get()
    # re-raises the first send error (it also waits, should a callback still be running).
    for promise in promises:
        if not promise.is_fulfilled:
            promise.get(timeout=60)


def consume_all(
    bootstrap: str, topic: str, count: int, timeout: float = 60, **config: Any
) -> list[Message]:
    """Read ``count`` records of ``topic`` from the beginning with a throwaway consumer group."""
    consumer = Consumer({
        "bootstrap.servers": bootstrap,
        "group.id": unique_name("test-reader"),
        "auto.offset.reset": "earliest",
        "enable.auto.commit": False,
        **config,
    })
    records: list[Message] = []
    try:
        consumer.subscribe([topic])
        deadline = time.monotonic() + timeout
        while len(records) < count and time.monotonic() < deadline:
            for msg in consumer.consume(num_messages=min(1000, count - len(records)), timeout=1):
                if msg.error() is not None:
                    raise RuntimeError(f"consume error: {msg.error()}")
                records.append(msg)
    finally:
        consumer.close()
    if len(records) < count:
        raise TimeoutError(f"read only {len(records)} of {count} records from {topic}")
    return records


def s3_client(endpoint: str) -> Any:
    """A boto3 S3 client for the moto server at ``endpoint``."""
    import boto3

    return boto3.client("s3", endpoint_url=endpoint, region_name=S3_REGION,
                        aws_access_key_id=S3_ACCESS_KEY, aws_secret_access_key=S3_SECRET_KEY)


def make_bucket(endpoint: str, prefix: str = "bucket") -> str:
    """Create a fresh, empty bucket on the moto server and return its name."""
    name = unique_name(prefix)
    s3_client(endpoint).create_bucket(Bucket=name)
    return name


# A Kafka Connect struct schema (JsonConverter envelope form) with every Connect type: the
# Avro and Parquet tests write values of it.
READING_SCHEMA = {
    "type": "struct",
    "name": "sensor.Reading",
    "version": 2,
    "fields": [
        {"field": "id", "type": "int8"},
        {"field": "level", "type": "int16"},
        {"field": "count", "type": "int32"},
        {"field": "total", "type": "int64"},
        {"field": "ratio", "type": "float"},
        {"field": "value", "type": "double"},
        {"field": "ok", "type": "boolean"},
        {"field": "label", "type": "string", "optional": True},
        {"field": "raw", "type": "bytes"},
        {"field": "price", "type": "bytes", "name": "org.apache.kafka.connect.data.Decimal",
         "version": 1, "parameters": {"scale": "2", "connect.decimal.precision": "10"}},
        {"field": "at", "type": "int64", "name": "org.apache.kafka.connect.data.Timestamp",
         "version": 1},
        {"field": "day", "type": "int32", "name": "org.apache.kafka.connect.data.Date",
         "version": 1},
        {"field": "tags", "type": "array", "items": {"type": "string"}},
        {"field": "attrs", "type": "map", "keys": {"type": "string"},
         "values": {"type": "int32"}},
        {"field": "where", "type": "struct", "optional": True,
         "fields": [{"field": "lat", "type": "double"}, {"field": "lon", "type": "double"}]},
    ],
}
