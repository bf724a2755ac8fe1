"""errors.deadletterqueue.topic.name: records that cannot be converted reach that topic.

As Kafka Connect does: with errors.tolerance=all, a record that fails conversion is produced
to the dead-letter topic with its original key, value, headers and timestamp, plus (with
errors.deadletterqueue.context.headers.enable=true) the ``__connect.errors.*`` headers of
Kafka Connect's DeadLetterQueueReporter.  The topic is created when missing, with
errors.deadletterqueue.topic.replication.factor; a task that cannot create or write it
FAILS, and an offset whose dead letter was not acknowledged is never committed.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from confluent_kafka import Consumer, Producer, TopicPartition
from harness import (
    Service,
    committed_offsets,
    rest,
    s3_objects,
    wait_for_api,
    wait_until,
    write_env,
)
from helpers import consume_all, make_bucket, produce_sinetstream, unique_name

pytestmark = [pytest.mark.integration, pytest.mark.slow]

S3_SINK = "io.confluent.connect.s3.S3SinkConnector"
SINETSTREAM = "jp.ad.sinet.sinetstream.connect.converters.SinetStreamConverter"
EXTRACT_FIELD = "org.apache.kafka.connect.transforms.ExtractField$Value"
PREFIX = "__connect.errors."


def data_connector(name: str, topic: str, endpoint: str, bucket: str, **extra: str) -> dict:
    """The reference data connector (msg of each SINETStream message), errors tolerated."""
    return {
        "name": name,
        "config": {
            "connector.class": S3_SINK,
            "topics": topic,
            "s3.bucket.name": bucket,
            "s3.region": "us-east-1",
            "store.url": endpoint,
            "storage.class": "io.confluent.connect.s3.storage.S3Storage",
            "format.class": "io.confluent.connect.s3.format.bytearray.ByteArrayFormat",
            "value.converter": SINETSTREAM,
            "transforms": "ExtractField,ByteArrayCast",
            "transforms.ExtractField.type": EXTRACT_FIELD,
            "transforms.ExtractField.field": "msg",
            "transforms.ByteArrayCast.type": "jp.ad.sinet.sinetstream.connect.transforms."
            "ByteArrayCast$Value",
            "flush.size": "1",
            "errors.tolerance": "all",
            **extra,
        },
    }


def service_env(tmp_path: Path, bootstrap: str, topic: str, endpoint: str, bucket: str) -> Path:
    return write_env(
        tmp_path / ".env",
        BROKER_HOSTNAME=bootstrap,
        KAFKA_TOPIC=topic,
        S3_BUCKET_NAME=bucket,
        S3_ENDPOINT_URL=endpoint,
        AWS_ACCESS_KEY_ID="test",
        AWS_SECRET_KEY="test",
        REGISTER_DEFAULTS="false",
    )


def produce_garbage(bootstrap: str, topic: str, records: list[dict]) -> dict[int, dict]:
    """Produce ``records`` (key, value, headers) to partition 0; returns them by offset."""
    producer = Producer({"bootstrap.servers": bootstrap, "acks": "all"})
    acked: dict[int, dict] = {}

    def delivered(error: object, message: object, record: dict) -> None:
        assert error is None, error
        acked[message.offset()] = {**record, "timestamp": message.timestamp()[1]}

    for record in records:
        producer.produce(
            topic,
            partition=0,
            key=record["key"],
            value=record["value"],
            headers=record["headers"],
            on_delivery=lambda e, m, r=record: delivered(e, m, r),
        )
    assert producer.flush(30) == 0
    return acked


def end_offset(bootstrap: str, topic: str) -> int:
    consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": unique_name("watermark")})
    try:
        return consumer.get_watermark_offsets(TopicPartition(topic, 0), timeout=10)[1]
    finally:
        consumer.close()


def test_unconvertible_records_reach_the_dead_letter_topic_byte_for_byte(
    tmp_path, kafka_broker, s3_endpoint, topic_factory
):
    bootstrap = kafka_broker.bootstrap
    topic = topic_factory(partitions=1)
    dlq = unique_name("dlq")
    bucket = make_bucket(s3_endpoint)
    produce_sinetstream(bootstrap, topic, [b"good-0", b"good-1"])
    garbage = produce_garbage(
        bootstrap,
        topic,
        [
            {
                "key": b"sensor-7",
                "value": b"\x00\x01not sinetstream\xff",
                "headers": [("trace-id", b"abc"), ("bin", b"\x00\xff"), ("trace-id", b"again")],
            },
            {"key": None, "value": b"{}", "headers": [("empty", b"")]},
            {"key": b"\xfe\xfd", "value": b"x" * 70_000, "headers": []},
        ],
    )
    produce_sinetstream(bootstrap, topic, [b"good-2"])
    total = end_offset(bootstrap, topic)
    connector = data_connector(
        "dlq-data",
        topic,
        s3_endpoint,
        bucket,
        **{
            "errors.deadletterqueue.topic.name": dlq,
            "errors.deadletterqueue.topic.replication.factor": "1",
            "errors.deadletterqueue.context.headers.enable": "true",
        },
    )
    env_file = service_env(tmp_path, bootstrap, topic, s3_endpoint, bucket)
    with Service(env_file, tmp_path / "service.log") as service:
        wait_for_api(env_file, service)
        assert rest(env_file, "POST", "/connectors", connector)[0] == 201
        wait_until(
            lambda: committed_offsets(bootstrap, "connect-dlq-data", topic, 1)[0] == total,
            90,
            "every offset committed",
        )
        status = rest(env_file, "GET", "/connectors/dlq-data/status")[1]
        assert status["tasks"][0]["state"] == "RUNNING", status
        assert service.stop() == 0
    dead = consume_all(bootstrap, dlq, len(garbage), timeout=30)
    assert len(dead) == len(garbage)  # and no more: nothing else went there
    for message in dead:
        headers = message.headers() or []
        context = {name: value for name, value in headers if name.startswith(PREFIX)}
        original = garbage[int(context[PREFIX + "offset"])]
        assert message.key() == original["key"]
        assert message.value() == original["value"]
        assert [h for h in headers if not h[0].startswith(PREFIX)] == original["headers"]
        assert message.timestamp()[1] == original["timestamp"]
        assert context[PREFIX + "topic"] == topic.encode()
        assert context[PREFIX + "partition"] == b"0"
        assert context[PREFIX + "connector.name"] == b"dlq-data"
        assert context[PREFIX + "task.id"] == b"0"
        assert context[PREFIX + "stage"] == b"VALUE_CONVERTER"
        assert context[PREFIX + "class.name"]
        assert context[PREFIX + "exception.class.name"].endswith(b"UndecodableMessage")
        assert context[PREFIX + "exception.message"]
        assert b"Traceback" in context[PREFIX + "exception.stacktrace"]
    # The store's dead letters are kept as before, in addition.
    objects = s3_objects(s3_endpoint, bucket)
    for offset in garbage:
        stem = f"dead-letter/{topic}/{topic}+0+{offset:010d}"
        assert objects[f"{stem}.bin"] == garbage[offset]["value"]
        assert f"{stem}.reason.json" in objects
    assert sum(key.endswith(".bin") and "/partition=0/" in key for key in objects) == 3


def test_a_dead_letter_topic_that_cannot_be_created_fails_the_task(
    tmp_path, kafka_broker, s3_endpoint, topic_factory
):
    topic = topic_factory(partitions=1)
    bucket = make_bucket(s3_endpoint)
    connector = data_connector(
        "dlq-rf",
        topic,
        s3_endpoint,
        bucket,
        **{"errors.deadletterqueue.topic.name": unique_name("dlq")},  # replication factor 3
    )
    env_file = service_env(tmp_path, kafka_broker.bootstrap, topic, s3_endpoint, bucket)
    with Service(env_file, tmp_path / "service.log") as service:
        wait_for_api(env_file, service)
        assert rest(env_file, "POST", "/connectors", connector)[0] == 201

        def failed() -> bool:
            tasks = rest(env_file, "GET", "/connectors/dlq-rf/status")[1]["tasks"]
            return bool(tasks) and tasks[0]["state"] == "FAILED"

        wait_until(failed, 60, "the task FAILED")  # one broker: 3 replicas cannot be
        trace = rest(env_file, "GET", "/connectors/dlq-rf/status")[1]["tasks"][0]["trace"]
        assert "errors.deadletterqueue.topic.replication.factor" in trace
        assert service.stop() == 0


def test_an_unacknowledged_dead_letter_is_never_committed(
    tmp_path, kafka_broker, s3_endpoint, topic_factory
):
    """The dead-letter topic refuses the record (too large): the task FAILS, and neither its
    offset nor any after it is committed, although the store has its dead letter."""
    bootstrap = kafka_broker.bootstrap
    topic = topic_factory(partitions=1)
    dlq = kafka_broker.create_topic(
        unique_name("dlq"), partitions=1, config={"max.message.bytes": "2000"}
    )
    bucket = make_bucket(s3_endpoint)
    produce_sinetstream(bootstrap, topic, [b"good-0"])
    produce_garbage(bootstrap, topic, [{"key": b"k", "value": b"y" * 10_000, "headers": []}])
    produce_sinetstream(bootstrap, topic, [b"good-2"])
    connector = data_connector(
        "dlq-refused",
        topic,
        s3_endpoint,
        bucket,
        **{
            "errors.deadletterqueue.topic.name": dlq,
            "errors.deadletterqueue.topic.replication.factor": "1",
        },
    )
    env_file = service_env(tmp_path, bootstrap, topic, s3_endpoint, bucket)
    with Service(env_file, tmp_path / "service.log") as service:
        wait_for_api(env_file, service)
        assert rest(env_file, "POST", "/connectors", connector)[0] == 201

        def failed() -> bool:
            tasks = rest(env_file, "GET", "/connectors/dlq-refused/status")[1]["tasks"]
            return bool(tasks) and tasks[0]["state"] == "FAILED"

        wait_until(failed, 90, "the task FAILED")
        trace = rest(env_file, "GET", "/connectors/dlq-refused/status")[1]["tasks"][0]["trace"]
        assert dlq in trace
        assert service.stop() == 0
    committed = committed_offsets(bootstrap, "connect-dlq-refused", topic, 1)[0]
    assert committed < 2, f"offset {committed} committed past the refused dead letter"
