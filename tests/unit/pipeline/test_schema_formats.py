"""AvroFormat and ParquetFormat: values written through their Kafka Connect schemas.

Files are read back with readers other than the writer: Apache's own ``avro`` package (the
one SINETStream uses) for Avro, pyarrow's reader for Parquet.
"""

from __future__ import annotations

import io
import json
from decimal import Decimal
from typing import Any

import avro.datafile
import avro.io
import fastavro
import pyarrow.parquet as pq
import pytest
from helpers import READING_SCHEMA

from kafka_s3_sink.connect.config.parser import parse_connector_config
from kafka_s3_sink.pipeline.assembler import ObjectAssembler
from kafka_s3_sink.pipeline.formats.avro import AvroFormat
from kafka_s3_sink.pipeline.formats.base import FormatError
from kafka_s3_sink.pipeline.records import Record
from kafka_s3_sink.pipeline.schema import Schema
from kafka_s3_sink.pipeline.spec import ConnectorConfigError, ConnectorSpec

from ..reference_data import (
    TOPIC,
    record,
    reference_common,
    reference_data_config,
    reference_timestamp_config,
    sinetstream_value,
)

AVRO = "io.confluent.connect.s3.format.avro.AvroFormat"
PARQUET = "io.confluent.connect.s3.format.parquet.ParquetFormat"
TSTAMP = 1650243600.123456  # 2022-04-18T01:00:00.123456Z


def spec_of(config: dict[str, Any]) -> ConnectorSpec:
    return parse_connector_config("c", {"name": "c", **config})


def objects(spec: ConnectorSpec, records: list[Record]) -> list[tuple[str, bytes, list[int]]]:
    """(key, body, offsets) of every object the records make, the last batch flushed too."""
    assembler = ObjectAssembler(spec)
    batches = []
    for rec in records:
        value = spec.convert(rec)
        batches.extend(assembler.add(rec, value, now_ms=0))
    return [
        (assembler.key_of(b), spec.format.encode(b.values), b.offsets) for b in batches
    ]


def read_avro(body: bytes) -> tuple[dict[str, Any] | str | list[Any], list[Any]]:
    """(writer schema, records) as fastavro reads the container file (logical types applied),
    after checking that Apache's own avro package reads the same records."""
    with io.BytesIO(body) as f:
        reader = fastavro.reader(f)
        schema, rows = json.loads(reader.metadata["avro.schema"]), list(reader)
    if reader.metadata["avro.codec"] != "snappy":  # Apache's reader needs python-snappy
        with avro.datafile.DataFileReader(io.BytesIO(body), avro.io.DatumReader()) as apache:
            assert len(list(apache)) == len(rows)
    return schema, rows


def sinetstream_records(count: int, start: int = 0) -> list[Record]:
    return [
        record(sinetstream_value(f"reading {i}".encode(), TSTAMP + i), offset=i)
        for i in range(start, start + count)
    ]


# --- Avro -------------------------------------------------------------------------------------


@pytest.mark.parametrize("codec", ["null", "deflate", "snappy", "bzip2"])
def test_sinetstream_messages_as_avro_records_with_every_codec(codec: str) -> None:
    spec = spec_of({**reference_common(TOPIC), "format.class": AVRO, "flush.size": "100",
                    "avro.codec": codec})
    (key, body, offsets), *_ = objects(spec, sinetstream_records(100))
    assert key.endswith(f"/{TOPIC}+0+0000000000.avro")
    assert offsets == list(range(100))
    schema, rows = read_avro(body)
    assert schema["name"] == "message" and schema["namespace"] == "jp.ad.sinet.stream"
    assert [f["name"] for f in schema["fields"]] == ["tstamp", "msg"]
    assert rows[7] == {"tstamp": 1650243607123456, "msg": b"reading 7"}
    assert len(rows) == 100
    with io.BytesIO(body) as f:
        assert fastavro.reader(f).metadata["avro.codec"] == codec


def test_the_reference_data_connector_writes_msg_as_avro_bytes() -> None:
    config = {**reference_data_config(TOPIC), "format.class": AVRO, "flush.size": "3"}
    config.pop("format.bytearray.extension")
    spec = spec_of(config)
    (key, body, _), *_ = objects(spec, sinetstream_records(3))
    assert key.endswith(".avro")
    schema, rows = read_avro(body)
    assert schema == "bytes"  # msg is a required bytes field: no union with null
    assert rows == [b"reading 0", b"reading 1", b"reading 2"]


