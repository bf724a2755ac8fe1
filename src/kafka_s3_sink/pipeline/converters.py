"""Value converters: the record's bytes -> the value that transforms and the format see.

Values are plain Python: None, bool, int, float, str, bytes-like, list, dict, datetime (Kafka
Connect's Timestamp/Date/Time) and Decimal.  A dict that came from a Kafka Connect *Struct*
(a value with a schema) is a :class:`Struct`, because Kafka Connect treats the two apart:
ExtractField fails on a struct field that does not exist but yields null for a missing map
key.

As in Kafka Connect, a null record value (a tombstone) converts to None with every converter;
what happens to it next is the sink's ``behavior.on.null.values`` (fail by default).  A value
a converter cannot read raises :class:`ConversionError` with the reason.
"""

from __future__ import annotations

import base64
import codecs
import json
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import msgspec

from .params import Params, alias_table, invalid
from .records import Record
from .schema import (
    EXACT,
    OPTIONAL_BYTES,
    OPTIONAL_STRING,
    Field,
    Schema,
    SchemaError,
    Typed,
    from_json,
)
from .sinetstream_codec import UndecodableMessage, decode, decode_protected
from .sinetstream_options import ReaderOptions, option_names, read_options

SINETSTREAM_CONVERTER = "jp.ad.sinet.sinetstream.connect.converters.SinetStreamConverter"
BYTE_ARRAY_CONVERTER = "org.apache.kafka.connect.converters.ByteArrayConverter"
STRING_CONVERTER = "org.apache.kafka.connect.storage.StringConverter"
JSON_CONVERTER = "org.apache.kafka.connect.json.JsonConverter"

# Kafka Connect takes a connector's converter from the worker config when the connector has
# none.  Ours is ByteArrayConverter: records are archived exactly as they are.
WORKER_VALUE_CONVERTER = BYTE_ARRAY_CONVERTER

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


class ConversionError(UndecodableMessage):
    """The record value cannot be converted (Kafka Connect's DataException)."""


class Struct(dict[str, Any]):
    """A dict holding a Kafka Connect Struct: its keys are the fields of a schema."""


Converter = Callable[[Record], Any]
TypedConverter = Callable[[Record], Typed]

# The Connect schema the SINETStream converter gives (AvroData of the message's Avro schema,
# jp.ad.sinet.stream.message: tstamp long, msg bytes).
SINETSTREAM_SCHEMA = Schema(
    "struct",
    name="jp.ad.sinet.stream.message",
    fields=(Field("tstamp", Schema("int64")), Field("msg", Schema("bytes"))),
)


@dataclass(frozen=True)
class ValueConverterPlugin:
    """A converter: the value alone (fast path), or the value with its schema.

    ``varying_schemas``: whether records may carry different schemas (JsonConverter's
    envelope); the others give one fixed schema, so a schema change cannot happen.
    """

    class_name: str
    convert: Converter
    convert_typed: TypedConverter
    varying_schemas: bool = False
    # The same as ``convert``, as a function of the record's value alone (every converter
    # here reads nothing else): lets the engine skip making a Record for each message.
    of_value: Callable[[bytes | None], Any] | None = None
    # The value is the record's bytes as they are (ByteArrayConverter).
    gives_bytes: bool = False
    # The value is a JSON document as parsed (dicts, lists, str, int, float, bool, None):
    # a JSON format may then write it with a faster encoder (see JsonFormat.for_documents).
    parsed_json: bool = False


def _typed(schema: Schema | None, convert: Converter) -> TypedConverter:
    return lambda record: Typed(schema, convert(record))


def sinetstream_value(record: Record) -> Struct | None:
    """``{"tstamp": µs, "msg": payload}``, as the SINETStream converter makes it.

    ``msg`` is a memoryview into the record value (no copy of a payload of megabytes); it is
    bytes-like everywhere a format or transform needs bytes.
    """
    return sinetstream_of_value(record.value)


def sinetstream_of_value(value: bytes | None) -> Struct | None:
    if value is None:
        return None
    message = decode(value)
    return Struct(tstamp=message.tstamp_us, msg=message.msg)


def byte_array_value(record: Record) -> bytes | None:
    return record.value


def _same_bytes(value: bytes | None) -> bytes | None:
    return value


def string_of_value(encoding: str) -> Callable[[bytes | None], str | None]:
    def convert(value: bytes | None) -> str | None:
        if value is None:
            return None
        # Java's new String(bytes, charset) replaces malformed input instead of failing,
        # and so does StringConverter: so do we, for the same bytes in the archive.
        return value.decode(encoding, errors="replace")

    return convert


