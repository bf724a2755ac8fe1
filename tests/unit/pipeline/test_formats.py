"""Output formats and compression: the exact bytes of an object."""

from __future__ import annotations

import base64
import gzip
import json
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest

from kafka_s3_sink.pipeline.formats.base import FormatError, compress, object_extension
from kafka_s3_sink.pipeline.formats.bytearray import ByteArrayFormat
from kafka_s3_sink.pipeline.formats.catalog import build_format
from kafka_s3_sink.pipeline.formats.json_format import JsonFormat
from kafka_s3_sink.pipeline.params import Params
from kafka_s3_sink.pipeline.spec import ConnectorConfigError


def built(**config: str) -> tuple[str, Any, str, int]:
    return build_format(Params(config))


def fmt(class_name: str, **config: str) -> Any:
    return built(**{"format.class": class_name}, **config)[1]


# --- ByteArrayFormat ----------------------------------------------------------------------

def test_byte_array_flush_size_100_body_is_each_value_and_a_newline() -> None:
    values = [f"message {i}".encode() for i in range(100)]
    body = fmt("io.confluent.connect.s3.format.bytearray.ByteArrayFormat").encode(values)
    assert body == b"".join(v + b"\n" for v in values)
    assert body.count(b"\n") == 100


def test_byte_array_defaults_are_bin_and_the_line_separator() -> None:
    record_format = fmt("ByteArrayFormat")
    assert (record_format.extension, record_format.separator) == (".bin", b"\n")


def test_byte_array_separator_is_taken_as_given() -> None:
    # In a JSON config "\r\n" already is CR LF; a backslash stays a backslash, as in Confluent.
    assert fmt("ByteArrayFormat", **{"format.bytearray.separator": "\r\n"}).encode(
        [b"a", b"b"]) == b"a\r\nb\r\n"
    assert fmt("ByteArrayFormat", **{"format.bytearray.separator": "\\n"}).encode(
        [b"a"]) == b"a\\n"
    assert fmt("ByteArrayFormat", **{"format.bytearray.separator": " "}).encode(
        [b"a"]) == b"a "  # white space is not trimmed
    assert fmt("ByteArrayFormat", **{"format.bytearray.separator": ""}).encode(
        [b"a", b"b"]) == b"ab"


def test_byte_array_writes_memoryviews_without_fuss() -> None:
    assert ByteArrayFormat().encode([memoryview(b"ab")[1:], b"c"]) == b"b\nc\n"


def test_byte_array_refuses_text_with_the_fix() -> None:
    with pytest.raises(FormatError, match="ByteArrayCast"):
        ByteArrayFormat().check("text")
    ByteArrayFormat().check(b"bytes")


# --- JsonFormat ---------------------------------------------------------------------------

def test_json_flush_size_100_body_is_one_compact_document_per_line() -> None:
    values = [{"n": i, "name": "センサー", "ok": True, "none": None} for i in range(100)]
    body = fmt("io.confluent.connect.s3.format.json.JsonFormat").encode(values)
    lines = body.split(b"\n")
    assert lines[-1] == b"" and len(lines) == 101
    assert lines[0] == '{"n":0,"name":"センサー","ok":true,"none":null}'.encode()
    assert [json.loads(line)["n"] for line in lines[:-1]] == list(range(100))


def test_json_writes_bytes_as_base64_and_times_as_epoch_milliseconds() -> None:
    value = {"msg": b"\x00\xffhi", "view": memoryview(b"x"),
             "at": datetime(2022, 4, 18, 1, 0, 0, 123456, tzinfo=UTC)}
    line = JsonFormat().encode([value])
    assert json.loads(line) == {"msg": base64.b64encode(b"\x00\xffhi").decode(),
                                "view": "eA==", "at": 1650243600123}


def test_json_of_a_scalar_value() -> None:
    assert JsonFormat().encode([b"hi", "text", 3]) == b'"aGk="\n"text"\n3\n'


@pytest.mark.parametrize("value", [b"", b"\x00\xff" * 300, bytearray(b"abc"), memoryview(b"x/+=")])
def test_json_bytes_values_are_the_json_string_of_their_base64(value: Any) -> None:
    expected = json.dumps(base64.b64encode(bytes(value)).decode()).encode() + b"\n"
    assert fmt("JsonFormat").encode([value]) == expected
    assert fmt("JsonFormat").prepare(value) == expected


def test_json_decimals_base64_by_default_or_numeric() -> None:
    assert JsonFormat().encode([Decimal("123.45")]) == b'"MDk="\n'
    numeric = fmt("JsonFormat", **{"json.decimal.format": "NUMERIC"})
    assert numeric.encode([Decimal("123.45"), Decimal("7")]) == b"123.45\n7\n"


def test_json_refuses_what_has_no_json_form() -> None:
    with pytest.raises(FormatError, match="JsonFormat cannot write"):
        JsonFormat().prepare({"s": {1, 2}})  # each record once, when it joins a batch


def test_json_extension() -> None:
    assert fmt("JsonFormat").extension == ".json"


# --- compression --------------------------------------------------------------------------

@pytest.mark.parametrize("class_name", ["ByteArrayFormat", "JsonFormat"])
def test_gzip_applies_to_byte_array_and_json(class_name: str) -> None:
    _, record_format, compression, level = built(**{"format.class": class_name,
                                                    "s3.compression.type": "gzip"})
    assert (compression, level) == ("gzip", -1)
    assert object_extension(record_format.extension, compression) == (
        record_format.extension + ".gz"
    )
    body = record_format.encode([b"x" * 1000] * 10 if class_name == "ByteArrayFormat"
                                else [{"a": 1}] * 10)
    stored = compress(body, compression, level)
    assert stored[:2] == b"\x1f\x8b"
    assert gzip.decompress(stored) == body
    assert compress(body, compression, level) == stored  # mtime 0: replays are identical


def test_gzip_level_is_honoured() -> None:
    body = bytes(range(256)) * 200
    assert len(compress(body, "gzip", 1)) >= len(compress(body, "gzip", 9))
    assert gzip.decompress(compress(body, "gzip", 0)) == body


def test_no_compression_keeps_the_body() -> None:
    body = b"abc"
    assert compress(body, "none") is body
    assert object_extension(".bin", "none") == ".bin"


@pytest.mark.parametrize(("key", "value"), [("s3.compression.type", "snappy"),
                                            ("s3.compression.level", "10")])
def test_bad_compression_is_refused(key: str, value: str) -> None:
    with pytest.raises(ConnectorConfigError) as caught:
        built(**{"format.class": "ByteArrayFormat", key: value})
    assert caught.value.key == key


def test_csv_is_refused_with_the_supported_ones() -> None:
    with pytest.raises(ConnectorConfigError) as caught:
        fmt("io.confluent.connect.s3.format.csv.CsvFormat")
    assert caught.value.key == "format.class"
    assert "supported: ByteArrayFormat, JsonFormat, AvroFormat, ParquetFormat" in str(
        caught.value)


def test_unknown_format_is_refused() -> None:
    with pytest.raises(ConnectorConfigError, match="format not supported"):
        fmt("com.example.XmlFormat")
