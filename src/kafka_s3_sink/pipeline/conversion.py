"""One record to the value its object holds: converter, transforms, null policy, format check.

This is ``ConnectorSpec.convert``, composed once per connector from the plugins its config
names, so that the per-record path is a few direct calls.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .converters import ValueConverterPlugin
from .records import Record
from .schema import Typed
from .sinetstream_codec import UndecodableMessage
from .transforms import Step, apply_chain, schema_chain


class NullValueError(UndecodableMessage):
    """A null value with behavior.on.null.values=fail (the default, as in Confluent's sink)."""


def compose_conversion(
    converter: ValueConverterPlugin,
    chain: list[tuple[str, str, Step]],
    null_values: str,
    record_format: Any,
) -> Callable[[Record], Any]:
    """Record -> value to write: converter, transforms, null policy, the format's check.

    The value comes with its schema (:class:`Typed`) when the format writes through schemas
    or when schemas may change from record to record (a change closes the open objects, as
    Confluent's schema.compatibility=NONE does); otherwise it travels alone, the fast path.
    """
    if getattr(record_format, "whole_record", False):
        # The lossless format keeps the record as it came, tombstones included.
        return _whole_record
    check = record_format.check
    transform = apply_chain(chain)
    on_null = _null_policy(null_values)

    plain = compose_value_conversion(converter, chain, null_values, record_format)
    if plain is not None:
        return lambda record: plain(record.value)
    if not (record_format.needs_schema or converter.varying_schemas):
        convert_value = converter.convert

        def convert(record: Record) -> Any:
            value = transform(convert_value(record))
            if value is None:
                return on_null()
            check(value)
            return value

        return convert

    convert_typed = converter.convert_typed
    transform_schema = schema_chain(chain)

    def convert_with_schema(record: Record) -> Any:
        typed = convert_typed(record)
        value = transform(typed.value)
        if value is None:
            return on_null()
        check(value)
        return Typed(transform_schema(typed.schema), value)

    return convert_with_schema


def _whole_record(record: Record) -> Record:
    return record


def compose_value_conversion(
    converter: ValueConverterPlugin,
    chain: list[tuple[str, str, Step]],
    null_values: str,
    record_format: Any,
) -> Callable[[bytes | None], Any] | None:
    """The record's value bytes -> value to write, when nothing but the value is needed
    and no schema travels with it (the fast path); None otherwise."""
    if (
        getattr(record_format, "whole_record", False)  # the lossless format: the record
        or record_format.needs_schema
        or converter.varying_schemas
        or converter.of_value is None
    ):
        return None
    convert_value = converter.of_value
    check = record_format.check
    on_null = _null_policy(null_values)
    if not chain and converter.gives_bytes and record_format.takes_bytes_as_they_are:

        def bytes_as_they_are(raw: bytes | None) -> Any:
            # ByteArrayConverter into ByteArrayFormat: nothing to convert or to check.
            return on_null() if raw is None else raw

        return bytes_as_they_are
    if not chain:

        def convert_bare(raw: bytes | None) -> Any:
            value = convert_value(raw)
            if value is None:
                return on_null()
            check(value)
            return value

        return convert_bare
    transform = apply_chain(chain)

    def convert(raw: bytes | None) -> Any:
        value = transform(convert_value(raw))
        if value is None:
            return on_null()
        check(value)
        return value

    return convert


def _null_policy(null_values: str) -> Callable[[], None]:
    """What a null value (after the transforms) does: fail, or nothing (skipped)."""
    fail_on_null = null_values == "fail"

    def on_null() -> None:
        if fail_on_null:
            raise NullValueError(
                "null value (a tombstone, or null after the transforms): Null valued "
                "records are not writeable with behavior.on.null.values=fail; set it to "
                "ignore to skip them"
            )

    return on_null
