"""Kafka Connect schemas: what a value's converter says about its type.

Avro and Parquet write records through their schema, and, as in the Confluent sink, a change
of schema closes the open objects of a partition (``schema.compatibility=NONE``).  Converters
give a schema with each value (:class:`Typed`); transforms map an input schema to an output
schema (which depends on the schema alone, so it is computed once per schema); formats turn
it into an Avro or Arrow schema.

A schema is an immutable, hashable value: equal schemas compare equal, as Kafka Connect's
``ConnectSchema.equals`` does, so "did the schema change" is one comparison.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from dataclasses import field as dataclass_field
from datetime import UTC, datetime, time
from decimal import Context, Decimal
from typing import Any, NamedTuple

DECIMAL = "org.apache.kafka.connect.data.Decimal"
DATE = "org.apache.kafka.connect.data.Date"
TIME = "org.apache.kafka.connect.data.Time"
TIMESTAMP = "org.apache.kafka.connect.data.Timestamp"

INTEGER_BITS = {"int8": 8, "int16": 16, "int32": 32, "int64": 64}
PRIMITIVES = (*INTEGER_BITS, "float32", "float64", "boolean", "string", "bytes")
# Decimal arithmetic without rounding: Connect decimals (Java BigDecimal) have any number of
# digits, and Python's default context would round past 28.
EXACT = Context(prec=100_000)
# The names JsonConverter's envelope may use for a type, as Kafka Connect's Schema.Type.
_JSON_TYPE_NAMES = {"float": "float32", "double": "float64"}


class SchemaError(ValueError):
    """A schema that cannot be read, or a value that does not conform to its schema."""


@dataclass(frozen=True, slots=True)
class Field:
    name: str
    schema: Schema


@dataclass(frozen=True, slots=True)
class Schema:
    type: str  # one of PRIMITIVES, "array", "map", "struct"
    optional: bool = False
    name: str | None = None
    version: int | None = None
    doc: str | None = None
    parameters: tuple[tuple[str, str], ...] = ()
    default_json: str | None = None  # the default value as JSON text (None: no default)
    fields: tuple[Field, ...] = ()  # struct
    items: Schema | None = None  # array
    keys: Schema | None = None  # map
    values: Schema | None = None  # map
    # Schemas key caches on every record (transforms, writers): hash once, not per lookup.
    _hash: int = dataclass_field(default=0, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        content = (
            self.type,
            self.optional,
            self.name,
            self.version,
            self.doc,
            self.parameters,
            self.default_json,
            self.fields,
            self.items,
            self.keys,
            self.values,
        )
        object.__setattr__(self, "_hash", hash(content))

    def __hash__(self) -> int:
        return self._hash

    def field(self, name: str) -> Field | None:
        return next((f for f in self.fields if f.name == name), None)

    def parameter(self, key: str, default: str | None = None) -> str | None:
        return dict(self.parameters).get(key, default)

    def as_optional(self, optional: bool) -> Schema:
        return self if self.optional == optional else replace(self, optional=optional)


class Typed(NamedTuple):
    """A value with the schema its converter and transforms gave it (None: schemaless)."""

    schema: Schema | None
    value: Any


OPTIONAL_BYTES = Schema("bytes", optional=True)
OPTIONAL_STRING = Schema("string", optional=True)


def timestamp_schema(optional: bool) -> Schema:
    return Schema("int64", optional, TIMESTAMP, 1)


def date_schema(optional: bool) -> Schema:
    return Schema("int32", optional, DATE, 1)


def time_schema(optional: bool) -> Schema:
    return Schema("int32", optional, TIME, 1)


def with_field(struct: Schema, name: str, schema: Schema) -> Schema:
    """``struct`` with the schema of field ``name`` replaced, name and version kept."""
    fields = tuple(Field(f.name, schema) if f.name == name else f for f in struct.fields)
    return replace(struct, fields=fields)


# --- JsonConverter's envelope -----------------------------------------------------------------


def from_json(document: Any, where: str = "schema") -> Schema:
    """A schema from JsonConverter's ``"schema"`` object."""
    if not isinstance(document, dict) or not isinstance(document.get("type"), str):
        raise SchemaError(f"invalid JSON schema at {where}: expected an object with a type")
    kind = _JSON_TYPE_NAMES.get(document["type"], document["type"])
    optional = document.get("optional", False)
    if not isinstance(optional, bool):
        raise SchemaError(f"invalid JSON schema at {where}: optional must be a boolean")
    name = _optional_str(document, "name", where)
    doc = _optional_str(document, "doc", where)
    version = document.get("version")
    if version is not None and (not isinstance(version, int) or isinstance(version, bool)):
        raise SchemaError(f"invalid JSON schema at {where}: version must be an integer")
    parameters = document.get("parameters") or {}
    if not isinstance(parameters, dict) or not all(
        isinstance(v, str) for v in parameters.values()
    ):
        raise SchemaError(f"invalid JSON schema at {where}: parameters must map to strings")
    default = document.get("default")
    common: dict[str, Any] = {
        "optional": optional,
        "name": name,
        "version": version,
        "doc": doc,
        "parameters": tuple(sorted(parameters.items())),
        "default_json": None if default is None else json.dumps(default, sort_keys=True),
    }
    if kind in PRIMITIVES:
        return Schema(kind, **common)
    if kind == "array":
        return Schema(kind, items=from_json(document.get("items"), f"{where}.items"), **common)
    if kind == "map":
        keys = from_json(document.get("keys"), f"{where}.keys")
        values = from_json(document.get("values"), f"{where}.values")
        return Schema(kind, keys=keys, values=values, **common)
    if kind == "struct":
        fields = []
        for index, field in enumerate(document.get("fields") or []):
            name_of = field.get("field") if isinstance(field, dict) else None
            if not isinstance(name_of, str):
                raise SchemaError(f"invalid JSON schema at {where}: field {index} has no name")
            fields.append(Field(name_of, from_json(field, f"{where}.{name_of}")))
        if len({f.name for f in fields}) != len(fields):
            raise SchemaError(f"invalid JSON schema at {where}: duplicate field names")
        return Schema(kind, fields=tuple(fields), **common)
    raise SchemaError(f"invalid JSON schema at {where}: unknown type {document['type']!r}")


