"""AvroFormat: an Avro object container file per object, as Confluent's AvroFormat writes.

Each record is serialized once, when it joins its batch (``prepare``), so a record that does
not fit its schema is reported alone.  ``encode`` then frames the datums as Java's
DataFileWriter does: header with ``avro.schema`` and ``avro.codec``, blocks of about 64 KB
(its sync interval), each compressed with ``avro.codec`` (null, deflate, snappy, bzip2).

Java draws the 16-byte sync marker at random; ours is a hash of the object's content, so a
batch replayed after a crash is rewritten byte for byte.

fastavro (and cramjam for snappy) come with the ``avro`` extra: ``pip install
'kafka-s3-sink[avro]'``.
"""

from __future__ import annotations

import bz2
import hashlib
import io
import json
import struct
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any, NamedTuple

from ..schema import Schema, SchemaError, check_value
from .avro_schema import to_avro_datum, to_avro_schema
from .base import FormatError

SYNC_INTERVAL = 64_000  # DataFileConstants.DEFAULT_SYNC_INTERVAL
_MAGIC = b"Obj\x01"


class AvroDatum(NamedTuple):
    schema: Schema
    data: bytes


def zigzag(value: int) -> bytes:
    """An Avro long: zig-zag, then base-128 varint."""
    encoded = (value << 1) ^ (value >> 63)
    out = bytearray()
    while encoded > 0x7F:
        out.append((encoded & 0x7F) | 0x80)
        encoded >>= 7
    out.append(encoded)
    return bytes(out)


def _deflate(data: bytes) -> bytes:
    # Java's DeflateCodec: raw deflate (no zlib header), Deflater.DEFAULT_COMPRESSION (6).
    compressor = zlib.compressobj(6, zlib.DEFLATED, -15)
    return compressor.compress(data) + compressor.flush()


def _snappy(data: bytes) -> bytes:
    import cramjam  # the avro extra

    # Avro's snappy blocks: raw snappy, then the CRC-32 of the uncompressed bytes.
    return bytes(cramjam.snappy.compress_raw(data)) + struct.pack(">I", zlib.crc32(data))


_COMPRESSORS: dict[str, Callable[[bytes], bytes]] = {
    "null": lambda data: data,
    "deflate": _deflate,
    "snappy": _snappy,
    "bzip2": lambda data: bz2.compress(data, 9),
}


def container(schema_json: str, codec: str, datums: list[bytes]) -> bytes:
    """An Avro object container file holding ``datums`` (each one serialized datum)."""
    schema_bytes = schema_json.encode()
    digest = hashlib.blake2b(schema_bytes, digest_size=16)
    for datum in datums:
        digest.update(datum)
    sync = digest.digest()
    out = io.BytesIO()
    out.write(_MAGIC)
    meta = {"avro.schema": schema_bytes, "avro.codec": codec.encode()}
    out.write(zigzag(len(meta)))
    for key, value in meta.items():
        out.write(zigzag(len(key)) + key.encode())
        out.write(zigzag(len(value)) + value)
    out.write(zigzag(0))
    out.write(sync)
    compress = _COMPRESSORS[codec]
    block: list[bytes] = []
    size = 0
    for datum in datums:
        block.append(datum)
        size += len(datum)
        if size >= SYNC_INTERVAL:
            _write_block(out, block, compress, sync)
            block, size = [], 0
    if block:
        _write_block(out, block, compress, sync)
    return out.getvalue()


def _write_block(
    out: io.BytesIO, block: list[bytes], compress: Callable[[bytes], bytes], sync: bytes
) -> None:
    data = compress(b"".join(block))
    out.write(zigzag(len(block)))
    out.write(zigzag(len(data)))
    out.write(data)
    out.write(sync)


@lru_cache(maxsize=64)
def _writer_schema(schema: Schema, connect_meta: bool) -> tuple[str, Any]:
    """(the schema's JSON text, fastavro's parsed form), once per schema."""
    import fastavro  # the avro extra

    avro = to_avro_schema(schema, connect_meta)
    return json.dumps(avro, separators=(",", ":")), fastavro.parse_schema(avro)


@dataclass(frozen=True)
class AvroFormat:
    codec: str = "null"
    connect_meta: bool = True
    extension: str = ".avro"
    needs_schema: bool = field(default=True, init=False)
    takes_bytes_as_they_are = False

    def check(self, value: Any) -> None:
        """Nothing here: prepare() checks each value against its schema."""

    def prepare(self, value: Any, schema: Schema | None) -> AvroDatum:
        from fastavro import schemaless_writer

        if schema is None:
            raise FormatError(schemaless_message("AvroFormat"))
        try:
            check_value(schema, value)
        except SchemaError as error:
            raise FormatError(f"AvroFormat cannot write the value: {error}") from None
        if schema.type in ("bytes", "string") and schema.name is None and not schema.optional:
            # The reference connectors' values (msg bytes, a time string): an Avro bytes or
            # string is its length and its bytes; no need for a general-purpose writer.
            data = value.encode() if isinstance(value, str) else bytes(value)
            return AvroDatum(schema, zigzag(len(data)) + data)
        _, parsed = _writer_schema(schema, self.connect_meta)
        buffer = io.BytesIO()
        try:
            schemaless_writer(buffer, parsed, to_avro_datum(schema, value))
        except (ValueError, TypeError) as error:
            raise FormatError(f"AvroFormat cannot write the value: {error}") from None
        except ArithmeticError as error:
            raise FormatError(out_of_range("AvroFormat", error)) from None
        return AvroDatum(schema, buffer.getvalue())

    def encode(self, values: list[AvroDatum]) -> bytes:
        schema_json, _ = _writer_schema(values[0].schema, self.connect_meta)
        return container(schema_json, self.codec, [value.data for value in values])


def out_of_range(format_name: str, error: ArithmeticError) -> str:
    return (
        f"{format_name} cannot write the value: a number does not fit its schema "
        f"({type(error).__name__})"
    )


def schemaless_message(format_name: str) -> str:
    return (
        f"{format_name} writes values through their Kafka Connect schema, and this value has "
        "none: use a converter that gives one (SinetStreamConverter, ByteArrayConverter, "
        "StringConverter, or JsonConverter with schemas.enable=true and a schema in the "
        "message), or write JsonFormat"
    )
