"""ParquetFormat: a Parquet file per object, written with pyarrow.

The columns follow the value's Connect schema as parquet-avro lays out the Avro schema that
Confluent's ParquetFormat derives from it: a struct's fields are the columns (nested structs,
lists and maps nest), optional schemas are nullable columns, Decimal/Date/Time/Timestamp keep
their logical types.  The Avro schema itself is stored under ``parquet.avro.schema`` in the
file metadata, as parquet-avro writes it, for Java readers.

Confluent's writer only takes struct values (any other value fails its task); here a value of
another type (bytes, a string...) becomes the single column ``value``.

The extension carries the codec as parquet-mr names it: ``.snappy.parquet`` by default.
pyarrow comes with the ``parquet`` extra: ``pip install 'kafka-s3-sink[parquet]'``.
"""

from __future__ import annotations

import io
import json
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any, NamedTuple

from ..schema import (
    DATE,
    DECIMAL,
    NOT_LOGICAL,
    TIME,
    TIMESTAMP,
    Field,
    Schema,
    SchemaError,
    check_value,
    logical_value,
)
from .avro import out_of_range, schemaless_message
from .avro_schema import DEFAULT_DECIMAL_PRECISION, to_avro_schema
from .base import PARQUET_CODECS, FormatError

PAGE_SIZE = 64 * 1024  # Confluent's ParquetRecordWriterProvider.PAGE_SIZE
VALUE_COLUMN = "value"


class ParquetRow(NamedTuple):
    schema: Schema
    row: dict[str, Any]


def as_struct(schema: Schema) -> Schema:
    """The schema of the file's rows: the value's struct, or a struct of one ``value`` column."""
    if schema.type == "struct":
        return schema
    return Schema("struct", fields=(Field(VALUE_COLUMN, schema),))


def arrow_type(schema: Schema) -> Any:
    import pyarrow as pa  # the parquet extra

    if schema.name == DECIMAL:
        scale = int(schema.parameter("scale", "0") or 0)
        precision = _precision(schema)
        return (pa.decimal128 if precision <= 38 else pa.decimal256)(precision, scale)
    if schema.name == DATE:
        return pa.date32()
    if schema.name == TIME:
        return pa.time32("ms")
    if schema.name == TIMESTAMP:
        return pa.timestamp("ms", tz="UTC")
    simple = {
        "int8": pa.int8,
        "int16": pa.int16,
        "int32": pa.int32,
        "int64": pa.int64,
        "float32": pa.float32,
        "float64": pa.float64,
        "boolean": pa.bool_,
        "string": pa.string,
        "bytes": pa.binary,
    }
    if schema.type in simple:
        return simple[schema.type]()
    if schema.type == "array":
        assert schema.items is not None
        return pa.list_(pa.field("element", arrow_type(schema.items), schema.items.optional))
    if schema.type == "map":
        assert schema.keys is not None and schema.values is not None
        return pa.map_(
            pa.field("key", arrow_type(schema.keys), False),
            pa.field("value", arrow_type(schema.values), schema.values.optional),
        )
    return pa.struct(
        [pa.field(f.name, arrow_type(f.schema), f.schema.optional) for f in schema.fields]
    )


def _precision(schema: Schema) -> int:
    text = schema.parameter("connect.decimal.precision")
    return int(text) if text else DEFAULT_DECIMAL_PRECISION


@lru_cache(maxsize=64)
def _file_schema(schema: Schema, connect_meta: bool) -> Any:
    """The Arrow schema of a file whose rows have ``schema`` (a struct), once per schema."""
    import pyarrow as pa

    avro = json.dumps(to_avro_schema(schema, connect_meta), separators=(",", ":"))
    columns = [pa.field(f.name, arrow_type(f.schema), f.schema.optional) for f in schema.fields]
    return pa.schema(columns, metadata={"parquet.avro.schema": avro, "writer.model.name": "avro"})


def to_arrow_value(schema: Schema, value: Any) -> Any:
    """A Connect value (checked against ``schema``) as pyarrow takes it."""
    if value is None:
        return None
    if schema.name is not None and (logical := logical_value(schema, value)) is not NOT_LOGICAL:
        if schema.name == DECIMAL and len(logical.as_tuple().digits) > _precision(schema):
            raise SchemaError(f"decimal {value} has more digits than its precision")
        return logical
    if schema.type == "bytes":
        return bytes(value)
    if schema.type == "struct":
        return {f.name: to_arrow_value(f.schema, value.get(f.name)) for f in schema.fields}
    if schema.type == "array":
        assert schema.items is not None
        return [to_arrow_value(schema.items, item) for item in value]
    if schema.type == "map":
        assert schema.keys is not None and schema.values is not None
        return [
            (to_arrow_value(schema.keys, k), to_arrow_value(schema.values, v))
            for k, v in value.items()
        ]
    return value


@dataclass(frozen=True)
class ParquetFormat:
    codec: str = "snappy"
    connect_meta: bool = True
    needs_schema: bool = field(default=True, init=False)
    takes_bytes_as_they_are = False

    @property
    def extension(self) -> str:
        return PARQUET_CODECS[self.codec][1] + ".parquet"

    def check(self, value: Any) -> None:
        """Nothing here: prepare() checks each value against its schema."""

    def prepare(self, value: Any, schema: Schema | None) -> ParquetRow:
        if schema is None:
            raise FormatError(schemaless_message("ParquetFormat"))
        if schema.type != "struct":
            value, schema = {VALUE_COLUMN: value}, as_struct(schema)
        try:
            check_value(schema, value)
            return ParquetRow(schema, to_arrow_value(schema, value))
        except SchemaError as error:
            raise FormatError(f"ParquetFormat cannot write the value: {error}") from None
        except ArithmeticError as error:
            raise FormatError(out_of_range("ParquetFormat", error)) from None

    def encode(self, values: list[ParquetRow]) -> bytes:
        import pyarrow as pa
        import pyarrow.parquet as pq

        file_schema = _file_schema(values[0].schema, self.connect_meta)
        table = pa.Table.from_pylist([value.row for value in values], schema=file_schema)
        out = io.BytesIO()
        pq.write_table(
            table,
            out,
            compression=PARQUET_CODECS[self.codec][0],
            use_dictionary=True,
            data_page_size=PAGE_SIZE,
        )
        return out.getvalue()
