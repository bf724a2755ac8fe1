"""Single message transforms (``transforms=a,b`` + ``transforms.<alias>.*``), value side only.

Each transform is a pure function value -> value, applied in the order ``transforms`` lists
them, with a companion schema -> schema for the formats that write through schemas (Avro,
Parquet): in Kafka Connect a transform's output schema depends on its input schema only.
A value a transform cannot handle raises :class:`TransformError`, Kafka Connect's
DataException, with the transform's alias in the reason.  Null values pass through every
transform untouched, as in Kafka Connect.

Times are java.util.Date in Kafka Connect, so milliseconds: TimestampConverter works in whole
milliseconds, cutting finer units toward zero as Java's integer division does.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from typing import Any, NamedTuple

from .converters import Struct
from .params import Params, invalid
from .schema import (
    OPTIONAL_BYTES,
    Schema,
    date_schema,
    describe,
    time_schema,
    timestamp_schema,
    with_field,
)
from .sinetstream_codec import UndecodableMessage
from .timeformat import DatePattern, PatternError

Transform = Callable[[Any], Any]
# The schema of a transform's output, from the schema of its input alone (None: schemaless).
SchemaTransform = Callable[[Schema | None], Schema | None]


class Step(NamedTuple):
    """One transform: on values, and on their schemas."""

    apply: Transform
    schema_of: SchemaTransform

EXTRACT_FIELD = "org.apache.kafka.connect.transforms.ExtractField$Value"
TIMESTAMP_CONVERTER = "org.apache.kafka.connect.transforms.TimestampConverter$Value"
MICROSECOND_TIMESTAMP_CONVERTER = (
    "jp.ad.sinet.sinetstream.connect.transforms.MicrosecondTimestampConverter$Value"
)
BYTE_ARRAY_CAST = "jp.ad.sinet.sinetstream.connect.transforms.ByteArrayCast$Value"

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_UNIX_PRECISIONS = {"seconds": 1000, "milliseconds": 1, "microseconds": 1000, "nanoseconds": 10**6}
_TARGET_TYPES = ("string", "unix", "Date", "Time", "Timestamp")
# Keys every transform has: its class, and the predicate (refused when set).
_COMMON = ("type", "predicate", "negate")


class TransformError(UndecodableMessage):
    """A transform cannot handle the value (Kafka Connect's DataException)."""


def _java_div(value: int, divisor: int) -> int:
    """Integer division truncating toward zero, as Java's ``/`` on longs."""
    quotient = abs(value) // divisor
    return -quotient if value < 0 else quotient


# --- ExtractField$Value ---------------------------------------------------------------------


def extract_field(alias: str, field: str) -> Transform:
    def apply(value: Any) -> Any:
        if value is None:
            return None
        if isinstance(value, Struct):
            if field not in value:
                raise TransformError(f"transform {alias}: {field} is not a valid field name")
            return value[field]
        if isinstance(value, Mapping):
            return value.get(field)  # a schemaless map: a missing key is null
        raise TransformError(
            f"transform {alias}: Only Map objects supported in absence of schema for "
            f"[field extraction], found: {_type_name(value)}"
        )

    return apply


def extract_field_schema(alias: str, field: str) -> SchemaTransform:
    def schema_of(schema: Schema | None) -> Schema | None:
        if schema is None:
            return None
        return _field_schema(alias, schema, field, "field extraction")

    return schema_of


def _field_schema(alias: str, schema: Schema, field: str, purpose: str) -> Schema:
    """The schema of ``field`` in a struct schema, or Kafka's DataException."""
    if schema.type != "struct":
        raise TransformError(
            f"transform {alias}: Only Struct objects supported for [{purpose}], "
            f"found: {describe(schema)}"
        )
    found = schema.field(field)
    if found is None:
        raise TransformError(f"transform {alias}: {field} is not a valid field name")
    return found.schema


# --- TimestampConverter$Value ---------------------------------------------------------------


class TimestampConversion:
    """Kafka's TimestampConverter: any of unix/string/Date/Time/Timestamp -> target.type."""

    def __init__(
        self, alias: str, target: str, pattern: DatePattern | None, unix_scale: tuple[str, int]
    ) -> None:
        self.alias = alias
        self.target = target
        self.pattern = pattern
        self.precision, self.scale = unix_scale

    def to_millis(self, value: Any) -> int:
        """``value`` as milliseconds, its type inferred as Kafka does without a schema."""
        if isinstance(value, datetime):
            return _millis_of(value)
        if isinstance(value, int) and not isinstance(value, bool):
            if self.precision == "seconds":
                return value * 1000
            return _java_div(value, self.scale)
        if isinstance(value, str):
            if self.pattern is None:
                raise TransformError(
                    f"transform {self.alias}: a string timestamp needs the format parameter"
                )
            try:
                return _millis_of(self.pattern.parse(value))
            except ValueError as error:
                raise TransformError(
                    f"transform {self.alias}: Could not parse timestamp: {error}"
                ) from None
        raise TransformError(
            f"transform {self.alias}: TimestampConverter does not support "
            f"{_type_name(value)} objects as timestamps"
        )

    def from_millis(self, millis: int) -> Any:
        if self.target == "unix":
            if self.precision == "seconds":
                return _java_div(millis, 1000)
            return millis * self.scale
        try:
            moment = _EPOCH + timedelta(milliseconds=millis)
        except OverflowError:
            raise TransformError(
                f"transform {self.alias}: timestamp {millis} ms is outside the years 1-9999"
            ) from None
        if self.target == "string":
            assert self.pattern is not None  # checked when the config was read
            return self.pattern.format(moment)
        if self.target == "Date":
            return moment.replace(hour=0, minute=0, second=0, microsecond=0)
        if self.target == "Time":
            return _EPOCH.replace(
                hour=moment.hour,
                minute=moment.minute,
                second=moment.second,
                microsecond=moment.microsecond,
            )
        return moment  # Timestamp

    def convert(self, value: Any) -> Any:
        return None if value is None else self.from_millis(self.to_millis(value))

    def target_schema(self, optional: bool) -> Schema:
        if self.target == "string":
            return Schema("string", optional)
        if self.target == "unix":
            return Schema("int64", optional)
        if self.target == "Date":
            return date_schema(optional)
        if self.target == "Time":
            return time_schema(optional)
        return timestamp_schema(optional)


def _millis_of(moment: datetime) -> int:
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    delta = moment - _EPOCH
    return (delta.days * 86_400 + delta.seconds) * 1000 + delta.microseconds // 1000


def on_field(alias: str, field: str, convert: Transform) -> Transform:
    """Apply ``convert`` to the whole value (field "") or to one field of a map/struct."""
    if not field:
        return lambda value: None if value is None else convert(value)

    def apply(value: Any) -> Any:
        if value is None:
            return None
        if not isinstance(value, Mapping):
            raise TransformError(
                f"transform {alias}: Only Map objects supported in absence of schema for "
                f"[converting timestamp formats], found: {_type_name(value)}"
            )
        if isinstance(value, Struct) and field not in value:
            raise TransformError(f"transform {alias}: {field} is not a valid field name")
        out = type(value)(value)
        out[field] = convert(value.get(field))
        return out

    return apply


def on_field_schema(
    alias: str, field: str, convert: Callable[[Schema], Schema]
) -> SchemaTransform:
    """The schema side of :func:`on_field`: the whole schema, or one field's of a struct."""

    def schema_of(schema: Schema | None) -> Schema | None:
        if schema is None:
            return None
        if not field:
            return convert(schema)
        return with_field(schema, field, convert(_field_schema(alias, schema, field, "updating")))

    return schema_of


def _timestamp_conversion(alias: str, params: Params) -> tuple[str, TimestampConversion]:
    field = params.get_str("field", "")
    params.get_str("target.type")  # required: no default
    target = params.get_choice("target.type", "", _TARGET_TYPES)
    pattern_text = params.get_str("format", "")
    pattern = None
    if pattern_text:
        try:
            pattern = DatePattern(pattern_text, java=True)
        except PatternError as error:
            raise invalid(params.full("format"), pattern_text, str(error)) from None
    elif target == "string":
        raise invalid(
            params.full("format"),
            "",
            "TimestampConverter requires format option to be specified when using "
            "string timestamps",
        )
    precision = params.get_choice("unix.precision", "milliseconds", _UNIX_PRECISIONS)
    # Without schemas there is no field default to put in place of a null.
    params.get_bool("replace.null.with.default", True)
    params.reject_unknown(
        f"transform {alias}",
        (*_COMMON, "field", "target.type", "format", "unix.precision", "replace.null.with.default"),
    )
    return field, TimestampConversion(
        alias, target, pattern, (precision, _UNIX_PRECISIONS[precision])
    )


def _build_timestamp_converter(alias: str, params: Params) -> Step:
    field, conversion = _timestamp_conversion(alias, params)
    return Step(
        on_field(alias, field, conversion.convert),
        on_field_schema(alias, field, lambda schema: conversion.target_schema(schema.optional)),
    )


def _build_microsecond_timestamp_converter(alias: str, params: Params) -> Step:
    """SINETStream's: the field holds microseconds; cut to milliseconds, then TimestampConverter."""
    field, conversion = _timestamp_conversion(alias, params)

    def convert(value: Any) -> Any:
        if not isinstance(value, int) or isinstance(value, bool):
            raise TransformError(
                f"transform {alias}: Expected Unix timestamp to be a Long, but found "
                f"{_type_name(value)}"
            )
        return conversion.convert(_java_div(value, 1000))

    return Step(
        on_field(alias, field, convert),
        on_field_schema(alias, field, lambda schema: conversion.target_schema(schema.optional)),
    )


# --- ByteArrayCast$Value (SINETStream) -------------------------------------------------------


def cast_to_bytes(alias: str, value: Any) -> Any:
    """bytes stay, text becomes UTF-8, numbers and booleans their Java text."""
    if value is None or isinstance(value, bytes | bytearray | memoryview):
        return value
    if isinstance(value, bool):
        return b"true" if value else b"false"
    if isinstance(value, str | int | float):
        return str(value).encode()
    # Java would write the object's toString() (e.g. "{a=1}"): nobody wants that archived.
    raise TransformError(f"transform {alias}: cannot cast a {_type_name(value)} to bytes")


def _build_byte_array_cast(alias: str, params: Params) -> Step:
    field = params.get_str("field", "")
    params.reject_unknown(f"transform {alias}", (*_COMMON, "field"))
    return Step(
        on_field(alias, field, lambda value: cast_to_bytes(alias, value)),
        on_field_schema(alias, field, lambda schema: OPTIONAL_BYTES.as_optional(schema.optional)),
    )


def _build_extract_field(alias: str, params: Params) -> Step:
    field = params.get_str("field")
    # Kafka 3.8 added dotted paths under field.syntax.version=V2; V1 reads the name as is.
    params.get_choice("field.syntax.version", "V1", ("V1",))
    params.get_bool("replace.null.with.default", True)
    params.reject_unknown(
        f"transform {alias}",
        (*_COMMON, "field", "field.syntax.version", "replace.null.with.default"),
    )
    return Step(extract_field(alias, field), extract_field_schema(alias, field))


TRANSFORMS: dict[str, Callable[[str, Params], Step]] = {
    EXTRACT_FIELD: _build_extract_field,
    TIMESTAMP_CONVERTER: _build_timestamp_converter,
    MICROSECOND_TIMESTAMP_CONVERTER: _build_microsecond_timestamp_converter,
    BYTE_ARRAY_CAST: _build_byte_array_cast,
}
# Kafka Connect wants the full class name; "ExtractField$Value" is accepted too.
TRANSFORM_ALIASES: dict[str, tuple[str, Callable[[str, Params], Step]]] = {
    **{name: (name, build) for name, build in TRANSFORMS.items()},
    **{name.rsplit(".", 1)[-1]: (name, build) for name, build in TRANSFORMS.items()},
}


def build_transforms(params: Params) -> list[tuple[str, str, Step]]:
    """The chain of ``transforms``: (alias, class name, step) in order."""
    chain: list[tuple[str, str, Step]] = []
    aliases = params.get_list("transforms")
    if len(set(aliases)) != len(aliases):
        raise invalid("transforms", ",".join(aliases), "Duplicate alias provided.")
    for alias in aliases:
        sub = params.sub(f"transforms.{alias}.")
        for key in ("predicate", "negate"):
            if sub.get_optional(key) is not None:
                raise invalid(
                    sub.full(key), sub.get_str(key), "predicates are not supported by kafka-s3-sink"
                )
        class_name, build = sub.get_plugin("type", TRANSFORM_ALIASES, "transform")
        chain.append((alias, class_name, build(alias, sub)))
    # Parameters of a transform that `transforms` does not list: a typo in the list.
    for key in params.names():
        if key.startswith("transforms.") and key.split(".")[1] not in aliases:
            raise invalid(
                key,
                params.config[key],
                f"transform alias {key.split('.')[1]!r} is not listed in transforms",
            )
    return chain


def apply_chain(chain: list[tuple[str, str, Step]]) -> Transform:
    transforms = tuple(step.apply for _, _, step in chain)

    def apply(value: Any) -> Any:
        for transform in transforms:
            value = transform(value)
        return value

    return apply


def schema_chain(chain: list[tuple[str, str, Step]]) -> SchemaTransform:
    """The output schema of the chain for an input schema; computed once per schema."""
    steps = tuple(step.schema_of for _, _, step in chain)

    @lru_cache(maxsize=256)
    def schema_of(schema: Schema | None) -> Schema | None:
        for step in steps:
            schema = step(schema)
        return schema

    return schema_of


def _type_name(value: Any) -> str:
    return {
        dict: "map",
        Struct: "struct",
        list: "array",
        str: "string",
        int: "long",
        float: "double",
        bool: "boolean",
    }.get(type(value), type(value).__name__)
