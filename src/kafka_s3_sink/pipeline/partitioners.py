"""Partitioners (``partitioner.class``): the directory of a record's object under its topic.

Each is a pair of pure functions of (record, converted value):

* ``encode_partition`` -> the encoded partition, e.g. ``partition=3`` or
  ``year=2022/month=04/day=18/hour=10``;
* ``record_time`` -> the record's time in milliseconds, for ``rotate.interval.ms``; only the
  time-based partitioners have one, as only they have a timestamp extractor in Confluent's.

The time-based ones take the time from ``timestamp.extractor``: ``Record`` (the Kafka record
timestamp), ``RecordField`` (field ``timestamp.field`` of the value: a number of milliseconds,
a numeric string, or an ISO-8601 date-time; dotted names reach nested fields) or
``Wallclock`` (the time of processing: not replayable, as in Kafka Connect).
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from .naming import TimeBasedPartitioner
from .params import Params, alias_table, invalid
from .records import Record
from .sinetstream_codec import UndecodableMessage
from .timeformat import PatternError

_PACKAGE = "io.confluent.connect.storage.partitioner."
DEFAULT_PARTITIONER = _PACKAGE + "DefaultPartitioner"
TIME_BASED_PARTITIONER = _PACKAGE + "TimeBasedPartitioner"
FIELD_PARTITIONER = _PACKAGE + "FieldPartitioner"
HOURLY_PARTITIONER = _PACKAGE + "HourlyPartitioner"
DAILY_PARTITIONER = _PACKAGE + "DailyPartitioner"

EXTRACTORS = ("Record", "RecordField", "Wallclock")
_NUMERIC = re.compile(r"-?[0-9]{1,19}")
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)

TimeOf = Callable[[Record, Any], int]


class PartitionError(UndecodableMessage):
    """The record cannot be placed: no timestamp, no such field... (PartitionException)."""


@dataclass(frozen=True)
class Partitioning:
    class_name: str
    encode_partition: Callable[[Record, Any], str]
    record_time: TimeOf | None  # None: not time-based, rotate.interval.ms does not apply
    # The encoded partition depends on the Kafka partition alone (DefaultPartitioner).
    by_kafka_partition: bool = False


# --- timestamp extractors -------------------------------------------------------------------


def record_timestamp(record: Record, value: Any) -> int:
    if record.timestamp_ms is None or record.timestamp_ms < 0:
        raise PartitionError(
            "Unable to determine timestamp using timestamp.extractor Record: the record has "
            "no Kafka timestamp"
        )
    return record.timestamp_ms


def wallclock(record: Record, value: Any) -> int:
    return time.time_ns() // 1_000_000


def nested_field(value: Any, name: str) -> Any:
    """``value[a][b]`` for ``a.b``; a name that exists as it is wins over the dotted path."""
    if isinstance(value, Mapping) and name in value:
        return value[name]
    current = value
    for part in name.split("."):
        if not isinstance(current, Mapping):
            raise PartitionError(f"Value is not of Struct or Map type at field {name!r}")
        current = current.get(part)
    return current


def timestamp_of(field_value: Any, field: str) -> int:
    """Milliseconds from a field: as Confluent's RecordFieldTimestampExtractor reads it."""
    if isinstance(field_value, bool):
        raise PartitionError(f"Error extracting timestamp from record field: {field} (boolean)")
    if isinstance(field_value, int | float):
        return int(field_value)  # Number.longValue(): fractions cut
    if isinstance(field_value, datetime):
        moment = field_value if field_value.tzinfo else field_value.replace(tzinfo=UTC)
        delta = moment - _EPOCH
        return (delta.days * 86_400 + delta.seconds) * 1000 + delta.microseconds // 1000
    if isinstance(field_value, str):
        if _NUMERIC.fullmatch(field_value):
            return int(field_value)
        try:
            parsed = datetime.fromisoformat(field_value)
        except ValueError:
            raise PartitionError(
                f"Error extracting timestamp from record field: {field}: {field_value!r} is "
                "neither a number of milliseconds nor an ISO-8601 date-time"
            ) from None
        return timestamp_of(parsed, field)  # no zone: UTC, the JVM zone of Kafka Connect
    kind = "null" if field_value is None else type(field_value).__name__
    raise PartitionError(f"Error extracting timestamp from record field: {field} ({kind})")


def record_field(field: str) -> TimeOf:
    def extract(record: Record, value: Any) -> int:
        if not isinstance(value, Mapping):
            raise PartitionError("Error encoding partition: value is not of Struct or Map type")
        return timestamp_of(nested_field(value, field), field)

    return extract


# --- partitioners ---------------------------------------------------------------------------


def _default(params: Params, delim: str) -> Partitioning:
    return Partitioning(
        DEFAULT_PARTITIONER,
        lambda record, value: f"partition={record.partition}",
        None,
        by_kafka_partition=True,
    )


