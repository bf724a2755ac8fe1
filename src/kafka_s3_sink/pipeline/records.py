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
    # librdkafka's timestamp type: 1 CreateTime, 2 LogAppendTime, 0 not known.  Only the
    # lossless format writes it; everything else goes by timestamp_ms alone.
    timestamp_type: int = 0


@dataclass(frozen=True, slots=True)
class StoredObject:
    """An object to put in the store: its key and its exact bytes."""

    key: str
    body: bytes | memoryview
