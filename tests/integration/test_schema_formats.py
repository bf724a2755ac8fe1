"""AvroFormat and ParquetFormat connectors on a running service: real Kafka, S3 over HTTP."""

from __future__ import annotations

import io
import json

import fastavro
import pyarrow.parquet as pq
import pytest
from confluent_kafka import Producer
from harness import (
    Service,
    payload_of,
    read_topic,
    rest,
    s3_env,
    s3_objects,
    tstamp_of,
    wait_for_api,
    wait_until,
)
from helpers import make_bucket, produce_sinetstream

pytestmark = pytest.mark.integration

WRITER_TIME = 1650243600.123456
S3_SINK = "io.confluent.connect.s3.S3SinkConnector"
SINETSTREAM = "jp.ad.sinet.sinetstream.connect.converters.SinetStreamConverter"
DEFAULT_PARTITIONER = "io.confluent.connect.storage.partitioner.DefaultPartitioner"


def connector(name: str, topic: str, bucket: str, endpoint: str, **extra: str) -> dict:
    return {
        "name": name,
        "config": {
            "connector.class": S3_SINK,
            "topics": topic,
            "s3.bucket.name": bucket,
            "store.url": endpoint,
            "storage.class": "io.confluent.connect.s3.storage.S3Storage",
            "value.converter": SINETSTREAM,
            "partitioner.class": DEFAULT_PARTITIONER,
            "flush.size": "100",
            "errors.tolerance": "all",
            "topics.dir": name,
            **extra,
        },
    }


def avro_rows(body: bytes) -> tuple[dict, list]:
    with io.BytesIO(body) as f:
        reader = fastavro.reader(f)
        return json.loads(reader.metadata["avro.schema"]), list(reader)


def envelope(schema: dict | None, payload: dict) -> bytes:
    return json.dumps({"schema": schema, "payload": payload}).encode()


