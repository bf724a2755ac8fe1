"""parse_connector_config: the reference connectors byte for byte, then every key's meaning."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import pytest

from kafka_s3_sink.connect.config.parser import ConnectorConfigErrors, parse_connector_config
from kafka_s3_sink.pipeline.conversion import NullValueError
from kafka_s3_sink.pipeline.formats.base import object_extension
from kafka_s3_sink.pipeline.naming import object_key
from kafka_s3_sink.pipeline.sinetstream_codec import UndecodableMessage
from kafka_s3_sink.pipeline.spec import ConnectorConfigError, ConnectorSpec
from kafka_s3_sink.store.spec import StoreSpec

from ..reference_data import (
    record,
    reference_common,
    reference_data_config,
    reference_timestamp_config,
    sinetstream_value,
)

TOPIC = "sensor-data"
SERVICE_STORE = StoreSpec(
    bucket="service-bucket", region="ap-northeast-1", endpoint_url="http://minio:9000",
    access_key_id="service-key", secret_access_key="service-secret", create_bucket=True,
)


def written(spec: ConnectorSpec, values: list[bytes | None], offset: int = 0) -> tuple[str, bytes]:
    """(key, body) of the object one record of each value makes, as the engine would."""
    records = [record(value, offset=offset + i, topic=TOPIC) for i, value in enumerate(values)]
    converted = [spec.convert(r) for r in records]
    key = object_key(
        spec.key_layout, TOPIC, spec.encode_partition(records[0], converted[0]),
        records[0].partition, records[0].offset,
        object_extension(spec.format.extension, spec.compression),
    )
    return key, spec.format.encode(converted)


def error_of(config: dict[str, Any], name: str = "c") -> ConnectorConfigError:
    with pytest.raises(ConnectorConfigError) as caught:
        parse_connector_config(name, config)
    return caught.value


# --- the reference deployment (contract sections 2 and 4) ---------------------------------

@pytest.mark.parametrize("message_format", [2, 3])
def test_reference_data_connector_writes_msg_and_a_newline(message_format: int) -> None:
    spec = parse_connector_config("s3-sink-data", reference_data_config(TOPIC))
    payload = bytes(range(256)) + b"\n\x00end"
    value = sinetstream_value(payload, 1650243600.123456, message_format)
    key, body = written(spec, [value], offset=42)
    assert key == f"topics/{TOPIC}/year=2022/month=04/day=18/hour=10/{TOPIC}+0+0000000042.bin"
    assert body == payload + b"\n"


@pytest.mark.parametrize("message_format", [2, 3])
def test_reference_timestamp_connector_writes_utc_milliseconds(message_format: int) -> None:
    spec = parse_connector_config("s3-sink-timestamp", reference_timestamp_config(TOPIC))
    value = sinetstream_value(b"payload", 1650243600.123456, message_format)
    key, body = written(spec, [value], offset=7)
    assert key == (
        f"topics/{TOPIC}/year=2022/month=04/day=18/hour=10/{TOPIC}+0+0000000007-timestamp.txt"
    )
    assert body == b"2022-04-18T01:00:00.123\n"


def test_reference_data_extension_comes_from_s3_object_extension() -> None:
    spec = parse_connector_config("s3-sink-data", reference_data_config(TOPIC, ".jpeg"))
    key, _ = written(spec, [sinetstream_value(b"x", 1.0)])
    assert key.endswith(f"{TOPIC}+0+0000000000.jpeg")


def test_reference_hour_comes_from_the_record_time_in_tokyo_not_the_tstamp() -> None:
    spec = parse_connector_config("s3-sink-data", reference_data_config(TOPIC))
    value = sinetstream_value(b"x", 0.0)  # tstamp 0: "not set"
    late_evening_utc = record(value, timestamp_ms=1650290400000)  # 14:00Z = 23:00 JST
    assert spec.encode_partition(late_evening_utc, spec.convert(late_evening_utc)) == (
        "year=2022/month=04/day=18/hour=23"
    )


def test_reference_connectors_read_every_key_as_the_script_sends_it() -> None:
    spec = parse_connector_config("s3-sink-data", reference_data_config(TOPIC), SERVICE_STORE)
    assert spec.name == "s3-sink-data"
    assert spec.topics == (TOPIC,)
    assert spec.topics_regex is None
    assert spec.tasks_max == 1
    assert spec.rotation.flush_size == 1
    assert spec.compression == "none"
    assert spec.tolerate_errors is False
    assert spec.dead_letter_topic is None
    assert spec.null_values == "fail"
    assert spec.key_layout.topics_dir == "topics"
    assert spec.key_layout.offset_width == 10
    assert spec.store.bucket == "archive"
    assert spec.store.region == "us-east-1"
    assert spec.store.endpoint_url == "http://minio:9000"
    # The script sends no credentials: the service's .env provides them.
    assert spec.store.access_key_id == "service-key"
    assert spec.store.secret_access_key == "service-secret"


def test_reference_connector_without_store_url_writes_to_aws() -> None:
    config = {**reference_data_config(TOPIC)}
    del config["store.url"]
    spec = parse_connector_config("s3-sink-data", config)
    assert spec.store.endpoint_url is None
    assert spec.store.local_root is None


def test_undecodable_value_fails_with_the_codecs_reason() -> None:
    spec = parse_connector_config("s3-sink-data", reference_data_config(TOPIC))
    with pytest.raises(UndecodableMessage, match="not a SINETStream message"):
        spec.convert(record(b"plain text"))


def test_tombstone_fails_by_default_as_behavior_on_null_values_fail() -> None:
    spec = parse_connector_config("s3-sink-data", reference_data_config(TOPIC))
    with pytest.raises(NullValueError, match=r"behavior\.on\.null\.values"):
        spec.convert(record(None))


def test_tombstone_converts_to_none_with_behavior_ignore() -> None:
    config = {**reference_data_config(TOPIC), "behavior.on.null.values": "ignore"}
    spec = parse_connector_config("s3-sink-data", config)
    assert spec.null_values == "ignore"
    assert spec.convert(record(None)) is None


# --- keys --------------------------------------------------------------------------------

@pytest.mark.parametrize("alias", ["io.confluent.connect.s3.S3SinkConnector", "S3SinkConnector",
                                   "S3Sink"])
def test_connector_class_accepts_kafka_connect_aliases(alias: str) -> None:
    config = {**reference_data_config(TOPIC), "connector.class": alias}
    assert parse_connector_config("c", config).name == "c"


def test_other_connector_class_is_refused_with_the_supported_one() -> None:
    error = error_of({**reference_data_config(TOPIC), "connector.class": "FileStreamSink"})
    assert error.key == "connector.class"
    assert "io.confluent.connect.s3.S3SinkConnector" in str(error)


def test_unknown_key_is_refused_with_a_suggestion() -> None:
    error = error_of({**reference_data_config(TOPIC), "flush_size": "3"})
    assert error.key == "flush_size"
    assert "Did you mean flush.size?" in str(error)
    assert "s3.bucket.name" in str(error)  # the supported keys are listed


@pytest.mark.parametrize("key", ["flush.size", "s3.bucket.name", "format.class", "storage.class"])
def test_required_key_missing_is_named(key: str) -> None:
    config = reference_data_config(TOPIC)
    del config[key]
    error = error_of(config)
    assert error.key == key
    assert f'Missing required configuration "{key}"' in str(error)


def test_all_errors_are_collected() -> None:
    config = {**reference_data_config(TOPIC), "flush.size": "0", "s3.wan.mode": "true"}
    with pytest.raises(ConnectorConfigErrors) as caught:
        parse_connector_config("c", config)
    assert {key for key, _ in caught.value.errors} == {"flush.size", "s3.wan.mode"}


def test_name_in_config_must_match() -> None:
    error = error_of({**reference_data_config(TOPIC), "name": "other"}, name="mine")
    assert error.key == "name"


@pytest.mark.parametrize(
    ("topics", "regex"), [(None, None), ("a,b", "a.*")], ids=["neither", "both"]
)
def test_exactly_one_of_topics_and_topics_regex(topics: str | None, regex: str | None) -> None:
    config = reference_data_config(TOPIC)
    del config["topics"]
    config.update({k: v for k, v in (("topics", topics), ("topics.regex", regex)) if v})
    assert error_of(config).key == "topics"


def test_topics_list_and_regex() -> None:
    spec = parse_connector_config("c", {**reference_data_config(" a , b ,")})
    assert spec.topics == ("a", "b")
    config = reference_data_config(TOPIC)
    del config["topics"]
    spec = parse_connector_config("c", {**config, "topics.regex": "sensor-.*"})
    assert (spec.topics, spec.topics_regex) == ((), "sensor-.*")


def test_duplicate_or_illegal_topics_are_refused() -> None:
    assert "duplicate" in str(error_of(reference_data_config("a,a")))
    assert "legal topic" in str(error_of(reference_data_config("bad topic")))


def test_local_directory_store_url(tmp_path: Path) -> None:
    config = {**reference_data_config(TOPIC), "store.url": f"file://{tmp_path}"}
    store = parse_connector_config("c", config, SERVICE_STORE).store
    assert store.local_root == tmp_path
    assert store.endpoint_url is None
    assert store.create_bucket is True


def test_bad_store_url_is_refused() -> None:
    error = error_of({**reference_data_config(TOPIC), "store.url": "ftp://host"})
    assert error.key == "store.url"


def test_explicit_credentials_win_and_half_credentials_are_refused() -> None:
    config = {**reference_data_config(TOPIC), "aws.access.key.id": "k",
              "aws.secret.access.key": "s"}
    store = parse_connector_config("c", config, SERVICE_STORE).store
    assert (store.access_key_id, store.secret_access_key) == ("k", "s")
    del config["aws.secret.access.key"]
    assert error_of(config).key == "aws.secret.access.key"


def test_region_defaults_to_the_service_then_to_confluents_default() -> None:
    config = reference_data_config(TOPIC)
    del config["s3.region"]
    assert parse_connector_config("c", config, SERVICE_STORE).store.region == "ap-northeast-1"
    assert parse_connector_config("c", config).store.region == "us-west-2"


def test_bucket_is_created_only_where_the_service_creates_its_own() -> None:
    same = parse_connector_config("c", reference_data_config(TOPIC), SERVICE_STORE)
    config = {**reference_data_config(TOPIC), "store.url": "http://elsewhere:9000",
              "aws.access.key.id": "k", "aws.secret.access.key": "s"}
    other = parse_connector_config("c", config, SERVICE_STORE)
    assert (same.store.create_bucket, other.store.create_bucket) == (True, False)


@pytest.mark.parametrize(
    ("key", "value"),
    [("s3.wan.mode", "true"), ("s3.acl.canned", "private"), ("store.kafka.keys", "true"),
     ("s3.credentials.provider.class", "com.example.Custom"), ("predicates", "p"),
     ("hive.integration", "true"), ("behavior.on.null.values", "write")],
)
def test_missing_features_are_refused_by_key(key: str, value: str) -> None:
    error = error_of({**reference_data_config(TOPIC), key: value})
    assert error.key == key
    assert "kafka-s3-sink" in str(error)


@pytest.mark.parametrize(
    ("key", "value"),
    [("s3.wan.mode", "false"), ("store.kafka.keys", "false"), ("s3.part.size", "5242880"),
     ("key.converter", "org.apache.kafka.connect.storage.StringConverter"),
     ("errors.log.enable", "true"), ("schema.compatibility", "NONE"),
     ("s3.credentials.provider.class", "DefaultAWSCredentialsProviderChain"),
     ("value.converter.schemas.enable", "false"), ("config.action.reload", "restart")],
)
def test_accepted_keys_with_their_default_or_no_effect(key: str, value: str) -> None:
    parse_connector_config("c", {**reference_data_config(TOPIC), key: value})


def test_typed_ignored_keys_are_still_checked() -> None:
    assert error_of({**reference_data_config(TOPIC), "s3.part.size": "1024"}).key == "s3.part.size"
    assert error_of({**reference_data_config(TOPIC), "errors.log.enable": "yes"}).key == (
        "errors.log.enable"
    )


def test_errors_tolerance_and_dead_letter_queue() -> None:
    config = {**reference_data_config(TOPIC), "errors.tolerance": "all",
              "errors.deadletterqueue.topic.name": "dlq",
              "errors.deadletterqueue.topic.replication.factor": "1",
              "errors.deadletterqueue.context.headers.enable": "true"}
    spec = parse_connector_config("c", config)
    assert spec.tolerate_errors is True
    assert spec.dead_letter_topic == "dlq"
    assert spec.dead_letter_replication_factor == 1
    assert spec.dead_letter_context_headers is True
    config["errors.deadletterqueue.topic.name"] = TOPIC
    assert error_of(config).key == "errors.deadletterqueue.topic.name"


def test_consumer_overrides_are_mapped_to_librdkafka() -> None:
    config = {**reference_data_config(TOPIC),
              "consumer.override.fetch.max.wait.ms": "100",
              "consumer.override.auto.offset.reset": "latest",
              "consumer.override.partition.assignment.strategy":
                  "org.apache.kafka.clients.consumer.CooperativeStickyAssignor",
              "consumer.override.sasl.jaas.config":
                  'org.apache.kafka.common.security.plain.PlainLoginModule required '
                  'username="alice" password="pa;ss";'}
    assert parse_connector_config("c", config).consumer_overrides == {
        "fetch.wait.max.ms": "100", "auto.offset.reset": "latest",
        "partition.assignment.strategy": "cooperative-sticky",
        "sasl.username": "alice", "sasl.password": "pa;ss",
    }


@pytest.mark.parametrize("name", ["max.poll.records", "enable.auto.commit", "no.such.setting"])
def test_consumer_overrides_without_equivalent_are_refused(name: str) -> None:
    key = f"consumer.override.{name}"
    assert error_of({**reference_data_config(TOPIC), key: "1"}).key == key


def test_mapped_consumer_overrides_are_valid_librdkafka_settings() -> None:
    from confluent_kafka import Consumer

    config = {**reference_data_config(TOPIC), **{
        f"consumer.override.{k}": v for k, v in {
            "fetch.max.wait.ms": "100", "receive.buffer.bytes": "65536",
            "send.buffer.bytes": "65536", "request.timeout.ms": "30000",
            "max.partition.fetch.bytes": "1048576", "isolation.level": "read_committed",
            "session.timeout.ms": "45000", "client.rack": "r1", "check.crcs": "true",
        }.items()}}
    overrides = parse_connector_config("c", config).consumer_overrides
    Consumer({"group.id": "probe", **overrides}).close()  # raises on an unknown property


def test_rotate_interval_applies_to_time_based_partitioners_only(
    caplog: pytest.LogCaptureFixture,
) -> None:
    config = {**reference_data_config(TOPIC), "rotate.interval.ms": "600000"}
    assert parse_connector_config("c", config).rotation.rotate_interval_ms == 600000
    config["partitioner.class"] = "io.confluent.connect.storage.partitioner.DefaultPartitioner"
    with caplog.at_level(logging.WARNING):
        spec = parse_connector_config("c", config)
    assert spec.rotation.rotate_interval_ms is None
    assert spec.record_time is None
    assert "rotate.interval.ms=600000 is ignored" in caplog.text


def test_rotate_schedule_interval_needs_a_timezone() -> None:
    config = {**reference_data_config(TOPIC), "rotate.schedule.interval.ms": "60000"}
    assert parse_connector_config("c", config).rotation.rotate_schedule_interval_ms == 60000
    config["partitioner.class"] = "DefaultPartitioner"
    del config["timezone"]
    assert error_of(config).key == "timezone"


def test_key_layout_keys() -> None:
    config = {**reference_data_config(TOPIC), "topics.dir": "archive", "directory.delim": "_",
              "file.delim": "-", "filename.offset.zero.pad.width": "4",
              "path.format": "'y'=YYYY_'m'=MM"}
    spec = parse_connector_config("c", config)
    key, _ = written(spec, [sinetstream_value(b"x", 1.0)], offset=5)
    assert key == f"archive_{TOPIC}_y=2022_m=04_{TOPIC}-0-0005.bin"


def test_gzip_adds_gz_to_the_extension() -> None:
    config = {**reference_data_config(TOPIC), "s3.compression.type": "gzip",
              "s3.compression.level": "9"}
    spec = parse_connector_config("c", config)
    assert (spec.compression, spec.compression_level) == ("gzip", 9)
    key, _ = written(spec, [sinetstream_value(b"x", 1.0)])
    assert key.endswith(".bin.gz")


def test_value_converter_defaults_to_byte_array() -> None:
    config = reference_common(TOPIC)
    del config["value.converter"]
    spec = parse_connector_config("c", config)
    assert spec.convert(record(b"raw bytes")) == b"raw bytes"


def test_json_pipeline_of_a_hundred_records() -> None:
    config = {**reference_common(TOPIC), "flush.size": "100",
              "value.converter": "org.apache.kafka.connect.json.JsonConverter",
              "value.converter.schemas.enable": "false",
              "format.class": "io.confluent.connect.s3.format.json.JsonFormat"}
    spec = parse_connector_config("c", config)
    values = [b'{"n": %d, "s": "\xc3\xa9"}' % i for i in range(100)]
    key, body = written(spec, values)
    assert key.endswith(f"{TOPIC}+0+0000000000.json")
    assert body == b"".join(b'{"n":%d,"s":"\xc3\xa9"}\n' % i for i in range(100))


def test_format_mismatch_is_reported_per_record() -> None:
    config = {**reference_common(TOPIC), "value.converter": "StringConverter"}
    spec = parse_connector_config("c", config)
    with pytest.raises(UndecodableMessage, match="ByteArrayCast"):
        spec.convert(record(b"text"))


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("topics.dir", "../../etc"),
        ("topics.dir", "a//b"),
        ("topics.dir", ""),
        ("topics.dir", "a/\ud800"),
        ("directory.delim", ""),
        ("file.delim", "\n"),
        ("filename.offset.zero.pad.width", "65"),
        ("filename.offset.zero.pad.width", "1000000000"),
    ],
)
def test_settings_that_cannot_make_a_usable_key_are_refused(key: str, value: str) -> None:
    with pytest.raises(ConnectorConfigError) as error:
        parse_connector_config("c", {**reference_data_config(TOPIC), key: value})
    assert error.value.key == key


def test_the_widest_offset_pad_is_accepted() -> None:
    config = {**reference_data_config(TOPIC), "filename.offset.zero.pad.width": "64"}
    assert parse_connector_config("c", config).key_layout.offset_width == 64