def _optional_str(document: dict[str, Any], key: str, where: str) -> str | None:
    value = document.get(key)
    if value is not None and not isinstance(value, str):
        raise SchemaError(f"invalid JSON schema at {where}: {key} must be a string")
    return value


# --- conformance ------------------------------------------------------------------------------


def check_value(schema: Schema, value: Any, where: str = "value") -> None:
    """Raise SchemaError unless ``value`` is a value of ``schema`` (ConnectSchema.validateValue).

    Run on each record before it joins an object, so one wrong record is reported alone.
    """
    if value is None:
        if schema.optional or schema.default_json is not None:
            return
        raise SchemaError(f"{where}: null for a required {describe(schema)}")
    kind = schema.type
    if schema.name == DECIMAL:
        _expect(isinstance(value, Decimal), schema, value, where)
    elif schema.name in (DATE, TIME, TIMESTAMP):
        _expect(isinstance(value, datetime), schema, value, where)
    elif kind in INTEGER_BITS:
        bits = INTEGER_BITS[kind]
        is_int = isinstance(value, int) and not isinstance(value, bool)
        _expect(is_int and -(2 ** (bits - 1)) <= value < 2 ** (bits - 1), schema, value, where)
    elif kind in ("float32", "float64"):
        _expect(isinstance(value, float), schema, value, where)
    elif kind == "boolean":
        _expect(isinstance(value, bool), schema, value, where)
    elif kind == "string":
        _expect(isinstance(value, str), schema, value, where)
    elif kind == "bytes":
        _expect(isinstance(value, bytes | bytearray | memoryview), schema, value, where)
    elif kind == "array":
        _expect(isinstance(value, list), schema, value, where)
        assert schema.items is not None
        for index, item in enumerate(value):
            check_value(schema.items, item, f"{where}[{index}]")
    elif kind == "map":
        _expect(isinstance(value, dict), schema, value, where)
        assert schema.keys is not None and schema.values is not None
        for key, item in value.items():
            check_value(schema.keys, key, f"{where} key")
            check_value(schema.values, item, f"{where}[{key!r}]")
    elif kind == "struct":
        _expect(isinstance(value, dict), schema, value, where)
        unknown = set(value) - {f.name for f in schema.fields}
        if unknown:
            raise SchemaError(f"{where}: {sorted(unknown)[0]} is not a field of its struct schema")
        for field in schema.fields:
            check_value(field.schema, value.get(field.name), f"{where}.{field.name}")


def _expect(ok: bool, schema: Schema, value: Any, where: str) -> None:
    if not ok:
        raise SchemaError(
            f"{where}: a {type(value).__name__} is not a value of its schema {describe(schema)}"
        )


NOT_LOGICAL = object()


def logical_value(schema: Schema, value: Any) -> Any:
    """A Decimal/Date/Time/Timestamp value as Avro and Arrow writers take it: Decimal at the
    schema's scale, date, time, aware datetime; ``NOT_LOGICAL`` for any other schema."""
    name = schema.name
    if name == DATE:
        return value.date()
    if name == TIME:
        return time(value.hour, value.minute, value.second, value.microsecond)
    if name == TIMESTAMP:
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    if name == DECIMAL:
        scale = int(schema.parameter("scale", "0") or 0)
        return value.quantize(Decimal(1).scaleb(-scale), context=EXACT)
    return NOT_LOGICAL


def describe(schema: Schema) -> str:
    return schema.name or schema.type