def string_converter(encoding: str) -> Converter:
    of_value = string_of_value(encoding)
    return lambda record: of_value(record.value)


def json_of_value(schemas_enable: bool) -> Callable[[bytes | None], Any]:
    """JsonConverter's value alone: the envelope's schema only shapes the payload."""

    def convert(value: bytes | None) -> Any:
        if value is None:
            return None
        if not schemas_enable:
            return _parse(value)
        schema, payload = _envelope(_parse(value))
        return payload if schema is None else with_schema(schema, payload, "payload")

    return convert


def json_converter(schemas_enable: bool) -> Converter:
    of_value = json_of_value(schemas_enable)
    return lambda record: of_value(record.value)


def typed_json_converter(schemas_enable: bool) -> TypedConverter:
    """JsonConverter's value with its schema (None when schemaless or the envelope has none)."""
    schemas: dict[str, Schema] = {}  # the envelope's schema JSON -> Schema, as Kafka's cache

    def schema_of(document: Any) -> Schema:
        text = json.dumps(document, sort_keys=True)
        schema = schemas.get(text)
        if schema is None:
            try:
                schema = from_json(document)
            except SchemaError as error:
                raise ConversionError(str(error)) from None
            if len(schemas) >= 1000:  # schemas.cache.size's default
                schemas.clear()
            schemas[text] = schema
        return schema

    def convert(record: Record) -> Typed:
        if record.value is None:
            return Typed(None, None)
        if not schemas_enable:
            return Typed(None, _parse(record.value))
        schema, payload = _envelope(_parse(record.value))
        if schema is None:
            return Typed(None, payload)
        return Typed(schema_of(schema), with_schema(schema, payload, "payload"))

    return convert


# A strict, fast JSON parser: it builds the same Python values as ``json.loads`` for every
# document it accepts, and refuses all that json.loads refuses (and a few that json.loads
# takes: NaN, a byte order mark, UTF-16, lone surrogates, numbers beyond a double), which
# are then read by json.loads exactly as before.
_FAST_JSON = msgspec.json.Decoder()


def _parse(value: bytes) -> Any:
    try:
        return _FAST_JSON.decode(value)
    except (msgspec.DecodeError, UnicodeDecodeError):
        pass
    try:
        return _marked(json.loads(value, parse_constant=_no_constant))
    except (ValueError, UnicodeDecodeError) as error:
        raise ConversionError(
            f"Converting byte[] to Kafka Connect data failed due to serialization error: "
            f"not JSON ({error})"
        ) from None


class _NonFiniteDict(dict[str, Any]):
    """A document json.loads read with an infinite number in it (``1E400``)."""


class _NonFiniteList(list[Any]):
    """A list json.loads read with an infinite number in it."""


def _marked(document: Any) -> Any:
    """``document``, as a subclass when it holds a non-finite float, so that a JSON format's
    fast writer (which would write null for it) leaves it to the json module."""
    if isinstance(document, dict | list) and _has_non_finite(document):
        return (_NonFiniteDict if isinstance(document, dict) else _NonFiniteList)(document)
    return document


def _has_non_finite(value: Any) -> bool:
    if isinstance(value, float):
        return not math.isfinite(value)
    if isinstance(value, dict):
        return any(_has_non_finite(item) for item in value.values())
    if isinstance(value, list):
        return any(_has_non_finite(item) for item in value)
    return False


def _envelope(document: Any) -> tuple[Any, Any]:
    """(schema, payload) of a schemas.enable document."""
    if not isinstance(document, dict) or set(document) != {"schema", "payload"}:
        raise ConversionError(
            'JsonConverter with schemas.enable requires "schema" and "payload" fields and '
            "may not contain additional fields. If you are trying to deserialize plain "
            "JSON data, set schemas.enable=false in your converter configuration."
        )
    return document["schema"], document["payload"]


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


_INTEGERS = {"int8": 8, "int16": 16, "int32": 32, "int64": 64}


