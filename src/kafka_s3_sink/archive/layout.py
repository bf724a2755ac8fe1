"""What the archive's keys say: which record an object holds, and which objects are not ours.

Every object a connector writes is named ``<topic>+<partition>+<offset><extension>`` under
``<topics.dir>/<topic>/<encoded partition>/`` (the reference deployment's layout, section 4
of reference-deployment.md).  The extension tells the connector apart: the payload
connector's (``S3_OBJECT_EXTENSION``), the timestamp connector's (``TIMESTAMP_EXTENSION``),
or the lossless format's (``.jsonl``, ``.jsonl.gz``).  Anything else found under the topic's
folder is reported as a bad object and never read.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import Enum
from zoneinfo import ZoneInfo

from ..pipeline.formats.lossless import EXTENSION as LOSSLESS_EXTENSION
from ..store.base import ObjectInfo

_FILE_NAME = re.compile(
    r"(?P<topic>[A-Za-z0-9._-]+)\+(?P<partition>\d+)\+(?P<offset>\d+)(?P<ext>.*)"
)
# The default PATH_FORMAT's directories; another path format simply gives no hour.
_HOUR_PATH = re.compile(r"year=(\d{4})/month=(\d{2})/day=(\d{2})/hour=(\d{2})")


class Kind(Enum):
    PAYLOAD = "payload"
    TIMESTAMP = "timestamp"
    LOSSLESS = "lossless"


@dataclass(frozen=True, slots=True)
class ArchivedObject:
    key: str
    size: int
    kind: Kind
    partition: int
    offset: int  # the first offset of the object (its only one, for flush.size=1)
    hour: datetime | None  # start of the hour path, when the key has one
    gzip: bool = False


@dataclass(frozen=True, slots=True)
class BadObject:
    key: str
    reason: str


@dataclass(frozen=True)
class Layout:
    """How to read the keys of one topic's folder (from the service's settings)."""

    topics_dir: str
    topic: str
    payload_extension: str
    timestamp_extension: str
    timezone: str

    @property
    def prefix(self) -> str:
        return f"{self.topics_dir}/{self.topic}/"

    @functools.cached_property
    def extensions(self) -> list[tuple[str, Kind, bool]]:
        # Longest first: "-timestamp.txt" must win over a payload extension ".txt".
        table = [
            (self.timestamp_extension, Kind.TIMESTAMP, False),
            (LOSSLESS_EXTENSION + ".gz", Kind.LOSSLESS, True),
            (LOSSLESS_EXTENSION, Kind.LOSSLESS, False),
            (self.payload_extension, Kind.PAYLOAD, False),
        ]
        return sorted(table, key=lambda row: -len(row[0]))


def classify(layout: Layout, info: ObjectInfo) -> ArchivedObject | BadObject:
    """One listed object -> what it holds, or why it is not one of the archive's objects."""
    name = info.key.rsplit("/", 1)[-1]
    match = _FILE_NAME.fullmatch(name)
    if match is None:
        return BadObject(info.key, "foreign object: not named <topic>+<partition>+<offset><ext>")
    if match["topic"] != layout.topic:
        return BadObject(info.key, f"foreign object: named for topic {match['topic']!r}")
    ext = match["ext"]
    for extension, kind, gzipped in layout.extensions:
        if ext == extension:
            return ArchivedObject(
                info.key,
                info.size,
                kind,
                int(match["partition"]),
                int(match["offset"]),
                hour_of(info.key.rpartition("/")[0], layout.timezone),
                gzipped,
            )
    known = ", ".join(e for e, _, _ in layout.extensions)
    return BadObject(info.key, f"wrong extension {ext!r} (expected one of {known})")


@functools.lru_cache(maxsize=4096)  # thousands of objects share each folder
def hour_of(folder: str, timezone: str) -> datetime | None:
    """The start of the hour a key's folder names (``.../year=2022/.../hour=10``)."""
    match = _HOUR_PATH.search(folder)
    if match is None:
        return None
    year, month, day, hour = (int(g) for g in match.groups())
    try:
        return datetime(year, month, day, hour, tzinfo=ZoneInfo(timezone))
    except ValueError:  # month=13 in a hand-made key: no hour rather than a crash
        return None


def hour_overlaps(hour: datetime | None, start: datetime | None, end: datetime | None) -> bool:
    """Whether the hour path [hour, hour + 1 h) meets [start, end); an unknown hour does."""
    if hour is None:
        return True
    if start is not None and hour + timedelta(hours=1) <= start:
        return False
    return end is None or hour < end