def test_the_reference_timestamp_connector_writes_strings() -> None:
    config = {**reference_timestamp_config(TOPIC), "format.class": AVRO, "flush.size": "2"}
    config.pop("format.bytearray.extension")
    config["transforms"] = "Timestamp,ExtractField"  # no cast: keep the string
    config = {k: v for k, v in config.items() if not k.startswith("transforms.ByteArrayCast")}
    (_, body, _), *_ = objects(spec_of(config), sinetstream_records(2))
    schema, rows = read_avro(body)
    assert schema == "string"
    assert rows == ["2022-04-18T01:00:00.123", "2022-04-18T01:00:01.123"]


def test_byte_array_converter_values_are_optional_bytes() -> None:
    spec = spec_of({**reference_common(TOPIC), "value.converter": "ByteArrayConverter",
                    "format.class": "AvroFormat", "flush.size": "2"})
    (_, body, _), *_ = objects(spec, [record(b"\x00\xff", 0), record(b"", 1)])
    schema, rows = read_avro(body)
    assert schema == ["null", "bytes"]
    assert rows == [b"\x00\xff", b""]


def json_envelope(schema: dict[str, Any], payload: Any) -> bytes:
    return json.dumps({"schema": schema, "payload": payload}).encode()


def reading(i: int, label: str | None = "north") -> dict[str, Any]:
    return {
        "id": i, "level": -300, "count": 70000, "total": 2**40, "ratio": 0.5, "value": 21.25,
        "ok": True, "label": label, "raw": "AAE=",  # base64 of 00 01
        "price": "MDk=",  # base64 of the unscaled 12345: 123.45
        "at": 1650243600123, "day": 19100, "tags": ["a", "b"], "attrs": {"x": 1},
        "where": {"lat": 35.0, "lon": 139.5} if i % 2 else None,
    }


def json_spec(format_class: str, **extra: str) -> ConnectorSpec:
    return spec_of({**reference_common(TOPIC), "value.converter": "JsonConverter",
                    "format.class": format_class, "flush.size": "10",
                    "partitioner.class":
                        "io.confluent.connect.storage.partitioner.DefaultPartitioner", **extra})


def test_json_envelope_structs_keep_every_type_in_avro() -> None:
    records = [record(json_envelope(READING_SCHEMA, reading(i, None if i == 2 else "north")), i)
               for i in range(10)]
    ((key, body, _),) = objects(json_spec(AVRO), records)
    assert key == f"topics/{TOPIC}/partition=0/{TOPIC}+0+0000000000.avro"
    schema, rows = read_avro(body)
    assert schema["name"] == "Reading" and schema["namespace"] == "sensor"
    assert schema["connect.version"] == 2 and schema["connect.name"] == "sensor.Reading"
    fields = {f["name"]: f for f in schema["fields"]}
    assert fields["id"]["type"] == {"type": "int", "connect.type": "int8"}
    assert fields["label"]["type"] == ["null", "string"] and fields["label"]["default"] is None
    assert fields["price"]["type"]["logicalType"] == "decimal"
    assert fields["price"]["type"]["precision"] == 10 and fields["price"]["type"]["scale"] == 2
    assert fields["at"]["type"]["logicalType"] == "timestamp-millis"
    assert fields["where"]["type"][1]["name"] == "ConnectDefault"
    row = rows[1]
    assert row["id"] == 1 and row["total"] == 2**40 and row["raw"] == b"\x00\x01"
    assert row["price"] == Decimal("123.45")
    assert row["at"].isoformat() == "2022-04-18T01:00:00.123000+00:00"
    assert str(row["day"]) == "2022-04-18"
    assert row["tags"] == ["a", "b"] and row["attrs"] == {"x": 1}
    assert row["where"] == {"lat": 35.0, "lon": 139.5}
    assert rows[2]["label"] is None and rows[0]["where"] is None