def with_schema(schema: Any, payload: Any, where: str) -> Any:
    """The Connect value of an enveloped JSON payload, following its schema."""
    if not isinstance(schema, dict) or not isinstance(schema.get("type"), str):
        raise ConversionError(f"invalid JSON schema at {where}: expected an object with a type")
    if payload is None:
        if "default" in schema and schema["default"] is not None:
            payload = schema["default"]
        elif schema.get("optional"):
            return None
        else:
            raise ConversionError(f"invalid null value for required {schema['type']} at {where}")
    kind = schema["type"]
    logical = schema.get("name")
    if logical in _LOGICAL:
        return _LOGICAL[logical](schema, payload, where)
    if kind in _INTEGERS:
        bits = _INTEGERS[kind]
        if not _is_int(payload) or not -(2 ** (bits - 1)) <= payload < 2 ** (bits - 1):
            raise _mismatch(kind, payload, where)
        return payload
    if kind in ("float", "double", "float32", "float64"):
        if isinstance(payload, bool) or not isinstance(payload, int | float):
            raise _mismatch(kind, payload, where)
        return float(payload)
    if kind == "boolean" and isinstance(payload, bool):
        return payload
    if kind == "string" and isinstance(payload, str):
        return payload
    if kind == "bytes" and isinstance(payload, str):
        return _base64(payload, where)
    if kind == "array" and isinstance(payload, list):
        return [
            with_schema(schema.get("items"), item, f"{where}[{i}]")
            for i, item in enumerate(payload)
        ]
    if kind == "map":
        return _map(schema, payload, where)
    if kind == "struct" and isinstance(payload, dict):
        struct = Struct()
        for field in schema.get("fields") or []:
            name = field.get("field") if isinstance(field, dict) else None
            if not isinstance(name, str):
                raise ConversionError(f"invalid JSON schema at {where}: a field has no name")
            struct[name] = with_schema(field, payload.get(name), f"{where}.{name}")
        return struct
    raise _mismatch(kind, payload, where)


def _map(schema: Mapping[str, Any], payload: Any, where: str) -> dict[Any, Any]:
    keys, values = schema.get("keys"), schema.get("values")
    if isinstance(payload, dict):  # string keys: a JSON object
        return {k: with_schema(values, v, f"{where}.{k}") for k, v in payload.items()}
    if isinstance(payload, list):  # other keys: an array of [key, value] pairs
        out: dict[Any, Any] = {}
        for pair in payload:
            if not isinstance(pair, list) or len(pair) != 2:
                raise ConversionError(f"invalid map entry at {where}: expected [key, value]")
            key = with_schema(keys, pair[0], f"{where}.key")
            out[bytes(key) if isinstance(key, bytearray) else key] = with_schema(
                values, pair[1], f"{where}.value"
            )
        return out
    raise _mismatch("map", payload, where)


def _decimal(schema: Mapping[str, Any], payload: Any, where: str) -> Decimal:
    scale = int((schema.get("parameters") or {}).get("scale", 0))
    if isinstance(payload, str):  # json.decimal.format=BASE64: unscaled two's complement
        unscaled = int.from_bytes(_base64(payload, where), "big", signed=True)
        return Decimal(unscaled).scaleb(-scale, context=EXACT)
    if isinstance(payload, int | float) and not isinstance(payload, bool):
        return Decimal(str(payload))
    raise _mismatch("Decimal", payload, where)


def _timestamp(schema: Mapping[str, Any], payload: Any, where: str) -> datetime:
    if not _is_int(payload):
        raise _mismatch(schema.get("name", "Timestamp"), payload, where)
    unit = {"org.apache.kafka.connect.data.Date": "days"}.get(schema["name"], "milliseconds")
    try:
        return _EPOCH + timedelta(**{unit: payload})
    except OverflowError:
        raise ConversionError(f"{payload} at {where} is outside the years 1-9999") from None


_LOGICAL: dict[str, Callable[[Mapping[str, Any], Any, str], Any]] = {
    "org.apache.kafka.connect.data.Decimal": _decimal,
    "org.apache.kafka.connect.data.Timestamp": _timestamp,
    "org.apache.kafka.connect.data.Date": _timestamp,
    "org.apache.kafka.connect.data.Time": _timestamp,
}


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _base64(text: str, where: str) -> bytes:
    try:
        return base64.b64decode(text, validate=True)
    except ValueError:
        raise ConversionError(f"invalid base64 bytes at {where}") from None


def _mismatch(kind: str, payload: Any, where: str) -> ConversionError:
    return ConversionError(
        f"JSON value at {where} does not match its schema type {kind}: "
        f"{type(payload).__name__} {str(payload)[:40]!r}"
    )


