"""Output formats (``format.class``): the bytes of one object from the values of its records.

* ByteArrayFormat: each value's bytes followed by ``format.bytearray.separator``, default the
  line separator of the JVM, ``\\n`` on the Linux hosts Kafka Connect runs on.  The separator
  is taken as it is, not unescaped: in the JSON config of a connector ``"\\n"`` already is
  a newline.  Extension ``format.bytearray.extension`` (``.bin``).
* JsonFormat: one JSON document per value followed by ``\\n``, written as Jackson writes it
  (compact, UTF-8 unescaped, bytes as base64, times as epoch milliseconds).  Extension
  ``.json``.

* AvroFormat (``avro_format.py``) and ParquetFormat (``parquet_format.py``) write values
  through their Kafka Connect schemas; they need the ``avro`` / ``parquet`` extras.

``s3.compression.type=gzip`` gzips the whole object and adds ``.gz`` after the extension,
for ByteArray and JSON only, as Confluent does (Avro and Parquet compress inside the file:
``avro.codec``, ``parquet.codec``).  Each format also checks a value on its own
(``check``) so that one unwritable record is reported alone rather than failing an object.
"""

from __future__ import annotations

import base64
import gzip
import importlib.util
import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from ..sinetstream_codec import UndecodableMessage
from .model import ConnectorConfigError
from .params import Params, alias_table, invalid

BYTE_ARRAY_FORMAT = "io.confluent.connect.s3.format.bytearray.ByteArrayFormat"
JSON_FORMAT = "io.confluent.connect.s3.format.json.JsonFormat"
AVRO_FORMAT = "io.confluent.connect.s3.format.avro.AvroFormat"
PARQUET_FORMAT = "io.confluent.connect.s3.format.parquet.ParquetFormat"
CSV_FORMAT = "io.confluent.connect.s3.format.csv.CsvFormat"

COMPRESSION_EXTENSIONS = {"none": "", "gzip": ".gz"}
AVRO_CODECS = ("null", "deflate", "snappy", "bzip2")  # avro.codec, as Confluent allows
# parquet.codec -> (pyarrow's name, the extension parquet-mr's CompressionCodecName gives it)
PARQUET_CODECS = {
    "none": ("none", ""),
    "snappy": ("snappy", ".snappy"),
    "gzip": ("gzip", ".gz"),
    "brotli": ("brotli", ".br"),
    "zstd": ("zstd", ".zstd"),
    "lz4_raw": ("lz4", ".lz4raw"),  # pyarrow's "lz4" is Parquet's LZ4_RAW
}
# Codecs parquet-mr has and pyarrow cannot write: refused with this reason.
UNWRITABLE_PARQUET_CODECS = {
    "lzo": "pyarrow cannot write LZO",
    "lz4": "the Hadoop-framed LZ4 codec is deprecated in Parquet and pyarrow cannot write it; "
    "use lz4_raw",
}
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


class FormatError(UndecodableMessage):
    """The value cannot be written in the connector's format."""


@dataclass(frozen=True)
class ByteArrayFormat:
    extension: str = ".bin"
    separator: bytes = b"\n"
    needs_schema = False

    def check(self, value: Any) -> None:
        if not isinstance(value, bytes | bytearray | memoryview):
            kind = "text" if isinstance(value, str) else type(value).__name__
            raise FormatError(
                f"ByteArrayFormat writes bytes, but the value is {kind}: convert it with "
                "ByteArrayConverter or the ByteArrayCast transform, or write JsonFormat"
            )

    def prepare(self, value: Any, schema: object = None) -> Any:
        return value

    def encode(self, values: list[Any]) -> bytes:
        if not self.separator:
            return b"".join(values)
        parts: list[Any] = []
        for value in values:
            parts.append(value)
            parts.append(self.separator)
        return b"".join(parts)


class _JsonLine(bytes):
    """A record already serialized by JsonFormat.prepare (a bytes value would be base64)."""


