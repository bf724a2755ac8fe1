"""Connect schema -> Avro schema, as Confluent's AvroData.fromConnectSchema makes it.

Both formats that write through schemas use it: AvroFormat puts it in each container file,
ParquetFormat in the file's ``parquet.avro.schema`` metadata (as parquet-avro does), so
Avro tools read our files with the schema Kafka Connect would have written.

* int8/int16 are Avro ints marked ``connect.type``; int32 int, int64 long, float32 float,
  float64 double; Decimal, Date, Time, Timestamp carry their Avro logical types.
* A struct is a record named after its schema (``io.confluent.connect.avro.ConnectDefault``,
  then ``ConnectDefault2``... for unnamed ones); a map with string keys is an Avro map, any
  other map an array of ``MapEntry`` records {key, value}.
* Optional schemas are unions with null first (null last when the default is not null).
* With ``connect.meta.data`` (default true) the Connect name, version, doc, parameters and
  default are kept as ``connect.*`` properties.
"""

from __future__ import annotations

import json
from typing import Any

from ..schema import DATE, DECIMAL, NOT_LOGICAL, TIME, TIMESTAMP, Schema, logical_value

NAMESPACE = "io.confluent.connect.avro"
DEFAULT_RECORD_NAME = "ConnectDefault"
MAP_ENTRY_NAME = "MapEntry"
DEFAULT_DECIMAL_PRECISION = 64  # AvroData's when connect.decimal.precision is not set
_PRIMITIVE = {
    "int32": "int",
    "int64": "long",
    "float32": "float",
    "float64": "double",
    "boolean": "boolean",
    "string": "string",
    "bytes": "bytes",
}


def to_avro_schema(schema: Schema, connect_meta: bool = True) -> Any:
    """The Avro schema (its JSON form: dict, list or str) of a Connect schema."""
    return _Converter(connect_meta).convert(schema)


class _Converter:
    def __init__(self, connect_meta: bool) -> None:
        self.connect_meta = connect_meta
        self.unnamed = 0
        self.map_entries = 0

    def convert(self, schema: Schema) -> Any:
        base = self._base(schema)
        if not schema.optional:
            return base
        if schema.default_json is not None and json.loads(schema.default_json) is not None:
            return [base, "null"]
        return ["null", base]

    def _base(self, schema: Schema) -> Any:
        if schema.name == DECIMAL:
            scale = int(schema.parameter("scale", "0") or 0)
            precision = int(
                schema.parameter("connect.decimal.precision", str(DEFAULT_DECIMAL_PRECISION))
                or DEFAULT_DECIMAL_PRECISION
            )
            avro: dict[str, Any] = {
                "type": "bytes",
                "scale": scale,
                "precision": precision,
                "logicalType": "decimal",
            }
        elif schema.name == DATE:
            avro = {"type": "int", "logicalType": "date"}
        elif schema.name == TIME:
            avro = {"type": "int", "logicalType": "time-millis"}
        elif schema.name == TIMESTAMP:
            avro = {"type": "long", "logicalType": "timestamp-millis"}
        elif schema.type in ("int8", "int16"):
            avro = {"type": "int", "connect.type": schema.type}
        elif schema.type in _PRIMITIVE:
            avro = {"type": _PRIMITIVE[schema.type]}
        elif schema.type == "array":
            assert schema.items is not None
            avro = {"type": "array", "items": self.convert(schema.items)}
        elif schema.type == "map":
            avro = self._map(schema)
        else:
            avro = self._record(schema)
        if self.connect_meta:
            self._meta(schema, avro)
        # A bare primitive is written by its name alone, as Avro prints it.
        return avro["type"] if list(avro) == ["type"] else avro

    def _map(self, schema: Schema) -> dict[str, Any]:
        assert schema.keys is not None and schema.values is not None
        if schema.keys.type == "string" and not schema.keys.optional and schema.keys.name is None:
            return {"type": "map", "values": self.convert(schema.values)}
        self.map_entries += 1
        name = MAP_ENTRY_NAME if self.map_entries == 1 else f"{MAP_ENTRY_NAME}{self.map_entries}"
        entry = {
            "type": "record",
            "name": name,
            "namespace": NAMESPACE,
            "fields": [
                {"name": "key", "type": self.convert(schema.keys)},
                {"name": "value", "type": self.convert(schema.values)},
            ],
        }
        return {"type": "array", "items": entry}

    def _record(self, schema: Schema) -> dict[str, Any]:
        if schema.name:
            namespace, _, name = schema.name.rpartition(".")
        else:
            self.unnamed += 1
            namespace = NAMESPACE
            name = DEFAULT_RECORD_NAME
            if self.unnamed > 1:
                name += str(self.unnamed)
        record: dict[str, Any] = {"type": "record", "name": name}
        if namespace:
            record["namespace"] = namespace
        if schema.doc:
            record["doc"] = schema.doc
        fields = []
        for field in schema.fields:
            avro_field: dict[str, Any] = {"name": field.name, "type": self.convert(field.schema)}
            if field.schema.default_json is not None:
                avro_field["default"] = json.loads(field.schema.default_json)
            elif field.schema.optional:
                avro_field["default"] = None
            fields.append(avro_field)
        record["fields"] = fields
        return record

    @staticmethod
    def _meta(schema: Schema, avro: dict[str, Any]) -> None:
        if schema.doc and avro["type"] != "record":
            avro["connect.doc"] = schema.doc
        if schema.version is not None:
            avro["connect.version"] = schema.version
        if schema.parameters:
            avro["connect.parameters"] = dict(schema.parameters)
        if schema.default_json is not None:
            avro["connect.default"] = json.loads(schema.default_json)
        if schema.name:
            avro["connect.name"] = schema.name


# --- values ----------------------------------------------------------------------------------


def to_avro_datum(schema: Schema, value: Any) -> Any:
    """A Connect value (already checked against ``schema``) as fastavro writes it."""
    if value is None:
        return None
    if schema.name is not None and (logical := logical_value(schema, value)) is not NOT_LOGICAL:
        return logical
    kind = schema.type
    if kind == "bytes":
        return bytes(value)
    if kind == "struct":
        return {f.name: to_avro_datum(f.schema, value.get(f.name)) for f in schema.fields}
    if kind == "array":
        assert schema.items is not None
        return [to_avro_datum(schema.items, item) for item in value]
    if kind == "map":
        assert schema.keys is not None and schema.values is not None
        pairs = [
            (to_avro_datum(schema.keys, k), to_avro_datum(schema.values, v))
            for k, v in value.items()
        ]
        if schema.keys.type == "string" and not schema.keys.optional and schema.keys.name is None:
            return dict(pairs)
        return [{"key": k, "value": v} for k, v in pairs]
    return value