def test_avro_and_parquet_connectors_archive_sinetstream_and_json_records(
    tmp_path, kafka_broker, s3_endpoint, topic_factory
):
    sensor_topic = topic_factory(partitions=1)
    payloads = [f"reading {i}".encode() for i in range(250)]
    produce_sinetstream(kafka_broker.bootstrap, sensor_topic, payloads, timestamp=WRITER_TIME)
    records = read_topic(kafka_broker.bootstrap, sensor_topic, len(payloads))

    # JSON with schemas: 60 records of v1, then v2 adds a field; one record has no schema.
    json_topic = topic_factory(partitions=1)
    v1 = {"type": "struct", "name": "lab.Reading", "version": 1,
          "fields": [{"field": "sensor", "type": "string"}, {"field": "t", "type": "double"}]}
    v2 = {**v1, "version": 2,
          "fields": [*v1["fields"], {"field": "unit", "type": "string", "optional": True}]}
    producer = Producer({"bootstrap.servers": kafka_broker.bootstrap})
    for i in range(60):
        producer.produce(json_topic, envelope(v1, {"sensor": "s1", "t": 20.0 + i}))
    producer.produce(json_topic, envelope(None, {"sensor": "no schema"}))  # offset 60
    for i in range(61, 161):
        producer.produce(json_topic, envelope(v2, {"sensor": "s2", "t": 1.0 * i, "unit": "C"}))
    producer.flush(10)

    bucket = make_bucket(s3_endpoint)
    env_file = s3_env(
        tmp_path, kafka_broker.bootstrap, sensor_topic, s3_endpoint, bucket,
        REGISTER_DEFAULTS="false",
    )
    data_transforms = {
        "transforms": "ExtractField,ByteArrayCast",
        "transforms.ExtractField.type": "org.apache.kafka.connect.transforms.ExtractField$Value",
        "transforms.ExtractField.field": "msg",
        "transforms.ByteArrayCast.type":
            "jp.ad.sinet.sinetstream.connect.transforms.ByteArrayCast$Value",
    }
    connectors = [
        connector("avro-messages", sensor_topic, bucket, s3_endpoint, **{
            "format.class": "io.confluent.connect.s3.format.avro.AvroFormat",
            "avro.codec": "deflate"}),
        connector("avro-data", sensor_topic, bucket, s3_endpoint, **{
            "format.class": "AvroFormat", **data_transforms}),
        connector("parquet-messages", sensor_topic, bucket, s3_endpoint, **{
            "format.class": "io.confluent.connect.s3.format.parquet.ParquetFormat"}),
        connector("parquet-json", json_topic, bucket, s3_endpoint, **{
            "format.class": "ParquetFormat",
            "value.converter": "org.apache.kafka.connect.json.JsonConverter"}),
    ]
    with Service(env_file, tmp_path / "service.log") as service:
        wait_for_api(env_file, service)
        for body in connectors:
            status, answer = rest(env_file, "POST", "/connectors", body)
            assert status == 201, answer
        # 2 objects each for the sensor connectors; 60 (v1) + 100 (v2) for the JSON one.
        wait_until(
            lambda: len([k for k in s3_objects(s3_endpoint, bucket) if "dead-letter" not in k])
            >= 8,
            90,
            "two objects per connector",
        )
        status, answer = rest(env_file, "GET", "/connectors/parquet-json/status")
        assert answer["tasks"][0]["state"] == "RUNNING"
        assert service.stop() == 0, service.log()

    objects = s3_objects(s3_endpoint, bucket)
    by_offset = {r.offset: r for r in records}
    first, second = range(0, 100), range(100, 200)  # 200-249 wait in the open batch

    def key(name: str, topic: str, offset: int, extension: str) -> str:
        return f"{name}/{topic}/partition=0/{topic}+0+{offset:010d}{extension}"

    for offsets in (first, second):
        schema, rows = avro_rows(objects[key("avro-messages", sensor_topic, offsets[0], ".avro")])
        assert (schema["namespace"], schema["name"]) == ("jp.ad.sinet.stream", "message")
        assert rows == [
            {"tstamp": tstamp_of(by_offset[o]), "msg": payload_of(by_offset[o])} for o in offsets
        ]
        schema, rows = avro_rows(objects[key("avro-data", sensor_topic, offsets[0], ".avro")])
        assert schema == "bytes"
        assert rows == [payload_of(by_offset[o]) for o in offsets]
        table = pq.read_table(
            io.BytesIO(objects[key("parquet-messages", sensor_topic, offsets[0],
                                   ".snappy.parquet")])
        )
        assert table.column_names == ["tstamp", "msg"]
        assert table.column("msg").to_pylist() == [payload_of(by_offset[o]) for o in offsets]
    with io.BytesIO(objects[key("avro-messages", sensor_topic, 0, ".avro")]) as f:
        assert fastavro.reader(f).metadata["avro.codec"] == "deflate"

    # The schema change closed the v1 object at 60 records; v2 starts at offset 61.
    v1_table = pq.read_table(io.BytesIO(objects[key("parquet-json", json_topic, 0,
                                                    ".snappy.parquet")]))
    v2_table = pq.read_table(io.BytesIO(objects[key("parquet-json", json_topic, 61,
                                                    ".snappy.parquet")]))
    assert v1_table.num_rows == 60 and v1_table.column_names == ["sensor", "t"]
    assert v2_table.num_rows == 100 and v2_table.column_names == ["sensor", "t", "unit"]
    assert v2_table.slice(0, 1).to_pylist() == [{"sensor": "s2", "t": 61.0, "unit": "C"}]
    # The record without a schema is kept raw, with the reason, and nothing else is lost.
    dead = f"dead-letter/{json_topic}/{json_topic}+0+0000000060"
    assert objects[f"{dead}.bin"] == envelope(None, {"sensor": "no schema"})
    reason = json.loads(objects[f"{dead}.reason.json"])
    assert "ParquetFormat writes values through their Kafka Connect schema" in str(reason)