@dataclass(frozen=True)
class JsonFormat:
    extension: str = ".json"
    decimal_numeric: bool = False  # json.decimal.format=NUMERIC
    needs_schema = False

    def check(self, value: Any) -> None:
        """Nothing here: prepare() serializes each record once and fails for that record."""

    def prepare(self, value: Any, schema: object = None) -> _JsonLine:
        return _JsonLine(self.line(value))

    def line(self, value: Any) -> bytes:
        if isinstance(value, bytes | bytearray | memoryview):
            # A bytes value is a base64 JSON string, which never needs escaping: the same
            # bytes as json.dumps gives, at a fraction of the cost (the ByteArrayConverter case).
            return b'"' + base64.b64encode(value) + b'"\n'
        try:
            text = json.dumps(
                value, default=self._default, ensure_ascii=False, separators=(",", ":")
            )
        except (TypeError, ValueError) as error:
            raise FormatError(f"JsonFormat cannot write the value: {error}") from None
        return text.encode() + b"\n"

    def encode(self, values: list[Any]) -> bytes:
        return b"".join(v if isinstance(v, _JsonLine) else self.line(v) for v in values)

    def _default(self, value: Any) -> Any:
        if isinstance(value, bytes | bytearray | memoryview):
            return base64.b64encode(value).decode("ascii")
        if isinstance(value, datetime):
            moment = value if value.tzinfo else value.replace(tzinfo=UTC)
            delta = moment - _EPOCH
            return (delta.days * 86_400 + delta.seconds) * 1000 + delta.microseconds // 1000
        if isinstance(value, Decimal):
            if self.decimal_numeric:
                return int(value) if value == value.to_integral_value() else float(value)
            # Kafka Connect's BASE64 decimal: the unscaled value, two's complement, big endian.
            exponent = value.as_tuple().exponent
            scale = -exponent if isinstance(exponent, int) else 0
            unscaled = int(value.scaleb(scale))
            size = max(1, (unscaled.bit_length() + 8) // 8)
            return base64.b64encode(unscaled.to_bytes(size, "big", signed=True)).decode()
        raise TypeError(f"a {type(value).__name__} has no JSON form")


def compress(body: bytes | memoryview, compression: str, level: int = -1) -> bytes | memoryview:
    """The object's stored bytes.  gzip with mtime 0: a replayed object is byte-identical."""
    if compression == "none":
        return body
    # -1 is Deflater.DEFAULT_COMPRESSION, which zlib defines as level 6.
    return gzip.compress(body, compresslevel=6 if level < 0 else level, mtime=0)


def object_extension(extension: str, compression: str) -> str:
    """The full extension of an object: the format's, then the compression's (``.bin.gz``)."""
    return extension + COMPRESSION_EXTENSIONS[compression]


def _byte_array(params: Params) -> ByteArrayFormat:
    extension = params.get_str("format.bytearray.extension", ".bin")
    separator = params.raw("format.bytearray.separator")  # white space matters: no trimming
    return ByteArrayFormat(extension, b"\n" if separator is None else separator.encode())


def _json(params: Params) -> JsonFormat:
    decimal = params.get_choice("json.decimal.format", "BASE64", ("BASE64", "NUMERIC"))
    return JsonFormat(decimal_numeric=decimal == "NUMERIC")


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
    from .avro_format import AvroFormat

    _require_extra(params, "fastavro", "avro")
    codec = _avro_codec(params)
    if codec == "snappy":
        _require_extra(params, "cramjam", "avro")
    return AvroFormat(codec, params.get_bool("connect.meta.data", True))


def _parquet(params: Params) -> Any:
    from .parquet_format import ParquetFormat

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
    if compression != "none" and class_name not in (BYTE_ARRAY_FORMAT, JSON_FORMAT):
        raise ConnectorConfigError(
            "s3.compression.type",
            f"Compression Type {compression} not valid for data format class: ( {class_name} ).",
        )
    return class_name, record_format, compression, level
