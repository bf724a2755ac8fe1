"""The typed model of a sink connector, shared by the config parser, the engine and the API.

``parse_connector_config(name, config)`` (connect/config.py) turns a Kafka Connect JSON config
into a ``ConnectorSpec``; the engine runs a ``ConnectorSpec``; the REST API shows connectors
through the ``ConnectorRegistry`` protocol.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any, Protocol

from ..naming import KeyLayout
from ..records import Record


class ConnectorConfigError(ValueError):
    """A connector config is invalid; ``key`` names the offending key (HTTP 400)."""

    def __init__(self, key: str, message: str) -> None:
        super().__init__(message)
        self.key = key


@dataclass(frozen=True)
class StoreSpec:
    bucket: str
    region: str = "us-east-1"
    endpoint_url: str | None = None  # None: AWS
    access_key_id: str = ""
    secret_access_key: str = ""
    local_root: Path | None = None  # set: a local directory store (<root>/<bucket>/<key>)
    create_bucket: bool = False


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


class ConnectorState(StrEnum):
    RUNNING = "RUNNING"
    PAUSED = "PAUSED"
    STOPPED = "STOPPED"
    FAILED = "FAILED"
    UNASSIGNED = "UNASSIGNED"


@dataclass
class TaskStatus:
    id: int
    state: ConnectorState
    worker_id: str
    trace: str | None = None


@dataclass
class ConnectorStatus:
    name: str
    state: ConnectorState
    worker_id: str
    tasks: list[TaskStatus]
    trace: str | None = None
    type: str = "sink"


class NotFound(LookupError):
    """No such connector (HTTP 404)."""


class NotStopped(ValueError):
    """Offsets change only while the connector is STOPPED (HTTP 400)."""


class Conflict(RuntimeError):
    """A connector of that name exists already, or a rebalance is under way (HTTP 409)."""


class ConnectorRegistry(Protocol):
    """What the REST API needs from the worker. Configs are the raw string maps."""

    worker_id: str

    def names(self) -> list[str]: ...
    def get_config(self, name: str) -> dict[str, str]: ...  # NotFound
    def status(self, name: str) -> ConnectorStatus: ...  # NotFound
    def topics(self, name: str) -> list[str]: ...  # NotFound
    def offsets(self, name: str) -> dict[tuple[str, int], int]: ...  # committed, NotFound
    # Both: NotFound, NotStopped, Conflict (group busy), group_offsets.OffsetChangeError.
    async def alter_offsets(
        self, name: str, offsets: dict[tuple[str, int], int | None]
    ) -> None: ...
    async def reset_offsets(self, name: str) -> None: ...
    async def create(self, name: str, config: dict[str, str]) -> None: ...  # Conflict, CCE
    async def put_config(self, name: str, config: dict[str, str]) -> bool: ...  # True: created
    async def delete(self, name: str) -> None: ...  # NotFound
    async def pause(self, name: str) -> None: ...
    async def resume(self, name: str) -> None: ...
    async def stop(self, name: str) -> None: ...
    async def restart(self, name: str, include_tasks: bool, only_failed: bool) -> None: ...
    async def restart_task(self, name: str, task_id: int) -> None: ...  # NotFound
