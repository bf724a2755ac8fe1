"""LosslessJsonLinesFormat: every record whole, one JSON line each (docs/lossless-format.md).

The reference layout keeps only the SINETStream ``msg`` and a millisecond ``tstamp``; this
format keeps what a restore needs to give the topic back byte for byte: the raw value and
key (base64), the headers in order, the record timestamp and its type, and where the record
was (topic, partition, offset).  Each line is a self-contained JSON object, so an object
holds one record (``flush.size=1``) or a batch, and any JSON reader can read it.

The format sees the record itself, not a converted value: ``whole_record`` tells
``conversion.compose_conversion`` to hand it over untouched (no converter, no transforms).
"""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass
from typing import Any

from ..records import Record
from .base import FormatError

VERSION = 1
EXTENSION = ".jsonl"
# librdkafka's timestamp types and Kafka's names for them (TimestampType in the Java client).
TIMESTAMP_TYPES = {0: "NoTimestampType", 1: "CreateTime", 2: "LogAppendTime"}
_TYPE_CODES = {name: code for code, name in TIMESTAMP_TYPES.items()}


class LosslessLineError(ValueError):
    """A line that is not a record of this format (truncated, foreign, newer version)."""


def _b64(data: bytes | memoryview | None) -> str | None:
    return None if data is None else base64.b64encode(data).decode("ascii")


def timestamp_type_name(record: Record) -> str:
    if record.timestamp_ms is None:
        return "NoTimestampType"
    # A record with a time but an unknown type came from a client that did not say: the
    # producer's time is the common case, and what a restore will send it as anyway.
    return "LogAppendTime" if record.timestamp_type == 2 else "CreateTime"


def encode_line(record: Record) -> bytes:
    """One record as one line: fixed field order, ASCII only, so equal records give equal
    bytes (a replayed object is identical to the first one)."""
    document = {
        "version": VERSION,
        "topic": record.topic,
        "partition": record.partition,
        "offset": record.offset,
        "timestamp": record.timestamp_ms,
        "timestamp_type": timestamp_type_name(record),
        "key": _b64(record.key),
        "value": _b64(record.value),
        "headers": [[name, _b64(value)] for name, value in record.headers],
    }
    return json.dumps(document, separators=(",", ":")).encode("ascii") + b"\n"


@dataclass(frozen=True)
class LosslessJsonLinesFormat:
    extension: str = EXTENSION
    needs_schema = False
    whole_record = True  # conversion passes the Record itself, not a converted value

    def check(self, value: Any) -> None:
        if not isinstance(value, Record):
            raise FormatError("LosslessJsonLinesFormat writes whole records, got a bare value")

    def prepare(self, value: Any, schema: object = None) -> bytes:
        return encode_line(value)

    def encode(self, values: list[Any]) -> bytes:
        return b"".join(v if isinstance(v, bytes) else encode_line(v) for v in values)


# --- reading it back (restore, audit) ------------------------------------------------------


def _unb64(document: dict[str, Any], field: str) -> bytes | None:
    text = document.get(field)
    if text is None:
        return None
    if not isinstance(text, str):
        raise LosslessLineError(f"{field} is not a base64 string")
    try:
        return base64.b64decode(text, validate=True)
    except binascii.Error as error:
        raise LosslessLineError(f"{field} is not valid base64: {error}") from None


def _integer(document: dict[str, Any], field: str, *, nullable: bool = False) -> int | None:
    value = document.get(field)
    if value is None and nullable:
        return None
    if not isinstance(value, int) or isinstance(value, bool):
        raise LosslessLineError(f"{field} is missing or not an integer")
    return value


def decode_line(line: bytes) -> Record:
    """One line back into the record it was written from; LosslessLineError if it is not one."""
    try:
        document = json.loads(line)
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise LosslessLineError(f"not a JSON line ({error})") from None
    if not isinstance(document, dict):
        raise LosslessLineError("not a JSON object")
    version = document.get("version")
    if version != VERSION:
        raise LosslessLineError(f"format version {version!r}, this reader knows {VERSION}")
    topic = document.get("topic")
    if not isinstance(topic, str):
        raise LosslessLineError("topic is missing or not a string")
    type_name = document.get("timestamp_type")
    if type_name not in _TYPE_CODES:
        raise LosslessLineError(f"timestamp_type {type_name!r} is not one of Kafka's")
    headers_field = document.get("headers")
    if not isinstance(headers_field, list):
        raise LosslessLineError("headers is missing or not a list")
    headers: list[tuple[str, bytes | None]] = []
    for pair in headers_field:
        if not (isinstance(pair, list) and len(pair) == 2 and isinstance(pair[0], str)):
            raise LosslessLineError("a header is not a [name, base64-or-null] pair")
        headers.append((pair[0], _unb64({"header": pair[1]}, "header")))
    return Record(
        topic=topic,
        partition=_integer(document, "partition") or 0,
        offset=_integer(document, "offset") or 0,
        timestamp_ms=_integer(document, "timestamp", nullable=True),
        key=_unb64(document, "key"),
        value=_unb64(document, "value"),
        headers=tuple(headers),
        timestamp_type=_TYPE_CODES[type_name],
    )


def decode_object(body: bytes) -> list[Record]:
    """Every record of one object, in order.  An object that does not end with a newline was
    cut short (a writer always ends each line), and is refused whole."""
    if body and not body.endswith(b"\n"):
        raise LosslessLineError("the object does not end with a newline: truncated")
    return [decode_line(line) for line in body.split(b"\n")[:-1]] if body else []
