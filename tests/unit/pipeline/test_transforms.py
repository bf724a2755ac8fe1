"""Single message transforms: each one's behaviour, then the chain and its config."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from kafka_s3_sink.pipeline.converters import Struct
from kafka_s3_sink.pipeline.params import Params
from kafka_s3_sink.pipeline.spec import ConnectorConfigError
from kafka_s3_sink.pipeline.transforms import (
    BYTE_ARRAY_CAST,
    EXTRACT_FIELD,
    MICROSECOND_TIMESTAMP_CONVERTER,
    TIMESTAMP_CONVERTER,
    TransformError,
    apply_chain,
    build_transforms,
)


def chain(**transforms: dict[str, str]) -> Any:
    """Build ``transforms=<names>`` from keyword arguments: alias -> parameters."""
    config = {"transforms": ",".join(transforms)}
    for alias, params in transforms.items():
        config.update({f"transforms.{alias}.{k}": v for k, v in params.items()})
    return apply_chain(build_transforms(Params(config)))


def one(class_name: str, **params: str) -> Any:
    return chain(t={"type": class_name, **params})


def config_error(**transforms: dict[str, str]) -> ConnectorConfigError:
    with pytest.raises(ConnectorConfigError) as caught:
        chain(**transforms)
    return caught.value


MICROS = {"type": MICROSECOND_TIMESTAMP_CONVERTER, "field": "tstamp",
          "format": "yyyy-MM-dd'T'HH:mm:ss.SSS", "target.type": "string"}


# --- ExtractField$Value -------------------------------------------------------------------

def test_extract_field_takes_the_field() -> None:
    assert one(EXTRACT_FIELD, field="msg")(Struct(tstamp=1, msg=b"m")) == b"m"


def test_extract_field_missing_from_a_struct_fails_but_from_a_map_is_null() -> None:
    with pytest.raises(TransformError, match="mgs is not a valid field name"):
        one(EXTRACT_FIELD, field="mgs")(Struct(msg=b"m"))
    assert one(EXTRACT_FIELD, field="mgs")({"msg": 1}) is None


def test_extract_field_of_a_non_map_fails_with_kafkas_wording() -> None:
    with pytest.raises(TransformError, match="Only Map objects supported"):
        one(EXTRACT_FIELD, field="msg")(b"bytes")


def test_null_passes_through_every_transform() -> None:
    transform = chain(a={"type": EXTRACT_FIELD, "field": "x"}, b=MICROS,
                      c={"type": BYTE_ARRAY_CAST})
    assert transform(None) is None


# --- SINETStream MicrosecondTimestampConverter$Value ---------------------------------------

@pytest.mark.parametrize(
    ("tstamp_us", "text"),
    [
        (1650243600123456, "2022-04-18T01:00:00.123"),
        (1650243600123999, "2022-04-18T01:00:00.123"),  # cut, not rounded
        (0, "1970-01-01T00:00:00.000"),  # tstamp not set: formatted all the same
        (-1500, "1969-12-31T23:59:59.999"),  # toward zero: -1 ms, as Java's long division
    ],
)
def test_microsecond_timestamp_is_cut_to_milliseconds_and_formatted_in_utc(
    tstamp_us: int, text: str
) -> None:
    out = chain(ts=MICROS)(Struct(tstamp=tstamp_us, msg=b"m"))
    assert out == Struct(tstamp=text, msg=b"m")
    assert isinstance(out, Struct)


def test_microsecond_timestamp_needs_a_long() -> None:
    with pytest.raises(TransformError, match="Expected Unix timestamp to be a Long"):
        chain(ts=MICROS)({"tstamp": "2022"})


def test_microsecond_timestamp_to_unix_gives_milliseconds() -> None:
    transform = one(MICROSECOND_TIMESTAMP_CONVERTER, field="t", **{"target.type": "unix"})
    assert transform({"t": 1650243600123456}) == {"t": 1650243600123}


# --- TimestampConverter$Value -------------------------------------------------------------

def convert(value: Any, **params: str) -> Any:
    return one(TIMESTAMP_CONVERTER, **params)(value)


def test_unix_milliseconds_to_string() -> None:
    assert convert(1650243600123, **{"target.type": "string",
                                     "format": "yyyy-MM-dd HH:mm:ss.SSSXXX"}) == (
        "2022-04-18 01:00:00.123Z"
    )


def test_string_to_unix_and_timestamp() -> None:
    params = {"format": "yyyy-MM-dd'T'HH:mm:ss.SSSZ"}
    text = "2022-04-18T10:00:00.123+0900"
    assert convert(text, **params, **{"target.type": "unix"}) == 1650243600123
    assert convert(text, **params, **{"target.type": "Timestamp"}) == datetime(
        2022, 4, 18, 1, 0, 0, 123000, tzinfo=UTC
    )


@pytest.mark.parametrize(
    ("precision", "value", "unix"),
    [("seconds", 1650243600, 1650243600), ("microseconds", 1650243600123456, 1650243600123000),
     ("nanoseconds", 1650243600123456789, 1650243600123000000)],
)
def test_unix_precision_applies_to_unix_input_and_output(
    precision: str, value: int, unix: int
) -> None:
    assert convert(value, **{"target.type": "unix", "unix.precision": precision}) == unix


def test_date_and_time_targets() -> None:
    moment = datetime(2022, 4, 18, 1, 2, 3, tzinfo=UTC)
    assert convert(moment, **{"target.type": "Date"}) == datetime(2022, 4, 18, tzinfo=UTC)
    assert convert(moment, **{"target.type": "Time"}) == datetime(1970, 1, 1, 1, 2, 3,
                                                                    tzinfo=UTC)


def test_field_of_a_map() -> None:
    assert convert({"at": 0, "x": 1}, field="at", **{"target.type": "string",
                                                       "format": "yyyy"}) == {"at": "1970",
                                                                              "x": 1}


def test_unparsable_string_fails_with_the_reason() -> None:
    with pytest.raises(TransformError, match="does not match"):
        convert("yesterday", **{"target.type": "unix", "format": "yyyy-MM-dd"})


def test_string_target_without_format_is_a_config_error() -> None:
    error = config_error(t={"type": TIMESTAMP_CONVERTER, "target.type": "string"})
    assert error.key == "transforms.t.format"


def test_target_type_is_required_and_checked() -> None:
    assert config_error(t={"type": TIMESTAMP_CONVERTER}).key == "transforms.t.target.type"
    error = config_error(t={"type": TIMESTAMP_CONVERTER, "target.type": "epoch"})
    assert "string, unix, Date, Time, Timestamp" in str(error)


def test_week_year_letter_is_refused_in_simple_date_format() -> None:
    error = config_error(t={**MICROS, "format": "YYYY-MM-dd"})
    assert error.key == "transforms.t.format"


# --- SINETStream ByteArrayCast$Value ------------------------------------------------------

@pytest.mark.parametrize(
    ("value", "expected"),
    [(b"b", b"b"), ("é", "é".encode()), (42, b"42"), (True, b"true"), (1.5, b"1.5")],
)
def test_byte_array_cast(value: Any, expected: bytes) -> None:
    assert one(BYTE_ARRAY_CAST)(value) == expected


def test_byte_array_cast_keeps_a_memoryview_uncopied() -> None:
    view = memoryview(b"payload")
    assert one(BYTE_ARRAY_CAST)(view) is view


def test_byte_array_cast_refuses_structures() -> None:
    with pytest.raises(TransformError, match="cannot cast a map"):
        one(BYTE_ARRAY_CAST)({"a": 1})


def test_byte_array_cast_of_a_field() -> None:
    assert one(BYTE_ARRAY_CAST, field="t")({"t": "x", "n": 1}) == {"t": b"x", "n": 1}


# --- the chain and its config -------------------------------------------------------------

def test_transforms_apply_in_listed_order() -> None:
    transform = chain(ts=MICROS, ex={"type": EXTRACT_FIELD, "field": "tstamp"},
                      cast={"type": BYTE_ARRAY_CAST})
    assert transform(Struct(tstamp=1650243600123456, msg=b"m")) == b"2022-04-18T01:00:00.123"


def test_short_class_names_are_accepted() -> None:
    assert one("ExtractField$Value", field="a")({"a": 1}) == 1


@pytest.mark.parametrize(
    "class_name",
    ["org.apache.kafka.connect.transforms.ExtractField$Key",
     "org.apache.kafka.connect.transforms.RegexRouter"],
)
def test_unsupported_transform_is_refused_with_the_supported_list(class_name: str) -> None:
    error = config_error(t={"type": class_name})
    assert error.key == "transforms.t.type"
    assert EXTRACT_FIELD in str(error) and BYTE_ARRAY_CAST in str(error)


def test_unknown_transform_parameter_is_refused() -> None:
    error = config_error(t={"type": EXTRACT_FIELD, "field": "a", "feild": "b"})
    assert error.key == "transforms.t.feild"


def test_parameters_of_an_unlisted_alias_are_refused() -> None:
    config = {"transforms": "a", "transforms.a.type": BYTE_ARRAY_CAST,
              "transforms.b.type": EXTRACT_FIELD}
    with pytest.raises(ConnectorConfigError) as caught:
        build_transforms(Params(config))
    assert caught.value.key == "transforms.b.type"


def test_predicates_are_refused() -> None:
    error = config_error(t={"type": BYTE_ARRAY_CAST, "predicate": "isTombstone"})
    assert error.key == "transforms.t.predicate"


def test_no_transforms_is_the_identity() -> None:
    assert apply_chain(build_transforms(Params({})))(b"x") == b"x"


# --- schemas (for Avro and Parquet) ---------------------------------------------------------

def schema_of(config: dict[str, str]) -> Any:
    from kafka_s3_sink.pipeline.transforms import schema_chain

    return schema_chain(build_transforms(Params(config)))


def test_transform_schemas_follow_kafka_connect() -> None:
    from kafka_s3_sink.pipeline.converters import SINETSTREAM_SCHEMA
    from kafka_s3_sink.pipeline.schema import TIMESTAMP, Schema

    timestamp = schema_of({
        "transforms": "t",
        "transforms.t.type": MICROSECOND_TIMESTAMP_CONVERTER,
        "transforms.t.field": "tstamp",
        "transforms.t.target.type": "Timestamp",
    })(SINETSTREAM_SCHEMA)
    assert timestamp.name == SINETSTREAM_SCHEMA.name
    assert timestamp.field("tstamp").schema == Schema("int64", False, TIMESTAMP, 1)
    assert timestamp.field("msg").schema == Schema("bytes")
    cast = schema_of({"transforms": "c", "transforms.c.type": "ByteArrayCast$Value"})
    assert cast(Schema("string", optional=True)) == Schema("bytes", optional=True)
    assert cast(Schema("string")) == Schema("bytes")
    assert cast(None) is None  # schemaless stays schemaless


def test_extract_field_needs_a_struct_schema_with_the_field() -> None:
    from kafka_s3_sink.pipeline.converters import SINETSTREAM_SCHEMA
    from kafka_s3_sink.pipeline.schema import Schema

    extract = schema_of({"transforms": "e", "transforms.e.type": EXTRACT_FIELD,
                         "transforms.e.field": "nope"})
    with pytest.raises(TransformError, match="nope is not a valid field name"):
        extract(SINETSTREAM_SCHEMA)
    with pytest.raises(TransformError, match="Only Struct objects supported"):
        extract(Schema("bytes"))
