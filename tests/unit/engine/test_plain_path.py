"""The plain path (values, DefaultPartitioner, rotation by count: no Record per message)
makes the same objects, dead letters and progress as the general path, message for message."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from kafka_s3_sink.connect.config.parser import parse_connector_config
from kafka_s3_sink.engine.delivery import PartitionProgress
from kafka_s3_sink.engine.sink_task import SinkTask, TaskOptions, _Rejected
from kafka_s3_sink.pipeline.assembler import Batch
from kafka_s3_sink.store.local import LocalObjectStore

TOPIC = "t"
CONVERTERS = {
    "bytes": "org.apache.kafka.connect.converters.ByteArrayConverter",
    "json": "org.apache.kafka.connect.json.JsonConverter",
}
FORMATS = {
    "bytes": "io.confluent.connect.s3.format.bytearray.ByteArrayFormat",
    "json": "io.confluent.connect.s3.format.json.JsonFormat",
}


class Message:
    """What the plain and general paths read of a confluent_kafka Message."""

    def __init__(self, partition: int, offset: int, value: bytes | None) -> None:
        self._partition, self._offset, self._value = partition, offset, value

    def error(self) -> None:
        return None

    def topic(self) -> str:
        return TOPIC

    def partition(self) -> int:
        return self._partition

    def offset(self) -> int:
        return self._offset

    def value(self) -> bytes | None:
        return self._value

    def key(self) -> None:
        return None

    def headers(self) -> None:
        return None

    def timestamp(self) -> tuple[int, int]:
        return (1, 1_764_000_000_000)


def make_task(tmp_path: Path, kind: str, **overrides: str) -> SinkTask:
    config = {
        "connector.class": "io.confluent.connect.s3.S3SinkConnector",
        "storage.class": "io.confluent.connect.s3.storage.S3Storage",
        "topics": TOPIC,
        "s3.bucket.name": "b",
        "store.url": f"file://{tmp_path}",
        "format.class": FORMATS[kind],
        "value.converter": CONVERTERS[kind],
        "value.converter.schemas.enable": "false",
        "flush.size": "3",
        "errors.tolerance": "all",
        "behavior.on.null.values": "ignore",
        **overrides,
    }
    spec = parse_connector_config("c", config)
    options = TaskOptions("dead-letter", 8, 1 << 20, 1.0, 5.0)
    task = SinkTask(spec, {"group.id": "g"}, LocalObjectStore(tmp_path, "b", threads=1), options)
    for partition in (0, 1):
        task._progress[(TOPIC, partition)] = PartitionProgress()
    return task


def run_plain(task: SinkTask, messages: list[Message]) -> list[Any]:
    outcomes, taken = [], 0
    while taken < len(messages):
        taken, outcome = task._take_plain(messages, taken)
        if outcome is not None:
            outcomes.append(outcome)
    return outcomes


def run_general(task: SinkTask, messages: list[Message]) -> list[Any]:
    outcomes = [task._take(message, 0) for message in messages]
    return [outcome for outcome in outcomes if outcome is not None]


def summary(task: SinkTask, outcomes: list[Any]) -> list[Any]:
    out: list[Any] = []
    for outcome in outcomes:
        if isinstance(outcome, _Rejected):
            record = outcome.record
            out.append(("dead", record.partition, record.offset, record.value, outcome.reason))
        else:
            for batch in outcome:
                assert isinstance(batch, Batch)
                body = task.spec.format.encode(batch.values)
                out.append((task.assembler.key_of(batch), batch.offsets, body))
    pending = {key: progress.first_unstored for key, progress in task._progress.items()}
    return [out, pending]


MESSAGES = {
    "bytes": [b"a", b"b", None, b"c", b"d", b"", b"e", b"f", b"g"],
    "json": [b'{"a":1}', b"[1,2]", b"not json", None, b'"x"', b'{"f":1e-5}', b"7", b"{", b"1"],
}


@pytest.mark.parametrize("kind", ["bytes", "json"])
def test_the_plain_path_makes_what_the_general_path_makes(tmp_path: Path, kind: str) -> None:
    messages = [
        Message(index % 2, index // 2, value) for index, value in enumerate(MESSAGES[kind] * 3)
    ]
    plain, general = make_task(tmp_path, kind), make_task(tmp_path, kind)
    assert plain.assembler.plain
    produced = summary(plain, run_plain(plain, messages))
    assert produced == summary(general, run_general(general, messages))
    objects, _ = produced
    assert any(item[0] == "dead" for item in objects) == (kind == "json")
    assert sum(1 for item in objects if item[0] != "dead") >= 3


def test_time_based_or_field_partitioning_is_not_plain(tmp_path: Path) -> None:
    timed = make_task(
        tmp_path,
        "json",
        **{
            "partitioner.class": "io.confluent.connect.storage.partitioner.FieldPartitioner",
            "partition.field.name": "a",
        },
    )
    assert not timed.assembler.plain
    rotated = make_task(
        tmp_path, "bytes", **{"rotate.schedule.interval.ms": "60000", "timezone": "UTC"}
    )
    assert not rotated.assembler.plain
