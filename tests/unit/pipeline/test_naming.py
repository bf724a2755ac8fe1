"""Keys a store can take: checked from the record, so a bad one is a dead letter, not a stall."""

from __future__ import annotations

import json

import pytest

from kafka_s3_sink.connect.config.parser import parse_connector_config
from kafka_s3_sink.pipeline.assembler import ObjectAssembler
from kafka_s3_sink.pipeline.naming import (
    InvalidObjectKey,
    TimeBasedPartitioner,
    check_key,
    check_timestamp,
)
from kafka_s3_sink.pipeline.records import Record


@pytest.mark.parametrize(
    "key",
    ["a/../b", "a/./b", "a//b", "/a", "a/", "..", "a/\ud800/b", "a/\x00", "k" * 1025],
)
def test_unusable_keys_are_refused(key: str) -> None:
    with pytest.raises(InvalidObjectKey):
        check_key(key)


@pytest.mark.parametrize("key", ["topics/t/site=../t+0+0.json", "a/b c/é/x+1.bin", "k" * 1024])
def test_usable_keys_pass(key: str) -> None:
    assert check_key(key) == key


@pytest.mark.parametrize("timestamp", [253402300800000, -62135596800001, 2**62])
def test_timestamps_outside_the_calendar_are_refused(timestamp: int) -> None:
    with pytest.raises(InvalidObjectKey, match="outside 0001-01-02 to 9999-12-30"):
        check_timestamp(timestamp)
    with pytest.raises(InvalidObjectKey):
        TimeBasedPartitioner("'year'=YYYY", "Asia/Tokyo", 3_600_000).encode(timestamp)


def field_assembler() -> ObjectAssembler:
    spec = parse_connector_config(
        "f",
        {
            "connector.class": "io.confluent.connect.s3.S3SinkConnector",
            "topics": "t",
            "s3.bucket.name": "b",
            "store.url": "file:///tmp/never-written",
            "storage.class": "io.confluent.connect.s3.storage.S3Storage",
            "format.class": "io.confluent.connect.s3.format.json.JsonFormat",
            "value.converter": "org.apache.kafka.connect.json.JsonConverter",
            "value.converter.schemas.enable": "false",
            "partitioner.class": "io.confluent.connect.storage.partitioner.FieldPartitioner",
            "partition.field.name": "site",
            "flush.size": "2",
        },
    )
    return ObjectAssembler(spec)


def add(assembler: ObjectAssembler, offset: int, site: str) -> list:
    value = json.dumps({"site": site}).encode()
    record = Record("t", 0, offset, 1650243600000, None, value)
    return assembler.add(record, assembler.spec.convert(record), 0)


@pytest.mark.parametrize("site", ["a/../b", "x/..", "\ud800", "a\nb"])
def test_a_field_value_that_cannot_be_a_key_fails_its_record_alone(site: str) -> None:
    assembler = field_assembler()
    assert add(assembler, 0, "ok") == []
    with pytest.raises(InvalidObjectKey):
        add(assembler, 1, site)
    # The open batch is untouched: the next good record completes it.
    [batch] = add(assembler, 2, "ok")
    assert batch.offsets == [0, 2]
    assert assembler.key_of(batch) == "topics/t/site=ok/t+0+0000000000.json"
