"""Partitioners and timestamp extractors: where a record's object goes."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Any

import pytest

from kafka_s3_sink.pipeline.converters import Struct
from kafka_s3_sink.pipeline.params import Params
from kafka_s3_sink.pipeline.partitioners import (
    DAILY_PARTITIONER,
    DEFAULT_PARTITIONER,
    FIELD_PARTITIONER,
    HOURLY_PARTITIONER,
    TIME_BASED_PARTITIONER,
    PartitionError,
    Partitioning,
    build_partitioner,
)
from kafka_s3_sink.pipeline.spec import ConnectorConfigError

from ..reference_data import RECORD_TIMESTAMP_MS, record

TIME_BASED = {
    "partitioner.class": TIME_BASED_PARTITIONER,
    "path.format": "'year'=YYYY/'month'=MM/'day'=dd/'hour'=HH",
    "partition.duration.ms": "3600000",
    "locale": "C",
    "timezone": "Asia/Tokyo",
    "timestamp.extractor": "Record",
}


def partitioner(delim: str = "/", **config: str) -> Partitioning:
    return build_partitioner(Params(config), delim)


def config_error(**config: str) -> ConnectorConfigError:
    with pytest.raises(ConnectorConfigError) as caught:
        partitioner(**config)
    return caught.value


# --- DefaultPartitioner -------------------------------------------------------------------

def test_default_partitioner_is_the_kafka_partition() -> None:
    p = partitioner()
    assert p.class_name == DEFAULT_PARTITIONER
    assert p.encode_partition(record(b"x", partition=3), b"x") == "partition=3"
    assert p.record_time is None


# --- TimeBasedPartitioner -----------------------------------------------------------------

def test_time_based_with_record_time_in_the_zone() -> None:
    p = partitioner(**TIME_BASED)
    r = record(b"x")  # 2022-04-18T01:00:00Z
    assert p.encode_partition(r, b"x") == "year=2022/month=04/day=18/hour=10"
    assert p.record_time is not None and p.record_time(r, b"x") == RECORD_TIMESTAMP_MS


def test_time_based_floors_to_the_duration() -> None:
    p = partitioner(**{**TIME_BASED, "partition.duration.ms": "600000",
                       "path.format": "HH:mm", "timezone": "UTC"})
    assert p.encode_partition(record(b"x", timestamp_ms=RECORD_TIMESTAMP_MS + 599_999), None) == (
        "01:00"
    )


def test_record_without_a_timestamp_cannot_be_placed() -> None:
    with pytest.raises(PartitionError, match="no Kafka timestamp"):
        partitioner(**TIME_BASED).encode_partition(record(b"x", timestamp_ms=None), b"x")


def test_a_trailing_delimiter_in_path_format_is_dropped() -> None:
    p = partitioner(**{**TIME_BASED, "path.format": "YYYY/MM/"})
    assert p.encode_partition(record(b"x"), None) == "2022/04"


@pytest.mark.parametrize(
    ("key", "value"),
    [("path.format", ""), ("path.format", "YYYY-ww"), ("partition.duration.ms", "-1"),
     ("partition.duration.ms", "0"), ("locale", ""), ("timezone", ""),
     ("timezone", "Mars/Olympus"), ("timestamp.extractor", "com.example.Extractor")],
)
def test_time_based_keys_are_checked(key: str, value: str) -> None:
    assert config_error(**{**TIME_BASED, key: value}).key == key


def test_wallclock_is_the_processing_time() -> None:
    p = partitioner(**{**TIME_BASED, "timestamp.extractor": "Wallclock"})
    assert p.record_time is not None
    assert abs(p.record_time(record(b"x", timestamp_ms=0), None) - time.time() * 1000) < 5000


def test_wallclock_is_the_default_extractor_as_in_confluent() -> None:
    config = {k: v for k, v in TIME_BASED.items() if k != "timestamp.extractor"}
    p = partitioner(**config)
    assert p.record_time is not None
    assert p.record_time(record(b"x", timestamp_ms=0), None) > RECORD_TIMESTAMP_MS


# --- RecordField extractor ----------------------------------------------------------------

RECORD_FIELD = {**TIME_BASED, "timestamp.extractor": "RecordField", "timestamp.field": "at",
                "timezone": "UTC"}


@pytest.mark.parametrize(
    "at",
    [RECORD_TIMESTAMP_MS, float(RECORD_TIMESTAMP_MS) + 0.9, str(RECORD_TIMESTAMP_MS),
     "2022-04-18T01:00:00Z", "2022-04-18T10:00:00.000+09:00", "2022-04-18T01:00:00",
     datetime(2022, 4, 18, 1, tzinfo=UTC)],
)
def test_record_field_reads_numbers_numeric_strings_and_iso_dates(at: Any) -> None:
    p = partitioner(**RECORD_FIELD)
    value = {"at": at}
    assert p.record_time is not None
    assert p.record_time(record(b"x", timestamp_ms=None), value) == RECORD_TIMESTAMP_MS
    assert p.encode_partition(record(b"x"), value) == "year=2022/month=04/day=18/hour=01"


def test_record_field_reaches_nested_fields() -> None:
    p = partitioner(**{**RECORD_FIELD, "timestamp.field": "meta.at"})
    assert p.record_time is not None
    assert p.record_time(record(b"x"), {"meta": {"at": 5}}) == 5


@pytest.mark.parametrize("value", [{"at": "soon"}, {"at": True}, {"other": 1}, b"bytes"])
def test_record_field_that_is_not_a_time_fails_with_the_reason(value: Any) -> None:
    with pytest.raises(PartitionError, match="timestamp from record field|Struct or Map"):
        partitioner(**RECORD_FIELD).encode_partition(record(b"x"), value)


# --- HourlyPartitioner, DailyPartitioner --------------------------------------------------

def test_hourly_and_daily_partitioners_use_the_directory_delimiter() -> None:
    base = {"locale": "en", "timezone": "UTC", "timestamp.extractor": "Record"}
    hourly = partitioner("_", **base, **{"partitioner.class": HOURLY_PARTITIONER})
    daily = partitioner(**base, **{"partitioner.class": "DailyPartitioner"})
    assert hourly.encode_partition(record(b"x"), None) == "year=2022_month=04_day=18_hour=01"
    assert daily.encode_partition(record(b"x"), None) == "year=2022/month=04/day=18"
    assert daily.class_name == DAILY_PARTITIONER


def test_hourly_refuses_a_different_path_format() -> None:
    error = config_error(**{"partitioner.class": HOURLY_PARTITIONER, "locale": "en",
                            "timezone": "UTC", "path.format": "YYYY"})
    assert error.key == "path.format"


# --- FieldPartitioner ---------------------------------------------------------------------

def test_field_partitioner_names_each_field() -> None:
    p = partitioner(**{"partitioner.class": FIELD_PARTITIONER,
                       "partition.field.name": "region, id,ok,missing"})
    value = Struct(region="kanto", id=7, ok=False, missing=None)
    assert p.encode_partition(record(b"x"), value) == "region=kanto/id=7/ok=false/missing=null"
    assert p.record_time is None


def test_field_partitioner_refuses_other_types_and_non_maps() -> None:
    p = partitioner(**{"partitioner.class": FIELD_PARTITIONER, "partition.field.name": "f"})
    with pytest.raises(PartitionError, match="not supported as a partition key"):
        p.encode_partition(record(b"x"), {"f": 1.5})
    with pytest.raises(PartitionError, match="Struct or Map"):
        p.encode_partition(record(b"x"), b"bytes")


def test_field_partitioner_needs_a_field() -> None:
    assert config_error(**{"partitioner.class": FIELD_PARTITIONER}).key == "partition.field.name"


def test_unknown_partitioner_is_refused_with_the_supported_list() -> None:
    error = config_error(**{"partitioner.class": "com.example.MyPartitioner"})
    assert error.key == "partitioner.class"
    assert FIELD_PARTITIONER in str(error)
