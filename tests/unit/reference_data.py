"""Test data: the reference deployment's two connector configs, SINETStream values, records."""

from __future__ import annotations

from typing import Any

from sinetstream import SINETStreamMessageEncoder

from kafka_s3_sink.pipeline.records import Record

TOPIC = "sensor-data"
# 2022-04-18T01:00:00Z: 10:00 in Asia/Tokyo, so the hour directory is hour=10.
RECORD_TIMESTAMP_MS = 1650243600000


def reference_common(topic: str, store_url: str | None = "http://minio:9000") -> dict[str, Any]:
    """What register.sh puts in both connectors (contract section 2), as it sends it."""
    config: dict[str, Any] = {
        "connector.class": "io.confluent.connect.s3.S3SinkConnector",
        "value.converter": "jp.ad.sinet.sinetstream.connect.converters.SinetStreamConverter",
        "format.class": "io.confluent.connect.s3.format.bytearray.ByteArrayFormat",
        "storage.class": "io.confluent.connect.s3.storage.S3Storage",
        "tasks.max": 1,  # a JSON number in the script
        "flush.size": "1",
        "partitioner.class": "io.confluent.connect.storage.partitioner.TimeBasedPartitioner",
        "path.format": "'year'=YYYY/'month'=MM/'day'=dd/'hour'=HH",
        "partition.duration.ms": "3600000",
        "timestamp.extractor": "Record",
        "locale": "C",
        "timezone": "Asia/Tokyo",
        "s3.region": "us-east-1",
        "s3.bucket.name": "archive",
        "topics": topic,
    }
    if store_url is not None:
        config["store.url"] = store_url
    return config


def reference_data_config(topic: str, extension: str = ".bin") -> dict[str, Any]:
    return {
        **reference_common(topic),
        "group.id": "kafka-connect-s3-sink-data",
        "transforms": "ExtractField,ByteArrayCast",
        "transforms.ExtractField.type": "org.apache.kafka.connect.transforms.ExtractField$Value",
        "transforms.ExtractField.field": "msg",
        "transforms.ByteArrayCast.type":
            "jp.ad.sinet.sinetstream.connect.transforms.ByteArrayCast$Value",
        "format.bytearray.extension": extension,
    }


def reference_timestamp_config(topic: str) -> dict[str, Any]:
    return {
        **reference_common(topic),
        "group.id": "kafka-connect-s3-sink-timestamp",
        "transforms": "Timestamp,ExtractField,ByteArrayCast",
        "transforms.Timestamp.type":
            "jp.ad.sinet.sinetstream.connect.transforms.MicrosecondTimestampConverter$Value",
        "transforms.Timestamp.field": "tstamp",
        "transforms.Timestamp.format": "yyyy-MM-dd'T'HH:mm:ss.SSS",
        "transforms.Timestamp.target.type": "string",
        "transforms.ExtractField.type": "org.apache.kafka.connect.transforms.ExtractField$Value",
        "transforms.ExtractField.field": "tstamp",
        "transforms.ByteArrayCast.type":
            "jp.ad.sinet.sinetstream.connect.transforms.ByteArrayCast$Value",
        "format.bytearray.extension": "-timestamp.txt",
    }


def sinetstream_value(msg: bytes, timestamp: float, message_format: int = 3) -> bytes:
    """A value as the real SINETStream writer encodes it."""
    with SINETStreamMessageEncoder(value_type="byte_array", message_format=message_format) as enc:
        return enc.encode(msg, timestamp=timestamp)


def record(
    value: bytes | None,
    offset: int = 0,
    partition: int = 0,
    timestamp_ms: int | None = RECORD_TIMESTAMP_MS,
    topic: str = TOPIC,
) -> Record:
    return Record(topic, partition, offset, timestamp_ms, None, value)
