"""Object keys: where a record's objects go, as the Confluent S3 sink names them.

``<topics.dir>/<topic>/<encoded partition>/<topic>+<kafka partition>+<offset><extension>``
where the encoded partition is the record time, floored to the partition duration in the
configured time zone and rendered with the path format.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from .sinetstream_codec import UndecodableMessage
from .timeformat import DatePattern

_CACHE_LIMIT = 4096
# S3's limit on a key, in UTF-8 bytes.
MAX_KEY_BYTES = 1024
# Years a datetime (and so a time path or a formatted time) can hold.
_MIN_TIMESTAMP_MS = -62_135_596_800_000 + 86_400_000  # 0001-01-02, clear of zone offsets
_MAX_TIMESTAMP_MS = 253_402_300_799_999 - 86_400_000  # 9999-12-30


class InvalidObjectKey(UndecodableMessage):
    """A record would be stored under a key no store can take (or one that escapes its
    directory): it becomes a dead letter instead of blocking its partition."""


def check_key_part(part: str, what: str) -> None:
    """Raise InvalidObjectKey unless ``part`` can stand in a key: UTF-8, no control
    characters, no empty, ``.`` or ``..`` segment (a path that escapes or collapses)."""
    try:
        part.encode()
    except UnicodeEncodeError:
        raise InvalidObjectKey(
            f"{what} {part!r} is not valid Unicode (a lone surrogate): it cannot be a key"
        ) from None
    if any(ord(c) < 0x20 or ord(c) == 0x7F for c in part):
        raise InvalidObjectKey(f"{what} {part!r} holds a control character: not a usable key")
    if any(segment in ("", ".", "..") for segment in part.split("/")):
        raise InvalidObjectKey(
            f"{what} {part!r} has an empty, '.' or '..' path segment: the key would collapse "
            "or escape its directory"
        )


def check_key(key: str) -> str:
    """``key`` if a store can take it as it is; InvalidObjectKey otherwise."""
    check_key_part(key, "object key")
    if len(key.encode()) > MAX_KEY_BYTES:
        raise InvalidObjectKey(f"object key of {len(key.encode())} bytes: S3 allows 1024")
    return key


def check_timestamp(timestamp_ms: int, what: str = "record timestamp") -> int:
    """``timestamp_ms`` if a calendar date can be made of it; InvalidObjectKey otherwise
    (a broker with message.timestamp.after.max.ms raised accepts year 10000 and beyond)."""
    if not _MIN_TIMESTAMP_MS <= timestamp_ms <= _MAX_TIMESTAMP_MS:
        raise InvalidObjectKey(
            f"{what} {timestamp_ms} ms is outside 0001-01-02 to 9999-12-30: no time path or "
            "calendar time can be made of it"
        )
    return timestamp_ms


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
        check_timestamp(timestamp_ms)
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