def test_json_envelope_structs_as_parquet_columns() -> None:
    records = [record(json_envelope(READING_SCHEMA, reading(i)), i) for i in range(10)]
    ((key, body, _),) = objects(json_spec(PARQUET), records)
    assert key.endswith("+0000000000.snappy.parquet")
    parquet = pq.ParquetFile(io.BytesIO(body))
    assert parquet.metadata.row_group(0).column(0).compression == "SNAPPY"
    table = parquet.read()
    assert table.num_rows == 10
    types = {field.name: str(field.type) for field in table.schema}
    assert types["id"] == "int8" and types["total"] == "int64" and types["ratio"] == "float"
    assert types["price"] == "decimal128(10, 2)" and types["at"] == "timestamp[ms, tz=UTC]"
    assert types["day"] == "date32[day]" and types["raw"] == "binary"
    assert not table.schema.field("id").nullable and table.schema.field("label").nullable
    rows = table.to_pylist()
    assert rows[3]["price"] == Decimal("123.45") and rows[3]["raw"] == b"\x00\x01"
    assert rows[3]["attrs"] == [("x", 1)] and rows[3]["where"] == {"lat": 35.0, "lon": 139.5}
    avro_schema = json.loads(parquet.schema_arrow.metadata[b"parquet.avro.schema"])
    assert avro_schema["name"] == "Reading"


def test_a_schema_change_closes_the_objects_of_the_partition() -> None:
    other = {"type": "struct", "name": "sensor.Other", "fields": [{"field": "n", "type": "int32"}]}
    records = [record(json_envelope(READING_SCHEMA, reading(i)), i) for i in range(3)]
    records += [record(json_envelope(other, {"n": i}), i) for i in range(3, 5)]
    records += [record(json_envelope(READING_SCHEMA, reading(i)), i) for i in range(5, 10)]
    made = objects(json_spec(AVRO), records)
    assert [offsets for _, _, offsets in made] == [[0, 1, 2], [3, 4]]  # the rest still open
    assert read_avro(made[1][1])[1] == [{"n": 3}, {"n": 4}]
    # JsonFormat rotates on schema changes too, as Confluent's writer does for any format.
    made = objects(json_spec("JsonFormat"), records)
    assert [offsets for _, _, offsets in made] == [[0, 1, 2], [3, 4]]


def test_a_value_without_schema_is_a_dead_letter_with_the_reason() -> None:
    spec = json_spec(AVRO, **{"value.converter.schemas.enable": "false"})
    with pytest.raises(FormatError, match="AvroFormat writes values through their Kafka "
                                          "Connect schema, and this value has none"):
        objects(spec, [record(b'{"a": 1}', 0)])


def test_a_value_not_of_its_schema_is_refused_alone() -> None:
    schema = Schema("int8")
    with pytest.raises(FormatError, match="not a value of its schema int8"):
        AvroFormat().prepare(300, schema)
    with pytest.raises(FormatError, match="null for a required int8"):
        AvroFormat().prepare(None, schema)


def test_avro_objects_are_byte_identical_when_replayed() -> None:
    spec = spec_of({**reference_common(TOPIC), "format.class": AVRO, "flush.size": "50"})
    first = objects(spec, sinetstream_records(50))
    again = objects(spec, sinetstream_records(50))
    assert first == again
    other = objects(spec, sinetstream_records(50, start=1))
    assert first[0][1][-16:] != other[0][1][-16:]  # the sync marker follows the content


def test_big_objects_are_split_into_blocks_of_about_64_kb() -> None:
    spec = spec_of({**reference_common(TOPIC), "format.class": AVRO, "flush.size": "200",
                    "value.converter": "ByteArrayConverter"})
    records = [record(bytes([i % 256]) * 1000, i) for i in range(200)]
    ((_, body, _),) = objects(spec, records)
    with io.BytesIO(body) as f:
        blocks = list(fastavro.block_reader(f))
    assert [b.num_records for b in blocks] == [64, 64, 64, 8]
    assert read_avro(body)[1][199] == bytes([199]) * 1000


