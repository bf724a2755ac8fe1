"""Objects back into record values: the SINETStream message of a reference pair.

The payload object is ``msg`` followed by the line separator; the timestamp object is the
writer's ``tstamp`` cut to milliseconds, written with TIMESTAMP_FORMAT in UTC, followed by
the separator (reference-deployment.md section 4).  Reversing both gives ``msg`` exactly and
``tstamp`` to the millisecond; the message is then encoded as the SINETStream libraries
encode it (section 3): v3 by default (key version 0, not encrypted), or v2.
"""

from __future__ import annotations

import calendar
import re
from datetime import UTC, datetime

from ..pipeline.sinetstream_codec import (
    AVRO_SINGLE_OBJECT_MARKER,
    MESSAGE_SCHEMA_FINGERPRINT,
    V3_MARKER,
)
from ..pipeline.timeformat import DatePattern

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
DEFAULT_TIMESTAMP_FORMAT = "yyyy-MM-dd'T'HH:mm:ss.SSS"
_DEFAULT_BODY = re.compile(rb"(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})\.(\d{3})")


class BadBody(ValueError):
    """An object whose bytes are not what its connector writes (truncated, corrupted)."""


def payload_msg(body: bytes, separator: bytes) -> bytes:
    """The ``msg`` of a payload object: its body without the trailing separator."""
    if not separator:
        return body
    if not body.endswith(separator):
        raise BadBody(
            f"payload object does not end with the line separator {separator!r}: truncated"
        )
    return body[: -len(separator)]


class TimestampReader:
    """Timestamp object bodies -> tstamp in µs (0 for the epoch: "not set" in SINETStream)."""

    def __init__(self, pattern: str, separator: bytes) -> None:
        self.pattern = DatePattern(pattern, java=True)
        self.separator = separator
        # The reference's pattern is read by a plain regex: ten times faster than the
        # general pattern parser, and it is the one nearly every archive has.
        self.fast = pattern == DEFAULT_TIMESTAMP_FORMAT

    def tstamp_us(self, body: bytes) -> int:
        if self.separator:
            if not body.endswith(self.separator):
                raise BadBody("timestamp object does not end with the line separator: truncated")
            body = body[: -len(self.separator)]
        match = _DEFAULT_BODY.fullmatch(body) if self.fast else None
        if match is not None:
            y, mo, d, h, mi, s, ms = (int(g) for g in match.groups())
            try:
                seconds = calendar.timegm((y, mo, d, h, mi, s))
                datetime(y, mo, d, h, mi, s)  # refuses month 13, day 32...
            except ValueError as error:
                raise BadBody(f"timestamp object is not a time: {error}") from None
            return seconds * 1_000_000 + ms * 1000
        try:
            moment = self.pattern.parse(body.decode("ascii"))
        except (UnicodeDecodeError, ValueError) as error:
            raise BadBody(f"timestamp object is not a time: {error}") from None
        delta = moment - _EPOCH
        return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


def _zigzag_varint(value: int) -> bytes:
    """An Avro long: zig-zag, then base-128 little-endian groups."""
    number = (value << 1) ^ (value >> 63)
    number &= (1 << 64) - 1
    out = bytearray()
    while number >= 0x80:
        out.append((number & 0x7F) | 0x80)
        number >>= 7
    out.append(number)
    return bytes(out)


def encode_sinetstream(tstamp_us: int, msg: bytes, message_format: int = 3) -> bytes:
    """A SINETStream message as its writer sends it: v2 (Avro single object), or v3 (the v2
    bytes behind DF 03 00 00 and key version 0)."""
    v2 = b"".join(
        (
            AVRO_SINGLE_OBJECT_MARKER,
            MESSAGE_SCHEMA_FINGERPRINT,
            _zigzag_varint(tstamp_us),
            _zigzag_varint(len(msg)),
            msg,
        )
    )
    if message_format == 2:
        return v2
    return V3_MARKER + b"\x00\x00" + v2
