"""Dead letters: records that cannot be decoded are kept raw, never dropped.

For a record at ``<topic>/<partition>/<offset>`` two objects are written under the
dead-letter prefix::

    <prefix>/<topic>/<topic>+<partition>+<offset>.bin          the value, byte for byte
    <prefix>/<topic>/<topic>+<partition>+<offset>.reason.json  why, and the record's metadata

Both are pure functions of the record, so every connector that meets the same record
writes the same two objects, and a replay rewrites them identically.
"""

from __future__ import annotations

import base64
import json

from ..pipeline.records import Record, StoredObject


def dead_letter_objects(prefix: str, record: Record, reason: str) -> list[StoredObject]:
    stem = f"{prefix}/{record.topic}/{record.topic}+{record.partition}+{record.offset:010d}"
    details = {
        "reason": reason,
        "topic": record.topic,
        "partition": record.partition,
        "offset": record.offset,
        "timestamp_ms": record.timestamp_ms,
        "value_is_null": record.value is None,
        "value_length": 0 if record.value is None else len(record.value),
        "key_base64": None if record.key is None else base64.b64encode(record.key).decode(),
        "headers": [
            [name, None if value is None else base64.b64encode(value).decode()]
            for name, value in record.headers
        ],
    }
    return [
        StoredObject(f"{stem}.bin", record.value or b""),
        StoredObject(f"{stem}.reason.json", (json.dumps(details, indent=2) + "\n").encode()),
    ]


class DeadLetterLog:
    """Remembers recent dead letters so that connectors sharing a topic log each once."""

    def __init__(self, remember: int = 10_000) -> None:
        self._seen: dict[tuple[str, int, int], None] = {}
        self._remember = remember

    def first_sighting(self, record: Record) -> bool:
        key = (record.topic, record.partition, record.offset)
        if key in self._seen:
            return False
        if len(self._seen) >= self._remember:
            self._seen.pop(next(iter(self._seen)))  # forget the oldest
        self._seen[key] = None
        return True
