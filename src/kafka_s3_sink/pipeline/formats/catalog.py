"""Output formats (``format.class``) by name, and the settings that choose and tune them.

Each format turns the values of one object's records into the object's bytes:
ByteArrayFormat (``bytearray.py``), JsonFormat (``json_format.py``), our
LosslessJsonLinesFormat (``lossless.py``: whole records, for restore), and AvroFormat
(``avro.py``) and ParquetFormat (``parquet.py``), which write values through their Kafka
Connect schemas and need the ``avro`` / ``parquet`` extras (imported only when chosen).
Each format also checks a value on its own (``check``) so that one unwritable record is
reported alone rather than failing an object.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Callable
from typing import Any

from ..params import Params, alias_table, invalid
from ..spec import ConnectorConfigError
from .base import AVRO_CODECS, COMPRESSION_EXTENSIONS, PARQUET_CODECS, UNWRITABLE_PARQUET_CODECS
from .bytearray import ByteArrayFormat
from .json_format import JsonFormat
from .lossless import LosslessJsonLinesFormat

BYTE_ARRAY_FORMAT = "io.confluent.connect.s3.format.bytearray.ByteArrayFormat"
JSON_FORMAT = "io.confluent.connect.s3.format.json.JsonFormat"
AVRO_FORMAT = "io.confluent.connect.s3.format.avro.AvroFormat"
PARQUET_FORMAT = "io.confluent.connect.s3.format.parquet.ParquetFormat"
CSV_FORMAT = "io.confluent.connect.s3.format.csv.CsvFormat"
# Ours, under a package of ours so that it never collides with a Confluent class name.
LOSSLESS_FORMAT = "io.kafkas3sink.format.LosslessJsonLinesFormat"


def _byte_array(params: Params) -> ByteArrayFormat:
    extension = params.get_str("format.bytearray.extension", ".bin")
    separator = params.raw("format.bytearray.separator")  # white space matters: no trimming
    return ByteArrayFormat(extension, b"\n" if separator is None else separator.encode())


def _json(params: Params) -> JsonFormat:
    decimal = params.get_choice("json.decimal.format", "BASE64", ("BASE64", "NUMERIC"))
    return JsonFormat(decimal_numeric=decimal == "NUMERIC")


def _lossless(params: Params) -> LosslessJsonLinesFormat:
    """The record is written as it came: a converter or transform would change what a
    restore gives back, so asking for one is an error rather than silently ignored."""
    transforms = params.get_list("transforms")
    if transforms:
        raise invalid(
            "transforms",
            params.get_str("transforms"),
            "LosslessJsonLinesFormat writes each record as it came: transforms do not apply",
        )
    converter = params.get_optional("value.converter")
    if converter is not None and converter.rsplit(".", 1)[-1] != "ByteArrayConverter":
        raise invalid(
            "value.converter",
            converter,
            "LosslessJsonLinesFormat writes the raw value: leave value.converter unset or "
            "ByteArrayConverter",
        )
    return LosslessJsonLinesFormat()


def _require_extra(params: Params, module: str, extra: str) -> None:
    if importlib.util.find_spec(module) is None:
        raise invalid(
            "format.class",
            params.get_str("format.class"),
            f"this format needs {module}, which is not installed: "
            f"pip install 'kafka-s3-sink[{extra}]'",
        )


def _avro_codec(params: Params) -> str:
    return params.get_choice("avro.codec", "null", AVRO_CODECS)


def _parquet_codec(params: Params) -> str:
    codec = params.get_str("parquet.codec", "snappy").lower()
    if codec in UNWRITABLE_PARQUET_CODECS:
        raise invalid(
            "parquet.codec",
            codec,
            f"{UNWRITABLE_PARQUET_CODECS[codec]}; supported: {', '.join(PARQUET_CODECS)}",
        )
    return params.get_choice("parquet.codec", "snappy", PARQUET_CODECS)


def _avro(params: Params) -> Any:
    from .avro import AvroFormat

    _require_extra(params, "fastavro", "avro")
    codec = _avro_codec(params)
    if codec == "snappy":
        _require_extra(params, "cramjam", "avro")
    return AvroFormat(codec, params.get_bool("connect.meta.data", True))


def _parquet(params: Params) -> Any:
    from .parquet import ParquetFormat

    _require_extra(params, "pyarrow", "parquet")
    return ParquetFormat(_parquet_codec(params), params.get_bool("connect.meta.data", True))


def _csv(params: Params) -> Any:
    raise invalid(
        "format.class",
        params.get_str("format.class"),
        "CsvFormat is not supported by kafka-s3-sink; supported: ByteArrayFormat, JsonFormat, "
        "AvroFormat, ParquetFormat",
    )


FORMATS: dict[str, Callable[[Params], Any]] = {
    BYTE_ARRAY_FORMAT: _byte_array,
    JSON_FORMAT: _json,
    AVRO_FORMAT: _avro,
    PARQUET_FORMAT: _parquet,
    CSV_FORMAT: _csv,
    LOSSLESS_FORMAT: _lossless,
}
FORMAT_ALIASES = alias_table(FORMATS)


def build_format(params: Params) -> tuple[str, Any, str, int]:
    """``format.class`` and ``s3.compression.*``: (class name, format, compression, level)."""
    class_name, build = params.get_plugin("format.class", FORMAT_ALIASES, "format")
    record_format = build(params)
    # Checked whatever the format, as Confluent's config validation does.
    _avro_codec(params)
    _parquet_codec(params)
    params.get_bool("connect.meta.data", True)
    compatibility = params.get_str("schema.compatibility", "NONE")
    if compatibility != "NONE":
        raise invalid(
            "schema.compatibility",
            compatibility,
            "only NONE is supported: a schema change closes the open objects; BACKWARD, "
            "FORWARD and FULL (projecting records to the newest schema) are not",
        )
    compression = params.get_choice("s3.compression.type", "none", COMPRESSION_EXTENSIONS)
    level = params.get_int("s3.compression.level", -1, minimum=-1)
    if level > 9:
        raise invalid("s3.compression.level", str(level), "Value must be in [-1, 9]")
    compressible = (BYTE_ARRAY_FORMAT, JSON_FORMAT, LOSSLESS_FORMAT)
    if compression != "none" and class_name not in compressible:
        raise ConnectorConfigError(
            "s3.compression.type",
            f"Compression Type {compression} not valid for data format class: ( {class_name} ).",
        )
    return class_name, record_format, compression, level