def _field(params: Params, delim: str) -> Partitioning:
    names = params.get_list("partition.field.name")
    if not names:
        raise invalid("partition.field.name", "", "FieldPartitioner needs at least one field name")

    def encode(record: Record, value: Any) -> str:
        if not isinstance(value, Mapping):
            raise PartitionError("Error encoding partition: value is not of Struct or Map type")
        return delim.join(_field_part(name, nested_field(value, name)) for name in names)

    return Partitioning(FIELD_PARTITIONER, encode, None)


def _field_part(name: str, field_value: Any) -> str:
    if field_value is None:
        return f"{name}=null"
    if isinstance(field_value, bool):
        return f"{name}={'true' if field_value else 'false'}"
    if isinstance(field_value, int | str):
        return f"{name}={field_value}"
    raise PartitionError(
        f"Error encoding partition: type {type(field_value).__name__} of field {name!r} is "
        "not supported as a partition key (integers, strings and booleans are)"
    )


def _time_based(params: Params, delim: str) -> Partitioning:
    return _time_partitioning(params, delim, TIME_BASED_PARTITIONER, None)


def _time_partitioning(
    params: Params, delim: str, class_name: str, fixed: tuple[str, int] | None
) -> Partitioning:
    """TimeBasedPartitioner, or one of its fixed forms (Hourly, Daily): (path, duration)."""
    if fixed is None:
        path_format = params.get_str("path.format", "")
        duration = params.get_int("partition.duration.ms", -1)
    else:
        path_format, duration = fixed
        for key, expected in (("path.format", path_format), ("partition.duration.ms", duration)):
            given = params.get_optional(key)
            if given is not None and given != str(expected):
                raise invalid(
                    key,
                    given,
                    f"{class_name.rsplit('.', 1)[-1]} fixes it to "
                    f"{expected}; remove it, or use TimeBasedPartitioner",
                )
    if not path_format.strip() or path_format == delim:
        raise invalid("path.format", path_format, "Path format cannot be empty.")
    if delim and path_format.endswith(delim):  # Confluent drops a trailing delimiter
        path_format = path_format[: -len(delim)]
    if duration <= 0:
        raise invalid(
            "partition.duration.ms",
            str(duration),
            "Partition duration needs to be a positive number of milliseconds.",
        )
    if not params.get_str("locale", "").strip():
        raise invalid("locale", "", "Locale cannot be empty.")
    zone = require_timezone(params)
    try:
        paths = TimeBasedPartitioner(path_format, zone, duration)
    except PatternError as error:
        raise invalid("path.format", path_format, str(error)) from None
    extractor = params.get_choice("timestamp.extractor", "Wallclock", EXTRACTORS)
    field = params.get_str("timestamp.field", "timestamp")
    time_of = {"Record": record_timestamp, "Wallclock": wallclock}.get(extractor)
    if time_of is None:
        time_of = record_field(field)
    return Partitioning(
        class_name,
        lambda record, value: paths.encode(time_of(record, value)),
        time_of,
    )


def require_timezone(params: Params) -> str:
    """``timezone``: required, and a zone of the IANA database (``UTC``, ``Asia/Tokyo``)."""
    zone = params.get_str("timezone", "")
    if not zone:
        raise invalid("timezone", "", "Timezone cannot be empty.")
    try:
        ZoneInfo(zone)
    except (ZoneInfoNotFoundError, ValueError):
        raise invalid("timezone", zone, "not a time zone of the IANA database") from None
    return zone


def _hourly(params: Params, delim: str) -> Partitioning:
    fixed = delim.join(("'year'=YYYY", "'month'=MM", "'day'=dd", "'hour'=HH"))
    return _time_partitioning(params, delim, HOURLY_PARTITIONER, (fixed, 3_600_000))


def _daily(params: Params, delim: str) -> Partitioning:
    fixed = delim.join(("'year'=YYYY", "'month'=MM", "'day'=dd"))
    return _time_partitioning(params, delim, DAILY_PARTITIONER, (fixed, 86_400_000))


PARTITIONERS: dict[str, Callable[[Params, str], Partitioning]] = {
    DEFAULT_PARTITIONER: _default,
    TIME_BASED_PARTITIONER: _time_based,
    FIELD_PARTITIONER: _field,
    HOURLY_PARTITIONER: _hourly,
    DAILY_PARTITIONER: _daily,
}
PARTITIONER_ALIASES = alias_table(PARTITIONERS)


def build_partitioner(params: Params, directory_delim: str) -> Partitioning:
    """``partitioner.class`` and its keys (default: DefaultPartitioner, as Confluent's)."""
    _, build = params.get_plugin(
        "partitioner.class", PARTITIONER_ALIASES, "partitioner", DEFAULT_PARTITIONER
    )
    return build(params, directory_delim)
