"""Reading the archive's key layout: which objects belong to one record, and which folders
are hours.

Objects are named ``<topic>+<partition>+<offset><extension>`` (Kafka topic names hold no
"+"), so the payload and the timestamp object of one record share the stem up to the
offset.  Time folders are the default PATH_FORMAT's ``year=YYYY/month=MM/day=dd/hour=HH``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date

from ...store.paging import Listed

_STEM = re.compile(r"^(?P<stem>[^/+]+\+(?P<partition>\d+)\+(?P<offset>\d+))(?P<ext>[^/]*)$")
_TIME_PART = re.compile(r"^(year|month|day|hour)=(\d+)$")


@dataclass
class RecordObjects:
    """The objects of one record (or of one batch starting at that offset)."""

    stem: str  # the key without its extension
    partition: int | None
    offset: int | None
    payload: Listed | None = None
    timestamp: Listed | None = None
    others: list[Listed] = field(default_factory=list)

    def as_json(self) -> dict:
        return {
            "stem": self.stem,
            "partition": self.partition,
            "offset": self.offset,
            "payload": _listed(self.payload),
            "timestamp": _listed(self.timestamp),
            "others": [_listed(o) for o in self.others],
        }


def _listed(listed: Listed | None) -> dict | None:
    if listed is None:
        return None
    return {"key": listed.key, "size": listed.size, "modified": listed.modified}


def group_records(objects: list[Listed], timestamp_extension: str) -> list[RecordObjects]:
    """Pair payload and timestamp objects by record, in (partition, offset) order."""
    records: dict[str, RecordObjects] = {}
    for listed in objects:
        folder, _, name = listed.key.rpartition("/")
        match = _STEM.match(name)
        if match is None:
            stem = listed.key
            entry = records.setdefault(stem, RecordObjects(stem, None, None))
            entry.others.append(listed)
            continue
        stem = f"{folder}/{match['stem']}" if folder else match["stem"]
        entry = records.setdefault(
            stem, RecordObjects(stem, int(match["partition"]), int(match["offset"]))
        )
        if match["ext"] == timestamp_extension and entry.timestamp is None:
            entry.timestamp = listed
        elif entry.payload is None:
            entry.payload = listed
        else:
            entry.others.append(listed)
    return sorted(
        records.values(), key=lambda r: (r.partition is None, r.partition or 0, r.offset or 0)
    )


def time_part(folder: str) -> tuple[str, int] | None:
    """("hour", 10) for ".../hour=10/"; None for a folder that is not a time part."""
    match = _TIME_PART.match(folder.rstrip("/").rpartition("/")[2])
    return (match[1], int(match[2])) if match else None


def is_leaf(prefix: str) -> bool:
    """An hour folder holds objects only: listed whole, never by sub-folder."""
    part = time_part(prefix)
    return part is not None and part[0] == "hour"


def day_in_range(year: int, month: int, day: int, first: date, last: date) -> bool:
    try:
        return first <= date(year, month, day) <= last
    except ValueError:
        return False
