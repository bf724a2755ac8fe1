"""Object keys: where a record's objects go, as the Confluent S3 sink names them.

``<topics.dir>/<topic>/<encoded partition>/<topic>+<kafka partition>+<offset><extension>``
where the encoded partition is the record time, floored to the partition duration in the
configured time zone and rendered with the path format.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from .timeformat import DatePattern

_CACHE_LIMIT = 4096


@dataclass(frozen=True)
class KeyLayout:
    topics_dir: str = "topics"
    directory_delim: str = "/"
    file_delim: str = "+"
    offset_width: int = 10


class TimeBasedPartitioner:
    """Renders the time part of a key from a timestamp in milliseconds since the epoch."""

    def __init__(self, path_format: str, timezone: str, duration_ms: int) -> None:
        if duration_ms <= 0:
            raise ValueError("partition duration must be a positive number of milliseconds")
        self.pattern = DatePattern(path_format)
        self.zone = ZoneInfo(timezone)
        self.duration_ms = duration_ms
        # Time zones change offset only on minute boundaries, so with a duration that is a
        # whole number of minutes the path is a function of the minute: cache per minute.
        self._minute_cacheable = duration_ms % 60_000 == 0
        self._cache: dict[int, str] = {}

    def encode(self, timestamp_ms: int) -> str:
        if not self._minute_cacheable:
            return self._render(timestamp_ms)
        minute = timestamp_ms // 60_000
        path = self._cache.get(minute)
        if path is None:
            if len(self._cache) >= _CACHE_LIMIT:
                self._cache.clear()
            path = self._cache[minute] = self._render(timestamp_ms)
        return path

    def _render(self, timestamp_ms: int) -> str:
        local = datetime.fromtimestamp(timestamp_ms / 1000, self.zone)
        offset = local.utcoffset()
        offset_ms = int(offset.total_seconds() * 1000) if offset else 0
        local_ms = timestamp_ms + offset_ms
        floored_local_ms = local_ms - local_ms % self.duration_ms
        # The floored wall-clock time, rendered as such (no zone conversion left to do).
        wall = datetime.fromtimestamp(floored_local_ms / 1000, UTC)
        return self.pattern.format(wall)


def object_key(
    layout: KeyLayout,
    topic: str,
    encoded_partition: str,
    partition: int,
    offset: int,
    extension: str,
) -> str:
    d = layout.directory_delim
    f = layout.file_delim
    return (
        f"{layout.topics_dir}{d}{topic}{d}{encoded_partition}{d}"
        f"{topic}{f}{partition}{f}{offset:0{layout.offset_width}d}{extension}"
    )
