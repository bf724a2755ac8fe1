"""What a connector does to each record: the typed spec the engine runs.

``parse_connector_config(name, config)`` (connect/config/parser.py) turns a Kafka Connect
JSON config into a ``ConnectorSpec``: the converter and transforms (``convert``), the
partitioner, the format and the object naming, built from the pipeline's own modules, plus
where to store (``store.spec.StoreSpec``).  The engine (engine/sink_task.py) runs it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from ..store.spec import StoreSpec
from .naming import KeyLayout
from .records import Record


class ConnectorConfigError(ValueError):
    """A connector config is invalid; ``key`` names the offending key (HTTP 400)."""

    def __init__(self, key: str, message: str) -> None:
        super().__init__(message)
        self.key = key


@dataclass(frozen=True)
class RotationSpec:
    flush_size: int = 1
    rotate_interval_ms: int | None = None  # record-time span of one object (deterministic)
    rotate_schedule_interval_ms: int | None = None  # wall-clock (not deterministic)


class ValueConverter(Protocol):
    """Record -> the value the format writes (after converter and transforms), alone or,
    when the format or a schema change needs it, with its schema (schema.Typed).

    Raises sinetstream_codec.UndecodableMessage (or a subclass) when the record cannot be
    converted; the reason ends in the dead-letter sidecar.  Returns None only for a null
    value under behavior.on.null.values=ignore: the record is skipped, its offset committed.
    """

    def __call__(self, record: Record) -> Any: ...


class RecordFormat(Protocol):
    extension: str  # e.g. ".bin", ".json" (compression suffix added separately)
    needs_schema: bool  # Avro, Parquet: values come with their Connect schema
    # ByteArrayFormat: a bytes value needs neither a check nor a preparation.
    takes_bytes_as_they_are: bool

    def check(self, value: Any) -> None:
        """Raise FormatError when the value cannot be written (before transforms settle)."""
        ...

    def prepare(self, value: Any, schema: Any) -> Any:
        """What a batch keeps of one record (JSON: its serialized line); may raise."""
        ...

    def encode(self, values: list[Any]) -> bytes:
        """The bytes of one object holding ``values`` (prepared or not) in order."""
        ...


@dataclass(frozen=True)
class ConnectorSpec:
    name: str
    topics: tuple[str, ...]
    topics_regex: str | None
    tasks_max: int
    convert: ValueConverter
    # (record, converted value) -> encoded partition, e.g. "year=2022/month=04/..."
    encode_partition: Callable[[Record, Any], str]
    # (record, converted value) -> ms since epoch, for rotate.interval.ms; None if unused
    record_time: Callable[[Record, Any], int] | None
    format: RecordFormat
    compression: str  # "none" | "gzip"
    key_layout: KeyLayout
    rotation: RotationSpec
    store: StoreSpec
    tolerate_errors: bool  # errors.tolerance=all
    dead_letter_topic: str | None
    consumer_overrides: dict[str, str] = field(default_factory=dict)
    # Partitioners that put the topic in the path (TimeBased, Field...) vs not.
    path_includes_topic: bool = True
    compression_level: int = -1  # s3.compression.level for gzip; -1: zlib's default (6)
    # behavior.on.null.values: "fail" -> convert() raises on a null value; "ignore" ->
    # convert() returns None and the record is skipped (its offset still committed).
    null_values: str = "fail"
    dead_letter_replication_factor: int = 3  # when the dead-letter topic is created
    dead_letter_context_headers: bool = False  # __connect.errors.* headers on DLQ records
    # ``convert`` as a function of the record's value alone, where no schema travels with
    # the value (None otherwise); with ``by_kafka_partition``, the engine's plain path.
    convert_value: Callable[[bytes | None], Any] | None = None
    # The encoded partition depends on the Kafka partition alone (DefaultPartitioner).
    by_kafka_partition: bool = False
