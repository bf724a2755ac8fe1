"""The units that travel through the pipeline: a Kafka record in, objects to store out."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(slots=True)
class Record:
    """One Kafka record, as the consumer delivered it.  Never changed once made (not
    ``frozen``: that makes its construction, once per record, several times slower)."""

    topic: str
    partition: int
    offset: int
    timestamp_ms: int | None  # None when the broker reports no timestamp
    key: bytes | None
    value: bytes | None
    headers: tuple[tuple[str, bytes | None], ...] = ()


@dataclass(frozen=True, slots=True)
class StoredObject:
    """An object to put in the store: its key and its exact bytes."""

    key: str
    body: bytes | memoryview
