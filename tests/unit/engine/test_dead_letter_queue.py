"""The dead-letter topic's records: Kafka Connect's context headers, and send() resolving
only on the broker's acknowledgement (a fake producer stands in for librdkafka here; the
real broker is in tests/faults/test_dead_letter_topic.py)."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from kafka_s3_sink.connect.config.parser import parse_connector_config
from kafka_s3_sink.engine.dead_letter_queue import (
    HEADER_PREFIX,
    SINK_TASK_CLASS,
    DeadLetterQueue,
    DeadLetterQueueError,
)
from kafka_s3_sink.pipeline.conversion import NullValueError
from kafka_s3_sink.pipeline.converters import ConversionError
from kafka_s3_sink.pipeline.records import Record
from kafka_s3_sink.pipeline.sinetstream_codec import UndecodableMessage
from kafka_s3_sink.pipeline.transforms import TransformError

RECORD = Record("t", 2, 41, 1650243600123, b"k", b"\x00garbage", (("h", b"1"), ("n", None)))


def queue(context_headers: bool = True) -> DeadLetterQueue:
    spec = parse_connector_config(
        "c",
        {
            "connector.class": "io.confluent.connect.s3.S3SinkConnector",
            "topics": "t",
            "s3.bucket.name": "b",
            "storage.class": "io.confluent.connect.s3.storage.S3Storage",
            "format.class": "io.confluent.connect.s3.format.bytearray.ByteArrayFormat",
            "flush.size": "1",
            "errors.tolerance": "all",
            "errors.deadletterqueue.topic.name": "dlq",
            "errors.deadletterqueue.context.headers.enable": str(context_headers).lower(),
        },
    )
    config = {"bootstrap.servers": "b:9092", "group.id": "g", "sasl.username": "u"}
    return DeadLetterQueue(spec, config, task_id=3)


def test_only_connection_settings_reach_the_producer() -> None:
    assert queue()._connection == {"bootstrap.servers": "b:9092", "sasl.username": "u"}


@pytest.mark.parametrize(
    ("error", "stage", "executing"),
    [
        (UndecodableMessage("not SINETStream"), "VALUE_CONVERTER", "kafka_s3_sink.pipeline"),
        (ConversionError("bad JSON"), "VALUE_CONVERTER", "kafka_s3_sink.pipeline.converters"),
        (TransformError("no field"), "TRANSFORMATION", "kafka_s3_sink.pipeline.transforms"),
        (NullValueError("null"), "TASK_PUT", SINK_TASK_CLASS),
        (OverflowError("too big"), "TASK_PUT", SINK_TASK_CLASS),
    ],
)
def test_context_headers_are_kafka_connects(
    error: BaseException, stage: str, executing: str
) -> None:
    try:
        raise error  # a traceback, as a real failure has
    except BaseException as raised:
        headers = queue()._context_headers(RECORD, "why", raised)
    names = [name.removeprefix(HEADER_PREFIX) for name, _ in headers]
    assert names == [
        "topic",
        "partition",
        "offset",
        "connector.name",
        "task.id",
        "stage",
        "class.name",
        "exception.class.name",
        "exception.message",
        "exception.stacktrace",
    ]
    values = {name.removeprefix(HEADER_PREFIX): value for name, value in headers}
    assert values["topic"] == b"t"
    assert (values["partition"], values["offset"], values["task.id"]) == (b"2", b"41", b"3")
    assert values["connector.name"] == b"c"
    assert values["stage"] == stage.encode()
    assert values["class.name"].decode().startswith(executing)
    kind = type(error)
    assert values["exception.class.name"] == f"{kind.__module__}.{kind.__qualname__}".encode()
    assert values["exception.message"] == str(error).encode()
    assert values["exception.stacktrace"].startswith(b"Traceback")


def test_a_header_the_record_has_already_is_not_added_twice() -> None:
    record = Record("t", 0, 1, None, None, b"x", ((HEADER_PREFIX + "stage", b"mine"),))
    headers = queue()._context_headers(record, "why", None)
    assert HEADER_PREFIX + "stage" not in [name for name, _ in headers]
    assert (HEADER_PREFIX + "exception.message", b"why") in headers


class FakeProducer:
    """Delivery reports come through poll(), as librdkafka's do."""

    def __init__(self, failure: Any = None) -> None:
        self.failure = failure
        self.produced: list[dict[str, Any]] = []
        self._reports: list[Any] = []

    def produce(self, topic: str, **kwargs: Any) -> None:
        self.produced.append({"topic": topic, **kwargs})
        self._reports.append(kwargs["on_delivery"])

    def poll(self, _timeout: float) -> int:
        reports, self._reports = self._reports, []
        for report in reports:
            report(self.failure, None)
        return len(reports)


class FakeKafkaError:
    def str(self) -> str:
        return "Broker: Message size too large"


def test_send_produces_the_record_as_it_came_and_resolves_on_the_ack() -> None:
    dead_letters = queue(context_headers=False)
    producer = FakeProducer()
    dead_letters._producer = producer  # type: ignore[assignment]
    asyncio.run(dead_letters.send(RECORD, "why"))
    assert producer.produced == [
        {
            "topic": "dlq",
            "key": b"k",
            "value": b"\x00garbage",
            "headers": [("h", b"1"), ("n", None)],
            "timestamp": 1650243600123,
            "on_delivery": producer.produced[0]["on_delivery"],
        }
    ]


def test_send_raises_naming_the_record_and_topic_when_refused() -> None:
    dead_letters = queue()
    dead_letters._producer = FakeProducer(FakeKafkaError())  # type: ignore[assignment]
    with pytest.raises(DeadLetterQueueError, match=r"t\[2\]@41 to the dead-letter topic dlq"):
        asyncio.run(dead_letters.send(RECORD, "why"))
