"""Value converters: bytes of a record -> the value transforms and formats see."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest

from kafka_s3_sink.pipeline.converters import (
    ConversionError,
    Struct,
    build_value_converter,
)
from kafka_s3_sink.pipeline.params import Params
from kafka_s3_sink.pipeline.sinetstream_codec import UndecodableMessage
from kafka_s3_sink.pipeline.spec import ConnectorConfigError

from ..reference_data import record, sinetstream_value


def converter(class_name: str | None, **params: str) -> Any:
    config = {f"value.converter.{k}": v for k, v in params.items()}
    if class_name is not None:
        config["value.converter"] = class_name
    return build_value_converter(Params(config)).convert


def test_sinetstream_converter_gives_tstamp_and_msg() -> None:
    convert = converter("jp.ad.sinet.sinetstream.connect.converters.SinetStreamConverter")
    value = convert(record(sinetstream_value(b"hello", 1650243600.123456)))
    assert isinstance(value, Struct)
    assert value["tstamp"] == 1650243600123456
    assert bytes(value["msg"]) == b"hello"


def test_sinetstream_converter_refuses_what_it_cannot_decode() -> None:
    convert = converter("SinetStreamConverter")
    with pytest.raises(UndecodableMessage, match="not a SINETStream message"):
        convert(record(b"{}"))


def test_every_converter_turns_a_tombstone_into_none() -> None:
    for name in ("SinetStreamConverter", "ByteArrayConverter", "StringConverter",
                 "JsonConverter"):
        assert converter(name)(record(None)) is None


def test_byte_array_converter_is_the_default() -> None:
    assert build_value_converter(Params({})).class_name == (
        "org.apache.kafka.connect.converters.ByteArrayConverter"
    )
    assert converter(None)(record(b"\x00\xff")) == b"\x00\xff"


def test_string_converter_decodes_and_replaces_bad_bytes_as_java_does() -> None:
    assert converter("org.apache.kafka.connect.storage.StringConverter")(
        record("é".encode())) == "é"
    assert converter("String")(record(b"a\xffb")) == "a\ufffdb"
    assert converter("StringConverter", **{"converter.encoding": "ISO-8859-1"})(
        record(b"\xe9")) == "é"


def test_string_converter_refuses_an_unknown_encoding() -> None:
    with pytest.raises(ConnectorConfigError) as caught:
        converter("StringConverter", encoding="klingon")
    assert caught.value.key == "value.converter.encoding"


def test_json_converter_without_schemas_reads_plain_json() -> None:
    convert = converter("JsonConverter", **{"schemas.enable": "false"})
    assert convert(record(b'{"a": [1, 2.5, null]}')) == {"a": [1, 2.5, None]}


def test_json_converter_with_schemas_needs_the_envelope() -> None:
    convert = converter("org.apache.kafka.connect.json.JsonConverter")  # schemas.enable=true
    with pytest.raises(ConversionError, match="schemas.enable=false"):
        convert(record(b'{"a": 1}'))


def test_json_converter_follows_the_schema() -> None:
    schema = {"type": "struct", "fields": [
        {"field": "id", "type": "int64"},
        {"field": "data", "type": "bytes"},
        {"field": "at", "type": "int64", "name": "org.apache.kafka.connect.data.Timestamp"},
        {"field": "price", "type": "bytes", "name": "org.apache.kafka.connect.data.Decimal",
         "parameters": {"scale": "2"}},
        {"field": "note", "type": "string", "optional": True},
    ]}
    payload = {"id": 7, "data": "aGk=", "at": 1650243600123, "price": "MDk=", "note": None}
    value = converter("JsonConverter")(
        record(json.dumps({"schema": schema, "payload": payload}).encode())
    )
    assert isinstance(value, Struct)
    assert value == {"id": 7, "data": b"hi", "at": datetime(2022, 4, 18, 1, 0, 0, 123000,
                                                             tzinfo=UTC),
                     "price": Decimal("123.45"), "note": None}


@pytest.mark.parametrize(
    ("schema", "payload", "reason"),
    [({"type": "int32"}, "x", "does not match"), ({"type": "int8"}, 300, "does not match"),
     ({"type": "string"}, None, "required"), ({"type": "bytes"}, "!!", "base64")],
)
def test_json_converter_refuses_payloads_that_break_their_schema(
    schema: dict[str, Any], payload: Any, reason: str
) -> None:
    document = json.dumps({"schema": schema, "payload": payload}).encode()
    with pytest.raises(ConversionError, match=reason):
        converter("JsonConverter")(record(document))


@pytest.mark.parametrize("value", [b"not json", b"\xff", b"NaN", b""])
def test_json_converter_refuses_what_is_not_json(value: bytes) -> None:
    with pytest.raises(ConversionError, match="not JSON"):
        converter("JsonConverter", **{"schemas.enable": "false"})(record(value))


def test_unknown_converter_is_refused_with_the_supported_list() -> None:
    with pytest.raises(ConnectorConfigError) as caught:
        converter("io.confluent.connect.avro.AvroConverter")
    assert caught.value.key == "value.converter"
    assert "org.apache.kafka.connect.json.JsonConverter" in str(caught.value)


def test_unknown_converter_parameter_is_refused() -> None:
    with pytest.raises(ConnectorConfigError) as caught:
        converter("JsonConverter", **{"schemas.enabled": "false"})
    assert caught.value.key == "value.converter.schemas.enabled"
