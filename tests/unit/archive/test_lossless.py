"""The lossless format: records to JSON lines and back, and as a connector's format."""

from __future__ import annotations

import base64
import gzip
import json

import pytest

from kafka_s3_sink.connect.config.parser import parse_connector_config
from kafka_s3_sink.pipeline.assembler import ObjectAssembler
from kafka_s3_sink.pipeline.formats.lossless import (
    LosslessLineError,
    decode_line,
    decode_object,
    encode_line,
)
from kafka_s3_sink.pipeline.records import Record
from kafka_s3_sink.pipeline.spec import ConnectorConfigError
from kafka_s3_sink.store.spec import StoreSpec

RECORDS = [
    Record(
        "t", 0, 5, 1650243600123, b"k\x00\xff", b"\xc3\x01value", (("h", b"\x01"), ("n", None)), 1
    ),
    Record("t", 2, 0, None, None, None),
    Record("t", 1, 2**40, 1, b"", b"", (("dup", b"a"), ("dup", b"b")), 2),
]


@pytest.mark.parametrize("record", RECORDS)
def test_a_record_comes_back_identical(record):
    line = encode_line(record)
    assert line.endswith(b"\n") and line.count(b"\n") == 1
    back = decode_line(line)
    expected_type = 0 if record.timestamp_ms is None else record.timestamp_type
    assert back == Record(**{**_fields(record), "timestamp_type": expected_type})


def _fields(record: Record) -> dict:
    return {name: getattr(record, name) for name in Record.__slots__}


def test_the_line_is_plain_json_with_documented_fields():
    document = json.loads(encode_line(RECORDS[0]))
    assert document == {
        "version": 1,
        "topic": "t",
        "partition": 0,
        "offset": 5,
        "timestamp": 1650243600123,
        "timestamp_type": "CreateTime",
        "key": base64.b64encode(b"k\x00\xff").decode(),
        "value": base64.b64encode(b"\xc3\x01value").decode(),
        "headers": [["h", "AQ=="], ["n", None]],
    }
    assert json.loads(encode_line(RECORDS[2]))["timestamp_type"] == "LogAppendTime"
    assert json.loads(encode_line(RECORDS[1]))["timestamp_type"] == "NoTimestampType"


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (encode_line(RECORDS[0])[:-5], "truncated"),
        (b'{"version": 2}\n', "version"),
        (b"not json\n", "JSON"),
        (encode_line(RECORDS[0]).replace(b'"value":"', b'"value":"!'), "base64"),
        (b'{"version":1,"topic":"t","partition":0,"offset":1,"timestamp":null,'
         b'"timestamp_type":"Other","key":null,"value":null,"headers":[]}\n', "timestamp_type"),
    ],
)
def test_a_damaged_object_is_refused_with_a_reason(body, reason):
    with pytest.raises(LosslessLineError, match=reason):
        decode_object(body)


def config(**extra: str) -> dict[str, str]:
    return {
        "connector.class": "io.confluent.connect.s3.S3SinkConnector",
        "storage.class": "io.confluent.connect.s3.storage.S3Storage",
        "format.class": "io.kafkas3sink.format.LosslessJsonLinesFormat",
        "flush.size": "3",
        "topics": "t",
        "s3.bucket.name": "b",
        "partitioner.class": "io.confluent.connect.storage.partitioner.TimeBasedPartitioner",
        "path.format": "'year'=YYYY/'month'=MM/'day'=dd/'hour'=HH",
        "partition.duration.ms": "3600000",
        "timestamp.extractor": "Record",
        "locale": "C",
        "timezone": "Asia/Tokyo",
        **extra,
    }


def test_a_connector_writes_batches_of_whole_records():
    spec = parse_connector_config("lossless", config(), StoreSpec("b"))
    assembler = ObjectAssembler(spec)
    records = [Record("t", 0, o, 1650243600123 + o, b"k", b"v%d" % o, (("h", b"x"),), 1)
               for o in range(3)]
    batches = []
    for record in records:
        batches += assembler.add(record, spec.convert(record), 0)
    (batch,) = batches
    hour = "topics/t/year=2022/month=04/day=18/hour=10"
    assert assembler.key_of(batch) == f"{hour}/t+0+0000000000.jsonl"
    assert decode_object(spec.format.encode(batch.values)) == records


def test_tombstones_are_kept_not_refused():
    spec = parse_connector_config("lossless", config(), StoreSpec("b"))
    tombstone = Record("t", 0, 0, 1650243600123, b"k", None, (), 1)
    assert spec.convert(tombstone) is tombstone


def test_gzip_objects_get_their_extension():
    spec = parse_connector_config("lossless", config(**{"s3.compression.type": "gzip"}),
                                  StoreSpec("b"))
    assembler = ObjectAssembler(spec)
    record = Record("t", 0, 0, 1650243600123, None, b"v", (), 1)
    batch = assembler.add(record, spec.convert(record), 0) or None
    assert batch is None  # flush.size 3: still open
    assert assembler._extension == ".jsonl.gz"
    assert gzip.decompress(gzip.compress(encode_line(record))) == encode_line(record)


@pytest.mark.parametrize(
    ("extra", "key"),
    [
        ({"transforms": "x", "transforms.x.type":
          "org.apache.kafka.connect.transforms.ExtractField$Value",
          "transforms.x.field": "msg"}, "transforms"),
        ({"value.converter": "jp.ad.sinet.sinetstream.connect.converters.SinetStreamConverter"},
         "value.converter"),
    ],
)
def test_what_would_change_the_record_is_refused(extra, key):
    with pytest.raises(ConnectorConfigError) as error:
        parse_connector_config("lossless", config(**extra), StoreSpec("b"))
    assert error.value.key == key