# Parameters each converter understands under value.converter.*; others are refused.
# SinetStreamConverter passes its parameters to Confluent's AvroData, whose options only
# shape the Connect schema it derives from the message's Avro schema; that schema is fixed
# (SINETSTREAM_SCHEMA), so they are accepted, without effect.
_AVRO_DATA_OPTIONS = (
    "schemas.cache.config",
    "enhanced.avro.schema.support",
    "connect.meta.data",
    "scrub.invalid.names",
    "connect.avro.contexts.enabled",
)


# schemas.enable is JsonConverter's, but configs set it beside every converter out of habit:
# accepted everywhere (checked to be a boolean), meaningful with JsonConverter only.
_ANY = ("schemas.enable",)


def _build_sinetstream(params: Params) -> ValueConverterPlugin:
    params.get_bool("schemas.enable", True)
    # Decryption and decompression (sinetstream_options.py); without them, the fast path.
    options = read_options(params)
    params.reject_unknown(
        "SinetStreamConverter", (*_ANY, *_AVRO_DATA_OPTIONS, *option_names(params))
    )
    of_value = sinetstream_of_value if options is None else _protected_of_value(options)
    if options is None:
        convert: Converter = sinetstream_value
    else:

        def convert(record: Record) -> Struct | None:
            return of_value(record.value)

    return ValueConverterPlugin(
        SINETSTREAM_CONVERTER, convert, _typed(SINETSTREAM_SCHEMA, convert), of_value=of_value
    )


def _protected_of_value(options: ReaderOptions) -> Callable[[bytes | None], Struct | None]:
    decrypt, decompress = options.decrypt, options.decompress
    latest = options.latest_key_version

    def of_value(value: bytes | None) -> Struct | None:
        if value is None:
            return None
        message = decode_protected(value, decrypt, decompress, latest)
        return Struct(tstamp=message.tstamp_us, msg=message.msg)

    return of_value


def _build_byte_array(params: Params) -> ValueConverterPlugin:
    params.get_bool("schemas.enable", True)
    params.reject_unknown("ByteArrayConverter", _ANY)
    return ValueConverterPlugin(
        BYTE_ARRAY_CONVERTER,
        byte_array_value,
        _typed(OPTIONAL_BYTES, byte_array_value),
        of_value=_same_bytes,
        gives_bytes=True,
    )


def _build_string(params: Params) -> ValueConverterPlugin:
    # StringConverterConfig calls it converter.encoding; "encoding" is the common shorthand.
    key = "converter.encoding" if params.has("converter.encoding") else "encoding"
    encoding = params.get_str(key, "UTF-8")
    try:
        codecs.lookup(encoding)
    except LookupError:
        raise invalid(params.full(key), encoding, "unknown character encoding") from None
    params.get_bool("schemas.enable", True)
    params.reject_unknown("StringConverter", (*_ANY, "converter.encoding", "encoding"))
    convert = string_converter(encoding)
    return ValueConverterPlugin(
        STRING_CONVERTER,
        convert,
        _typed(OPTIONAL_STRING, convert),
        of_value=string_of_value(encoding),
    )


def _build_json(params: Params) -> ValueConverterPlugin:
    schemas_enable = params.get_bool("schemas.enable", True)
    params.get_choice("decimal.format", "BASE64", ("BASE64", "NUMERIC"))  # output-only
    params.get_int("schemas.cache.size", 1000, minimum=0)  # no cache to size
    params.get_bool("replace.null.with.default", True)  # defaults apply as the schema says
    params.reject_unknown(
        "JsonConverter",
        ("schemas.enable", "decimal.format", "schemas.cache.size", "replace.null.with.default"),
    )
    return ValueConverterPlugin(
        JSON_CONVERTER,
        json_converter(schemas_enable),
        typed_json_converter(schemas_enable),
        varying_schemas=schemas_enable,
        of_value=json_of_value(schemas_enable),
        parsed_json=not schemas_enable,
    )


CONVERTERS: dict[str, Callable[[Params], ValueConverterPlugin]] = {
    SINETSTREAM_CONVERTER: _build_sinetstream,
    BYTE_ARRAY_CONVERTER: _build_byte_array,
    STRING_CONVERTER: _build_string,
    JSON_CONVERTER: _build_json,
}
CONVERTER_ALIASES = alias_table(CONVERTERS, ("Converter",))


def build_value_converter(params: Params) -> ValueConverterPlugin:
    """The ``value.converter`` of a connector config."""
    _, build = params.get_plugin(
        "value.converter", CONVERTER_ALIASES, "converter", WORKER_VALUE_CONVERTER
    )
    return build(params.sub("value.converter."))
