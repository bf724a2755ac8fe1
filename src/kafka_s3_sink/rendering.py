"""What one record becomes: the objects of the reference deployment's two connectors.

Pure functions of the record (no I/O, no clock), so a replay after a crash rewrites the
same keys with the same bytes.

* payload (``s3-sink-data``): ``msg`` + separator, extension S3_OBJECT_EXTENSION;
* timestamp (``s3-sink-timestamp``): SINETStream ``tstamp`` cut to milliseconds, formatted
  in UTC, + separator, extension ``-timestamp.txt``.
Both are keyed by the Kafka record timestamp, floored to the hour in the configured zone.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Protocol

from .naming import KeyLayout, TimeBasedPartitioner, object_key
from .records import Record, StoredObject
from .sinetstream_codec import UndecodableMessage, decode
from .timeformat import DatePattern

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


class RecordRenderer(Protocol):
    def render(self, record: Record) -> StoredObject:
        """The record's object; raise UndecodableMessage when the value cannot be read."""
        ...


@dataclass
class KeyMaker:
    layout: KeyLayout
    partitioner: TimeBasedPartitioner
    extension: str

    def key_for(self, record: Record) -> str:
        if record.timestamp_ms is None or record.timestamp_ms < 0:
            raise UndecodableMessage("record has no Kafka timestamp to place it in time")
        return object_key(
            self.layout,
            record.topic,
            self.partitioner.encode(record.timestamp_ms),
            record.partition,
            record.offset,
            self.extension,
        )


@dataclass
class PayloadRenderer:
    keys: KeyMaker
    separator: bytes

    def render(self, record: Record) -> StoredObject:
        message = decode(record.value)
        key = self.keys.key_for(record)
        body = bytes(message.msg) + self.separator if self.separator else message.msg
        return StoredObject(key, body)


@dataclass
class TimestampRenderer:
    keys: KeyMaker
    separator: bytes
    pattern: DatePattern

    def render(self, record: Record) -> StoredObject:
        message = decode(record.value)
        key = self.keys.key_for(record)
        return StoredObject(key, self.format_tstamp(message.tstamp_us).encode() + self.separator)

    def format_tstamp(self, tstamp_us: int) -> str:
        # Microseconds cut to milliseconds toward zero, as Java's integer division does.
        millis = -(-tstamp_us // 1000) if tstamp_us < 0 else tstamp_us // 1000
        try:
            moment = _EPOCH + timedelta(milliseconds=millis)
        except OverflowError:
            raise UndecodableMessage(f"tstamp {tstamp_us} is outside the years 1-9999") from None
        return self.pattern.format(moment)