# --- Parquet ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("codec", "extension", "stored"),
    [("none", ".parquet", "UNCOMPRESSED"), ("snappy", ".snappy.parquet", "SNAPPY"),
     ("gzip", ".gz.parquet", "GZIP"), ("zstd", ".zstd.parquet", "ZSTD"),
     # pyarrow reports Parquet's LZ4_RAW codec as "LZ4" (its Hadoop LZ4 is "LZ4_HADOOP").
     ("brotli", ".br.parquet", "BROTLI"), ("lz4_raw", ".lz4raw.parquet", "LZ4")],
)
def test_parquet_codecs_and_their_extensions(codec: str, extension: str, stored: str) -> None:
    spec = spec_of({**reference_common(TOPIC), "format.class": PARQUET, "flush.size": "5",
                    "parquet.codec": codec})
    ((key, body, _),) = objects(spec, sinetstream_records(5))
    assert key.endswith(f"+0000000000{extension}")
    parquet = pq.ParquetFile(io.BytesIO(body))
    assert parquet.metadata.row_group(0).column(0).compression == stored
    assert parquet.read().to_pylist()[4] == {"tstamp": 1650243604123456, "msg": b"reading 4"}


def test_parquet_of_a_bytes_value_is_one_value_column() -> None:
    config = {**reference_data_config(TOPIC), "format.class": PARQUET, "flush.size": "2"}
    config.pop("format.bytearray.extension")
    ((_, body, _),) = objects(spec_of(config), sinetstream_records(2))
    table = pq.read_table(io.BytesIO(body))
    assert table.column_names == ["value"]
    assert table.column("value").to_pylist() == [b"reading 0", b"reading 1"]


@pytest.mark.parametrize(("key", "value"), [("parquet.codec", "lzo"), ("parquet.codec", "lz4"),
                                            ("parquet.codec", "xz"), ("avro.codec", "xz")])
def test_unwritable_codecs_are_refused_naming_the_key(key: str, value: str) -> None:
    format_class = PARQUET if key.startswith("parquet") else AVRO
    with pytest.raises(ConnectorConfigError) as caught:
        spec_of({**reference_common(TOPIC), "format.class": format_class, key: value})
    assert key in str(caught.value) and value in str(caught.value)


def test_gzip_compression_is_refused_for_schema_formats_as_confluent_does() -> None:
    with pytest.raises(ConnectorConfigError, match="Compression Type gzip not valid"):
        spec_of({**reference_common(TOPIC), "format.class": AVRO,
                 "s3.compression.type": "gzip"})


def test_a_missing_extra_is_named_with_the_command_that_installs_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec",
                        lambda name, *a: None if name == "pyarrow" else real(name, *a))
    with pytest.raises(ConnectorConfigError) as caught:
        spec_of({**reference_common(TOPIC), "format.class": PARQUET})
    assert "format.class" in str(caught.value)
    assert "pip install 'kafka-s3-sink[parquet]'" in str(caught.value)


def test_connect_meta_data_false_leaves_out_the_connect_properties() -> None:
    records = [record(json_envelope(READING_SCHEMA, reading(i)), i) for i in range(10)]
    ((_, with_meta, _),) = objects(json_spec(AVRO), records)
    ((_, without, _),) = objects(json_spec(AVRO, **{"connect.meta.data": "false"}), records)
    assert read_avro(with_meta)[0]["connect.name"] == "sensor.Reading"
    schema, rows = read_avro(without)
    assert "connect.name" not in json.dumps(schema) and "connect.version" not in json.dumps(schema)
    assert rows == read_avro(with_meta)[1]


@pytest.mark.parametrize("mode", ["BACKWARD", "FORWARD", "FULL"])
def test_schema_projection_modes_are_refused_naming_the_key(mode: str) -> None:
    with pytest.raises(ConnectorConfigError) as caught:
        json_spec(AVRO, **{"schema.compatibility": mode})
    assert "schema.compatibility" in str(caught.value) and "only NONE" in str(caught.value)


@pytest.mark.parametrize(
    ("schema", "value"),
    [(Schema("bytes"), b""), (Schema("bytes"), bytes(range(256)) * 300),
     (Schema("bytes"), memoryview(b"msg")), (Schema("string"), ""),
     (Schema("string"), "2022-04-18T01:00:00.123 \u6771\u4eac")],
)
def test_bytes_and_strings_are_serialized_as_fastavro_does(schema: Schema, value: Any) -> None:
    expected = io.BytesIO()
    fastavro.schemaless_writer(expected, fastavro.parse_schema(schema.type),
                               bytes(value) if isinstance(value, memoryview) else value)
    assert AvroFormat().prepare(value, schema).data == expected.getvalue()
