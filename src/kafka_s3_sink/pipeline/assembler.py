"""Grouping records into objects, as the Confluent S3 sink's topic-partition writer does.

Per Kafka partition, records are gathered by encoded partition (the time or field part of
the key) until a rotation: ``flush.size`` records in the partition, ``rotate.interval.ms``
of record time (or a change of encoded partition while it is set), or the wall-clock
``rotate.schedule.interval.ms``.  A rotation closes every open group of the partition; each
becomes one object keyed by its first offset.  With ``flush.size=1`` every record is an
object of its own.

Everything but the wall-clock schedule depends only on the records, so replaying from the
last committed offset rebuilds the same objects: exactly once for deterministic settings.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .formats.base import object_extension
from .naming import check_key, check_key_part, object_key
from .records import Record
from .schema import Schema, Typed
from .spec import ConnectorSpec

_LARGEST_OFFSET = 2**63 - 1
_USABLE_PATHS_LIMIT = 4096


@dataclass
class Batch:
    """One object to write: its key, the values in it, and the offsets it covers."""

    topic: str
    partition: int
    encoded_partition: str
    first_offset: int
    values: list[Any] = field(default_factory=list)
    offsets: list[int] = field(default_factory=list)


@dataclass
class _PartitionState:
    groups: dict[str, Batch] = field(default_factory=dict)
    count: int = 0
    base_record_time: int | None = None
    current_encoded: str | None = None
    next_scheduled_ms: int | None = None
    schema: Schema | None = None
    checked_encoded: str | None = None  # the last encoded partition whose path was checked


class ObjectAssembler:
    def __init__(self, spec: ConnectorSpec) -> None:
        self.spec = spec
        self._partitions: dict[tuple[str, int], _PartitionState] = {}
        self._extension = object_extension(spec.format.extension, spec.compression)
        # (topic, partition, encoded partition) whose keys are known to be usable.
        self._usable_paths: set[tuple[str, int, str]] = set()
        # Bound once: add() runs for every record.
        self._encode_partition = spec.encode_partition
        self._prepare = spec.format.prepare
        self._flush_size = spec.rotation.flush_size
        self._record_time = spec.record_time if spec.rotation.rotate_interval_ms else None
        self._schedule_ms = spec.rotation.rotate_schedule_interval_ms
        self._bytes_as_they_are = bool(getattr(spec.format, "takes_bytes_as_they_are", False))
        # Objects that depend only on each record's value, its Kafka partition and the
        # count: the engine may then hand values in without a Record (add_plain).
        self.plain = (
            spec.convert_value is not None
            and spec.by_kafka_partition
            and not spec.rotation.rotate_interval_ms
            and not self._schedule_ms
        )

    def add_plain(self, topic: str, partition: int, offset: int, value: Any) -> list[Batch]:
        """``add`` for a plain connector (see ``plain``): the same objects, less work."""
        prepared = value if self._bytes_as_they_are else self._prepare(value, None)
        state = self._partitions.get((topic, partition))
        if state is None or state.count == 0:
            return self.add(Record(topic, partition, offset, None, None, None), value, 0)
        batch = state.groups[state.current_encoded]  # type: ignore[index]
        batch.values.append(prepared)
        batch.offsets.append(offset)
        state.count += 1
        if state.count >= self._flush_size:
            return self._close(state)
        return []

    def add(self, record: Record, value: Any, now_ms: int) -> list[Batch]:
        """Take one converted record; return the batches this record completes.

        Everything that can fail (partitioning, the record's time) is computed before any
        state changes, so a record that fails here leaves no trace in the open batches.
        """
        schema = None
        if isinstance(value, Typed):
            schema, value = value
        encoded = self._encode_partition(record, value)
        where = (record.topic, record.partition)
        state = self._partitions.get(where)
        # The path check runs once per encoded partition while it stays the same.
        if (state is None or encoded != state.checked_encoded) and (
            record.topic,
            record.partition,
            encoded,
        ) not in self._usable_paths:
            self._check_path(record, encoded)
        prepared = self._prepare(value, schema)
        record_time = None if self._record_time is None else self._record_time(record, value)
        if state is None:
            state = self._partitions[where] = _PartitionState()
        state.checked_encoded = encoded
        closed: list[Batch] = []
        if state.count and (
            (schema is not state.schema and schema != state.schema)
            or self._rotate_on_time(state, encoded, record_time, now_ms)
        ):
            closed = self._close(state)
        if state.count == 0:
            state.base_record_time = record_time
            if self._schedule_ms:
                interval = self._schedule_ms
                state.next_scheduled_ms = (now_ms // interval + 1) * interval
        batch = state.groups.get(encoded)
        if batch is None:
            batch = state.groups[encoded] = Batch(
                record.topic, record.partition, encoded, record.offset
            )
        batch.values.append(prepared)
        batch.offsets.append(record.offset)
        state.count += 1
        state.current_encoded = encoded
        state.schema = schema
        if state.count >= self._flush_size:
            closed.extend(self._close(state))
        return closed

    def due(self, now_ms: int) -> list[Batch]:
        """Batches whose wall-clock rotation time has come (rotate.schedule.interval.ms)."""
        closed: list[Batch] = []
        for state in self._partitions.values():
            scheduled = state.next_scheduled_ms
            if state.count and scheduled is not None and now_ms >= scheduled:
                closed.extend(self._close(state))
        return closed

    def discard(self, topic: str, partition: int) -> None:
        """Forget a partition's open groups (revoked: the records will be read again)."""
        self._partitions.pop((topic, partition), None)

    def key_of(self, batch: Batch) -> str:
        return object_key(
            self.spec.key_layout,
            batch.topic,
            batch.encoded_partition,
            batch.partition,
            batch.first_offset,
            self._extension,
        )

    def _check_path(self, record: Record, encoded: str) -> None:
        """InvalidObjectKey if a key under ``encoded`` could not be stored (a field value
        with '..' or a lone surrogate, an over-long path), checked with the longest offset."""
        check_key_part(encoded, "encoded partition")
        longest = object_key(
            self.spec.key_layout,
            record.topic,
            encoded,
            record.partition,
            _LARGEST_OFFSET,
            self._extension,
        )
        check_key(longest)
        if len(self._usable_paths) >= _USABLE_PATHS_LIMIT:
            self._usable_paths.clear()
        self._usable_paths.add((record.topic, record.partition, encoded))

    def _rotate_on_time(
        self, state: _PartitionState, encoded: str, record_time: int | None, now_ms: int
    ) -> bool:
        if record_time is None and state.next_scheduled_ms is None:
            return False  # neither rotation is set: the common case
        if record_time is not None:
            # With rotate.interval.ms, a new encoded partition also closes the batch.
            if encoded != state.current_encoded:
                return True
            base = state.base_record_time
            if base is not None and record_time - base >= self.spec.rotation.rotate_interval_ms:
                return True
        return state.next_scheduled_ms is not None and now_ms >= state.next_scheduled_ms

    @staticmethod
    def _close(state: _PartitionState) -> list[Batch]:
        closed = list(state.groups.values())
        state.groups.clear()
        state.count = 0
        state.base_record_time = None
        state.next_scheduled_ms = None
        return closed
